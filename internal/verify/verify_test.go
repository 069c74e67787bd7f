package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	user     = "AWS"
	password = "ecr-password-c2VjcmV0LXZhbHVl"
	token    = "registry-bearer-token-dG9rZW4"
)

// host returns the host:port of a test server.
func host(srv *httptest.Server) string { return srv.Listener.Addr().String() }

// basicRegistry answers like a private ECR registry.
func basicRegistry(t *testing.T, status int) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/" {
			http.NotFound(w, r)
			return
		}
		u, p, ok := r.BasicAuth()
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="https://`+r.Host+`/",service="ecr.amazonaws.com"`)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintln(w, "Not Authorized")
			return
		}
		if u != user || p != password {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(status)
			// A careless registry echoing the password it got.
			fmt.Fprintf(w, "Denied for %s with %s\n", u, p)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	// Handshakes our TLS tests make fail on purpose are not news.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	t.Cleanup(srv.Close)
	return srv
}

// tokenService issues bearer tokens like public.ecr.aws / distribution's
// token server. It records the query of each token request.
type tokenService struct {
	srv        *httptest.Server
	field      string // "token" or "access_token"
	lastQuery  atomic.Value
	tokenCalls atomic.Int32
}

func newTokenService(t *testing.T, field string) *tokenService {
	t.Helper()
	ts := &tokenService{field: field}
	ts.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.tokenCalls.Add(1)
		ts.lastQuery.Store(r.URL.Query())
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != password {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"errors":[{"code":"DENIED","message":"bad password %s"}]}`, p)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{ts.field: token})
	}))
	t.Cleanup(ts.srv.Close)
	return ts
}

// bearerRegistry demands a token from ts; header overrides the challenge.
func bearerRegistry(t *testing.T, ts *tokenService, header string) *httptest.Server {
	t.Helper()
	if header == "" {
		header = `Bearer realm="` + ts.srv.URL + `/token",service="public.ecr.aws",scope="aws"`
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer "+token {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.Header().Set("WWW-Authenticate", header)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// noSecrets fails when err's text holds a secret.
func noSecrets(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{password, token} {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error text contains a secret (%d bytes)", len(s))
		}
	}
}

func TestRegistrySuccess(t *testing.T) {
	plain := newTokenService(t, "token")
	oauth := newTokenService(t, "access_token")
	tests := []struct {
		name string
		srv  *httptest.Server
		ts   *tokenService
	}{
		{"basic like private ECR", basicRegistry(t, http.StatusUnauthorized), nil},
		{"bearer like public.ecr.aws", bearerRegistry(t, plain, ""), plain},
		{"bearer with access_token field", bearerRegistry(t, oauth, ""), oauth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Registry(context.Background(), tt.srv.Client(), host(tt.srv), user, password)
			if err != nil {
				t.Fatalf("Registry: %v", err)
			}
			if tt.ts != nil {
				q := tt.ts.lastQuery.Load().(url.Values)
				want := url.Values{"service": {"public.ecr.aws"}, "scope": {"aws"}, "account": {user}}
				if !reflect.DeepEqual(q, want) {
					t.Fatalf("token request query = %v, want %v", q, want)
				}
			}
		})
	}
}

