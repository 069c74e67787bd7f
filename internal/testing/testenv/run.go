package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
)

// DefaultRunTimeout bounds RunProgram when RunOptions.Timeout is zero.
const DefaultRunTimeout = 2 * time.Minute

// RunOptions describes one run of a program by RunProgram.
type RunOptions struct {
	// Args are the command-line arguments, without the program name.
	Args []string
	// Env is the program's whole environment apart from the defaults listed
	// at RunProgram; an entry here overrides a default of the same name.
	Env map[string]string
	// Dir is the working directory; empty means a fresh t.TempDir().
	Dir string
	// Stdin is written to the program's standard input; empty means the
	// program reads end of file at once, as under a CI runner.
	Stdin string
	// Timeout bounds the run; zero means DefaultRunTimeout. A program still
	// running then is killed with its whole process group and the test fails.
	Timeout time.Duration
}

// Result is what a program run by RunProgram left behind.
type Result struct {
	Stdout string
	Stderr string
	// ExitCode is the process's exit status; 128+N when signal N killed it.
	ExitCode int
}

// RunProgram runs bin the way a CI runner starts a step: with a clean
// environment holding only
//
//   - PATH (this process's),
//   - HOME, a fresh temporary directory,
//   - AWS_EC2_METADATA_DISABLED=true,
//   - AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE naming files that do
//     not exist, so the host's AWS configuration never leaks in,
//
// plus opts.Env (which may override any of these). It waits for the program
// to exit, bounded by opts.Timeout. A non-zero exit is returned in Result,
// not treated as an error; failing to start it, or a timeout, fails the
// test. Messages never repeat the program's arguments or environment, and
// values the program announced with ::add-mask:: are blanked in any output
// quoted on failure.
func RunProgram(t testing.TB, bin string, opts RunOptions) Result {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	res, err := runProgram(bin, opts, t.TempDir())
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return res
}

// CleanEnv returns the environment RunProgram gives a program, as sorted
// KEY=VALUE entries. scratch is a directory for HOME and the AWS files.
func CleanEnv(extra map[string]string, scratch string) []string {
	env := map[string]string{
		"PATH":                        os.Getenv("PATH"),
		"HOME":                        filepath.Join(scratch, "home"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             filepath.Join(scratch, "nonexistent", "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(scratch, "nonexistent", "aws-credentials"),
	}
	for k, v := range extra {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func runProgram(bin string, opts RunOptions, scratch string) (Result, error) {
	name := filepath.Base(bin)
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultRunTimeout
	}
	env := CleanEnv(opts.Env, scratch)
	if _, given := opts.Env["HOME"]; !given {
		if err := os.MkdirAll(filepath.Join(scratch, "home"), 0o700); err != nil {
			return Result{}, fmt.Errorf("run %s: create HOME: %w", name, err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, opts.Args...)
	cmd.Env = env
	cmd.Dir = opts.Dir
	if opts.Stdin != "" {
		cmd.Stdin = strings.NewReader(opts.Stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Own process group, so a timeout also ends whatever the program started.
	cmd.SysProcAttr = groupAttr(false)
	cmd.Cancel = func() error { return killGroup(cmd.Process) }
	cmd.WaitDelay = 5 * time.Second

	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	if ctx.Err() != nil {
		return res, fmt.Errorf("run %s: still running after %s, killed; stderr was:\n%s",
			name, timeout, redact(res.Stderr, ghrunner.MaskedValues(res.Stdout)))
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.ExitCode = exitErr.ExitCode()
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.ExitCode = 128 + int(ws.Signal())
		}
	default:
		return res, fmt.Errorf("run %s: %w", name, err)
	}
	return res, nil
}

// redact blanks every secret in s, longest first so that a secret containing
// another is blanked whole.
func redact(s string, secrets []string) string {
	sorted := append([]string(nil), secrets...)
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	for _, sec := range sorted {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "***")
		}
	}
	return s
}
