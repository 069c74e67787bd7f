// Package problem defines the errors ecr-credentials shows to people.
//
// Every failure a user can act on is a *Problem with a stable Code (listed
// in docs/troubleshooting.md), a sentence saying what went
// wrong and a sentence saying how to fix it. Lower layers wrap their causes
// with fmt.Errorf as usual; the layer that knows what the user must do wraps
// the cause into a Problem. The sink for the CI (GitHub annotation, plugin
// log line, CLI stderr) decides how to print it.
package problem

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Code identifies a kind of problem. Codes are part of the user interface:
// they appear in logs and in docs/troubleshooting.md, and never change meaning.
type Code string

// The codes. Keep this list in step with docs/troubleshooting.md; a
// test checks that every code here has a row there, and nothing else.
const (
	// InvalidSetting: a setting has a value that cannot be used.
	InvalidSetting Code = "invalid-setting"
	// MissingSetting: a required setting is not given.
	MissingSetting Code = "missing-setting"
	// ConflictingSettings: two settings contradict each other.
	ConflictingSettings Code = "conflicting-settings"
	// UnknownSetting: a PLUGIN_* variable or flag that no setting has.
	UnknownSetting Code = "unknown-setting"
	// NoIDTokenPermission: the GitHub job cannot request an OIDC token.
	NoIDTokenPermission Code = "no-id-token-permission"
	// IDTokenRequestFailed: the OIDC token endpoint did not hand out a token.
	IDTokenRequestFailed Code = "id-token-request-failed"
	// WebIdentityTokenUnreadable: a web identity token file or variable is unusable.
	WebIdentityTokenUnreadable Code = "web-identity-token-unreadable"
	// NoCredentials: no AWS credentials could be found.
	NoCredentials Code = "no-credentials"
	// AssumeRoleDenied: STS refused to let this identity assume the role.
	AssumeRoleDenied Code = "assume-role-denied"
	// InvalidIdentityToken: STS rejected the web identity token itself.
	InvalidIdentityToken Code = "invalid-identity-token"
	// CredentialsRejected: AWS did not accept the credentials of a call
	// (unknown access key, wrong secret, expired session).
	CredentialsRejected Code = "credentials-rejected"
	// STSFailed: STS failed for another reason.
	STSFailed Code = "sts-failed"
	// AccountNotAllowed: the credentials belong to an account that
	// allowed-account-ids does not list.
	AccountNotAllowed Code = "account-not-allowed"
	// ECRDenied: the credentials may not call GetAuthorizationToken.
	ECRDenied Code = "ecr-denied"
	// ECRFailed: GetAuthorizationToken failed for another reason.
	ECRFailed Code = "ecr-failed"
	// Timeout: the overall deadline passed.
	Timeout Code = "timeout"
	// DockerConfig: the docker client configuration could not be updated.
	DockerConfig Code = "docker-config"
	// CredentialHelper: a docker credential helper is missing or failed.
	CredentialHelper Code = "credential-helper"
	// VerifyFailed: the registry refused the new credentials, or answered
	// the check in a way no registry does (TLS failure, not a registry).
	VerifyFailed Code = "verify-failed"
	// RegistryUnreachable: the registry could not be reached to check the
	// new credentials (DNS, connection, timeout, or only 429 / 5xx
	// answers), after the retries.
	RegistryUnreachable Code = "registry-unreachable"
	// OutputFailed: results could not be written where the CI reads them.
	OutputFailed Code = "output-failed"
	// Internal: a bug; please report it.
	Internal Code = "internal"
)

// Codes lists every code, for documentation checks.
var Codes = []Code{
	InvalidSetting, MissingSetting, ConflictingSettings, UnknownSetting,
	NoIDTokenPermission, IDTokenRequestFailed, WebIdentityTokenUnreadable,
	NoCredentials, AssumeRoleDenied, InvalidIdentityToken, CredentialsRejected, STSFailed,
	AccountNotAllowed, ECRDenied, ECRFailed, Timeout, DockerConfig, CredentialHelper,
	VerifyFailed, RegistryUnreachable, OutputFailed, Internal,
}

// Problem is an error a person can act on.
type Problem struct {
	Code Code
	// Subject names what the problem is about as the user spelled it in
	// this CI, e.g. `input "role-to-assume"` or `PLUGIN_REGION`. May be empty.
	Subject string
	// What went wrong, one sentence without a trailing period.
	What string
	// Fix says what to do, one or more sentences. May be empty.
	Fix string
	// Err is the underlying cause, if any. It must not carry secrets.
	Err error
}

// New makes a Problem.
func New(code Code, subject, what, fix string) *Problem {
	return &Problem{Code: code, Subject: subject, What: what, Fix: fix}
}

// Wrap makes a Problem around a cause.
func Wrap(code Code, err error, what, fix string) *Problem {
	return &Problem{Code: code, What: what, Fix: fix, Err: err}
}

// Error renders the problem on one line: subject, what, cause, fix.
func (p *Problem) Error() string {
	var b strings.Builder
	if p.Subject != "" {
		b.WriteString(p.Subject)
		b.WriteString(": ")
	}
	b.WriteString(p.What)
	if p.Err != nil {
		fmt.Fprintf(&b, ": %v", p.Err)
	}
	if p.Fix != "" {
		// Causes often end with their own period; end the sentence once.
		s := strings.TrimRight(b.String(), ". ")
		b.Reset()
		b.WriteString(s)
		b.WriteString(". ")
		b.WriteString(p.Fix)
	}
	return b.String()
}

// Unwrap returns the cause.
func (p *Problem) Unwrap() error { return p.Err }

// FromContext recognises an ended context: a Timeout problem saying what
// it was waiting for (and which endpoint variables to check), or nil when
// err is not a deadline or a cancellation.
func FromContext(err error, waitingFor, endpointVars string) *Problem {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &Problem{Code: Timeout, Err: err,
			What: "gave up waiting for " + waitingFor,
			Fix:  "The endpoint was slow or unreachable within the `timeout` setting; raise it, or check network access and " + endpointVars + "."}
	case errors.Is(err, context.Canceled):
		return &Problem{Code: Timeout, Err: err, What: "cancelled while waiting for " + waitingFor}
	}
	return nil
}

// Join merges failures of parts of one run (regions, identities) into one
// Problem that lists each; a single failure is returned as it is.
func Join(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	var parts []string
	code := As(errs[0]).Code
	for _, e := range errs {
		p := As(e)
		if p.Code != code {
			code = ECRFailed
		}
		parts = append(parts, p.Error())
	}
	sort.Strings(parts)
	return &Problem{Code: code, What: fmt.Sprintf("%d registry logins failed (nothing was written): %s", len(errs), strings.Join(parts, "; "))}
}

// As returns the Problem in err's chain, or wraps err as an Internal one.
func As(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	return &Problem{Code: Internal, What: "unexpected error", Err: err,
		Fix: "This is likely a bug in ecr-credentials; please report it with the log of this step."}
}

// Shorten returns s for a message, or, when s is longer than max bytes, its
// first few characters and its length: a value that long may be a secret or
// a blob pasted into the wrong setting, and a message must not repeat it.
func Shorten(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const head = 12
	n := min(head, max)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return fmt.Sprintf("%s… (%d characters)", s[:n], len(s))
}