func TestRegistryChallengeVariants(t *testing.T) {
	ts := newTokenService(t, "token")
	realm := ts.srv.URL + "/token"
	tests := []struct {
		name   string
		header string
	}{
		{"bearer before basic in one header", `Bearer realm="` + realm + `",service="registry.test", Basic realm="x"`},
		{"basic first then bearer", `Basic realm="x", Bearer realm="` + realm + `",service="registry.test"`},
		{"unquoted params and spaces", `bearer  realm = "` + realm + `" , service=registry.test`},
		{"escaped quote in a param", `Bearer realm="` + realm + `",service="reg\"istry"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ts.tokenCalls.Load()
			srv := bearerRegistry(t, ts, tt.header)
			if err := Registry(context.Background(), srv.Client(), host(srv), user, password); err != nil {
				t.Fatalf("Registry: %v", err)
			}
			if ts.tokenCalls.Load() != before+1 {
				t.Fatal("Bearer was not preferred: no token was fetched")
			}
		})
	}
}

func TestParseChallenges(t *testing.T) {
	tests := []struct {
		in   []string
		want []challenge
	}{
		{[]string{`Basic realm="https://h/",service="ecr.amazonaws.com"`},
			[]challenge{{"basic", map[string]string{"realm": "https://h/", "service": "ecr.amazonaws.com"}}}},
		{[]string{`Bearer realm="https://a/token",service="s",scope="repository:x/y:pull,push"`},
			[]challenge{{"bearer", map[string]string{"realm": "https://a/token", "service": "s", "scope": "repository:x/y:pull,push"}}}},
		{[]string{`Negotiate abc123==, Basic realm="r"`},
			[]challenge{{"negotiate", map[string]string{}}, {"basic", map[string]string{"realm": "r"}}}},
		{[]string{`Basic`, `Bearer realm=r`},
			[]challenge{{"basic", map[string]string{}}, {"bearer", map[string]string{"realm": "r"}}}},
		{[]string{`, ,`}, nil},
		{[]string{`Bearer realm="unterminated`}, []challenge{{"bearer", map[string]string{"realm": "unterminated"}}}},
	}
	for _, tt := range tests {
		if got := parseChallenges(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseChallenges(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestRegistryRejected(t *testing.T) {
	ts := newTokenService(t, "token")
	tests := []struct {
		name   string
		srv    *httptest.Server
		status int
		url    string // the endpoint that refused
	}{
		{"basic 401", basicRegistry(t, http.StatusUnauthorized), 401, "/v2/"},
		{"basic 403", basicRegistry(t, http.StatusForbidden), 403, "/v2/"},
		{"bearer token service 401", bearerRegistry(t, ts, ""), 401, "/token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Registry(context.Background(), tt.srv.Client(), host(tt.srv), user, "wrong-"+password)
			var verr *Error
			if !errors.As(err, &verr) || verr.Kind != Rejected || !errors.Is(err, ErrRejected) {
				t.Fatalf("Registry error = %v, want a Rejected *Error", err)
			}
			if verr.Status != tt.status || !strings.HasSuffix(verr.URL, tt.url) {
				t.Fatalf("status/url = %d %s, want %d ...%s", verr.Status, verr.URL, tt.status, tt.url)
			}
			if errors.Is(err, ErrUnreachable) || errors.Is(err, ErrTLS) {
				t.Fatal("a rejected error matches another kind")
			}
			msg := err.Error()
			if !strings.Contains(msg, "refused the credentials") || !strings.Contains(msg, "fresh credentials") {
				t.Fatalf("message %q should say the credentials were rejected and what to do", msg)
			}
			noSecrets(t, err)
			if strings.Contains(msg, "wrong-") {
				t.Fatal("error text contains the (wrong) password")
			}
		})
	}
	t.Run("bearer token refused by registry", func(t *testing.T) {
		// The token service accepts, but the registry refuses the token.
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprintf(w, `{"errors":[{"code":"DENIED","message":"token %s not allowed"}]}`, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+ts.srv.URL+`/token",service="s"`)
			w.WriteHeader(http.StatusUnauthorized)
		}))
		defer srv.Close()
		err := Registry(context.Background(), srv.Client(), host(srv), user, password)
		if !errors.Is(err, ErrRejected) {
			t.Fatalf("Registry error = %v, want Rejected", err)
		}
		if !strings.Contains(err.Error(), "DENIED") || !strings.Contains(err.Error(), "[redacted]") {
			t.Fatalf("message %q should carry the registry's (redacted) reason", err)
		}
		noSecrets(t, err)
	})
}

func TestRegistryTLS(t *testing.T) {
	srv := basicRegistry(t, http.StatusUnauthorized)
	tests := []struct {
		name   string
		client func() *http.Client
		want   string
	}{
		{"untrusted CA", func() *http.Client {
			c := srv.Client()
			tr := c.Transport.(*http.Transport).Clone()
			tr.TLSClientConfig.RootCAs = x509.NewCertPool()
			return &http.Client{Transport: tr}
		}, "unknown authority"},
		{"wrong host name", func() *http.Client {
			c := srv.Client()
			tr := c.Transport.(*http.Transport).Clone()
			tr.TLSClientConfig.ServerName = "registry.invalid"
			return &http.Client{Transport: tr}
		}, "host name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Registry(context.Background(), tt.client(), host(srv), user, password)
			var verr *Error
			if !errors.As(err, &verr) || verr.Kind != TLS || !errors.Is(err, ErrTLS) {
				t.Fatalf("Registry error = %v, want a TLS *Error", err)
			}
			var ua x509.UnknownAuthorityError
			if tt.name == "untrusted CA" && !errors.As(err, &ua) {
				t.Fatal("the x509 cause is not reachable with errors.As")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || !strings.Contains(msg, "trust store") {
				t.Fatalf("message %q should say %q and how to fix it", msg, tt.want)
			}
			noSecrets(t, err)
		})
	}
	t.Run("plain HTTP server", func(t *testing.T) {
		plain := httptest.NewServer(http.NotFoundHandler())
		defer plain.Close()
		err := Registry(context.Background(), plain.Client(), host(plain), user, password)
		if !errors.Is(err, ErrTLS) || !strings.Contains(err.Error(), "does not speak TLS") {
			t.Fatalf("Registry error = %v, want TLS saying the server does not speak TLS", err)
		}
	})
}

func TestRegistryUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now

	err = Registry(context.Background(), http.DefaultClient, addr, user, password)
	var verr *Error
	if !errors.As(err, &verr) || verr.Kind != Unreachable || !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Registry error = %v, want Unreachable", err)
	}
	if !strings.Contains(err.Error(), "could not reach "+addr) || !strings.Contains(err.Error(), "network") {
		t.Fatalf("message %q should say the registry is unreachable and what to check", err)
	}

	t.Run("context cancelled", func(t *testing.T) {
		block := make(chan struct{})
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-block:
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		defer close(block)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err := Registry(ctx, srv.Client(), host(srv), user, password)
		if !errors.Is(err, ErrUnreachable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Registry error = %v, want Unreachable wrapping the deadline", err)
		}
	})
}

