package e2e

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestVerifyRefusesRedirectElsewhere: a registry whose /v2/ redirects to
// plain HTTP on the same host gets no credentials there, the run fails
// with verify-failed naming the redirect, and nothing is written.
func TestVerifyRefusesRedirectElsewhere(t *testing.T) {
	f := newFixture(t)
	var leaked atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(plain.Close)
	ca := testenv.NewCA(t)
	redirect := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	redirect.TLS = ca.ServerTLSConfig()
	redirect.StartTLS()
	t.Cleanup(redirect.Close)
	f.fake.MapRegistry(account, region, redirect.URL)

	b, err := os.ReadFile(f.bundle)
	must(t, err)
	c, err := os.ReadFile(ca.CertFile)
	must(t, err)
	bundle := filepath.Join(t.TempDir(), "bundle.pem")
	must(t, os.WriteFile(bundle, append(append(b, '\n'), c...), 0o644))

	r := newRunner(t)
	env := f.githubEnv(r, map[string]string{"role-to-assume": roleARN, "aws-region": region})
	env["SSL_CERT_FILE"] = bundle
	res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Timeout: runBound})
	wantGitHubFailure(t, res, "verify-failed", "redirect")
	if n := leaked.Load(); n != 0 {
		t.Errorf("the plain-HTTP redirect target received the credentials %d time(s)", n)
	}
	if _, err := os.Stat(filepath.Join(r.homeDir, ".docker", "config.json")); !os.IsNotExist(err) {
		t.Errorf("a docker login was written after a redirect (%v)", err)
	}
	if b, _ := os.ReadFile(r.output); strings.TrimSpace(string(b)) != "" {
		t.Errorf("step outputs were written by the failed run")
	}
}
