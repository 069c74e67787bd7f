package awsauth

import (
	"crypto/tls"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
	"github.com/ecr-credentials/ecr-credentials/internal/trust"
)

// resetRoots makes TrustedRoots read the environment again.
func resetRoots(t *testing.T) {
	roots = sync.OnceValue(loadRoots)
	t.Cleanup(func() { roots = sync.OnceValue(loadRoots) })
}

// TestTrustedRootsFromTheBundleFile: the bundle comes from SSL_CERT_FILE
// alone; clients using it reach a server the bundle trusts, parsing only
// the CA that issued its certificate, and refuse one it does not.
func TestTrustedRootsFromTheBundleFile(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	other := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	other.TLS = &tls.Config{Certificates: []tls.Certificate{testenv.NewCA(t).Leaf}}
	other.StartTLS()
	defer other.Close()
	bundle := filepath.Join(t.TempDir(), "bundle.pem")
	var pemBytes []byte
	for _, f := range trust.Files { // the system's CAs too, as in a real bundle
		if b, err := os.ReadFile(f); err == nil {
			pemBytes = b
			break
		}
	}
	pemBytes = append(pemBytes, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})...)
	if err := os.WriteFile(bundle, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", bundle)
	t.Setenv("SSL_CERT_DIR", "")
	resetRoots(t)

	b := TrustedRoots()
	if b == nil {
		t.Fatal("no bundle from SSL_CERT_FILE")
	}
	client := &http.Client{Transport: Transport()}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatalf("a server the bundle trusts is refused: %v", err)
	}
	resp.Body.Close()
	if b.Len() > 1 && b.Parsed() != 1 {
		t.Errorf("%d of the bundle's %d CAs were parsed, want only the server's", b.Parsed(), b.Len())
	}
	if resp, err := client.Get(other.URL); err == nil {
		resp.Body.Close()
		t.Fatal("a server the bundle does not trust was accepted")
	}
}

func TestTrustedRootsDefersToCertDirectories(t *testing.T) {
	t.Setenv("SSL_CERT_DIR", t.TempDir())
	resetRoots(t)
	if TrustedRoots() != nil {
		t.Error("SSL_CERT_DIR set, yet a bundle-only pool was used")
	}
}
