package awsauth

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"sync"

	"github.com/ecr-credentials/ecr-credentials/internal/preconnect"
	"github.com/ecr-credentials/ecr-credentials/internal/trust"
)

// roots is the CA bundle every HTTPS client of this process trusts (see
// internal/trust), made once.
var roots = sync.OnceValue(loadRoots)

func loadRoots() *trust.Bundle { return trust.Load(os.Getenv) }

// TrustedRoots is the CA bundle (read on first use, or by Preload); nil
// means Go's default roots (SSL_CERT_DIR set, or off Linux).
func TrustedRoots() *trust.Bundle { return roots() }

// NewPool is a preconnect pool whose handshakes verify with TrustedRoots.
func NewPool() *preconnect.Pool {
	return preconnect.New(nil, TrustedRoots().Config)
}

// trustRoots makes tr verify the servers it talks to with TrustedRoots:
// the TLS connections it dials itself go through a DialTLSContext whose
// handshakes verify with the bundle (parsing only the CAs a chain may
// need); when requests may go through a proxy (proxied), the transport's
// own handshakes behind the proxy get the bundle's parsed pool. A TLS
// configuration that has RootCAs when a connection is dialed (such as
// AWS_CA_BUNDLE's, which the SDK applies after this) is verified with
// them instead.
func trustRoots(tr *http.Transport, proxied bool) {
	b := TrustedRoots()
	if b == nil {
		return
	}
	if proxied {
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{}
		} else {
			tr.TLSClientConfig = tr.TLSClientConfig.Clone()
		}
		if tr.TLSClientConfig.RootCAs == nil {
			tr.TLSClientConfig.RootCAs = b.Pool()
		}
	}
	tr.DialTLSContext = NewPool().DialTLSContext(
		func() *tls.Config { return transportTLS(tr) },
		func(ctx context.Context, network, addr string) (net.Conn, error) {
			return transportDial(tr)(ctx, network, addr)
		})
}

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

// Transport is an HTTP transport like http.DefaultTransport that trusts
// TrustedRoots, for the clients that are not the SDK's (the OIDC token
// request, the registry check).
func Transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	trustRoots(tr, ProxyConfigured())
	return tr
}
