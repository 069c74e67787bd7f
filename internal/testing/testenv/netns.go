package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
)

// NetNSEnv marks a test process that IsolateNetwork re-executed inside a
// private network namespace. Its value is the namespace the parent ran in
// (the link text of /proc/self/ns/net), so the child can check that it
// really is somewhere else.
const NetNSEnv = "ECR_TESTENV_NETNS"

// IsolateNetwork is meant for TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.IsolateNetwork(m)) }
//
// Outside a namespace, running as root with unshare(1) and ip(8) at hand,
// it re-executes the test binary with the same arguments under
// `unshare --net`, brings the namespace's loopback up, passes stdin,
// stdout and stderr straight through, forwards termination signals, and
// returns the child's exit code. Inside (NetNSEnv set and the namespace
// differs from the parent's) it brings lo up and returns m.Run().
//
// When isolation is impossible the result is a failure (exit code 1,
// without running tests) if CI=true, and otherwise m.Run() after a loud
// warning on stderr.
//
// Do not use it in packages whose tests use the Docker Engine: the daemon
// stays in the host's namespace, where the test's loopback services (a
// registry started by StartRegistry, say) do not exist.
func IsolateNetwork(m *testing.M) int {
	return isolate(isolation{
		run:        m.Run,
		ci:         isCI(),
		stderr:     os.Stderr,
		probe:      probeIsolation,
		startChild: runInNetNS,
		inside:     inNetNS,
		prepare:    loopbackUp,
	})
}

// InNetNS reports whether the test runs inside the private network namespace
// set up by IsolateNetwork.
func InNetNS(t testing.TB) bool {
	t.Helper()
	return inNetNS()
}

type isolation struct {
	run        func() int
	ci         bool
	stderr     io.Writer
	probe      func() error                       // can we isolate at all?
	startChild func(parentNS string) (int, error) // re-exec inside a namespace
	inside     func() bool
	prepare    func() error // in the child: bring lo up
}

func isolate(is isolation) int {
	if is.inside() {
		if err := is.prepare(); err != nil {
			fmt.Fprintf(is.stderr, "testenv: FAIL: inside the private network namespace but cannot bring loopback up: %v\n", err)
			return 1
		}
		return is.run()
	}
	parentNS, err := currentNetNS()
	if err == nil {
		err = is.probe()
	}
	if err != nil {
		if is.ci {
			fmt.Fprintf(is.stderr, "testenv: FAIL: cannot isolate the network for these tests: %v\n"+
				"testenv: CI=true requires isolation; run as root with util-linux (unshare) and iproute2 (ip) installed\n", err)
			return 1
		}
		fmt.Fprintf(is.stderr, "\n"+
			"testenv: WARNING ***********************************************************\n"+
			"testenv: WARNING: RUNNING WITHOUT NETWORK ISOLATION: %v\n"+
			"testenv: WARNING: a stray request could leave this machine; with CI=true this fails\n"+
			"testenv: WARNING ***********************************************************\n\n", err)
		return is.run()
	}
	code, err := is.startChild(parentNS)
	if err != nil {
		fmt.Fprintf(is.stderr, "testenv: FAIL: run the tests inside a private network namespace: %v\n", err)
		return 1
	}
	return code
}

func currentNetNS() (string, error) {
	ns, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return "", fmt.Errorf("read own network namespace: %w", err)
	}
	return ns, nil
}

func inNetNS() bool {
	parent := os.Getenv(NetNSEnv)
	if parent == "" {
		return false
	}
	cur, err := currentNetNS()
	return err == nil && cur != parent
}

// probeIsolation checks that this process can create a network namespace
// and configure it, by doing so once in a throw-away namespace.
func probeIsolation() error {
	if os.Geteuid() != 0 {
		return errors.New("not running as root (unshare --net needs CAP_SYS_ADMIN)")
	}
	unshare, err := lookTool("unshare")
	if err != nil {
		return fmt.Errorf("%w (apt-get install -y util-linux)", err)
	}
	ip, err := lookTool("ip")
	if err != nil {
		return fmt.Errorf("%w (apt-get install -y iproute2)", err)
	}
	out, err := exec.Command(unshare, "--net", "--", ip, "link", "set", "lo", "up").CombinedOutput()
	if err != nil {
		return fmt.Errorf("trial `unshare --net ip link set lo up`: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// loopbackUp brings the namespace's lo interface up; a new namespace starts
// with it down, so even 127.0.0.1 would be unreachable.
func loopbackUp() error {
	ip, err := lookTool("ip")
	if err != nil {
		return err
	}
	out, err := exec.Command(ip, "link", "set", "lo", "up").CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip link set lo up: %w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// runInNetNS re-executes this test binary under `unshare --net` and returns
// its exit code. unshare execs the binary in place, so signals sent to the
// child's pid reach the test binary itself.
func runInNetNS(parentNS string) (int, error) {
	unshare, err := lookTool("unshare")
	if err != nil {
		return 0, err
	}
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("find the test binary: %w", err)
	}
	cmd := exec.Command(unshare, append([]string{"--net", "--", exe}, os.Args[1:]...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(withoutEnv(os.Environ(), NetNSEnv), NetNSEnv+"="+parentNS)

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", unshare, err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exitErr):
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			fmt.Fprintf(os.Stderr, "testenv: the isolated test process died from signal %v\n", ws.Signal())
			return 128 + int(ws.Signal()), nil
		}
		return exitErr.ExitCode(), nil
	default:
		return 0, fmt.Errorf("wait for the isolated test process: %w", err)
	}
}

func withoutEnv(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
