package dockerconfig

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/docker/docker-credential-helpers/client"
	"github.com/docker/docker-credential-helpers/credentials"
)

// HelperPrefix is the name prefix of docker credential helper programs:
// docker runs docker-credential-<name> for `"credHelpers": {"<host>":
// "<name>"}`. Installed under such a name (a link or copy of the binary),
// ecr-credentials speaks that protocol itself, so docker asks it for fresh
// ECR credentials whenever it needs them.
const HelperPrefix = "docker-credential-"

// ErrCredentialHelper is wrapped by every error that comes from a docker
// credential helper (missing from PATH, or failing to get, store or
// erase), so callers can tell those from problems with config.json.
var ErrCredentialHelper = errors.New("docker credential helper")

// helperError marks err as a credential helper's.
type helperError struct{ err error }

func (e *helperError) Error() string   { return e.err.Error() }
func (e *helperError) Unwrap() []error { return []error{e.err, ErrCredentialHelper} }

// helperProgram runs a credential helper bound to a context and keeps its
// stderr for error messages instead of passing it to ours.
type helperProgram struct {
	ctx    context.Context
	path   string
	args   []string
	stdin  io.Reader
	stderr bytes.Buffer
}

func (p *helperProgram) Input(in io.Reader) { p.stdin = in }

func (p *helperProgram) Output() ([]byte, error) {
	cmd := exec.CommandContext(p.ctx, p.path, p.args...)
	cmd.Stdin = p.stdin
	cmd.Stderr = &p.stderr
	out, err := cmd.Output()
	if err != nil && p.stderr.Len() > 0 {
		err = fmt.Errorf("%w (stderr: %s)", err, strings.TrimSpace(p.stderr.String()))
	}
	return out, err
}

// helper talks to one credential helper binary.
type helper struct {
	name string // suffix after docker-credential-
	path string // resolved binary
}

func (h helper) program(ctx context.Context) client.ProgramFunc {
	return func(args ...string) client.Program {
		return &helperProgram{ctx: ctx, path: h.path, args: args}
	}
}

// redactError turns err into a new error whose text has every secret
// replaced, so that a helper echoing its input cannot leak a password
// through our logs. The original error is deliberately not wrapped.
func redactError(err error, secrets ...string) error {
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return errors.New(msg)
}

// get returns the helper's credentials for serverURL; found is false when
// the helper has none.
func (h helper) get(ctx context.Context, serverURL string) (creds *credentials.Credentials, found bool, err error) {
	c, err := client.Get(h.program(ctx), serverURL)
	if err != nil {
		if credentials.IsErrCredentialsNotFound(err) {
			return nil, false, nil
		}
		return nil, false, &helperError{fmt.Errorf("credential helper %s%s get %s: %w", HelperPrefix, h.name, serverURL, redactError(err))}
	}
	return c, true, nil
}

// store saves username/secret for serverURL in the helper.
func (h helper) store(ctx context.Context, serverURL, username, secret string) error {
	err := client.Store(h.program(ctx), &credentials.Credentials{ServerURL: serverURL, Username: username, Secret: secret})
	if err != nil {
		return &helperError{fmt.Errorf("credential helper %s%s store %s: %w", HelperPrefix, h.name, serverURL, redactError(err, secret))}
	}
	return nil
}

// erase removes serverURL's credentials from the helper.
func (h helper) erase(ctx context.Context, serverURL string) error {
	if err := client.Erase(h.program(ctx), serverURL); err != nil {
		if strings.Contains(err.Error(), credentials.NewErrCredentialsNotFound().Error()) {
			return nil
		}
		return &helperError{fmt.Errorf("credential helper %s%s erase %s: %w", HelperPrefix, h.name, serverURL, redactError(err))}
	}
	return nil
}

// helperHash identifies a helper credential without keeping the secret.
func helperHash(username, secret string) string {
	return sha256Hex([]byte(username + "\x00" + secret))
}
