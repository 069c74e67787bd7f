//go:build !release

package app

import (
	"context"
	"fmt"
	"os"

	"github.com/ecr-credentials/ecr-credentials/internal/devtools/demo"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
)

// devCommands: development builds (everything but `go build -tags release`,
// which the Dockerfile and releases use) also carry the AWS emulator and the
// demo. See devcommands_release.go for the release build's empty list.
var devCommands = []devCommand{
	{name: "demo", doc: "run the whole flow offline against the AWS emulator and a local registry",
		run: func(ctx context.Context, args []string, e Env) error {
			if len(args) > 0 {
				return fmt.Errorf("demo takes no arguments")
			}
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find this program's binary: %w", err)
			}
			return demo.Run(ctx, self, e.Stdout)
		}},
	{name: "emulator", doc: "serve the AWS + GitHub OIDC emulator on loopback",
		run: func(ctx context.Context, args []string, e Env) error {
			return awsfake.Main(ctx, args, e.Stdout, e.Stderr)
		}},
}
