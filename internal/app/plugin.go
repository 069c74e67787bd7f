package app

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/dockerconfig"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/output"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
	"github.com/ecr-credentials/ecr-credentials/internal/securefile"
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

func pluginRun(ctx context.Context, e Env, con *output.Console) error {
	cfg, warnings, err := inputs.Load(inputs.Source{Mode: inputs.Plugin, Getenv: e.Getenv, Environ: e.Environ})
	if err != nil {
		return err
	}
	for _, w := range warnings {
		con.Warnf("%s", w)
	}
	workspace := e.Dir
	if workspace == "" {
		return problem.New(problem.Internal, "", "cannot tell the workspace directory", "")
	}
	inWorkspace := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(workspace, p)
	}
	con.Infof("ecr-credentials %s as a %s plugin", Version, ciName(e))

	res, err := flow(ctx, cfg, e, con, con.Mask)
	if err != nil {
		return err
	}

	// Prepare every file before writing any.
	outDir := inWorkspace(cfg.OutputDir)
	var files securefile.Set
	defer files.Undo() // a no-op once committed and kept
	var envValues []output.Value
	if cfg.ExportEnv {
		envValues = output.Env(res.Logins, res.JSON, cfg.EnvPrefix)
		if cfg.ExportAWSCredentials {
			_, aws := output.AWSCredentials(res.Session.Credentials, cfg.Region)
			envValues = append(envValues, aws...)
		}
		if err := files.Write(filepath.Join(outDir, "ecr.env"), []byte(output.Dotenv(envValues))); err != nil {
			return problem.Wrap(problem.OutputFailed, err, "preparing the dotenv file failed", "Check that the workspace is writable, or set output_dir.")
		}
	}
	fopts := formatOptions(cfg)
	var written []string
	for _, name := range cfg.Formats {
		f, _ := output.LookupFormat(name)
		text, err := f.Render(res.Logins, fopts)
		if err != nil {
			return problem.Wrap(problem.Internal, err, "rendering format "+name+" failed", "")
		}
		path := filepath.Join(outDir, f.File)
		if err := files.Write(path, []byte(text)); err != nil {
			return problem.Wrap(problem.OutputFailed, err, "preparing "+f.File+" failed", "Check that the workspace is writable, or set output_dir.")
		}
		written = append(written, path)
	}

	if cfg.DockerLogin && cfg.Verify {
		if err := verifyAll(ctx, res.Logins, cfg.Timeout); err != nil {
			return err
		}
	}
	var receipt *dockerconfig.Receipt
	if cfg.DockerLogin {
		c := *cfg
		c.DockerConfig = inWorkspace(cfg.DockerConfig)
		if receipt, err = dockerLogin(ctx, &c, e, res.Logins); err != nil {
			return err
		}
	}
	undoLogin := func() {
		if receipt != nil {
			_ = dockerconfig.Logout(ctx, receipt)
		}
	}
	if err := files.Commit(); err != nil {
		undoLogin()
		return problem.Wrap(problem.OutputFailed, err, "writing files to the workspace failed (the docker login was undone)", "Check that the workspace is writable, or set output_dir.")
	}
	if out := e.Getenv("DRONE_OUTPUT"); out != "" && len(envValues) > 0 {
		if _, err := output.AppendOnce(out, []byte(output.Dotenv(envValues))); err != nil {
			files.Undo()
			undoLogin()
			return problem.Wrap(problem.OutputFailed, err, "writing DRONE_OUTPUT failed (nothing else was kept)", "")
		}
	}
	files = securefile.Set{} // keep what was written
	// No post step will log out: drop the backup of what the login replaced.
	if err := dockerconfig.Discard(receipt); err != nil {
		con.Warnf("%v", err)
	}

	for _, l := range res.Logins {
		con.Infof("Registry %s (%s): password expires %s", l.Registry.Host, l.Registry.Region, describeExpiry(l.ExpiresAt, time.Now()))
	}
	if receipt != nil {
		dir := filepath.Dir(receipt.ConfigFile)
		con.Infof("Docker login written to %s for %d registr%s%s.", receipt.ConfigFile, len(res.Logins), plural(len(res.Logins), "y", "ies"), verifiedNote(cfg))
		con.Infof("Later steps use it with DOCKER_CONFIG=%s (environment of the step), or `docker --config %s ...`.", dir, relative(workspace, dir))
	}
	if cfg.ExportEnv {
		env := filepath.Join(outDir, "ecr.env")
		con.Infof("Variables %sUSERNAME, %sPASSWORD, ... written to %s: load them in a later step with `set -a; . %s; set +a`.", cfg.EnvPrefix, cfg.EnvPrefix, env, relative(workspace, env))
		if e.Getenv("DRONE_OUTPUT") != "" {
			con.Infof("Also written to DRONE_OUTPUT.")
		}
	}
	for _, p := range written {
		con.Infof("Wrote %s.", p)
	}
	if receipt != nil || cfg.ExportEnv || len(written) > 0 {
		con.Infof("These files hold credentials until they expire: keep %s and %s out of `docker build` contexts (.dockerignore) and artifacts.",
			relative(workspace, inWorkspace(cfg.DockerConfig)), relative(workspace, outDir))
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
