// Package oidc obtains the web identity (OIDC) token that STS exchanges for
// role credentials: from the GitHub Actions runtime, from a file, or from an
// environment variable set by another CI.
//
// A token is a secret: every Source hands it to the Mask function before
// returning it, so it is masked before its first use.
package oidc

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"
	"github.com/sethvargo/go-retry"

	"github.com/ecr-credentials/ecr-credentials/internal/problem"
	"github.com/ecr-credentials/ecr-credentials/internal/securefile"
)

// Source yields a web identity token.
type Source interface {
	// Token returns a fresh token. It has been passed to the mask function.
	Token(ctx context.Context) (string, error)
	// String says where tokens come from, for the log.
	String() string
}

// GitHub requests tokens from the Actions runtime, like core.getIDToken in
// actions/toolkit: GET ACTIONS_ID_TOKEN_REQUEST_URL&audience=... with the
// bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN.
type GitHub struct {
	Action   *githubactions.Action // carries the environment and the HTTP client
	Audience string
	Mask     func(string)
	// Backoff is the first retry delay (doubled each time, capped at 5s,
	// with jitter); 0 means 250ms. Retries stop when ctx ends.
	Backoff time.Duration
}

// Available reports whether the runtime offers tokens to this job.
func (g *GitHub) Available() bool {
	return g.Action.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL") != "" && g.Action.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN") != ""
}

func (g *GitHub) String() string { return "GitHub Actions OIDC token" }

