package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/awsauth"
	"github.com/ecr-credentials/ecr-credentials/internal/dockerconfig"
	"github.com/ecr-credentials/ecr-credentials/internal/ecr"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
	"github.com/ecr-credentials/ecr-credentials/internal/verify"
)

// dockerLoginSink: with docker-login, the login in the docker client
// configuration, verified first with verify. Staging writes it (Login is
// itself all or nothing and comes with a receipt to undo it); committing
// keeps it. In the GitHub container action (github) the directory must be
// one later steps see, DOCKER_CONFIG is exported with export-docker-config,
// and the receipt is left for the post step unless skip-logout; elsewhere,
// and with skip-logout, the backup of what the login replaced is dropped.
type dockerLoginSink struct{ github bool }

func (d dockerLoginSink) stage(t *run) error {
	cfg := t.cfg
	if !cfg.DockerLogin {
		return nil
	}
	if d.github {
		if err := prepareContainerDockerConfig(cfg, t.e); err != nil {
			return err
		}
	}
	c := *cfg
	c.DockerConfig = t.inWorkspace(cfg.DockerConfig)
	origin, subject := dockerConfigOriginOf(cfg, t.e, d.github)
	if dir, err := dockerConfigDir(&c, t.e); err != nil {
		return err
	} else if err := checkDockerConfigDir(dir, origin, subject, t.con); err != nil {
		return err
	}
	if cfg.Verify {
		if err := verifyAll(t.ctx, t.res, cfg.Timeout); err != nil {
			return err
		}
	}
	var receipt *dockerconfig.Receipt
	var err error
	if cfg.Refresh {
		receipt, err = refreshLogin(t.ctx, &c, t.e, t.res)
	} else {
		receipt, err = dockerLogin(t.ctx, &c, t.e, t.res.Logins)
	}
	if err != nil {
		return err
	}
	t.receipt = receipt
	if !d.github {
		return nil
	}
	if cfg.Refresh {
		// Later steps find the helper on PATH, by its host path.
		bin, err := hostRefreshBin(receipt, cfg, t.e)
		if err == nil {
			err = t.fc.Path(bin)
		}
		if err != nil {
			return err
		}
		t.refreshPath = bin
	}
	if cfg.ExportDockerConfig {
		hostDir, note := hostDockerConfig(filepath.Dir(receipt.ConfigFile), cfg, t.e)
		t.exportNote = note
		if hostDir != "" {
			if err := t.fc.Env("DOCKER_CONFIG", hostDir); err != nil {
				return problem.Wrap(problem.Internal, err, "exporting DOCKER_CONFIG failed", "")
			}
		}
	}
	if !cfg.SkipLogout {
		seal, err := saveLogoutReceipt(stateReceipt, receipt, t.fc)
		if err != nil {
			return err
		}
		t.seal = seal
	}
	return nil
}

func (d dockerLoginSink) commit(t *run) error {
	if t.receipt != nil && (!d.github || t.cfg.SkipLogout) {
		// No post step will log out: drop the backup of what the login replaced.
		if err := dockerconfig.Discard(t.receipt); err != nil {
			t.con.Warnf("%v", err)
		}
	}
	return nil
}

func (d dockerLoginSink) undo(t *run) { t.undoLogin(&t.receipt, t.seal) }

// undoLogin takes back the login *r (if any) and its saved receipt seal,
// and forgets it.
func (t *run) undoLogin(r **dockerconfig.Receipt, seal dockerconfig.Seal) {
	if *r == nil {
		return
	}
	ctx, cancel := t.undoContext()
	defer cancel()
	_ = dockerconfig.Logout(ctx, *r)
	_ = dockerconfig.RemoveReceipt(seal)
	*r = nil
}

