// Package verify proves that registry credentials work before we hand them
// to the next CI steps: it authenticates to the registry's /v2/ endpoint
// the way a docker client does (Basic, or a Bearer token fetched from the
// challenge's realm) and reports failures as typed errors that tell the
// user what went wrong — rejected credentials, an unreachable registry, a
// TLS problem, or a registry that answered something unexpected.
// Transient failures (no answer, 429, 5xx) are retried while the
// context's deadline leaves time.
//
// Errors never contain the password or a registry token.
package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// Kind classifies a verification failure.
type Kind int

const (
	// Rejected: the registry (or its token service) refused the
	// credentials with 401/403 after they were presented.
	Rejected Kind = iota + 1
	// Unreachable: no HTTP answer (DNS, connection, timeout, cancelled),
	// or only 429 / 5xx answers, after the retries.
	Unreachable
	// TLS: the TLS handshake failed, usually an untrusted certificate.
	TLS
	// Unexpected: the registry answered, but not like a docker registry
	// v2 API (unexpected status, missing or unsupported challenge,
	// malformed token response).
	Unexpected
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case Rejected:
		return "credentials rejected"
	case Unreachable:
		return "registry unreachable"
	case TLS:
		return "TLS failure"
	case Unexpected:
		return "unexpected registry response"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Sentinel errors matching each Kind with errors.Is.
var (
	ErrRejected    = errors.New("registry rejected the credentials")
	ErrUnreachable = errors.New("registry unreachable")
	ErrTLS         = errors.New("TLS failure talking to the registry")
	ErrUnexpected  = errors.New("unexpected registry response")
)

// Error is the error Registry returns. Use errors.As to read it or
// errors.Is with the sentinel errors to test its Kind.
type Error struct {
	Kind Kind
	// Host is the registry host that was checked.
	Host string
	// URL is the endpoint that failed (the /v2/ endpoint or the token
	// realm, without query); it holds no secrets.
	URL string
	// Status is the HTTP status, when there was an answer.
	Status int
	// Detail says what happened (already free of secrets).
	Detail string
	// Err is the underlying cause, if any (already free of secrets).
	Err error
}

// Error describes the failure and what it means for the user.
func (e *Error) Error() string {
	var b strings.Builder
	switch e.Kind {
	case Rejected:
		fmt.Fprintf(&b, "%s refused the credentials", e.Host)
	case Unreachable:
		fmt.Fprintf(&b, "could not reach %s", e.Host)
	case TLS:
		fmt.Fprintf(&b, "TLS connection to registry %s failed", e.Host)
	default:
		fmt.Fprintf(&b, "registry %s answered unexpectedly", e.Host)
	}
	if e.URL != "" {
		fmt.Fprintf(&b, " (%s", e.URL)
		if e.Status != 0 {
			fmt.Fprintf(&b, ": HTTP %d", e.Status)
		}
		b.WriteString(")")
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	switch e.Kind {
	case Rejected:
		b.WriteString("; the user name or password/token is wrong, expired, for another registry or account, or lacks permission — get fresh credentials for this exact registry and check the role's ECR permissions")
	case Unreachable:
		b.WriteString("; check the registry host name, DNS, network/firewall and proxy settings (http-proxy/no-proxy, HTTPS_PROXY/NO_PROXY), and that the registry is up")
	case TLS:
		b.WriteString("; the registry's certificate is not trusted for this host (unknown or private CA, self-signed, expired, or wrong host name) or it does not speak HTTPS — if it uses a private CA, add that CA to the system trust store")
	default:
		b.WriteString("; this host may not be a docker registry (v2 API), or it is misbehaving — check the host name")
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinel error of e's Kind.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrRejected:
		return e.Kind == Rejected
	case ErrUnreachable:
		return e.Kind == Unreachable
	case ErrTLS:
		return e.Kind == TLS
	case ErrUnexpected:
		return e.Kind == Unexpected
	}
	return false
}

// maxBody bounds how much of a response we read.
const maxBody = 1 << 20

// checker carries one verification.
type checker struct {
	ctx      context.Context
	client   *http.Client
	host     string
	username string
	password string
	token    string // bearer token once fetched (secret)
}

// redact removes the secrets from s.
func (c *checker) redact(s string) string {
	for _, sec := range []string{c.password, c.token} {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// fail builds an *Error with a cause whose text has been redacted.
func (c *checker) fail(kind Kind, u string, status int, detail string, cause error) *Error {
	e := &Error{Kind: kind, Host: c.host, URL: u, Status: status, Detail: c.redact(detail)}
	if cause != nil {
		e.Err = &redactedError{msg: c.redact(cause.Error()), cause: cause}
	}
	return e
}

// redactedError shows a redacted message but still unwraps to the cause,
// so errors.Is(err, context.DeadlineExceeded) and errors.As for
// x509/tls errors keep working.
type redactedError struct {
	msg   string
	cause error
}

func (r *redactedError) Error() string { return r.msg }
func (r *redactedError) Unwrap() error { return r.cause }

// Registry checks that username/password authenticate to
// https://<host>/v2/ the way a docker client would: GET /v2/; on 401 it
// follows the WWW-Authenticate challenge (Basic: retry with basic auth;
// Bearer realm/service/scope: fetch a token from realm with basic auth,
// then retry with it). A registry that allows anonymous access to /v2/ is
// accepted without checking the credentials, as docker login does.
// client may be nil (http.DefaultClient). Failures are *Error.
func Registry(ctx context.Context, client *http.Client, host, username, password string) error {
	if client == nil {
		client = http.DefaultClient
	}
	client = sameOrigin(client)
	c := &checker{ctx: ctx, client: client, host: host, username: username, password: password}
	if host == "" || strings.Contains(host, "://") || strings.ContainsAny(host, "/?#@ ") {
		return c.fail(Unexpected, "", 0, fmt.Sprintf("%q is not a registry host name (want host[:port], no scheme or path)", host), nil)
	}
	endpoint := "https://" + host + "/v2/"

	// Basic credentials go with the first request: ECR registries (and
	// every htpasswd registry) answer it at once, saving the round trip of
	// a challenge. Token registries (public.ecr.aws) ignore them and
	// answer with their Bearer challenge, handled below.
	resp, err := c.get(endpoint, basicAuth(username, password))
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusForbidden:
		return c.fail(Rejected, endpoint, resp.StatusCode, c.registryMessage(resp), nil)
	case resp.StatusCode != http.StatusUnauthorized:
		return c.unexpectedStatus(endpoint, resp, "GET /v2/ should answer 200, or 401 with a challenge")
	}
	challenges := parseChallenges(resp.Header.Values("WWW-Authenticate"))
	var basic, bearer *challenge
	for i := range challenges {
		switch challenges[i].scheme {
		case "basic":
			if basic == nil {
				basic = &challenges[i]
			}
		case "bearer":
			if bearer == nil {
				bearer = &challenges[i]
			}
		}
	}
	var authz string
	switch {
	case bearer != nil:
		if err := c.fetchToken(bearer.params); err != nil {
			return err
		}
		authz = "Bearer " + c.token
	case basic != nil:
		// The Basic credentials sent with the first request were refused.
		return c.fail(Rejected, endpoint, resp.StatusCode, c.registryMessage(resp), nil)
	case len(challenges) == 0:
		// Refused without saying how to authenticate: ask without
		// credentials to tell a registry (which challenges then) from
		// something that is not one. Only failures pay this round trip.
		refused := resp
		probe, err := c.get(endpoint, "")
		if err != nil {
			return err
		}
		if probe.StatusCode == http.StatusUnauthorized && len(parseChallenges(probe.Header.Values("WWW-Authenticate"))) > 0 {
			return c.fail(Rejected, endpoint, refused.StatusCode, c.registryMessage(refused), nil)
		}
		return c.fail(Unexpected, endpoint, refused.StatusCode, "401 without a WWW-Authenticate challenge", nil)
	default:
		return c.fail(Unexpected, endpoint, resp.StatusCode, fmt.Sprintf("unsupported authentication scheme %q (docker supports Basic and Bearer)", challenges[0].scheme), nil)
	}

	resp, err = c.get(endpoint, authz)
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return c.fail(Rejected, endpoint, resp.StatusCode, c.registryMessage(resp), nil)
	}
	return c.unexpectedStatus(endpoint, resp, "GET /v2/ with credentials")
}

// sameOrigin returns a copy of client that follows a redirect only within
// the scheme and host:port of the first request: Go's own policy keeps the
// Authorization header on a redirect to the same host name over plain
// HTTP or to another port, which would hand the registry password to
// whoever answers there. A redirect elsewhere comes back as the 3xx
// answer, which get turns into a failure.
func sameOrigin(client *http.Client) *http.Client {
	c := *client
	next := client.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		if req.URL.Scheme != first.Scheme || !strings.EqualFold(req.URL.Host, first.Host) {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}

// printable drops what is not printable from text taken from an answer.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, s)
}

func basicAuth(user, pass string) string {
	r := &http.Request{Header: http.Header{}}
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

// response is the part of an HTTP answer we keep after closing its body.
type response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// The retry policy of the registry check, as for the AWS calls (see
// awsauth's): a transient failure (no answer: DNS, a refused or reset
// connection, a timed-out attempt; or a 429 or 5xx answer) is retried
// after a delay drawn uniformly below a ceiling that starts at baseDelay
// and doubles up to maxDelay ("full jitter"), at most maxAttempts times in
// all, and never past the context's deadline (the timeout setting).
const (
	maxAttempts = 6
	baseDelay   = 100 * time.Millisecond
	maxDelay    = 5 * time.Second
)

// get performs a GET, retrying transient failures, and reads (a bounded
// part of) the body. Transport failures become Unreachable or TLS errors;
// 429 and 5xx answers left after the retries, Unreachable.
func (c *checker) get(u, authz string) (*response, error) {
	for attempt := 1; ; attempt++ {
		resp, err := c.getOnce(u, authz)
		transient := false
		var verr *Error
		switch {
		case errors.As(err, &verr):
			transient = verr.Kind == Unreachable && c.ctx.Err() == nil
		case err == nil:
			transient = resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 && resp.StatusCode <= 599
		}
		if !transient || attempt == maxAttempts || !c.wait(attempt) {
			if err == nil && transient {
				detail := fmt.Sprintf("answered %d %s to each of %d attempts", resp.StatusCode, http.StatusText(resp.StatusCode), attempt)
				return nil, c.fail(Unreachable, stripQuery(u), resp.StatusCode, detail+suffix(c.registryMessage(resp)), nil)
			}
			return resp, err
		}
	}
}

// wait sleeps before retry number attempt; false, at once, when the
// context's deadline would pass first or it ended.
func (c *checker) wait(attempt int) bool {
	ceiling := min(baseDelay<<(attempt-1), maxDelay)
	d := time.Duration(rand.Int64N(int64(ceiling)))
	if deadline, ok := c.ctx.Deadline(); ok && time.Until(deadline) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// getOnce performs one GET and reads (a bounded part of) the body.
// Transport failures become Unreachable or TLS errors.
func (c *checker) getOnce(u, authz string) (*response, error) {
	req, err := http.NewRequestWithContext(c.ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, c.fail(Unexpected, stripQuery(u), 0, "cannot build request", err)
	}
	req.Header.Set("User-Agent", "ecr-credentials")
	req.Header.Set("Docker-Distribution-API-Version", "registry/2.0")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, c.transportError(stripQuery(u), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		// Not followed (see sameOrigin): the credentials stay with the
		// origin they were meant for, and a redirect proves nothing.
		where := "elsewhere"
		if loc, err := resp.Location(); err == nil {
			where = loc.Scheme + "://" + loc.Host
		}
		return nil, c.fail(Unexpected, stripQuery(u), resp.StatusCode,
			"redirected to "+printable(where)+"; credentials are never sent to another scheme or host, and a redirect is not a verification", nil)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, c.transportError(stripQuery(u), err)
	}
	return &response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// transportError classifies a failure to get an HTTP answer.
func (c *checker) transportError(u string, err error) error {
	var (
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalid    x509.CertificateInvalidError
		verifyErr  *tls.CertificateVerificationError
		recordErr  tls.RecordHeaderError
		alertErr   tls.AlertError
		sysRootErr x509.SystemRootsError
	)
	switch {
	case errors.As(err, &unknownCA):
		return c.fail(TLS, u, 0, "certificate signed by an unknown authority", err)
	case errors.As(err, &hostErr):
		return c.fail(TLS, u, 0, "certificate is not valid for this host name", err)
	case errors.As(err, &invalid):
		return c.fail(TLS, u, 0, "certificate is invalid (expired or not yet valid, or not allowed for TLS servers)", err)
	case errors.As(err, &verifyErr), errors.As(err, &alertErr), errors.As(err, &sysRootErr):
		return c.fail(TLS, u, 0, "TLS handshake failed", err)
	case errors.As(err, &recordErr), errors.Is(err, http.ErrSchemeMismatch):
		return c.fail(TLS, u, 0, "the server does not speak TLS (plain HTTP on an HTTPS port?)", err)
	}
	return c.fail(Unreachable, u, 0, "", err)
}

// unexpectedStatus reports an answer that is neither success nor auth.
func (c *checker) unexpectedStatus(u string, resp *response, what string) error {
	detail := fmt.Sprintf("%s, got %s", what, http.StatusText(resp.StatusCode))
	if msg := c.registryMessage(resp); msg != "" {
		detail += " (" + msg + ")"
	}
	return c.fail(Unexpected, u, resp.StatusCode, detail, nil)
}

// registryMessage extracts a short, redacted message from an error body:
// the registry v2 {"errors":[{code,message}]} shape, or the first line of
// a text body.
func (c *checker) registryMessage(resp *response) string {
	var v struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
		Details string `json:"details"`
	}
	var msg string
	if json.Unmarshal(resp.Body, &v) == nil && len(v.Errors) > 0 {
		var parts []string
		for _, e := range v.Errors {
			parts = append(parts, strings.TrimSpace(e.Code+" "+e.Message))
		}
		msg = strings.Join(parts, "; ")
	} else if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "text/plain" {
		msg, _, _ = strings.Cut(string(resp.Body), "\n")
	}
	msg = printable(strings.TrimSpace(msg))
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return c.redact(msg)
}

// fetchToken gets a bearer token from the challenge's realm using basic
// auth, as the docker client does for registries with token auth.
func (c *checker) fetchToken(params map[string]string) error {
	realm := params["realm"]
	ru, err := url.Parse(realm)
	if realm == "" || err != nil || ru.Host == "" {
		return c.fail(Unexpected, "https://"+c.host+"/v2/", http.StatusUnauthorized, "Bearer challenge without a usable realm URL", nil)
	}
	if ru.Scheme != "https" {
		return c.fail(Unexpected, stripQuery(realm), 0, "the token realm is not HTTPS; refusing to send credentials over plain HTTP", nil)
	}
	q := ru.Query()
	if s := params["service"]; s != "" {
		q.Set("service", s)
	}
	if s := params["scope"]; s != "" {
		q.Set("scope", s)
	}
	q.Set("account", c.username)
	ru.RawQuery = q.Encode()

	tokenURL := ru.String()
	resp, err := c.get(tokenURL, basicAuth(c.username, c.password))
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return c.fail(Rejected, stripQuery(tokenURL), resp.StatusCode, "the token service refused the credentials"+suffix(c.registryMessage(resp)), nil)
	default:
		return c.unexpectedStatus(stripQuery(tokenURL), resp, "token request should answer 200")
	}
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(resp.Body, &tok); err != nil {
		return c.fail(Unexpected, stripQuery(tokenURL), resp.StatusCode, "token response is not JSON", nil)
	}
	c.token = tok.Token
	if c.token == "" {
		c.token = tok.AccessToken
	}
	if c.token == "" {
		return c.fail(Unexpected, stripQuery(tokenURL), resp.StatusCode, "token response has neither \"token\" nor \"access_token\"", nil)
	}
	return nil
}

func suffix(msg string) string {
	if msg == "" {
		return ""
	}
	return " (" + msg + ")"
}

// stripQuery drops query and fragment from u for messages.
func stripQuery(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}
