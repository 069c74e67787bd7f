package app

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/awsauth"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
)

// helperEnv is an environment in which the helper can reach nothing: no
// credentials anywhere, the SDK's endpoints on a closed loopback port, the
// instance metadata service off, no token cache.
func helperEnv(t testing.TB) map[string]string {
	env := map[string]string{
		"AWS_REGION":                             "eu-west-1",
		"AWS_EC2_METADATA_DISABLED":              "true",
		"AWS_ENDPOINT_URL":                       "http://127.0.0.1:1",
		"AWS_CONFIG_FILE":                        "/nonexistent/config",
		"AWS_SHARED_CREDENTIALS_FILE":            "/nonexistent/credentials",
		"AWS_ACCESS_KEY_ID":                      "",
		"AWS_SECRET_ACCESS_KEY":                  "",
		"AWS_SESSION_TOKEN":                      "",
		"AWS_PROFILE":                            "",
		"AWS_WEB_IDENTITY_TOKEN_FILE":            "",
		"AWS_ROLE_ARN":                           "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"ECR_CREDENTIALS_CACHE_DIR":              "none",
		"HOME":                                   t.TempDir(),
	}
	// The AWS SDK reads the process environment itself.
	for k, v := range env {
		if s, ok := t.(interface{ Setenv(string, string) }); ok {
			s.Setenv(k, v)
		}
	}
	return env
}

func runHelper(env map[string]string, action, stdin string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	e := Env{
		Args:   []string{"docker-credential-ecr-credentials", action},
		Getenv: func(k string) string { return env[k] },
		Stdin:  strings.NewReader(stdin),
		Stdout: &stdout,
		Stderr: &stderr,
	}
	for k, v := range env {
		e.Environ = append(e.Environ, k+"="+v)
	}
	code := Main(context.Background(), e)
	return code, stdout.String(), stderr.String()
}

// TestHelperServerURLNamingNoRegistry: a server URL that names no ECR
// registry is answered with the protocol's "credentials not found" (docker
// then goes on without credentials), never with a panic or a login for the
// default registry. Each of these panicked before (index out of range).
func TestHelperServerURLNamingNoRegistry(t *testing.T) {
	env := helperEnv(t)
	for _, url := range []string{",", "/", "https://", " , ", "http://", "https:///v2/", ",,", "a b", "docker.io", "https://index.docker.io/v1/", "ghcr.io\t,"} {
		t.Run(url, func(t *testing.T) {
			code, stdout, stderr := runHelper(env, "get", url+"\n")
			if code != ExitError || strings.TrimSpace(stdout) != "credentials not found in native keychain" {
				t.Errorf("get %q: exit %d, stdout %q, stderr %q; want exit 1 and the protocol's not-found answer", url, code, stdout, stderr)
			}
		})
	}
}

// FuzzCredentialHelper feeds arbitrary stdin to each helper action: the
// helper never panics, exits 0 or 1, and on failure answers one line on
// stdout (what docker shows).
func FuzzCredentialHelper(f *testing.F) {
	for _, s := range []string{",", "/", "https://", " , ", "", "\n", "123456789012", "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
		"https://public.ecr.aws", `{"ServerURL":"x","Username":"AWS","Secret":"s"}`, `{"ServerURL":""}`, "[::1]:5000", "\x00"} {
		for _, action := range []string{"get", "store", "erase"} {
			f.Add(action, s)
		}
	}
	env := helperEnv(f)
	f.Fuzz(func(t *testing.T, action, stdin string) {
		switch action {
		case "get", "store", "erase", "list":
		default:
			action = "get"
		}
		code, stdout, _ := runHelper(env, action, stdin)
		switch code {
		case ExitOK:
		case ExitError:
			if strings.Count(strings.TrimRight(stdout, "\n"), "\n") != 0 {
				t.Errorf("%s %q: the failure answer on stdout is not one line: %q", action, stdin, stdout)
			}
		default:
			t.Errorf("%s %q: exit %d", action, stdin, code)
		}
	})
}

// TestHelperRefusesUntrustedCache: a token cache directory others may
// write is refused: list fails saying why and what to do, get warns and
// goes without it (here it then fails for want of credentials, which shows
// it did not serve what the directory held).
func TestHelperRefusesUntrustedCache(t *testing.T) {
	env := helperEnv(t)
	dir := filepath.Join(t.TempDir(), "cache")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	env["ECR_CREDENTIALS_CACHE_DIR"] = dir
	code, stdout, _ := runHelper(env, "list", "")
	if code != ExitError || !strings.Contains(stdout, "writable by other users") || !strings.Contains(stdout, "ECR_CREDENTIALS_CACHE_DIR") {
		t.Errorf("list: exit %d, stdout %q; want a refusal that says why and how to fix it", code, stdout)
	}
	code, _, stderr := runHelper(env, "get", "123456789012.dkr.ecr.eu-west-1.amazonaws.com\n")
	if code != ExitError || !strings.Contains(stderr, "token cache unusable") {
		t.Errorf("get: exit %d, stderr %q; want the cache refused with a warning", code, stderr)
	}
}

