package awsauth

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"runtime"
	"sync"
)

// bundleFiles are the standard CA bundle locations, in the order Go's
// crypto/x509 tries them on Linux.
var bundleFiles = []string{
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/ca-bundle.pem",
	"/etc/pki/tls/cacert.pem",
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
	"/etc/ssl/cert.pem",
}

var (
	rootsOnce sync.Once
	roots     *x509.CertPool
)

// TrustedRoots is the pool of trusted CAs every HTTPS client of this
// process uses, loaded once from one bundle file: SSL_CERT_FILE, else the
// first standard bundle. Go's default also reads every file of the
// certificate directories, which on Linux hold the same certificates
// again, one file each; parsing them was most of a login's CPU time and
// memory. nil means Go's default: when SSL_CERT_DIR is set (the user
// asked for directories), off Linux, or when no bundle can be read.
func TrustedRoots() *x509.CertPool {
	rootsOnce.Do(func() {
		if runtime.GOOS != "linux" || os.Getenv("SSL_CERT_DIR") != "" {
			return
		}
		files := bundleFiles
		if f := os.Getenv("SSL_CERT_FILE"); f != "" {
			files = []string{f}
		}
		for _, f := range files {
			pem, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			pool := x509.NewCertPool()
			if pool.AppendCertsFromPEM(pem) {
				roots = pool
			}
			return
		}
	})
	return roots
}

// trustRoots applies TrustedRoots to a transport's TLS configuration.
func trustRoots(tr *http.Transport) {
	pool := TrustedRoots()
	if pool == nil {
		return
	}
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{}
	} else {
		tr.TLSClientConfig = tr.TLSClientConfig.Clone()
	}
	tr.TLSClientConfig.RootCAs = pool
}

// Transport is an HTTP transport like http.DefaultTransport that trusts
// TrustedRoots, for the clients that are not the SDK's (the OIDC token
// request, the registry check).
func Transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	trustRoots(tr)
	return tr
}
