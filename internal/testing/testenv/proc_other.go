//go:build !linux

package testenv

import (
	"os"
	"syscall"
)

// The test rigs run on Linux (network namespaces, docker-registry); on
// other systems this package only has to compile, so that the product
// packages' tests that import it compile there too (GOOS=windows go vet).

func groupAttr(bool) *syscall.SysProcAttr { return nil }

func killGroup(p *os.Process) error { return p.Kill() }

func lockExclusive(*os.File) error { return nil }
