// Package app wires the program together. Data flows one way:
//
//	settings (inputs) -> AWS credentials (awsauth, oidc)
//	  -> registry logins (ecr) -> sinks (output, dockerconfig)
//
// Main picks the mode from how the program was started (GitHub container
// action, Drone/Woodpecker plugin, CLI subcommand, docker credential
// helper), loads the settings for that mode, runs the flow, and hands the
// result to that mode's sinks. Nothing is written anywhere until every
// login has succeeded, and a failure while writing undoes what was written.
package app

import (
	"context"
	"fmt"
	"io"
	"log"
	"path/filepath"
	"strings"

	"github.com/ecr-credentials/ecr-credentials/internal/dockerconfig"
	"github.com/ecr-credentials/ecr-credentials/internal/flow"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/runner"
)

// Env is everything the program takes from its process, so tests can run
// it in-process.
type Env struct {
	Args    []string // os.Args, program name first
	Getenv  func(string) string
	Environ []string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	// Dir is the working directory (the workspace, for CI plugins).
	Dir string
	// Dev are the development commands (demo, emulator) that package main
	// hands in: none in a release build. The product packages carry no
	// development code of their own.
	Dev []DevCommand
}

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1 // the run failed; nothing was written
	ExitUsage = 2 // the command line is wrong
)

// PostName is the program name (a link to the binary in the image) that
// action.yml's post-entrypoint runs: the runner replaces the entrypoint but
// passes the same args to every stage, so the name tells the stages apart.
const PostName = "ecr-credentials-post"

// Main runs the program and returns its exit code.
func Main(ctx context.Context, e Env) int {
	// Nothing writes to stdout or stderr but the console: the standard
	// logger (which net/http, slog's default and any library's log.Print
	// use) is silenced, and the AWS SDK logs through the console
	// (awsauth.Params.Log).
	log.SetOutput(io.Discard)
	name := filepath.Base(e.Args[0])
	args := e.Args[1:]
	version := len(args) == 1 && (args[0] == "--version" || args[0] == "-version")
	switch {
	case name == PostName:
		return githubPost(ctx, e)
	case strings.HasPrefix(name, dockerconfig.HelperPrefix):
		action := ""
		if len(args) > 0 {
			action = args[0]
		}
		return credentialHelper(ctx, e, action)
	case version:
		fmt.Fprintln(e.Stdout, VersionString())
		return ExitOK
	case len(args) == 1 && (args[0] == "--help" || args[0] == "-help" || args[0] == "-h"):
		usage(e.Stdout, e.Dev)
		return ExitOK
	case len(args) > 0 && !strings.HasPrefix(args[0], "-"):
		return subcommand(ctx, e, args[0], args[1:])
	}
	switch runner.ModeOf(e.Getenv, e.Environ) {
	case inputs.GitHub:
		return githubMain(ctx, e, args)
	case inputs.Plugin:
		return pluginMain(ctx, e)
	}
	usage(e.Stderr, e.Dev)
	return ExitUsage
}

func subcommand(ctx context.Context, e Env, name string, args []string) int {
	switch name {
	case "post", "logout":
		return githubPost(ctx, e)
	case "credential-helper":
		action := ""
		if len(args) > 0 {
			action = args[0]
		}
		return credentialHelper(ctx, e, action)
	case "version":
		fmt.Fprintln(e.Stdout, VersionString())
		return ExitOK
	case "help", "--help", "-h":
		usage(e.Stdout, e.Dev)
		return ExitOK
	}
	if cmd, ok := lookupCLI(name); ok {
		return runCLI(ctx, e, cmd, args)
	}
	if cmd, ok := lookupDev(e, name); ok {
		if err := cmd.Run(ctx, args, e); err != nil {
			fmt.Fprintf(e.Stderr, "ecr-credentials %s: %v\n", name, err)
			return ExitError
		}
		return ExitOK
	}
	fmt.Fprintf(e.Stderr, "ecr-credentials: unknown command %q\n\n", name)
	usage(e.Stderr, e.Dev)
	return ExitUsage
}

// DevCommand is a development command (demo, emulator). Package main
// builds the list (see dev.go there): the product packages import no
// development or test code.
type DevCommand struct {
	Name, Doc string
	Run       func(ctx context.Context, args []string, e Env) error
}

func lookupDev(e Env, name string) (DevCommand, bool) {
	for _, c := range e.Dev {
		if c.Name == name {
			return c, true
		}
	}
	return DevCommand{}, false
}

func usage(w io.Writer, dev []DevCommand) {
	fmt.Fprintf(w, `ecr-credentials %s: log in to Amazon ECR from CI with the job's identity.

As a GitHub Action it reads INPUT_* (see action.yml); as a Drone or Woodpecker
plugin it reads PLUGIN_* settings; from a shell, run one of the commands.
`, Version)
	cliUsage(w)
	fmt.Fprint(w, `  credential-helper get|store|erase|list
                                 Docker credential helper protocol (also as docker-credential-ecr-credentials)
  version                        Print version, commit and build date
`)
	if len(dev) > 0 {
		fmt.Fprint(w, "\nDevelopment build commands:\n")
		for _, c := range dev {
			fmt.Fprintf(w, "  %-10s %s\n", c.Name, c.Doc)
		}
	}
}

// flowEnv is what the flow takes from the process.
func (e Env) flowEnv() flow.Env { return flow.Env{Getenv: e.Getenv} }
