package testenv

import (
	"os"
	"syscall"
)

// groupAttr starts a command in a process group of its own (so that a kill
// ends whatever it started), killed with the test process when
// dieWithParent is set.
func groupAttr(dieWithParent bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if dieWithParent {
		a.Pdeathsig = syscall.SIGKILL
	}
	return a
}

// killGroup kills the process group groupAttr gave p.
func killGroup(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGKILL) }

// lockExclusive waits for an exclusive lock of f, released when f closes.
func lockExclusive(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }
