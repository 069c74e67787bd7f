// Package trust verifies the TLS servers this program talks to against the
// trusted CAs of one CA bundle file, without parsing the whole bundle.
//
// Go's crypto/x509 parses every certificate of the system's bundle (and of
// the certificate directories) before the first handshake can be verified:
// on Debian that is 150 CAs, most of a login's CPU time and memory, for the
// one or two CAs that issued the servers' chains. A Bundle keeps the CAs
// as DER and parses, on each verification, only those that may have
// issued a certificate of the chain: a CA can issue a certificate only if
// its subject is byte for byte the certificate's issuer (that is how
// crypto/x509 finds parents too), and a CA's DER contains its subject, so
// the bundle entries that contain the issuer are a superset of the
// possible parents. The chain is then verified by crypto/x509 itself, with
// those CAs as the roots, exactly as crypto/tls would with all of them.
package trust

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"runtime"
	"sync"
	"time"
)

// Files are the standard CA bundle locations, in the order crypto/x509
// tries them on Linux.
var Files = []string{
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/ca-bundle.pem",
	"/etc/pki/tls/cacert.pem",
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
	"/etc/ssl/cert.pem",
}

// Bundle is the CAs of one bundle file, read on first use. Its methods are
// safe for concurrent use. A nil *Bundle means Go's default roots.
type Bundle struct {
	files    []string // the first that can be read is the bundle
	loadOnce sync.Once
	ders     [][]byte // each CA certificate, as DER; none: see system

	mu     sync.Mutex
	parsed map[int]*x509.Certificate // by index into ders; nil: does not parse

	poolOnce sync.Once
	pool     *x509.CertPool
}

// FromPEM makes a bundle of the CERTIFICATE blocks of data; nil if there
// are none.
func FromPEM(data []byte) *Bundle {
	b := &Bundle{parsed: map[int]*x509.Certificate{}}
	b.loadOnce.Do(func() { b.ders = decode(data) })
	if len(b.ders) == 0 {
		return nil
	}
	return b
}

// decode returns the DER of each CERTIFICATE block of data.
func decode(data []byte) [][]byte {
	var ders [][]byte
	for len(data) > 0 {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type == "CERTIFICATE" && len(block.Headers) == 0 {
			ders = append(ders, block.Bytes)
		}
	}
	return ders
}

// Load is the bundle of a process whose environment getenv reads:
// SSL_CERT_FILE, else the first standard bundle file that can be read,
// read on first use (Preload reads it ahead). When no file can be read or
// none holds a certificate, it verifies with Go's default roots. nil,
// meaning Go's default (which also reads the certificate directories),
// when SSL_CERT_DIR is set (the user asked for directories) or off Linux.
func Load(getenv func(string) string) *Bundle {
	if runtime.GOOS != "linux" || getenv("SSL_CERT_DIR") != "" {
		return nil
	}
	files := Files
	if f := getenv("SSL_CERT_FILE"); f != "" {
		files = []string{f}
	}
	return &Bundle{files: files, parsed: map[int]*x509.Certificate{}}
}

// Preload reads the bundle now (on the caller's goroutine) rather than at
// the first verification.
func (b *Bundle) Preload() {
	if b != nil {
		b.load()
	}
}

func (b *Bundle) load() {
	b.loadOnce.Do(func() {
		for _, f := range b.files {
			if data, err := os.ReadFile(f); err == nil {
				b.ders = decode(data)
				break
			}
		}
	})
}

// system reports whether no bundle file held a certificate, so that Go's
// default roots (x509.SystemCertPool) stand in.
func (b *Bundle) system() bool {
	b.load()
	return len(b.ders) == 0
}

// Len is the number of CAs in the bundle (0 when Go's default roots stand
// in for it).
func (b *Bundle) Len() int {
	b.load()
	return len(b.ders)
}

// Parsed is how many of the bundle's CAs were parsed so far.
func (b *Bundle) Parsed() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.parsed)
}

// cert parses CA i once; nil if it does not parse.
func (b *Bundle) cert(i int) *x509.Certificate {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.parsed[i]
	if !ok {
		c, _ = x509.ParseCertificate(b.ders[i])
		b.parsed[i] = c
	}
	return c
}

// Pool is every CA of the bundle, parsed: for the TLS connections an
// http.Transport makes itself (through a proxy).
func (b *Bundle) Pool() *x509.CertPool {
	b.load()
	b.poolOnce.Do(func() {
		if b.system() {
			b.pool, _ = x509.SystemCertPool()
			return
		}
		b.pool = x509.NewCertPool()
		for i := range b.ders {
			if c := b.cert(i); c != nil {
				b.pool.AddCert(c)
			}
		}
	})
	return b.pool
}

// roots is the pool of the CAs that may have issued one of certs.
func (b *Bundle) roots(certs []*x509.Certificate) *x509.CertPool {
	if b.system() {
		return b.Pool()
	}
	pool := x509.NewCertPool()
	for i, der := range b.ders {
		for _, c := range certs {
			if len(c.RawIssuer) > 0 && bytes.Contains(der, c.RawIssuer) {
				if ca := b.cert(i); ca != nil {
					pool.AddCert(ca)
				}
				break
			}
		}
	}
	return pool
}

// Verify checks a server's certificates (leaf first, then the
// intermediates it sent) for the server name (a host name or an IP
// address) at now, as crypto/tls does with the whole bundle as its roots:
// crypto/x509's Verify, for server authentication, with the CAs that may
// have issued one of certs as the roots. The error is crypto/tls's
// *tls.CertificateVerificationError around crypto/x509's.
func (b *Bundle) Verify(certs []*x509.Certificate, name string, now time.Time) error {
	if len(certs) == 0 {
		return errors.New("tls: the server sent no certificate")
	}
	if name == "" {
		// Without a name, Verify would accept any host's certificate.
		return errors.New("tls: no server name to verify the certificate against")
	}
	opts := x509.VerifyOptions{
		DNSName:       name,
		Roots:         b.roots(certs),
		Intermediates: x509.NewCertPool(),
		CurrentTime:   now,
	}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := certs[0].Verify(opts); err != nil {
		return &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
	}
	return nil
}

// Config is the TLS configuration of a connection to host (without port)
// that a program dials itself, such as an http.Transport's DialTLSContext:
// a clone of base, ServerName defaulting to host, and, when base leaves
// the roots to Go (no RootCAs, nor verification of its own) and b is not
// nil, the chain and name verified by b.Verify in VerifyConnection instead
// of by crypto/tls (InsecureSkipVerify turns off only that; the handshake's
// own signatures are checked as always). A configuration with RootCAs,
// such as one AWS_CA_BUNDLE gave, is verified by crypto/tls with them.
func (b *Bundle) Config(base *tls.Config, host string) *tls.Config {
	c := base.Clone()
	if c == nil {
		c = &tls.Config{}
	}
	if c.ServerName == "" {
		c.ServerName = host
	}
	if b == nil || c.RootCAs != nil || c.InsecureSkipVerify || c.VerifyConnection != nil || c.VerifyPeerCertificate != nil {
		return c
	}
	name, now := c.ServerName, c.Time
	c.InsecureSkipVerify = true
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		t := time.Now()
		if now != nil {
			t = now()
		}
		return b.Verify(cs.PeerCertificates, name, t)
	}
	return c
}
