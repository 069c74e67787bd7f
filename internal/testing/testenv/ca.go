package testenv

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// CA is a throw-away certificate authority and one server certificate it
// signed. The leaf is valid for 127.0.0.1, ::1, localhost and the extra names
// given to NewCA. All files live in a directory from t.TempDir().
type CA struct {
	// CertFile is the PEM file holding the CA certificate alone.
	CertFile string
	// LeafCertFile is the PEM file holding the server certificate followed
	// by the CA certificate (a full chain, as servers usually send it).
	LeafCertFile string
	// LeafKeyFile is the PEM file (PKCS#8) holding the server's private key.
	LeafKeyFile string
	// Cert is the parsed CA certificate.
	Cert *x509.Certificate
	// Leaf is the server certificate and key, ready for tls.Config.
	Leaf tls.Certificate

	tb  testing.TB
	dir string

	mu      sync.Mutex
	bundles map[bool]string
}

// NewCA creates a CA and a server certificate for 127.0.0.1, ::1, localhost
// and extraNames (an entry that parses as an IP address becomes an IP SAN,
// anything else a DNS SAN). Keys are ECDSA P-256, so this is quick.
func NewCA(t testing.TB, extraNames ...string) *CA {
	t.Helper()
	ca, err := newCA(t.TempDir(), extraNames)
	if err != nil {
		t.Fatalf("testenv: create test CA: %v", err)
	}
	ca.tb = t
	return ca
}

func newCA(dir string, extraNames []string) (*CA, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: "ecr-credentials testenv CA", Organization: []string{"ecr-credentials tests"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("self-sign CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}

	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate server key: %w", err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, n := range extraNames {
		if ip := net.ParseIP(n); ip != nil {
			leafTmpl.IPAddresses = append(leafTmpl.IPAddresses, ip)
		} else if n != "" {
			leafTmpl.DNSNames = append(leafTmpl.DNSNames, n)
		}
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("sign server certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		return nil, fmt.Errorf("encode server key: %w", err)
	}

	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	leafPEM := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), caPEM...)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})

	ca := &CA{
		CertFile:     filepath.Join(dir, "ca.pem"),
		LeafCertFile: filepath.Join(dir, "server.pem"),
		LeafKeyFile:  filepath.Join(dir, "server-key.pem"),
		Cert:         caCert,
		dir:          dir,
		bundles:      map[bool]string{},
	}
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{ca.CertFile, caPEM, 0o644},
		{ca.LeafCertFile, leafPEM, 0o644},
		{ca.LeafKeyFile, keyPEM, 0o600},
	} {
		if err := os.WriteFile(f.path, f.data, f.mode); err != nil {
			return nil, fmt.Errorf("write %s: %w", f.path, err)
		}
	}
	ca.Leaf, err = tls.X509KeyPair(leafPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("load server key pair: %w", err)
	}
	return ca, nil
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		// crypto/rand does not fail on Linux; a fixed serial is still valid.
		return big.NewInt(1)
	}
	return n.Add(n, big.NewInt(1))
}

// Pool returns a new certificate pool holding only the CA certificate.
func (c *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Cert)
	return p
}

// ServerTLSConfig returns a server configuration that presents the leaf
// certificate.
func (c *CA) ServerTLSConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.Leaf}, MinVersion: tls.VersionTLS12}
}

// ClientTLSConfig returns a client configuration that trusts only this CA.
func (c *CA) ClientTLSConfig() *tls.Config {
	return &tls.Config{RootCAs: c.Pool(), MinVersion: tls.VersionTLS12}
}

// BundleWith writes (once per value of systemRoots) and returns the path of
// a PEM bundle usable as SSL_CERT_FILE or AWS_CA_BUNDLE. With systemRoots
// false it holds only this CA; with true it also holds the machine's
// trusted roots (from SSL_CERT_FILE if set, else the distribution's bundle),
// so a program given it still trusts public CAs. When no system bundle
// exists the test fails if CI=true (install ca-certificates) and is skipped
// otherwise.
func (c *CA) BundleWith(systemRoots bool) string {
	c.tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.bundles[systemRoots]; ok {
		return p
	}
	caPEM, err := os.ReadFile(c.CertFile)
	if err != nil {
		c.tb.Fatalf("testenv: read CA certificate: %v", err)
	}
	var buf bytes.Buffer
	name := "bundle-ca-only.pem"
	if systemRoots {
		name = "bundle-with-system-roots.pem"
		sys, path, err := systemRootsPEM()
		if err != nil {
			missing(c.tb, isCI(), fmt.Sprintf("system CA bundle (%v)", err), "ca-certificates")
		}
		buf.Write(sys)
		if !bytes.HasSuffix(sys, []byte("\n")) {
			buf.WriteByte('\n')
		}
		fmt.Fprintf(&buf, "# ecr-credentials testenv CA (system roots above come from %s)\n", path)
	}
	buf.Write(caPEM)
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		c.tb.Fatalf("testenv: write CA bundle: %v", err)
	}
	c.bundles[systemRoots] = p
	return p
}

// systemBundlePaths are the bundle files Go's crypto/x509 tries on Linux,
// in order.
var systemBundlePaths = []string{
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/ca-bundle.pem",
	"/etc/pki/tls/cacert.pem",
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
	"/etc/ssl/cert.pem",
}

func systemRootsPEM() ([]byte, string, error) {
	paths := systemBundlePaths
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		paths = append([]string{f}, paths...)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if !x509.NewCertPool().AppendCertsFromPEM(data) {
			continue
		}
		return data, p, nil
	}
	return nil, "", errors.New("none of SSL_CERT_FILE or the usual bundle paths holds a PEM certificate")
}
