package awsauth

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpproxy"
)

// Proxy is the one proxy decision of a run: every connection it makes
// (the OIDC token request, STS, ECR, the registry check, the connections
// opened ahead) goes through the proxy it names, or directly. It is made
// once, from the http-proxy and no-proxy settings and the environment's
// HTTPS_PROXY, HTTP_PROXY and NO_PROXY (either case), by
// golang.org/x/net/http/httpproxy, the rules Go's own
// http.ProxyFromEnvironment follows: loopback is never proxied; a NO_PROXY
// entry is a host name (which also matches its subdomains; with a leading
// "." only its subdomains), host:port, an IP address, a CIDR block, or "*"
// for every host. A nil *Proxy is the environment's decision alone.
type Proxy struct {
	configured bool
	forURL     func(*url.URL) (*url.URL, error)
	key        string // what the decision was made from (Key)
}

// NewProxy makes the decision: proxy (the http-proxy setting), when
// given, stands for HTTPS_PROXY and HTTP_PROXY; noProxy (the no-proxy
// setting), when given, for NO_PROXY; getenv reads the environment.
func NewProxy(proxy *url.URL, noProxy []string, getenv func(string) string) *Proxy {
	env := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	c := httpproxy.Config{
		HTTPProxy:  env("HTTP_PROXY", "http_proxy"),
		HTTPSProxy: env("HTTPS_PROXY", "https_proxy"),
		NoProxy:    env("NO_PROXY", "no_proxy"),
		// As Go's: under CGI, HTTP_PROXY may come from a request header.
		CGI: getenv("REQUEST_METHOD") != "",
	}
	if proxy != nil {
		c.HTTPProxy, c.HTTPSProxy = proxy.String(), proxy.String()
	}
	if len(noProxy) > 0 {
		c.NoProxy = strings.Join(noProxy, ",")
	}
	return &Proxy{configured: c.HTTPProxy != "" || c.HTTPSProxy != "", forURL: c.ProxyFunc(),
		key: strings.Join([]string{c.HTTPProxy, c.HTTPSProxy, c.NoProxy, strconv.FormatBool(c.CGI)}, "\x00")}
}

// Key is what the decision was made from (the proxies and the no-proxy
// list), for a cache key: two runs with the same key make the same
// decision. It may hold a proxy's user information: hash it, never log it.
func (p *Proxy) Key() string {
	if p == nil {
		return ""
	}
	return p.key
}

// Func is the decision as an http.Transport's Proxy function.
func (p *Proxy) Func() func(*http.Request) (*url.URL, error) {
	if p == nil {
		return http.ProxyFromEnvironment
	}
	return func(r *http.Request) (*url.URL, error) { return p.forURL(r.URL) }
}

// Configured reports whether a proxy is named at all (then no connection
// is opened ahead: requests go through the proxy, and its connections
// are the transport's own business).
func (p *Proxy) Configured() bool {
	if p == nil {
		return ProxyConfigured()
	}
	return p.configured
}
