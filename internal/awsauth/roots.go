package awsauth

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"

	"github.com/ecr-credentials/ecr-credentials/internal/preconnect"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// Servers are verified by crypto/tls itself, every connection alike. The
// roots are Go's own (the system's: SSL_CERT_FILE and SSL_CERT_DIR, else
// the distribution's bundle and certificate directories), except for the
// AWS calls when AWS_CA_BUNDLE (or the shared config's ca_bundle) names a
// bundle: the SDK loads it once, with crypto/x509, as the RootCAs of its
// transport, and the connections opened ahead for those calls take that
// transport's TLS configuration (see Opener).

// NewPool is a preconnect pool (see internal/preconnect).
func NewPool() *preconnect.Pool { return preconnect.New(nil) }

// transportTLS is the TLS configuration tr's own handshakes would use,
// with the ALPN list it would offer.
func transportTLS(tr *http.Transport) *tls.Config {
	c := tr.TLSClientConfig.Clone()
	if c == nil {
		c = &tls.Config{}
	}
	c.NextProtos = preconnect.NextProtos(tr.ForceAttemptHTTP2, c)
	return c
}

// transportDial is how tr dials a TCP connection.
func transportDial(tr *http.Transport) preconnect.DialFunc {
	if tr.DialContext != nil {
		return tr.DialContext
	}
	return (&net.Dialer{}).DialContext
}

// Transport is an HTTP transport like http.DefaultTransport, for the
// clients that are not the SDK's (the OIDC token request, the registry
// check): its requests go through proxy (the run's decision; nil: the
// environment's), and Go verifies the servers with the system's roots.
func Transport(proxy *Proxy) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = proxy.Func()
	return tr
}

// caBundleProblem explains an SDK configuration that failed to load because
// of the CA bundle AWS_CA_BUNDLE names (the SDK's own message is withheld,
// as library text may quote secrets): a file that cannot be read, or that
// holds no PEM certificate. nil when the bundle is not the cause.
func caBundleProblem(getenv func(string) string) *problem.Problem {
	path := getenv("AWS_CA_BUNDLE")
	if path == "" {
		return nil
	}
	fix := "Point AWS_CA_BUNDLE at a readable PEM file of the CA certificates that issued the AWS endpoints' certificates, or unset it to use the system's trusted CAs."
	data, err := os.ReadFile(path)
	if err != nil {
		return &problem.Problem{Code: problem.InvalidSetting, Subject: "AWS_CA_BUNDLE", Err: problem.Safe(err),
			What: "the CA bundle file cannot be read", Fix: fix}
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		return &problem.Problem{Code: problem.InvalidSetting, Subject: "AWS_CA_BUNDLE",
			What: "the CA bundle file holds no PEM certificate", Fix: fix}
	}
	return nil
}
