//go:build !release

package app

import (
	"context"
	"fmt"
	"os"

	"github.com/ecr-credentials/ecr-credentials/internal/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/demo"
)

// Development builds (everything but `go build -tags release`, which the
// Dockerfile and releases use) also carry the AWS emulator and the demo.
func init() {
	devCommands["emulator"] = func(ctx context.Context, args []string, e Env) error {
		return awsfake.Main(ctx, args, e.Stdout, e.Stderr)
	}
	devCommands["demo"] = func(ctx context.Context, args []string, e Env) error {
		if len(args) > 0 {
			return fmt.Errorf("demo takes no arguments")
		}
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find this program's binary: %w", err)
		}
		return demo.Run(ctx, self, e.Stdout)
	}
}