// TestSessionShapeCoversParams: every field of awsauth.Params is either
// keyed by the token cache (changing it changes sessionShape) or named
// here as decided elsewhere, so a field added later cannot be forgotten.
func TestSessionShapeCoversParams(t *testing.T) {
	base := awsauth.Params{
		Region: "eu-west-1", Role: inputs.RoleARN{ARN: "arn:aws:iam::123456789012:role/a", AccountID: "123456789012"},
		SessionName: "one", Duration: time.Hour, Tags: []inputs.Tag{{Key: "Team", Value: "a"}},
	}
	noEnv := func(string) string { return "" }
	proxy, err := url.Parse("http://proxy.example:3128")
	if err != nil {
		t.Fatal(err)
	}
	changes := map[string]func(p *awsauth.Params){
		"Region":          func(p *awsauth.Params) { p.Region = "us-east-1" },
		"Role":            func(p *awsauth.Params) { p.Role.ARN = "arn:aws:iam::123456789012:role/b" },
		"Chain":           func(p *awsauth.Params) { p.Chain = []inputs.RoleARN{{ARN: "arn:aws:iam::210987654321:role/c"}} },
		"SessionName":     func(p *awsauth.Params) { p.SessionName = "two" },
		"Duration":        func(p *awsauth.Params) { p.Duration = 2 * time.Hour },
		"ExternalID":      func(p *awsauth.Params) { p.ExternalID = "ext" },
		"SourceIdentity":  func(p *awsauth.Params) { p.SourceIdentity = "alice" },
		"Tags":            func(p *awsauth.Params) { p.Tags = []inputs.Tag{{Key: "Team", Value: "b"}} },
		"DroppableTags":   func(p *awsauth.Params) { p.DroppableTags = map[string]bool{"Team": true} },
		"Policy":          func(p *awsauth.Params) { p.Policy = `{"Version":"2012-10-17"}` },
		"PolicyARNs":      func(p *awsauth.Params) { p.PolicyARNs = []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"} },
		"AllowedAccounts": func(p *awsauth.Params) { p.AllowedAccounts = []string{"123456789012"} },
		"DualStack":       func(p *awsauth.Params) { p.DualStack = true },
		"Proxy":           func(p *awsauth.Params) { p.Proxy = awsauth.NewProxy(proxy, nil, noEnv) },
	}
	// Decided elsewhere: the base identity is keyed by the settings that
	// choose it (cacheIdentity); NeedIdentity only asks who the caller is;
	// the rest are the run's callbacks and connections. A profile
	// (LoadOptions) is keyed as the registry entry's identity.
	elsewhere := map[string]bool{"Base": true, "NeedIdentity": true, "Mask": true, "MaskAccount": true, "LoadOptions": true, "Preconnect": true, "Warm": true, "Log": true, "Warn": true}
	typ := reflect.TypeFor[awsauth.Params]()
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		change, ok := changes[name]
		if !ok {
			if !elsewhere[name] {
				t.Errorf("awsauth.Params.%s: neither keyed by sessionShape nor decided elsewhere; add it to sessionShape if it shapes the session", name)
			}
			continue
		}
		p := base
		change(&p)
		if sessionShape(p) == sessionShape(base) {
			t.Errorf("awsauth.Params.%s changed, yet the token cache key stays the same", name)
		}
	}
	p := base
	p.Proxy = awsauth.NewProxy(nil, []string{"internal.example"}, noEnv)
	if sessionShape(p) == sessionShape(base) {
		t.Errorf("no-proxy changed, yet the token cache key stays the same")
	}
}

// TestHelperHost: the host of a server URL docker asks about is read as
// registry.NormalizeHost reads every host; what names no single host gets
// none.
func TestHelperHost(t *testing.T) {
	tests := []struct {
		url, want string
		ok        bool
	}{
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", true},
		{"https://Proxy.Internal:5443/v2/", "proxy.internal:5443", true},
		{"proxy.internal.", "proxy.internal", true},
		{"proxy.internal?x", "proxy.internal", true},
		{"ftp://proxy.internal", "", false},
		{"user@proxy.internal", "", false},
		{"a.example, b.example", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := helperHost(tt.url)
		if got != tt.want || ok != tt.ok {
			t.Errorf("helperHost(%q) = %q, %v, want %q, %v", tt.url, got, ok, tt.want, tt.ok)
		}
	}
}
