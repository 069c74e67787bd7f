package trust

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// issuer is a test CA.
type issuer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serial int64

// mint signs a certificate from tmpl with parent (self-signed when nil)
// and returns it with its key.
func mint(t *testing.T, tmpl *x509.Certificate, parent *issuer) issuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Now().Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = time.Now().Add(time.Hour)
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return issuer{c, key}
}

func ca(t *testing.T, name string, parent *issuer) issuer {
	return mint(t, &x509.Certificate{Subject: pkix.Name{CommonName: name, Organization: []string{"trust tests"}},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}, parent)
}

func leaf(t *testing.T, parent issuer, names []string, notAfter time.Time, usage x509.ExtKeyUsage) issuer {
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "server"}, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	return mint(t, tmpl, &parent)
}

func pemOf(certs ...*x509.Certificate) []byte {
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return b
}

// TestVerifyAgreesWithCryptoX509: for every chain, Verify accepts exactly
// what crypto/x509 accepts with the whole bundle as its roots, and parses
// only the CAs that may have issued a certificate of the chain.
func TestVerifyAgreesWithCryptoX509(t *testing.T) {
	root := ca(t, "Root A", nil)
	inter := ca(t, "Intermediate A1", &root)
	untrusted := ca(t, "Root U", nil)
	// A CA with the same name as root but another key: a candidate that
	// cannot verify, beside the one that can.
	impostor := ca(t, "Root A", nil)
	var decoys []*x509.Certificate
	for i := range 20 {
		decoys = append(decoys, ca(t, "Decoy "+string(rune('a'+i)), nil).cert)
	}
	bundlePEM := append(pemOf(decoys[:10]...), pemOf(impostor.cert, root.cert)...)
	bundlePEM = append(bundlePEM, pemOf(decoys[10:]...)...)
	bundlePEM = append(bundlePEM, []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")...)

	later := time.Now().Add(30 * time.Minute)
	good := leaf(t, inter, []string{"registry.example", "127.0.0.1"}, later, x509.ExtKeyUsageServerAuth)
	direct := leaf(t, root, []string{"sts.example"}, later, x509.ExtKeyUsageServerAuth)
	expired := leaf(t, inter, []string{"registry.example"}, time.Now().Add(-time.Minute), x509.ExtKeyUsageServerAuth)
	clientOnly := leaf(t, inter, []string{"registry.example"}, later, x509.ExtKeyUsageClientAuth)
	stranger := leaf(t, untrusted, []string{"registry.example"}, later, x509.ExtKeyUsageServerAuth)

	tests := []struct {
		name    string
		chain   []*x509.Certificate
		host    string
		wantErr any // nil, or a pointer to the crypto/x509 error type
		parsed  int // CAs parsed: those whose DER holds an issuer of the chain
	}{
		{"leaf and intermediate", []*x509.Certificate{good.cert, inter.cert}, "registry.example", nil, 2},
		{"IP address", []*x509.Certificate{good.cert, inter.cert}, "127.0.0.1", nil, 2},
		{"name in another case, final dot", []*x509.Certificate{good.cert, inter.cert}, "Registry.Example.", nil, 2},
		{"chain with the root sent too", []*x509.Certificate{good.cert, inter.cert, root.cert}, "registry.example", nil, 2},
		{"leaf signed by the root", []*x509.Certificate{direct.cert}, "sts.example", nil, 2},
		{"wrong host", []*x509.Certificate{good.cert, inter.cert}, "other.example", new(x509.HostnameError), 2},
		{"wrong IP", []*x509.Certificate{good.cert, inter.cert}, "127.0.0.2", new(x509.HostnameError), 2},
		{"intermediate missing", []*x509.Certificate{good.cert}, "registry.example", new(x509.UnknownAuthorityError), 0},
		{"untrusted root", []*x509.Certificate{stranger.cert}, "registry.example", new(x509.UnknownAuthorityError), 0},
		{"expired", []*x509.Certificate{expired.cert, inter.cert}, "registry.example", new(x509.CertificateInvalidError), 2},
		{"not for servers", []*x509.Certificate{clientOnly.cert, inter.cert}, "registry.example", new(x509.CertificateInvalidError), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := FromPEM(bundlePEM)
			if b.Len() != 23 {
				t.Fatalf("bundle has %d CAs, want 23 (the undecodable block is skipped when parsed)", b.Len())
			}
			err := b.Verify(tt.chain, tt.host, time.Now())

			inters := x509.NewCertPool()
			for _, c := range tt.chain[1:] {
				inters.AddCert(c)
			}
			full := FromPEM(bundlePEM).Pool()
			_, want := tt.chain[0].Verify(x509.VerifyOptions{DNSName: tt.host, Roots: full, Intermediates: inters})
			if (err == nil) != (want == nil) {
				t.Fatalf("Verify: %v; crypto/x509 with the whole bundle: %v", err, want)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
			} else {
				var ve *tls.CertificateVerificationError
				if !errors.As(err, &ve) || len(ve.UnverifiedCertificates) != len(tt.chain) {
					t.Fatalf("error %v (%T) is not a tls.CertificateVerificationError with the chain", err, err)
				}
				if !errors.As(err, tt.wantErr) {
					t.Fatalf("error %v: want a %T", err, tt.wantErr)
				}
			}
			if got := b.Parsed(); got != tt.parsed {
				t.Errorf("parsed %d of the bundle's %d CAs, want %d", got, b.Len(), tt.parsed)
			}
		})
	}
}

