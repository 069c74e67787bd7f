package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/ecr"
	"github.com/ecr-credentials/ecr-credentials/internal/flow"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/output"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
	"github.com/ecr-credentials/ecr-credentials/internal/runner"
)

// stateReceipt is the GITHUB_STATE name under which the main stage leaves
// the docker login receipt for the post stage (which sees STATE_receipt).
const stateReceipt = "receipt"

func githubDebug(e Env) bool { return runner.GitHubDebug(e.Getenv) }

// githubMain is the main stage of the container action.
func githubMain(ctx context.Context, e Env, args []string) int {
	con := output.NewConsole(output.StyleGitHub, e.Stdout, e.Stdout, githubDebug(e))
	if err := githubRun(ctx, e, args, con); err != nil {
		con.Problem(err)
		return ExitError
	}
	return ExitOK
}

// githubArgs reads the --name=value arguments action.yml passes (runs.args)
// for the settings that must not go through INPUT_* (see Setting.FromArgs).
func githubArgs(args []string) (inputs.Flags, error) {
	flags := inputs.Flags{}
	for _, a := range args {
		name, value, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		s, known := inputs.ByName(name)
		if !ok || !strings.HasPrefix(a, "--") || !known || !s.FromArgs {
			return nil, &problem.Problem{Code: problem.InvalidSetting, Subject: "argument " + a,
				What: "unexpected program argument",
				Fix:  "Settings go in `with:`; the action passes only its own arguments. Check `runs.args` if you changed action.yml."}
		}
		flags.Set(s, name, value)
	}
	return flags, nil
}

// githubSinks: where a container action's result goes, in order.
func githubSinks(l loginSinks) []sink {
	return []sink{stepOutputs, stepEnv, formatOutputs, awsCredentialOutputs, stepSummary, fileCommands{}, l.authFile, l.docker}
}

func githubRun(ctx context.Context, e Env, args []string, con *output.Console) error {
	flags, err := githubArgs(args)
	if err != nil {
		return err
	}
	cfg, err := loadSettings(con, inputs.Source{Mode: inputs.GitHub, Getenv: e.Getenv, Environ: e.Environ, Flags: flags})
	if err != nil {
		return err
	}
	where, err := detectRunner(e, cfg, "", con)
	if err != nil {
		return err
	}
	t := &run{ctx: ctx, cfg: cfg, e: e, where: where, con: con, maskRegistry: flow.MaskRegistry(cfg, con), fc: output.NewFileCommands(e.Getenv)}
	l := newLoginSinks(true)
	if err := t.transact(githubSinks(l)); err != nil {
		return err
	}
	t.logExpiry()
	l.docker.logWritten(t)
	if l.docker.login != nil {
		if l.docker.exportNote != "" {
			con.Infof("%s", l.docker.exportNote)
		}
		if where.DockerAuthConfig {
			con.Warnf("DOCKER_AUTH_CONFIG is set in this job: docker 28.3 and later prefer it to config.json, so later steps may not use this login. Unset it, or let this action's login be the only one.")
		}
	}
	if cfg.ExportEnv {
		con.Infof("Exported %sUSERNAME, %sPASSWORD, ... %sJSON to later steps.", cfg.EnvPrefix, cfg.EnvPrefix, cfg.EnvPrefix)
	}
	return nil
}

// githubPost is the post stage: undo the docker login of the main stage.
func githubPost(ctx context.Context, e Env) int {
	con := output.NewConsole(output.StyleGitHub, e.Stdout, e.Stdout, githubDebug(e))
	if err := postLogout(ctx, e, con); err != nil {
		con.Problem(err)
		return ExitError
	}
	return ExitOK
}

// summary is the step summary: registries and expiry, no secrets.
func summary(logins []ecr.Login, now time.Time) string {
	var b strings.Builder
	b.WriteString("### Amazon ECR login\n\n| Registry | Region | Expires |\n| --- | --- | --- |\n")
	for _, l := range logins {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", l.Registry.Host, l.Registry.Region, describeExpiry(l.ExpiresAt, now))
	}
	return b.String()
}