func TestRegistryUnexpected(t *testing.T) {
	handler := func(status int, header, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if header != "" {
				w.Header().Set("WWW-Authenticate", header)
			}
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}
	}
	emptyToken := httptest.NewTLSServer(handler(http.StatusOK, "", `{"expires_in": 60}`))
	defer emptyToken.Close()
	brokenToken := httptest.NewTLSServer(handler(http.StatusNotImplemented+100, "", "token service down")) // 601: no status we retry
	defer brokenToken.Close()
	tests := []struct {
		name    string
		handler http.Handler
		host    string
		want    string
	}{
		{"not a registry", handler(http.StatusNotFound, "", "404 page not found"), "", "404"},
		{"401 without challenge", handler(http.StatusUnauthorized, "", ""), "", "without a WWW-Authenticate"},
		{"unsupported scheme", handler(http.StatusUnauthorized, `Negotiate`, ""), "", `"negotiate"`},
		{"bearer without realm", handler(http.StatusUnauthorized, `Bearer service="s"`, ""), "", "realm"},
		{"plain http realm", handler(http.StatusUnauthorized, `Bearer realm="http://127.0.0.1:1/token"`, ""), "", "plain HTTP"},
		{"token without token", handler(http.StatusUnauthorized, `Bearer realm="`+emptyToken.URL+`/token"`, ""), "", "neither"},
		{"token service error", handler(http.StatusUnauthorized, `Bearer realm="`+brokenToken.URL+`/token"`, ""), "", "token service down"},
		{"bad host", nil, "https://example.test/v2", "not a registry host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.host
			client := http.DefaultClient
			if tt.handler != nil {
				srv := httptest.NewTLSServer(tt.handler)
				defer srv.Close()
				h, client = host(srv), srv.Client()
			}
			err := Registry(context.Background(), client, h, user, password)
			var verr *Error
			if !errors.As(err, &verr) || verr.Kind != Unexpected || !errors.Is(err, ErrUnexpected) {
				t.Fatalf("Registry error = %v, want Unexpected", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("message %q should mention %q", err, tt.want)
			}
			noSecrets(t, err)
		})
	}
}

func TestRegistryAnonymous(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Path != "/v2/" || r.Header.Get("Docker-Distribution-API-Version") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	if err := Registry(context.Background(), srv.Client(), host(srv), user, password); err != nil {
		t.Fatalf("Registry on an open registry: %v", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("%d requests, want 1", calls.Load())
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Rejected: "credentials rejected", Unreachable: "registry unreachable", TLS: "TLS failure", Unexpected: "unexpected registry response", Kind(9): "Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(k), got, want)
		}
	}
}

// TestRedirectIsNotAVerification: a registry (or an alias of one) that
// answers /v2/ with a redirect to plain HTTP on the same host, to another
// port, or to another host gets no credentials there, and the redirect
// target's 200 does not count as verified.
func TestRedirectIsNotAVerification(t *testing.T) {
	var leaked atomic.Int32
	target := func(tls bool) *httptest.Server {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "" {
				leaked.Add(1)
			}
			w.WriteHeader(http.StatusOK)
		})
		var srv *httptest.Server
		if tls {
			srv = httptest.NewTLSServer(h)
		} else {
			srv = httptest.NewServer(h)
		}
		t.Cleanup(srv.Close)
		return srv
	}
	plain, otherTLS := target(false), target(true)
	// "localhost" is another host name for the same loopback address.
	otherHost := strings.Replace(otherTLS.URL, "127.0.0.1", "localhost", 1)
	for _, tt := range []struct{ name, to string }{
		{"plain HTTP, same host name", plain.URL + "/v2/"},
		{"HTTPS, another port", otherTLS.URL + "/v2/"},
		{"HTTPS, another host name", otherHost + "/v2/"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			leaked.Store(0)
			reg := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, tt.to, http.StatusTemporaryRedirect)
			}))
			defer reg.Close()
			client := reg.Client()
			client.Transport.(*http.Transport).TLSClientConfig.RootCAs.AddCert(otherTLS.Certificate())
			err := Registry(context.Background(), client, host(reg), user, password)
			if !errors.Is(err, ErrUnexpected) || !strings.Contains(err.Error(), "redirect") {
				t.Errorf("Registry = %v; want an unexpected-response failure naming the redirect", err)
			}
			if err != nil && strings.Contains(err.Error(), password) {
				t.Errorf("the error shows the password: %v", err)
			}
			if n := leaked.Load(); n != 0 {
				t.Errorf("the redirect target received credentials %d time(s)", n)
			}
		})
	}
}

