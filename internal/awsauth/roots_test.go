package awsauth

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestTrustedRootsFromTheBundleFile: the pool comes from SSL_CERT_FILE
// alone, and clients using it reach a server the bundle trusts.
func TestTrustedRootsFromTheBundleFile(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	bundle := filepath.Join(t.TempDir(), "bundle.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(bundle, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", bundle)
	t.Setenv("SSL_CERT_DIR", "")
	rootsOnce, roots = sync.Once{}, nil
	t.Cleanup(func() { rootsOnce, roots = sync.Once{}, nil })

	if TrustedRoots() == nil {
		t.Fatal("no pool from SSL_CERT_FILE")
	}
	client := &http.Client{Transport: Transport()}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatalf("a server the bundle trusts is refused: %v", err)
	}
	resp.Body.Close()
}

func TestTrustedRootsDefersToCertDirectories(t *testing.T) {
	t.Setenv("SSL_CERT_DIR", t.TempDir())
	rootsOnce, roots = sync.Once{}, nil
	t.Cleanup(func() { rootsOnce, roots = sync.Once{}, nil })
	if TrustedRoots() != nil {
		t.Error("SSL_CERT_DIR set, yet a bundle-only pool was used")
	}
}
