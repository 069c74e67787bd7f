//go:build dev

package main

import (
	"context"
	"fmt"
	"os"

	"github.com/ecr-credentials/ecr-credentials/internal/app"
	"github.com/ecr-credentials/ecr-credentials/internal/devtools/demo"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
)

// devCommands: a build with the dev tag (`go run -tags dev . demo`, which
// `go run . demo` runs for you, see devrun.go) carries the AWS emulator and
// the demo. Nothing else links them in.
var devCommands = []app.DevCommand{
	{Name: "demo", Doc: demoDoc,
		Run: func(ctx context.Context, args []string, e app.Env) error {
			if len(args) > 0 {
				return fmt.Errorf("demo takes no arguments")
			}
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find this program's binary: %w", err)
			}
			return demo.Run(ctx, self, e.Stdout)
		}},
	{Name: "emulator", Doc: emulatorDoc,
		Run: func(ctx context.Context, args []string, e app.Env) error {
			return awsfake.Main(ctx, args, e.Stdout, e.Stderr)
		}},
}
