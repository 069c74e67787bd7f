package e2e

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// proxiedRegistry is a registry host name the machine cannot resolve: only
// the test's CONNECT proxy knows it (as 127.0.0.1).
const proxiedRegistry = "registry.proxy.test"

// startRegistryFront puts an HTTPS front (with the registry's certificate)
// before the fixture's registry: request number n (from 1) to /v2/ gets
// the status answer(n) returns, or, for 0, the registry's own answer. It
// returns the front's port and how many /v2/ requests it got.
func startRegistryFront(t *testing.T, f *fixture, answer func(n int32) int) (string, *atomic.Int32) {
	t.Helper()
	target, err := url.Parse(f.reg.URL)
	must(t, err)
	pass := httputil.NewSingleHostReverseProxy(target)
	pass.Transport = &http.Transport{TLSClientConfig: f.ca.ClientTLSConfig()}
	var calls atomic.Int32
	front := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			switch status := answer(calls.Add(1)); status {
			case 0:
			case http.StatusUnauthorized:
				w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
				w.WriteHeader(status)
				return
			default:
				w.WriteHeader(status)
				return
			}
		}
		pass.ServeHTTP(w, r)
	}))
	front.TLS = f.ca.ServerTLSConfig()
	front.StartTLS()
	t.Cleanup(front.Close)
	_, port, err := net.SplitHostPort(front.Listener.Addr().String())
	must(t, err)
	return port, &calls
}

// TestVerifyFollowsHTTPProxy: with only the http-proxy input set, every
// connection goes through the proxy, the registry check's included: the
// emulator (OIDC token, STS, ECR) and the registry are addressed by names
// only the proxy knows, and the login passes.
func TestVerifyFollowsHTTPProxy(t *testing.T) {
	const awsName = "aws.proxy.test"
	f := newFixtureWith(t, awsfake.Options{TLS: true, DNSNames: []string{awsName}})
	_, port, err := net.SplitHostPort(strings.TrimPrefix(f.reg.URL, "https://"))
	must(t, err)
	registry := net.JoinHostPort(proxiedRegistry, port)
	f.fake.MapRegistry(account, region, "https://"+registry)
	u, err := url.Parse(f.fake.URL())
	must(t, err)
	aws := net.JoinHostPort(awsName, u.Port())
	p := testenv.StartConnectProxy(t, map[string]string{proxiedRegistry: "127.0.0.1", awsName: "127.0.0.1"})
	r := newRunner(t)
	env := f.githubEnv(r, map[string]string{"role-to-assume": roleARN, "aws-region": region, "http-proxy": p.URL, "timeout": "30s"})
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_ECR", "ACTIONS_ID_TOKEN_REQUEST_URL"} {
		if !strings.Contains(env[k], u.Host) {
			t.Fatalf("%s=%s is not the emulator's %s", k, env[k], u.Host)
		}
		env[k] = strings.Replace(env[k], u.Host, aws, 1)
	}
	res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	if seen := p.Hosts(); !slices.Contains(seen, registry) || !slices.Contains(seen, aws) {
		t.Errorf("the proxy was asked for %v; want the AWS calls' %s and the registry check's %s", seen, aws, registry)
	}
	if out := readFileCommands(t, r.output); out["registry"] != registry {
		t.Errorf("registry output %q, want %q", out["registry"], registry)
	}
}

// TestVerifyReach: the registry check retries a registry that answers 503
// and passes once it answers; a registry nobody listens on is "could not
// reach" (registry-unreachable), one that refuses the credentials is
// "refused" (verify-failed).
func TestVerifyReach(t *testing.T) {
	f := newFixture(t)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	_, closedPort, _ := net.SplitHostPort(closed.Addr().String())
	closed.Close() // nothing listens there now
	for _, tc := range []struct {
		name    string
		answer  func(n int32) int // nil: no registry at all
		code    string            // "": success
		inError []string
	}{
		{name: "503 twice, then the registry", answer: func(n int32) int {
			if n <= 2 {
				return http.StatusServiceUnavailable
			}
			return 0
		}},
		{name: "unreachable", code: "registry-unreachable", inError: []string{"could not reach 127.0.0.1:" + closedPort}},
		{name: "401", answer: func(int32) int { return http.StatusUnauthorized }, code: "verify-failed", inError: []string{"refused the new credentials"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			registry := net.JoinHostPort("127.0.0.1", closedPort)
			var calls *atomic.Int32
			if tc.answer != nil {
				var port string
				port, calls = startRegistryFront(t, f, tc.answer)
				registry = net.JoinHostPort("127.0.0.1", port)
			}
			f.fake.MapRegistry(account, region, "https://"+registry)
			r := newRunner(t)
			env := f.githubEnv(r, map[string]string{"role-to-assume": roleARN, "aws-region": region, "timeout": "10s"})
			res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env})
			if tc.code != "" {
				wantGitHubFailure(t, res, tc.code, tc.inError...)
				return
			}
			if res.ExitCode != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.ExitCode, res.Stdout, res.Stderr)
			}
			if n := calls.Load(); n < 3 {
				t.Errorf("the registry got %d requests to /v2/, want the 2 refused and one more", n)
			}
		})
	}
}
