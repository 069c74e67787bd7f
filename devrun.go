//go:build !dev && !release

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/ecr-credentials/ecr-credentials/internal/app"
)

// Without the dev tag the binary links no development code: `go list -deps .`
// names no internal/devtools or internal/testing package, and `go install`
// gives the product alone. The README's offline demo is still `go run . demo`:
// from a checkout of this module, demo and emulator run the program again as
// `go run -tags dev . <command>`, which has them (dev.go). A release build
// (-tags release) has neither.
var devCommands = []app.DevCommand{
	viaDevBuild("demo", demoDoc),
	viaDevBuild("emulator", emulatorDoc),
}

func viaDevBuild(name, doc string) app.DevCommand {
	return app.DevCommand{Name: name, Doc: doc,
		Run: func(ctx context.Context, args []string, e app.Env) error {
			root, err := checkoutRoot(e.Dir)
			if err != nil {
				return err
			}
			goBin, err := goCommand()
			if err != nil {
				return err
			}
			cmd := exec.CommandContext(ctx, goBin, append([]string{"run", "-tags", "dev", ".", name}, args...)...)
			cmd.Dir = root
			cmd.Env = e.Environ
			cmd.Stdin, cmd.Stdout, cmd.Stderr = e.Stdin, e.Stdout, e.Stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("go run -tags dev . %s: %w", name, err)
			}
			return nil
		}}
}

// errNoCheckout says where the development commands can run.
var errNoCheckout = errors.New("this is a development command: run it in a checkout of ecr-credentials as `go run . demo` (or `go run -tags dev . demo`)")

// checkoutRoot finds, from dir upwards, the go.mod of the module this
// binary was built from.
func checkoutRoot(dir string) (string, error) {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Path == "" || dir == "" {
		return "", errNoCheckout
	}
	for d := dir; ; d = filepath.Dir(d) {
		if modulePath(filepath.Join(d, "go.mod")) == info.Main.Path {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errNoCheckout
		}
	}
}

// modulePath is the module path a go.mod file declares, or "" when path is
// not a readable regular go.mod.
func modulePath(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if rest, ok := bytes.CutPrefix(line, []byte("module")); ok && len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(string(bytes.TrimSpace(rest)), `"`)
		}
	}
	return ""
}

// goCommand is the go command on PATH, if it is a regular executable that
// only its owner can change.
func goCommand() (string, error) {
	p, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is not on PATH: %w", err)
	}
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o022 != 0 {
		return "", fmt.Errorf("%s is not a regular executable that only its owner can change", p)
	}
	return p, nil
}
