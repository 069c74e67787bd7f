package app

import (
	"context"
	"os"
	"syscall"
	"testing"
)

// TestCancelOnSignal (issue 21, finding 9): the first signal cancels the
// run's context (it then undoes what it wrote); a second one exits at
// once, with 128 + the signal number. main.go used signal.NotifyContext,
// which stops listening after the first signal, so a second one did
// nothing while the run was stuck.
func TestCancelOnSignal(t *testing.T) {
	for _, tt := range []struct {
		name   string
		second os.Signal
		want   int
	}{
		{"SIGTERM twice", syscall.SIGTERM, 143},
		{"SIGINT after SIGTERM", os.Interrupt, 130},
	} {
		t.Run(tt.name, func(t *testing.T) {
			signals := make(chan os.Signal, 2)
			exited := make(chan int, 1)
			ctx, stop := CancelOnSignal(context.Background(), signals, func(code int) { exited <- code })
			defer stop()
			if ctx.Err() != nil {
				t.Fatal("cancelled before any signal")
			}
			signals <- syscall.SIGTERM
			<-ctx.Done() // the test's deadline catches a context never cancelled
			select {
			case code := <-exited:
				t.Fatalf("the first signal exited (%d); it must only cancel", code)
			default:
			}
			signals <- tt.second
			if code := <-exited; code != tt.want {
				t.Errorf("exit code %d, want %d", code, tt.want)
			}
		})
	}
}

// After stop, no signal exits the process.
func TestCancelOnSignalStop(t *testing.T) {
	signals := make(chan os.Signal, 2)
	ctx, stop := CancelOnSignal(context.Background(), signals, func(code int) { t.Errorf("exit(%d) after stop", code) })
	stop()
	<-ctx.Done()
	signals <- syscall.SIGTERM
	signals <- syscall.SIGTERM
	stop() // twice is fine
}
