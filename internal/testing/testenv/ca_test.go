package testenv

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestCALeafNames(t *testing.T) {
	ca := NewCA(t, "registry.test", "127.0.0.2", "")
	tests := []struct {
		name string
		ok   bool
	}{
		{"127.0.0.1", true},
		{"::1", true},
		{"localhost", true},
		{"registry.test", true},
		{"127.0.0.2", true},
		{"127.0.0.3", false},
		{"example.com", false},
		{"123456789012.dkr.ecr.us-east-1.amazonaws.com", false},
	}
	leaf, err := x509.ParseCertificate(ca.Leaf.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: tc.name, Roots: ca.Pool()})
		if (err == nil) != tc.ok {
			t.Errorf("leaf valid for %q: got err=%v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	// Another CA's pool must not verify this leaf.
	other := NewCA(t)
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: other.Pool()}); err == nil {
		t.Error("leaf verified against an unrelated CA")
	}
}

func TestCAFiles(t *testing.T) {
	ca := NewCA(t)
	if _, err := tls.LoadX509KeyPair(ca.LeafCertFile, ca.LeafKeyFile); err != nil {
		t.Fatalf("leaf files do not load as a key pair: %v", err)
	}
	caPEM, err := os.ReadFile(ca.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	if p := x509.NewCertPool(); !p.AppendCertsFromPEM(caPEM) {
		t.Fatalf("%s holds no PEM certificate", ca.CertFile)
	}
	fi, err := os.Stat(ca.LeafKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("key file mode %v is readable by others", fi.Mode().Perm())
	}
}

// tlsServer starts an HTTPS server on 127.0.0.1 presenting ca's leaf.
func tlsServer(t *testing.T, ca *CA) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	srv.TLS = ca.ServerTLSConfig()
	// Handshakes refused on purpose would otherwise be logged to stderr.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func poolFromFile(t *testing.T, path string) (*x509.CertPool, int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		t.Fatalf("%s holds no certificate", path)
	}
	return pool, strings.Count(string(data), "-----BEGIN CERTIFICATE-----")
}

func TestBundleVerifiesRealHandshake(t *testing.T) {
	ca := NewCA(t)
	srv := tlsServer(t, ca)
	get := func(pool *x509.CertPool) error {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		resp, err := c.Get(srv.URL)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}

	for _, sys := range []bool{false, true} {
		path := ca.BundleWith(sys)
		if again := ca.BundleWith(sys); again != path {
			t.Errorf("BundleWith(%v) wrote a second file %s after %s", sys, again, path)
		}
		pool, n := poolFromFile(t, path)
		if err := get(pool); err != nil {
			t.Errorf("BundleWith(%v): HTTPS to the test server failed: %v", sys, err)
		}
		if !sys && n != 1 {
			t.Errorf("BundleWith(false) holds %d certificates, want 1", n)
		}
		if sys {
			sysPEM, _, err := systemRootsPEM()
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.Count(string(sysPEM), "-----BEGIN CERTIFICATE-----") + 1; n != want {
				t.Errorf("BundleWith(true) holds %d certificates, want %d (system roots + CA)", n, want)
			}
		}
	}

	// The system roots alone must not trust the test CA, or the checks
	// above prove nothing.
	sysPool, err := x509.SystemCertPool()
	if err != nil {
		t.Skipf("no system pool to compare with: %v", err)
	}
	var unknown x509.UnknownAuthorityError
	if err := get(sysPool); !errors.As(err, &unknown) {
		t.Errorf("system roots alone: got %v, want an unknown-authority error", err)
	}
}

// A bundle must work as SSL_CERT_FILE for another program, which is how the
// product and the tools are pointed at a test registry.
func TestBundleAsSSLCertFile(t *testing.T) {
	ca := NewCA(t)
	srv := tlsServer(t, ca)
	bin := fakeprog(t)
	tests := []struct {
		name     string
		env      map[string]string
		wantCode int
	}{
		{"CA only", map[string]string{"SSL_CERT_FILE": ca.BundleWith(false)}, 0},
		{"with system roots", map[string]string{"SSL_CERT_FILE": ca.BundleWith(true)}, 0},
		{"without the bundle", map[string]string{"SSL_CERT_FILE": os.DevNull}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := RunProgram(t, bin, RunOptions{Args: []string{"get", srv.URL}, Env: tc.env})
			if res.ExitCode != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stderr: %s", res.ExitCode, tc.wantCode, res.Stderr)
			}
			if tc.wantCode == 0 && res.Stdout != "200" {
				t.Fatalf("stdout %q, want 200", res.Stdout)
			}
			if tc.wantCode != 0 && !strings.Contains(res.Stderr, "certificate") {
				t.Fatalf("stderr %q does not blame the certificate", res.Stderr)
			}
		})
	}
}
