package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm8vciJ9.c2lnbmF0dXJl"

// tokenServer answers like the Actions runtime: statuses in order, then the token.
func tokenServer(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1))
		if r.Header.Get("Authorization") != "Bearer request-token" || r.URL.Query().Get("audience") != "sts.amazonaws.com" ||
			r.URL.Query().Get("api-version") != "2.0" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if n <= len(statuses) {
			w.WriteHeader(statuses[n-1])
			return
		}
		w.Write([]byte(`{"value":"` + jwt + `"}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func github(srv *httptest.Server, masked *[]string) *GitHub {
	env := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": srv.URL + "/idtoken?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token"}
	return &GitHub{
		Action:   githubactions.New(githubactions.WithGetenv(func(k string) string { return env[k] })),
		Audience: "sts.amazonaws.com",
		Mask:     func(s string) { *masked = append(*masked, s) },
		Backoff:  time.Millisecond,
	}
}

func TestGitHubRetriesTransientFailures(t *testing.T) {
	srv, calls := tokenServer(t, 503, 500, 429)
	var masked []string
	tok, err := github(srv, &masked).Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok != jwt || calls.Load() != 4 {
		t.Errorf("token %q after %d calls, want the token after 4", tok, calls.Load())
	}
	if len(masked) != 1 || masked[0] != jwt {
		t.Errorf("the token was not masked")
	}
}

func TestGitHubRefusalFailsAtOnce(t *testing.T) {
	srv, calls := tokenServer(t, 403)
	var masked []string
	_, err := github(srv, &masked).Token(context.Background())
	var p *problem.Problem
	if !errors.As(err, &p) || p.Code != problem.IDTokenRequestFailed || !strings.Contains(p.Fix, "id-token: write") {
		t.Fatalf("err = %v", err)
	}
	if calls.Load() != 1 {
		t.Errorf("a refusal was retried (%d calls)", calls.Load())
	}
}

func TestGitHubGivesUpAtTheDeadline(t *testing.T) {
	statuses := make([]int, 1000)
	for i := range statuses {
		statuses[i] = 503
	}
	srv, _ := tokenServer(t, statuses...)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var masked []string
	_, err := github(srv, &masked).Token(ctx)
	if err == nil || !strings.Contains(err.Error(), "HTTP 503") {
		t.Errorf("err = %v, want the last answer (HTTP 503) reported", err)
	}
}

func TestGitHubWithoutPermission(t *testing.T) {
	g := &GitHub{Action: githubactions.New(githubactions.WithGetenv(func(string) string { return "" }))}
	if g.Available() {
		t.Fatal("available without the variables")
	}
	_, err := g.Token(context.Background())
	if p := problem.As(err); p.Code != problem.NoIDTokenPermission || !strings.Contains(p.Fix, "id-token: write") {
		t.Errorf("err = %v", err)
	}
}

// TestNoTokenOnTokenlessRunners: act and Gitea never give a job an OIDC
// token, so the error names the credential sources that work there
// instead of a permission that does not exist; Forgejo and GitHub keep the
// permission advice.
func TestNoTokenOnTokenlessRunners(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		whatHas string
		fixHas  []string
	}{
		{"act", map[string]string{"ACT": "true"}, "nektos/act", []string{"web-identity-token-file", "aws-access-key-id", "default-chain"}},
		{"gitea", map[string]string{"ACT": "true", "GITEA_ACTIONS": "true"}, "Gitea", []string{"web-identity-token-file", "aws-secret-access-key", "AWS_PROFILE"}},
		{"forgejo", map[string]string{"ACT": "true", "FORGEJO_ACTIONS": "true"}, "GitHub OIDC token", []string{"id-token: write"}},
		{"github", map[string]string{"GITHUB_ACTIONS": "true"}, "GitHub OIDC token", []string{"id-token: write"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &GitHub{Action: githubactions.New(githubactions.WithGetenv(func(k string) string { return tt.env[k] }))}
			_, err := g.Token(context.Background())
			p := problem.As(err)
			if p == nil || p.Code != problem.NoIDTokenPermission || !strings.Contains(p.What, tt.whatHas) {
				t.Fatalf("err = %v, want one saying %q", err, tt.whatHas)
			}
			for _, want := range tt.fixHas {
				if !strings.Contains(p.Fix, want) {
					t.Errorf("fix %q lacks %q", p.Fix, want)
				}
			}
		})
	}
}

func TestFileAndEnvSources(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte(jwt+"\n"), 0o600)
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte(`{"value":"x"}`), 0o600)
	var masked []string
	mask := func(s string) { masked = append(masked, s) }

	if tok, err := (&File{Path: good, Mask: mask}).Token(context.Background()); err != nil || tok != jwt {
		t.Errorf("good file: %q %v", tok, err)
	}
	for _, p := range []string{bad, filepath.Join(dir, "missing")} {
		_, err := (&File{Path: p, Subject: "setting x", Mask: mask}).Token(context.Background())
		if pr := problem.As(err); pr.Code != problem.WebIdentityTokenUnreadable || pr.Subject != "setting x" {
			t.Errorf("%s: err = %v", filepath.Base(p), err)
		}
	}
	env := map[string]string{"TOK": jwt, "EMPTY": ""}
	if tok, err := (&Env{Name: "TOK", Getenv: func(k string) string { return env[k] }, Mask: mask}).Token(context.Background()); err != nil || tok != jwt {
		t.Errorf("env: %q %v", tok, err)
	}
	if _, err := (&Env{Name: "EMPTY", Getenv: func(k string) string { return env[k] }}).Token(context.Background()); problem.As(err).Code != problem.WebIdentityTokenUnreadable {
		t.Errorf("empty env: %v", err)
	}
	for _, m := range masked {
		if m != jwt && m != `{"value":"x"}` {
			t.Errorf("masked something that is not the token: %q", m)
		}
	}
}
