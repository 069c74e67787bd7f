package testenv

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
)

// The package's own tests run isolated too: the registry and the TLS tests
// use loopback only, and TestIsolatedNetwork checks the namespace itself.
func TestMain(m *testing.M) { os.Exit(IsolateNetwork(m)) }

const fakeprogPkg = "./internal/testing/testenv/internal/fakeprog"

func fakeprog(t testing.TB, tags ...string) string {
	t.Helper()
	return BuildBinary(t, fakeprogPkg, tags...)
}

// recordingTB stands in for a testing.T to observe Fatal, Skip, Log and
// Cleanup without ending the real test. Fatalf and Skipf end the calling
// goroutine, like the real ones, so call the code under test via run.
type recordingTB struct {
	testing.TB // the real test, for TempDir, Helper, Setenv...

	mu       sync.Mutex
	fatal    []string
	skipped  []string
	logs     []string
	errors   []string
	cleanups []func()
	failed   bool
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatal = append(r.fatal, fmt.Sprintf(format, args...))
	r.failed = true
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recordingTB) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

func (r *recordingTB) Skipf(format string, args ...any) {
	r.mu.Lock()
	r.skipped = append(r.skipped, fmt.Sprintf(format, args...))
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
	r.failed = true
	r.mu.Unlock()
}

func (r *recordingTB) Logf(format string, args ...any) {
	r.mu.Lock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *recordingTB) Cleanup(f func()) {
	r.mu.Lock()
	r.cleanups = append(r.cleanups, f)
	r.mu.Unlock()
}

func (r *recordingTB) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// run calls f on its own goroutine, as the testing package runs a test.
func (r *recordingTB) run(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

// runCleanups runs the registered cleanups last-first, like testing does.
func (r *recordingTB) runCleanups() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}