// Token requests a token, retrying transient failures (network errors,
// 408, 429, 5xx) until ctx ends.
func (g *GitHub) Token(ctx context.Context) (string, error) {
	if !g.Available() {
		p := &problem.Problem{
			Code: problem.NoIDTokenPermission,
			What: "this job cannot request a GitHub OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set)",
			Fix:  "Add `permissions: id-token: write` to the job (or workflow), keeping the other permissions it needs such as `contents: read`. Pull requests from forks never get a token.",
		}
		if runner := tokenlessRunner(g.Action.Getenv); runner != "" {
			p.What = runner + " gives jobs no OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set)"
			p.Fix = NoOIDCAdvice
		}
		return "", p
	}
	var token string
	attempts, refused := 0, false
	err := retry.Do(ctx, g.backoff(ctx), func(ctx context.Context) error {
		attempts++
		t, err := g.Action.GetIDToken(ctx, g.Audience)
		if err != nil {
			var rf *githubactions.RequestFailedError
			if errors.As(err, &rf) {
				// The body may echo request details; keep only the status.
				err = fmt.Errorf("token endpoint answered HTTP %d", rf.StatusCode)
				if transientStatus(rf.StatusCode) {
					return retry.RetryableError(err)
				}
				refused = true
				return err
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// A library's words may quote what it received.
			return retry.RetryableError(problem.Safe(err))
		}
		if t == "" {
			return errors.New("token endpoint answered without a token")
		}
		token = t
		return nil
	})
	if err != nil {
		fix := "This is usually a temporary GitHub problem: re-run the job. If it persists, check https://www.githubstatus.com."
		if refused {
			fix = "The runner refused the request: check that the job has `permissions: id-token: write` and that the audience is a plain string (default sts.amazonaws.com)."
		}
		return "", &problem.Problem{
			Code: problem.IDTokenRequestFailed,
			What: fmt.Sprintf("requesting the GitHub OIDC token for audience %q failed after %d attempt(s)", g.Audience, attempts),
			Fix:  fix,
			Err:  err,
		}
	}
	if g.Mask != nil {
		g.Mask(token)
	}
	return token, nil
}

// backoff is the wait before each retry: a ceiling that starts at
// g.Backoff (250ms by default) and doubles up to 5s, with the wait drawn
// uniformly from the upper half of the ceiling, so that the jobs of a
// matrix that failed together do not retry together. It stops, so that the
// last answer is reported rather than a bare deadline, once the next wait
// would end after ctx's deadline.
func (g *GitHub) backoff(ctx context.Context) retry.Backoff {
	base := g.Backoff
	if base <= 0 {
		base = 250 * time.Millisecond
	}
	ceiling := retry.WithCappedDuration(5*time.Second, retry.NewExponential(base))
	deadline, hasDeadline := ctx.Deadline()
	return retry.BackoffFunc(func() (time.Duration, bool) {
		c, stop := ceiling.Next()
		if stop {
			return 0, true
		}
		wait := c/2 + rand.N(c/2+1)
		if hasDeadline && time.Now().Add(wait).After(deadline) {
			return 0, true
		}
		return wait, false
	})
}

func transientStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// File reads the token from a file on every call (CIs and Kubernetes
// rotate such files), like the AWS SDKs' AWS_WEB_IDENTITY_TOKEN_FILE.
type File struct {
	Path string
	// Subject names the setting that gave the path, for errors.
	Subject string
	Mask    func(string)
}

func (f *File) String() string { return "web identity token file " + f.Path }

// Token reads and trims the file.
func (f *File) Token(context.Context) (string, error) {
	// Only a regular file, and only so much of it: a named pipe or a
	// device would block or read past the step's deadline.
	b, _, err := securefile.ReadRegular(f.Path, securefile.ReadLimitSmall)
	if err != nil {
		fix := "Check that the path is right and that the step that writes the token ran before this one."
		if errors.Is(err, securefile.ErrNotRegular) || errors.Is(err, securefile.ErrTooLarge) {
			fix = "Point the setting at the regular file the token is written to (not a named pipe, a device or a directory)."
		}
		return "", &problem.Problem{
			Code: problem.WebIdentityTokenUnreadable, Subject: f.Subject,
			What: "cannot read the web identity token file", Err: err,
			Fix: fix,
		}
	}
	t := strings.TrimSpace(string(b))
	if f.Mask != nil && t != "" {
		f.Mask(t)
	}
	if err := checkJWT(t); err != nil {
		return "", &problem.Problem{
			Code: problem.WebIdentityTokenUnreadable, Subject: f.Subject,
			What: fmt.Sprintf("the file %s does not hold a JWT: %v", f.Path, err),
			Fix:  "Write only the raw OIDC token (three base64url parts separated by dots) to the file.",
		}
	}
	return t, nil
}

// Env reads the token from an environment variable (GitLab id_tokens,
// CircleCI CIRCLE_OIDC_TOKEN_V2, Bitbucket BITBUCKET_STEP_OIDC_TOKEN).
type Env struct {
	Name   string
	Getenv func(string) string
	Mask   func(string)
}

func (e *Env) String() string { return "web identity token in $" + e.Name }

// Token reads the variable.
func (e *Env) Token(context.Context) (string, error) {
	t := strings.TrimSpace(e.Getenv(e.Name))
	if f := e.Mask; f != nil && t != "" {
		f(t)
	}
	if err := checkJWT(t); err != nil {
		return "", &problem.Problem{
			Code: problem.WebIdentityTokenUnreadable, Subject: "environment variable " + e.Name,
			What: fmt.Sprintf("does not hold a JWT: %v", err),
			Fix:  "Set it to the raw OIDC token your CI issues for this job (e.g. GitLab `id_tokens:`).",
		}
	}
	return t, nil
}

// checkJWT catches obvious mistakes (empty, a file path, JSON) before STS
// does, without validating the token: STS does that.
func checkJWT(t string) error {
	if t == "" {
		return errors.New("it is empty")
	}
	if strings.Count(t, ".") != 2 || strings.ContainsAny(t, " \t\r\n{}\"") {
		return errors.New("it is not three base64url parts separated by dots")
	}
	return nil
}

// NoOIDCAdvice says which identity to use where the runner hands out no
// OIDC token.
const NoOIDCAdvice = "Use another credential source: a web identity token from a file (web-identity-token-file, with role-to-assume), " +
	"static keys from a secret (aws-access-key-id and aws-secret-access-key: ${{ secrets.... }}), " +
	"or an existing AWS profile or instance role (credential-source: default-chain, with AWS_PROFILE or the machine's role)."

// tokenlessRunner names the runner when it is one that never gives a job
// an OIDC token: nektos/act (ACT=true) and Gitea's act_runner
// (GITEA_ACTIONS=true). Forgejo's runner (also built on act) gives one to
// jobs with `permissions: id-token: write`, like GitHub's.
func tokenlessRunner(getenv func(string) string) string {
	switch {
	case getenv("FORGEJO_ACTIONS") == "true":
		return ""
	case getenv("GITEA_ACTIONS") == "true":
		return "the Gitea Actions runner"
	case getenv("ACT") == "true":
		return "nektos/act"
	}
	return ""
}
