package app

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/output"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// The sinks. Each is in every mode that lists it (see run).

// staging is a sink that only stages: it queues values in the file
// commands, or files in the set, that a later sink of the mode commits
// (fileCommands, workspaceFiles); undo drops the files the set holds.
type staging func(t *run) error

func (f staging) stage(t *run) error { return f(t) }
func (staging) commit(*run) error    { return nil }
func (staging) undo(t *run)          { t.files.Undo() }

// noUndo is for sinks with nothing to take back.
type noUndo struct{}

func (noUndo) undo(*run) {}

// stepOutputs: the GitHub step outputs (registry, username, password, ...,
// and the AWS identity: aws-account-id, authenticated-arn).
var stepOutputs = staging(func(t *run) error {
	return queue(t.fc.Output, append(output.Outputs(t.res.ECRLogins(), t.res.JSON), output.Identity(t.res.Session.AccountID, t.res.Session.AuthenticatedARN)...), outputsFailed)
})

// queue adds values with add (a FileCommands method); a failure is told
// as failed says.
func queue(add func(name, value string) error, values []output.Value, failed func(error) error) error {
	for _, v := range values {
		if err := add(v.Name, v.Value); err != nil {
			return failed(err)
		}
	}
	return nil
}

func outputsFailed(err error) error {
	return problem.Wrap(problem.Internal, err, "preparing outputs failed", "")
}

func envFailed(err error) error {
	return problem.Wrap(problem.Internal, err, "preparing environment variables failed", "")
}

// stepEnv: the GitHub job's environment (GITHUB_ENV), with export-env.
var stepEnv = staging(func(t *run) error {
	if !t.cfg.ExportEnv {
		return nil
	}
	return queue(t.fc.Env, output.Env(t.res.ECRLogins(), t.res.JSON, t.cfg.EnvPrefix), func(err error) error {
		return problem.Wrap(problem.InvalidSetting, err, "preparing environment variables failed", "Check env-prefix.")
	})
})

// rendered is one of the formats setting's formats, rendered.
type rendered struct {
	format  output.Format
	text    string
	secrets []string // the parts of text to mask
}

// renderFormats renders the formats setting's formats.
func renderFormats(t *run) ([]rendered, error) {
	fopts := formatOptions(t.cfg)
	var out []rendered
	for _, name := range t.cfg.Formats {
		f, _ := output.LookupFormat(name)
		text, err := f.Render(t.res.ECRLogins(), fopts)
		if err != nil {
			return nil, problem.Wrap(problem.Internal, err, "rendering format "+name+" failed", "")
		}
		out = append(out, rendered{f, text, f.Secrets(text, t.res.ECRLogins(), fopts)})
	}
	return out, nil
}

// formatOutputs: the formats as GitHub step outputs, masked.
var formatOutputs = staging(func(t *run) error {
	formats, err := renderFormats(t)
	if err != nil {
		return err
	}
	for _, r := range formats {
		for _, secret := range r.secrets {
			t.maskRegistry(secret)
		}
		if err := t.fc.Output(r.format.Output, r.text); err != nil {
			return outputsFailed(err)
		}
	}
	return nil
})

// awsCredentialOutputs: with export-aws-credentials, the AWS session as
// GitHub outputs and environment variables.
var awsCredentialOutputs = staging(func(t *run) error {
	if !t.cfg.ExportAWSCredentials {
		return nil
	}
	outs, envs := output.AWSCredentials(t.res.Session.Credentials, t.cfg.Region)
	if err := queue(t.fc.Output, outs, outputsFailed); err != nil {
		return err
	}
	return queue(t.fc.Env, envs, envFailed)
})

// stepSummary: the GitHub step summary (registries and expiry, no secrets).
var stepSummary = staging(func(t *run) error {
	t.fc.Summary(summary(t.res.ECRLogins(), time.Now()))
	return nil
})

// fileCommands writes what the sinks before it (and the docker login's
// export and receipt) queued in the runner's file command files.
type fileCommands struct{ noUndo }

func (fileCommands) stage(t *run) error {
	if m := t.fc.Missing(); len(m) > 0 {
		return &problem.Problem{Code: problem.OutputFailed,
			What: strings.Join(m, ", ") + " not set",
			Fix:  "Run this as a step of a GitHub Actions job (uses: ...). Outside GitHub, use the CLI commands or plugin settings instead."}
	}
	return nil
}