func TestVerifyNeedsANameAndACertificate(t *testing.T) {
	root := ca(t, "Root", nil)
	l := leaf(t, root, []string{"a.example"}, time.Time{}, x509.ExtKeyUsageServerAuth)
	b := FromPEM(pemOf(root.cert))
	if err := b.Verify([]*x509.Certificate{l.cert}, "", time.Now()); err == nil {
		t.Error("a certificate was accepted without a name to check it against")
	}
	if err := b.Verify(nil, "a.example", time.Now()); err == nil {
		t.Error("an empty chain was accepted")
	}
}

// TestConfigOverTLS: a client whose handshakes use Config reaches a server
// the bundle trusts and is refused by one it does not or under another
// name; RootCAs of the base configuration (as AWS_CA_BUNDLE sets them) take
// over from the bundle.
func TestConfigOverTLS(t *testing.T) {
	root := ca(t, "Root", nil)
	inter := ca(t, "Intermediate", &root)
	srvLeaf := leaf(t, inter, []string{"registry.example", "127.0.0.1"}, time.Time{}, x509.ExtKeyUsageServerAuth)
	other := ca(t, "Other root", nil)
	b := FromPEM(pemOf(other.cert, root.cert))

	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{
		Certificate: [][]byte{srvLeaf.cert.Raw, inter.cert.Raw}, PrivateKey: srvLeaf.key}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				_ = c.(*tls.Conn).Handshake()
				c.Close()
			}()
		}
	}()
	otherPool := x509.NewCertPool()
	otherPool.AddCert(other.cert)
	tests := []struct {
		name   string
		bundle *Bundle
		base   *tls.Config
		host   string
		ok     bool
	}{
		{"trusted, by name", b, nil, "registry.example", true},
		{"trusted, by IP address", b, &tls.Config{}, "127.0.0.1", true},
		{"ServerName of the base wins over the host", b, &tls.Config{ServerName: "registry.example"}, "127.0.0.1", true},
		{"another name", b, nil, "sts.example", false},
		{"bundle without the root", FromPEM(pemOf(other.cert)), nil, "registry.example", false},
		{"RootCAs of the base are used instead", b, &tls.Config{RootCAs: otherPool}, "registry.example", false},
		{"no bundle: Go's default roots", nil, nil, "registry.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			c := tls.Client(raw, tt.bundle.Config(tt.base, tt.host))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = c.HandshakeContext(ctx)
			if tt.ok != (err == nil) {
				t.Fatalf("handshake: %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestConfigKeepsTheBase: Config never changes the base configuration it
// was given, and leaves one with its own verification as it is.
func TestConfigKeepsTheBase(t *testing.T) {
	root := ca(t, "Root", nil)
	b := FromPEM(pemOf(root.cert))
	base := &tls.Config{MinVersion: tls.VersionTLS12}
	c := b.Config(base, "h.example")
	if base.InsecureSkipVerify || base.VerifyConnection != nil || base.ServerName != "" {
		t.Fatal("Config changed its base")
	}
	if !c.InsecureSkipVerify || c.VerifyConnection == nil || c.ServerName != "h.example" || c.MinVersion != tls.VersionTLS12 {
		t.Fatalf("Config = %+v", c)
	}
	own := &tls.Config{VerifyConnection: func(tls.ConnectionState) error { return nil }}
	if c := b.Config(own, "h.example"); c.InsecureSkipVerify {
		t.Fatal("a configuration with its own verification was turned to the bundle's")
	}
}

func TestLoad(t *testing.T) {
	root := ca(t, "Root", nil)
	file := filepath.Join(t.TempDir(), "bundle.pem")
	if err := os.WriteFile(file, pemOf(root.cert), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	if b := Load(env("SSL_CERT_FILE", file)); b == nil || b.Len() != 1 {
		t.Fatalf("Load(SSL_CERT_FILE) = %v", b)
	}
	if b := Load(env("SSL_CERT_FILE", file, "SSL_CERT_DIR", t.TempDir())); b != nil {
		t.Fatal("SSL_CERT_DIR set, yet a bundle was loaded")
	}
	// Without a readable bundle, Go's default roots stand in.
	system, err := x509.SystemCertPool()
	if err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(empty, []byte(strings.Repeat("not PEM\n", 3)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(t.TempDir(), "missing.pem"), empty} {
		b := Load(env("SSL_CERT_FILE", f))
		if b == nil || b.Len() != 0 || !b.Pool().Equal(system) {
			t.Fatalf("bundle %s: want Go's default roots", f)
		}
		l := leaf(t, root, []string{"a.example"}, time.Time{}, x509.ExtKeyUsageServerAuth)
		if err := b.Verify([]*x509.Certificate{l.cert}, "a.example", time.Now()); err == nil {
			t.Fatal("a CA outside Go's default roots was trusted")
		}
	}
}

// TestLoadReadsOnFirstUse: the file is read when the bundle is first
// needed, not when it is made.
func TestLoadReadsOnFirstUse(t *testing.T) {
	root := ca(t, "Root", nil)
	file := filepath.Join(t.TempDir(), "bundle.pem")
	b := Load(func(k string) string { return map[string]string{"SSL_CERT_FILE": file}[k] })
	if err := os.WriteFile(file, pemOf(root.cert), 0o600); err != nil {
		t.Fatal(err)
	}
	b.Preload()
	if b.Len() != 1 {
		t.Fatalf("bundle has %d CAs, want the 1 written after Load", b.Len())
	}
}