// verifyAll checks every login against its registry, all at once, and
// reports the first registry (in the order given) that refused.
func verifyAll(ctx context.Context, res *Result, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	logins := res.Logins
	tr, done := res.ahead.transportForVerify(res.proxy) // takes the connections opened ahead
	defer done()
	// Each attempt is bounded, so that a hung one is retried (see verify).
	client := &http.Client{Timeout: awsauth.AttemptTimeoutFor(timeout), Transport: tr}
	errs := make([]error, len(logins))
	var wg sync.WaitGroup
	for i, l := range logins {
		wg.Go(func() {
			errs[i] = verify.Registry(ctx, client, l.Registry.Host, l.Username, l.Password)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return verifyProblem(logins[i].Registry.Host, err)
		}
	}
	return nil
}

// verifyProblem tells a registry that could not be reached from one that
// refused the credentials or answered as no registry does.
func verifyProblem(host string, err error) *problem.Problem {
	var v *verify.Error
	kind := verify.Unexpected
	if errors.As(err, &v) {
		kind = v.Kind
	}
	switch kind {
	case verify.Unreachable:
		return &problem.Problem{Code: problem.RegistryUnreachable, Err: err,
			What: "could not reach " + host + " to check the new credentials",
			Fix:  "Check network access to the registry and the proxy settings (http-proxy, no-proxy, HTTPS_PROXY, NO_PROXY), raise timeout, or set verify: false to skip this check."}
	case verify.Rejected:
		return &problem.Problem{Code: problem.VerifyFailed, Err: err,
			What: host + " refused the new credentials",
			Fix:  "Check that the role may pull from this registry (ecr:GetAuthorizationToken and the repository policy) and that the registry host is the account's, or set verify: false to skip this check."}
	}
	return &problem.Problem{Code: problem.VerifyFailed, Err: err,
		What: "the check of the new credentials at " + host + " failed",
		Fix:  "Check the registry host and its certificate, or set verify: false to skip this check."}
}

func dockerLogin(ctx context.Context, cfg *inputs.Config, e Env, logins []ecr.Login) (*dockerconfig.Receipt, error) {
	return loginWith(ctx, cfg, e, logins, nil)
}

// dockerConfigDir is the docker config directory the login goes to.
func dockerConfigDir(cfg *inputs.Config, e Env) (string, error) {
	if cfg.DockerConfig != "" {
		return cfg.DockerConfig, nil
	}
	d, err := dockerconfig.Dir(e.Getenv)
	if err != nil {
		return "", problem.Wrap(problem.DockerConfig, err, "cannot find the docker configuration directory", "Set docker-config or DOCKER_CONFIG.")
	}
	return d, nil
}

// loginWith writes the docker login; refresh, if set, is the credential
// helper left beside it and named in credHelpers for every registry (see
// refreshLogin).
func loginWith(ctx context.Context, cfg *inputs.Config, e Env, logins []ecr.Login, refresh *dockerconfig.RefreshHelper) (*dockerconfig.Receipt, error) {
	dir, err := dockerConfigDir(cfg, e)
	if err != nil {
		return nil, err
	}
	r, err := writeLogin(ctx, dockerconfig.Options{Dir: dir, Refresh: refresh}, logins)
	if err != nil {
		var p *problem.Problem
		if errors.As(err, &p) {
			return nil, p
		}
		var rd *dockerconfig.RefreshDirError
		if errors.As(err, &rd) {
			return nil, &problem.Problem{Code: problem.DockerConfig, Subject: cfg.Describe(inputs.Refresh),
				What: fmt.Sprintf("the credential helper's directory is not one this step can trust: %s %s (later steps would run what it holds); nothing was written", rd.Path, rd.Why),
				Fix: fmt.Sprintf("Remove %s (a refresh login creates it itself), or set %s to a directory of this job's own.",
					filepath.Join(dir, dockerconfig.RefreshDirName), cfg.Describe(inputs.DockerConfig))}
		}
		if errors.Is(err, dockerconfig.ErrCredentialHelper) {
			return nil, problem.Wrap(problem.CredentialHelper, err, "writing the docker login through a credential helper failed", "")
		}
		return nil, problem.Wrap(problem.DockerConfig, err, "writing the docker login failed", "")
	}
	return r, nil
}

// writeLogin writes logins with dockerconfig.Login: the docker login and the
// registry auth file alike.
func writeLogin(ctx context.Context, opts dockerconfig.Options, logins []ecr.Login) (*dockerconfig.Receipt, error) {
	creds := make([]dockerconfig.Credential, len(logins))
	for i, l := range logins {
		creds[i] = dockerconfig.Credential{Host: l.Registry.Host, Username: l.Username, Password: l.Password}
	}
	return dockerconfig.Login(ctx, opts, creds)
}
