package app

import (
	"context"
	"os"
	"sync"
	"syscall"
)

// CancelOnSignal returns a context that the first signal received on
// signals cancels: the run then stops and undoes what it wrote, within
// bounded time. A second signal calls exit at once (with 128 + the
// signal's number, as a shell reports it), for when that is not soon
// enough for whoever sent it. The returned function stops watching.
// main hands it the channel that signal.Notify fills and os.Exit.
func CancelOnSignal(parent context.Context, signals <-chan os.Signal, exit func(code int)) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	done := make(chan struct{})
	go func() {
		for first := true; ; first = false {
			select {
			case s := <-signals:
				// stop may have come first: a signal after it does nothing.
				select {
				case <-done:
					return
				default:
				}
				if !first {
					exit(signalExitCode(s))
					return
				}
				cancel()
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			close(done)
			cancel()
		})
	}
}

// signalExitCode is 128 + the signal's number (130 for SIGINT, 143 for
// SIGTERM), or 1 for a signal without one.
func signalExitCode(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return ExitError
}
