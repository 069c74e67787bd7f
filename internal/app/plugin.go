package app

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/output"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// pluginMain runs as a Drone or Woodpecker plugin step. Steps there share
// only the workspace, and nothing masks the log, so: the docker login and
// the variables go to files in the workspace, and no secret is printed.
func pluginMain(ctx context.Context, e Env) int {
	debug, _ := inputs.ParseBool(e.Getenv("PLUGIN_DEBUG"))
	con := output.NewConsole(output.StylePlain, e.Stdout, e.Stdout, debug)
	if err := pluginRun(ctx, e, con); err != nil {
		con.Problem(err)
		return ExitError
	}
	return ExitOK
}

// ciName names the CI for the log.
func ciName(e Env) string {
	if name := inputs.PluginCI(e.Getenv); name != "" {
		return name
	}
	return "plugin"
}

// pluginSinks: where a plugin step's result goes, in order (formats keeps
// the files it wrote for the log).
func pluginSinks(l loginSinks, formats *formatFiles) []sink {
	env := &dotenvFile{}
	return []sink{env, formats, workspaceFiles{}, droneOutput{env: env}, l.authFile, l.docker}
}

func pluginRun(ctx context.Context, e Env, con *output.Console) error {
	cfg, err := loadSettings(con, inputs.Source{Mode: inputs.Plugin, Getenv: e.Getenv, Environ: e.Environ})
	if err != nil {
		return err
	}
	workspace := e.Dir
	if workspace == "" {
		return problem.New(problem.Internal, "", "cannot tell the workspace directory", "")
	}
	con.Infof("ecr-credentials %s as a %s plugin", Version, ciName(e))

	where, err := detectRunner(e, cfg, workspace, con)
	if err != nil {
		return err
	}
	t := &run{ctx: ctx, cfg: cfg, e: e, where: where, con: con, maskRegistry: con.Mask, workspace: workspace}
	l, formats := newLoginSinks(false), &formatFiles{}
	if err := t.transact(pluginSinks(l, formats)); err != nil {
		return err
	}

	t.logExpiry()
	l.docker.logWritten(t)
	docker := l.docker.login
	if docker != nil {
		dir := filepath.Dir(docker.File())
		con.Infof("Later steps use it with DOCKER_CONFIG=%s (environment of the step), or `docker --config %s ...`.", dir, relative(workspace, dir))
		if refresh := docker.Receipt().RefreshDir; refresh != "" {
			con.Infof("Later steps put the credential helper on PATH: `export PATH=%s:$PATH`.", filepath.Join(refresh, refreshBinDir))
		}
	}
	outDir := outputDir(t)
	if cfg.ExportEnv {
		env := filepath.Join(outDir, "ecr.env")
		con.Infof("Variables %sUSERNAME, %sPASSWORD, ... written to %s: load them in a later step with `set -a; . %s; set +a`.", cfg.EnvPrefix, cfg.EnvPrefix, env, relative(workspace, env))
		if where.DroneOutput != "" {
			con.Infof("Also written to DRONE_OUTPUT.")
		}
	}
	for _, p := range formats.written {
		con.Infof("Wrote %s.", p)
	}
	if docker != nil || cfg.ExportEnv || len(formats.written) > 0 {
		con.Infof("These files hold credentials until they expire: keep %s and %s out of `docker build` contexts (.dockerignore) and artifacts.",
			relative(workspace, t.inWorkspace(cfg.DockerConfig)), relative(workspace, outDir))
	}
	return nil
}

// relative shows p relative to the workspace when it is inside it.
func relative(workspace, p string) string {
	if r, err := filepath.Rel(workspace, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}
