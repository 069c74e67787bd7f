// Command ecr-credentials logs a CI job in to Amazon ECR with the job's own
// identity. See README.md; the work happens in internal/app.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ecr-credentials/ecr-credentials/internal/app"
)

func main() {
	// Only the program's console writes to the real stdout and stderr: a
	// library that uses os.Stdin, os.Stdout or os.Stderr itself (the AWS
	// SDK hands os.Stderr and os.Stdin to a credential_process) gets the
	// null device.
	stdin, stdout, stderr := os.Stdin, os.Stdout, os.Stderr
	if null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0); err == nil {
		os.Stdin, os.Stdout, os.Stderr = null, null, null
	}
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	// The first signal cancels the run (it undoes what it wrote); a second exits at once.
	ctx, stop := app.CancelOnSignal(context.Background(), signals, os.Exit)
	dir, _ := os.Getwd()
	code := app.Main(ctx, app.Env{
		Dir:     dir,
		Args:    os.Args,
		Getenv:  os.Getenv,
		Environ: os.Environ(),
		Stdin:   stdin,
		Stdout:  stdout,
		Stderr:  stderr,
		Dev:     devCommands,
	})
	stop()
	os.Exit(code)
}
