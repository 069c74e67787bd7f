//go:build !release

package app

import (
	"context"

	"github.com/ecr-credentials/ecr-credentials/internal/awsfake"
)

// Development builds (everything but `go build -tags release`, which the
// Dockerfile and releases use) also carry the AWS emulator and the demo.
func init() {
	devCommands["emulator"] = func(ctx context.Context, args []string, e Env) error {
		return awsfake.Main(ctx, args, e.Stdout, e.Stderr)
	}
}