func (fileCommands) commit(t *run) error {
	if err := t.fc.Commit(); err != nil {
		return problem.Wrap(problem.OutputFailed, err, "writing step outputs failed (the docker login was undone)", "Check that the runner's file command files are writable.")
	}
	return nil
}

// outputDir is the plugin's directory for ecr.env and the format files.
func outputDir(t *run) string { return t.inWorkspace(t.cfg.OutputDir) }

// dotenvFile: with export-env, the variables in <output-dir>/ecr.env.
// It keeps them for droneOutput.
type dotenvFile struct{ values []output.Value }

func (*dotenvFile) commit(*run) error { return nil }
func (*dotenvFile) undo(t *run)       { t.files.Undo() }

func (d *dotenvFile) stage(t *run) error {
	if !t.cfg.ExportEnv {
		return nil
	}
	d.values = output.Env(t.res.ECRLogins(), t.res.JSON, t.cfg.EnvPrefix)
	if t.cfg.RegistryAuthFile != "" {
		d.values = append(d.values, output.Value{Name: "REGISTRY_AUTH_FILE", Value: t.cfg.RegistryAuthFile})
	}
	if t.cfg.ExportAWSCredentials {
		_, aws := output.AWSCredentials(t.res.Session.Credentials, t.cfg.Region)
		d.values = append(d.values, aws...)
	}
	if err := t.files.Write(filepath.Join(outputDir(t), "ecr.env"), []byte(output.Dotenv(d.values))); err != nil {
		return problem.Wrap(problem.OutputFailed, err, "preparing the dotenv file failed", "Check that the workspace is writable, or set output_dir.")
	}
	return nil
}

// formatFiles: the formats as files in <output-dir>. It keeps their paths
// for the log.
type formatFiles struct{ written []string }

func (*formatFiles) commit(*run) error { return nil }
func (*formatFiles) undo(t *run)       { t.files.Undo() }

func (f *formatFiles) stage(t *run) error {
	formats, err := renderFormats(t)
	if err != nil {
		return err
	}
	for _, r := range formats {
		path := filepath.Join(outputDir(t), r.format.File)
		if err := t.files.Write(path, []byte(r.text)); err != nil {
			return problem.Wrap(problem.OutputFailed, err, "preparing "+r.format.File+" failed", "Check that the workspace is writable, or set output_dir.")
		}
		f.written = append(f.written, path)
	}
	return nil
}

// workspaceFiles puts the files the sinks before it staged in place.
type workspaceFiles struct{}

func (workspaceFiles) stage(*run) error { return nil }

func (workspaceFiles) commit(t *run) error {
	if err := t.files.Commit(); err != nil {
		return problem.Wrap(problem.OutputFailed, err, "writing files to the workspace failed (the docker login was undone)", "Check that the workspace is writable, or set output_dir.")
	}
	return nil
}

func (workspaceFiles) undo(t *run) { t.files.Undo() }

// droneOutput: the dotenv variables (env's) also in DRONE_OUTPUT, when the
// runner sets it.
type droneOutput struct {
	noUndo
	env *dotenvFile
}

func (droneOutput) stage(*run) error { return nil }

func (d droneOutput) commit(t *run) error {
	if out := t.where.DroneOutput; out != "" && len(d.env.values) > 0 {
		if _, err := output.AppendOnce(out, []byte(output.Dotenv(d.env.values))); err != nil {
			return problem.Wrap(problem.OutputFailed, err, "writing DRONE_OUTPUT failed (nothing else was kept)", "")
		}
	}
	return nil
}

// stdout: a CLI command's result on standard output, before the docker
// login (docker) is kept.
type stdout struct {
	noUndo
	cmd    cliCommand
	args   []string
	docker *loginSink
}

func (stdout) stage(*run) error { return nil }

func (s stdout) commit(t *run) error {
	if err := s.cmd.run(t.ctx, t.e, t.cfg, t.res, s.args, t.con.Mask); err != nil {
		what := "writing the result failed"
		if s.docker.login != nil {
			what += " (the docker login was undone)"
		}
		return problem.Wrap(problem.OutputFailed, err, what, "")
	}
	return nil
}
