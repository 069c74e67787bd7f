package awsauth

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ecr-credentials/ecr-credentials/internal/oidc"
	"github.com/ecr-credentials/ecr-credentials/internal/preconnect"
)

// Opener opens connections ahead of the calls that will use them (see
// internal/preconnect), with the TLS settings of the transport that will
// take them.
type Opener struct {
	pool  *preconnect.Pool
	tls   *tls.Config // with the transport's ALPN list
	dial  preconnect.DialFunc
	proxy func(*http.Request) (*url.URL, error) // the transport's
}

// sdkHook is the SDK transport's side of a pool: it is installed before
// the SDK configuration is loaded (which may still change the TLS
// settings, e.g. AWS_CA_BUNDLE), and learns the final settings after.
type sdkHook struct {
	pool   *preconnect.Pool
	opener *Opener // set once the configuration is loaded
}

func (h *sdkHook) install(tr *http.Transport) {
	tr.DialTLSContext = h.pool.DialTLSContext(
		func() *tls.Config { return h.opener.tls },
		func(ctx context.Context, network, addr string) (net.Conn, error) {
			return h.opener.dial(ctx, network, addr)
		})
}

// loaded reads the final transport of cfg; false if cfg's HTTP client is
// not the one we built (then nothing is opened and the hook is unused).
func (h *sdkHook) loaded(cfg aws.Config) bool {
	b, ok := cfg.HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		return false
	}
	h.opener = openerFor(h.pool, b.GetTransport())
	return true
}

func openerFor(pool *preconnect.Pool, tr *http.Transport) *Opener {
	return &Opener{pool: pool, tls: transportTLS(tr), dial: transportDial(tr), proxy: tr.Proxy}
}

// ProxyConfigured reports whether the environment names an HTTP(S) proxy
// for Go's transports (HTTPS_PROXY, HTTP_PROXY, either case). Then nothing
// is opened ahead: requests go through the proxy, and its connections are
// the transport's own business.
func ProxyConfigured() bool {
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		if os.Getenv(k) != "" {
			return true
		}
	}
	return false
}

// RegistryTransport is Transport(proxy) taking the connections pool
// opened; its Opener opens them with its settings.
func RegistryTransport(pool *preconnect.Pool, proxy *Proxy) (*http.Transport, *Opener) {
	tr := Transport(proxy)
	o := openerFor(pool, tr)
	tr.DialTLSContext = pool.DialTLSContext(func() *tls.Config { return o.tls }, o.dial)
	return tr, o
}

// Open starts opening a connection for an https URL, unless the
// transport's proxy decision sends its requests through a proxy (the
// transport then dials the proxy, not the host).
func (o *Opener) Open(ctx context.Context, u *url.URL) {
	if o == nil || u == nil || u.Scheme != "https" || u.Host == "" {
		return
	}
	if o.proxy != nil {
		if p, err := o.proxy(&http.Request{URL: u}); err != nil || p != nil {
			return
		}
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	o.pool.Open(ctx, net.JoinHostPort(u.Hostname(), port), o.tls)
}

// OpenHost is Open for https://host (host may carry a port).
func (o *Opener) OpenHost(ctx context.Context, host string) {
	o.Open(ctx, &url.URL{Scheme: "https", Host: host})
}

// stsEndpoint is the URL STS calls made with cfg go to, resolved as the
// STS client resolves it (AWS_ENDPOINT_URL_STS and friends included).
func stsEndpoint(ctx context.Context, cfg aws.Config, dualStack bool) *url.URL {
	ds := DualStackOption(dualStack)
	o := sts.NewFromConfig(cfg, func(o *sts.Options) { ds(&o.BaseEndpoint, &o.EndpointOptions.UseDualStackEndpoint) }).Options()
	params := sts.EndpointParameters{
		Region:       aws.String(o.Region),
		Endpoint:     o.BaseEndpoint,
		UseFIPS:      aws.Bool(o.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
		UseDualStack: aws.Bool(o.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled),
	}
	ep, err := o.EndpointResolverV2.ResolveEndpoint(ctx, params.WithDefaults())
	if err != nil {
		return nil
	}
	u := ep.URI
	return &u
}

// tokenRequest is the web identity token being fetched in the background
// while the SDK configuration loads and connections open.
type tokenRequest struct {
	done   chan struct{}
	token  string
	err    error
	cancel context.CancelFunc
}

func requestToken(ctx context.Context, src oidc.Source) *tokenRequest {
	ctx, cancel := context.WithCancel(ctx)
	t := &tokenRequest{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(t.done)
		t.token, t.err = src.Token(ctx)
	}()
	// Let the request run up to its first wait on the network (the DNS
	// lookup) now: with every core busy, it would otherwise wait for this
	// goroutine to block, after the configuration has loaded.
	runtime.Gosched()
	return t
}

// wait returns the token (already masked by the source).
func (t *tokenRequest) wait() (string, error) {
	<-t.done
	return t.token, t.err
}

// abandon stops a request whose token is no longer wanted (the run failed
// before it was used) and waits for it, so that nothing of it outlives
// the call.
func (t *tokenRequest) abandon() {
	t.cancel()
	<-t.done
}
