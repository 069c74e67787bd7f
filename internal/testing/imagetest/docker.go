package imagetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// containerLabel marks every container these tests start, as the runner
// marks its own with DockerInstanceLabel.
const containerLabel = "ecr-credentials-imagetest"

var dockerOnce struct {
	sync.Once
	path string
	err  error
}

// requireDocker returns the docker CLI's path once it has checked that the
// Docker Engine answers. Without either the test fails when CI=true and is
// skipped otherwise.
func requireDocker(t testing.TB) string {
	t.Helper()
	bin := testenv.RequireTool(t, "docker")
	dockerOnce.Do(func() {
		dockerOnce.path = bin
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, "version", "--format", "{{.Server.Version}}").CombinedOutput()
		if err != nil {
			dockerOnce.err = fmt.Errorf("the Docker Engine does not answer (`docker version`: %v): %s", err, bytes.TrimSpace(out))
		}
	})
	if dockerOnce.err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (CI=true, so this is a failure rather than a skip; start dockerd)", dockerOnce.err)
		}
		t.Skipf("%v (skipping; with CI=true this fails)", dockerOnce.err)
	}
	return dockerOnce.path
}

// cmdOpts describes one run of a command by run.
type cmdOpts struct {
	env     []string // whole environment; nil means this process's
	stdin   io.Reader
	dir     string
	timeout time.Duration
	// cred runs the command as another user (the runner's user).
	cred *syscall.Credential
	// onTimeout runs when the timeout killed the command (e.g. to remove
	// the container a killed `docker run` left behind).
	onTimeout func()
	// secret keeps the command's output out of the timeout message (a
	// step's output may hold secrets; callers redact before printing).
	secret bool
}

type cmdResult struct {
	stdout, stderr string
	code           int
}

func (r cmdResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs bin with args and returns what it printed and its exit code. A
// command that cannot start, or outlives its timeout, fails the test. The
// environment is never printed: it may hold secrets.
func run(t testing.TB, bin string, args []string, o cmdOpts) cmdResult {
	t.Helper()
	res, err := runCmd(bin, args, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func runCmd(bin string, args []string, o cmdOpts) (cmdResult, error) {
	if o.timeout <= 0 {
		o.timeout = 3 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env, cmd.Stdin, cmd.Dir = o.env, o.stdin, o.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: o.cred}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	res := cmdResult{stdout: stdout.String(), stderr: stderr.String()}
	if ctx.Err() != nil {
		if o.onTimeout != nil {
			o.onTimeout()
		}
		if o.secret {
			return res, fmt.Errorf("%s %s: still running after %s, killed (output withheld: it may hold secrets)", bin, firstArgs(args), o.timeout)
		}
		return res, fmt.Errorf("%s %s: still running after %s, killed\nstderr:\n%s", bin, firstArgs(args), o.timeout, res.stderr)
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.code = exitErr.ExitCode()
	default:
		return res, fmt.Errorf("%s %s: %w", bin, firstArgs(args), err)
	}
	return res, nil
}

// firstArgs names a command in messages without repeating all of it.
func firstArgs(args []string) string {
	if len(args) > 2 {
		return strings.Join(args[:2], " ") + " ..."
	}
	return strings.Join(args, " ")
}

// docker runs the docker CLI as root with this process's environment and
// fails the test unless it succeeds.
func docker(t testing.TB, args ...string) string {
	t.Helper()
	res := run(t, requireDocker(t), args, cmdOpts{})
	if res.code != 0 {
		t.Fatalf("docker %s: %s", firstArgs(args), res)
	}
	return res.stdout
}

// dockerQuiet runs the docker CLI and ignores the outcome (for cleanup).
func dockerQuiet(args ...string) {
	if dockerOnce.path == "" {
		return
	}
	_, _ = runCmd(dockerOnce.path, args, cmdOpts{timeout: time.Minute})
}

// randomName returns prefix plus 12 random hex digits.
func randomName(prefix string) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b)
}
