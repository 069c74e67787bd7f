package awsauth

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// TestCABundle: the AWS calls' client trusts the CAs AWS_CA_BUNDLE names
// (Go verifies, with them as its roots), and a bundle that cannot be read
// or holds no certificate is a clear error naming AWS_CA_BUNDLE.
func TestCABundle(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	trusting := write("server.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	garbage := write("garbage.pem", []byte("-----BEGIN NOTHING-----\nnot a certificate\n"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_PROFILE", "")

	for _, tc := range []struct {
		name    string
		bundle  string
		reaches bool   // the client reaches the server
		problem string // else the configuration fails with this
	}{
		{name: "bundle with the server's CA", bundle: trusting, reaches: true},
		{name: "no bundle: the system's roots", bundle: ""},
		{name: "missing file", bundle: filepath.Join(dir, "missing.pem"), problem: "the CA bundle file cannot be read"},
		{name: "no certificate in it", bundle: garbage, problem: "the CA bundle file holds no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_CA_BUNDLE", tc.bundle)
			cfg, err := LoadConfig(context.Background(), "eu-west-1")
			if tc.problem != "" {
				var p *problem.Problem
				if !errors.As(err, &p) || p.Code != problem.InvalidSetting || p.Subject != "AWS_CA_BUNDLE" || !strings.Contains(p.What, tc.problem) {
					t.Fatalf("LoadConfig: %v, want an invalid-setting problem of AWS_CA_BUNDLE saying %q", err, tc.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			resp, err := cfg.HTTPClient.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			if (err == nil) != tc.reaches {
				t.Fatalf("request: %v, want reached %v", err, tc.reaches)
			}
		})
	}
}