// TestRegistryRetries: a transient failure (a 429 or 5xx answer, a reset
// connection) is retried within the deadline, and the check passes once
// the registry answers; one that persists is "could not reach", and a
// refusal or a non-registry answer is not retried.
func TestRegistryRetries(t *testing.T) {
	ok := basicRegistry(t, http.StatusUnauthorized).Config.Handler
	tests := []struct {
		name      string
		failures  []int // the answers before the registry's own: a status, or 0 for a reset connection
		always    bool  // the failures never end
		tokenFail bool  // the token service fails instead of the registry
		wantKind  Kind  // 0: success
		wantCalls int32
		want      string
	}{
		{name: "503 twice, then 200", failures: []int{503, 503}, wantCalls: 3},
		{name: "429, then 200", failures: []int{429}, wantCalls: 2},
		{name: "a reset connection, then 200", failures: []int{0}, wantCalls: 2},
		{name: "502 and 504, then 200", failures: []int{502, 504}, wantCalls: 3},
		{name: "503 every time", failures: []int{503}, always: true, wantKind: Unreachable, wantCalls: maxAttempts, want: "could not reach"},
		{name: "token service 500 every time", failures: []int{500}, always: true, tokenFail: true, wantKind: Unreachable, want: "could not reach"},
		{name: "401 is not retried", failures: []int{401}, always: true, wantKind: Rejected, wantCalls: 1, want: "refused the credentials"},
		{name: "404 is not retried", failures: []int{404}, always: true, wantKind: Unexpected, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			fail := func(w http.ResponseWriter, n int32) bool {
				i := int(n) - 1
				if tt.always {
					i = 0
				} else if i >= len(tt.failures) {
					return false
				}
				switch status := tt.failures[i]; status {
				case 0:
					conn, _, err := w.(http.Hijacker).Hijack()
					if err == nil {
						conn.(*tls.Conn).NetConn().(*net.TCPConn).SetLinger(0) //nolint:errcheck // a reset, not a clean close
						conn.Close()
					}
				case 401:
					w.Header().Set("WWW-Authenticate", `Basic realm="r"`)
					w.WriteHeader(status)
				default:
					w.Header().Set("Content-Type", "text/plain")
					w.WriteHeader(status)
					fmt.Fprint(w, "maintenance")
				}
				return true
			}
			var handler http.Handler
			if tt.tokenFail {
				tokens := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					fail(w, calls.Add(1))
				}))
				defer tokens.Close()
				handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("WWW-Authenticate", `Bearer realm="`+tokens.URL+`/token",service="s"`)
					w.WriteHeader(http.StatusUnauthorized)
				})
			} else {
				handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if !fail(w, calls.Add(1)) {
						ok.ServeHTTP(w, r)
					}
				})
			}
			srv := httptest.NewUnstartedServer(handler)
			srv.Config.ErrorLog = log.New(io.Discard, "", 0)
			srv.StartTLS()
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			client := srv.Client()
			client.Transport.(*http.Transport).DisableKeepAlives = true
			err := Registry(ctx, client, host(srv), user, password)
			var verr *Error
			switch {
			case tt.wantKind == 0 && err != nil:
				t.Fatalf("Registry error = %v, want success", err)
			case tt.wantKind != 0 && (!errors.As(err, &verr) || verr.Kind != tt.wantKind):
				t.Fatalf("Registry error = %v, want %v", err, tt.wantKind)
			case err != nil && !strings.Contains(err.Error(), tt.want):
				t.Errorf("message %q should say %q", err, tt.want)
			}
			if tt.wantCalls != 0 && calls.Load() != tt.wantCalls {
				t.Errorf("%d requests, want %d", calls.Load(), tt.wantCalls)
			}
		})
	}
}
