package app

import (
	"errors"
	"path/filepath"

	"github.com/ecr-credentials/ecr-credentials/internal/dockerconfig"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// stateAuthFileReceipt is the step state key of the auth.json login's seal.
const stateAuthFileReceipt = "receipt_auth_file"

// authFileSink: with registry-auth-file, the login in that containers
// auth.json (podman, buildah, skopeo), written by the same byte-preserving
// edit as config.json and undone the same way; REGISTRY_AUTH_FILE names it
// for later steps (GitHub: the job environment; plugin: ecr.env, see
// dotenvFile). It is verified first unless the docker login already was.
type authFileSink struct{ github bool }

func (a authFileSink) stage(t *run) error {
	cfg := t.cfg
	if cfg.RegistryAuthFile == "" {
		return nil
	}
	path, err := filepath.Abs(t.inWorkspace(cfg.RegistryAuthFile))
	if err != nil {
		return &problem.Problem{Code: problem.InvalidSetting, Subject: cfg.Describe(inputs.RegistryAuthFile), Err: err,
			What: "the registry auth file's path cannot be made absolute",
			Fix:  "Give it as an absolute path, or run the step in a working directory that exists."}
	}
	if a.github && !cfg.SkipLogout && filepath.Base(path) != dockerconfig.AuthFileName {
		return &problem.Problem{Code: problem.InvalidSetting, Subject: cfg.Describe(inputs.RegistryAuthFile),
			What: "the registry auth file " + path + " is not named " + dockerconfig.AuthFileName + ", so the post step could not trust its receipt to undo the login",
			Fix:  "Name the file auth.json (e.g. <dir>/containers/auth.json), or set skip-logout: true."}
	}
	if a.github {
		if err := checkContainerAuthFile(path, cfg, t.e); err != nil {
			return err
		}
	}
	if cfg.Verify && !cfg.DockerLogin {
		if err := verifyAll(t.ctx, t.res, cfg.Timeout); err != nil {
			return err
		}
	}
	r, err := writeLogin(t.ctx, dockerconfig.Options{Dir: filepath.Dir(path), File: filepath.Base(path)}, t.res.Logins)
	if err != nil {
		var p *problem.Problem
		if errors.As(err, &p) {
			return p
		}
		return problem.Wrap(problem.DockerConfig, err, "writing the login to the registry auth file failed", "Check registry-auth-file: its directory must be writable and the file, if any, a JSON object.")
	}
	t.authReceipt = r
	if !a.github {
		return nil
	}
	hostPath := r.ConfigFile
	if inGitHubContainer(t.e) {
		hostDir, _ := hostDockerConfig(filepath.Dir(r.ConfigFile), cfg, t.e)
		if hostDir == "" {
			return &problem.Problem{Code: problem.DockerConfig, Subject: cfg.Describe(inputs.RegistryAuthFile),
				What: "the registry auth file " + r.ConfigFile + " is in no directory later steps see",
				Fix:  "Put it under the runner's temp directory or the workspace, e.g. /github/runner_temp/containers/auth.json or the workspace's .containers/auth.json."}
		}
		hostPath = filepath.Join(hostDir, filepath.Base(r.ConfigFile))
	}
	if err := t.fc.Env("REGISTRY_AUTH_FILE", hostPath); err != nil {
		return problem.Wrap(problem.Internal, err, "exporting REGISTRY_AUTH_FILE failed", "")
	}
	if !cfg.SkipLogout {
		seal, err := saveLogoutReceipt(stateAuthFileReceipt, r, t.fc)
		if err != nil {
			return err
		}
		t.authSeal = seal
	}
	return nil
}

func (a authFileSink) commit(t *run) error {
	if t.authReceipt == nil {
		return nil
	}
	if !a.github || t.cfg.SkipLogout {
		if err := dockerconfig.Discard(t.authReceipt); err != nil {
			t.con.Warnf("%v", err)
		}
	}
	t.con.Infof("Registry auth file (podman, buildah, skopeo) written to %s; REGISTRY_AUTH_FILE names it for later steps.", t.authReceipt.ConfigFile)
	return nil
}

func (a authFileSink) undo(t *run) { t.undoLogin(&t.authReceipt, t.authSeal) }
