package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// requireNetNS stops a test that only means something inside the namespace.
func requireNetNS(t *testing.T) {
	t.Helper()
	if !InNetNS(t) {
		if isCI() {
			t.Fatal("not inside the private network namespace although CI=true; TestMain must call IsolateNetwork")
		}
		t.Skip("not inside a private network namespace (see the warning at the start of the run)")
	}
}

func TestIsolatedNetwork(t *testing.T) {
	requireNetNS(t)

	// The only interface is loopback, and it is up.
	ifaces, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(ifaces) != 1 || ifaces[0].Name != "lo" || ifaces[0].Flags&net.FlagUp == 0 {
		t.Fatalf("interfaces %+v, want only lo, up", ifaces)
	}

	// Loopback works, over IPv4 and (where lo has it) IPv6.
	addrs := []string{"127.0.0.1:0"}
	if a, _ := ifaces[0].Addrs(); strings.Contains(fmt.Sprint(a), "::1") {
		addrs = append(addrs, "[::1]:0")
	}
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			t.Fatalf("listen on %s: %v", a, err)
		}
		go func() {
			if c, err := ln.Accept(); err == nil {
				_, _ = c.Write([]byte("pong"))
				c.Close()
			}
		}()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatalf("dial loopback %s: %v", ln.Addr(), err)
		}
		buf := make([]byte, 4)
		if _, err := c.Read(buf); err != nil || string(buf) != "pong" {
			t.Fatalf("read from loopback %s: %q, %v", ln.Addr(), buf, err)
		}
		c.Close()
		ln.Close()
	}

	// Anything else has no route: the kernel refuses at once, nothing is
	// sent. (The addresses are from the documentation ranges, which are
	// never routed anyway.)
	for _, a := range []string{"192.0.2.10:443", "[2001:db8::10]:443"} {
		c, err := net.DialTimeout("tcp", a, 5*time.Second)
		if err == nil {
			c.Close()
			t.Fatalf("dial %s succeeded inside the namespace", a)
		}
		if !errors.Is(err, syscall.ENETUNREACH) {
			t.Errorf("dial %s: %v; want network unreachable", a, err)
		}
	}

	// DNS cannot reach a server either: the lookup fails without an answer
	// (outside, the same name would get a clean "no such host").
	r := &net.Resolver{PreferGo: true}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = r.LookupHost(ctx, "netns-probe.ecr-credentials.invalid")
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) {
		t.Fatalf("lookup: got %v, want a DNS error", err)
	}
	if dnsErr.IsNotFound {
		t.Errorf("lookup got an answer from a name server (%v); DNS is not cut off", err)
	}
}

// TestIsolateNetworkReexec runs this test binary once more without the
// namespace marker, so that IsolateNetwork really goes through unshare, and
// checks that the child ran isolated and that its exit code came back.
func TestIsolateNetworkReexec(t *testing.T) {
	if err := probeIsolation(); err != nil {
		if isCI() {
			t.Fatalf("cannot isolate: %v", err)
		}
		t.Skipf("cannot isolate here: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestHelperExit7$", "-test.count=1")
	cmd.Env = append(withoutEnv(os.Environ(), NetNSEnv), "TESTENV_HELPER=exit7")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 7 {
		t.Fatalf("child: %v, want exit code 7; output:\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "helper: isolated=true") {
		t.Fatalf("child did not report running isolated; output:\n%s", out.String())
	}
}

func TestHelperExit7(t *testing.T) {
	if os.Getenv("TESTENV_HELPER") != "exit7" {
		t.Skip("helper for TestIsolateNetworkReexec")
	}
	fmt.Printf("helper: isolated=%v\n", InNetNS(t))
	os.Exit(7)
}

func TestIsolateDecisions(t *testing.T) {
	errNoRoot := errors.New("not root")
	tests := []struct {
		name       string
		inside     bool
		prepareErr error
		probeErr   error
		ci         bool
		childCode  int
		wantCode   int
		wantRun    bool
		wantChild  bool
		wantStderr string
	}{
		{name: "inside runs tests", inside: true, wantCode: 42, wantRun: true},
		{name: "inside without loopback fails", inside: true, prepareErr: errors.New("no ip"), wantCode: 1, wantStderr: "cannot bring loopback up"},
		{name: "outside re-executes", childCode: 3, wantCode: 3, wantChild: true},
		{name: "outside child passes", childCode: 0, wantCode: 0, wantChild: true},
		{name: "impossible on CI fails", probeErr: errNoRoot, ci: true, wantCode: 1, wantStderr: "FAIL: cannot isolate"},
		{name: "impossible locally runs loudly", probeErr: errNoRoot, wantCode: 42, wantRun: true, wantStderr: "RUNNING WITHOUT NETWORK ISOLATION: not root"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			ran, child := false, false
			code := isolate(isolation{
				run:        func() int { ran = true; return 42 },
				ci:         tc.ci,
				stderr:     &stderr,
				probe:      func() error { return tc.probeErr },
				startChild: func(string) (int, error) { child = true; return tc.childCode, nil },
				inside:     func() bool { return tc.inside },
				prepare:    func() error { return tc.prepareErr },
			})
			if code != tc.wantCode || ran != tc.wantRun || child != tc.wantChild {
				t.Fatalf("code=%d ran=%v child=%v; want %d %v %v", code, ran, child, tc.wantCode, tc.wantRun, tc.wantChild)
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Fatalf("stderr %q lacks %q", stderr.String(), tc.wantStderr)
			}
			if tc.wantStderr == "" && stderr.Len() != 0 {
				t.Fatalf("unexpected stderr %q", stderr.String())
			}
		})
	}
}
