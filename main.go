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
	app.TuneRuntime(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	dir, _ := os.Getwd()
	code := app.Main(ctx, app.Env{
		Dir:     dir,
		Args:    os.Args,
		Getenv:  os.Getenv,
		Environ: os.Environ(),
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
	})
	stop()
	os.Exit(code)
}
