package awsauth

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Proxy is where AWS calls go through, as http-proxy and no-proxy say.
type Proxy struct {
	// URL is the proxy (http://, https:// or socks5://); nil means the
	// environment's HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as always.
	URL *url.URL
	// NoProxy lists hosts reached directly: a host name (which also
	// matches its subdomains; a leading "." likewise), host:port, an IP
	// address, a CIDR block, or "*" for every host.
	NoProxy []string
}

// Func is the http.Transport Proxy function.
func (p Proxy) Func() func(*http.Request) (*url.URL, error) {
	if p.URL == nil {
		return http.ProxyFromEnvironment
	}
	return func(r *http.Request) (*url.URL, error) {
		if p.bypass(r.URL) {
			return nil, nil
		}
		return p.URL, nil
	}
}

// bypass reports whether u is reached directly.
func (p Proxy) bypass(u *url.URL) bool {
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	ip := net.ParseIP(host)
	if host == "localhost" || ip != nil && ip.IsLoopback() {
		return true // as Go's own proxy handling: loopback is never proxied
	}
	for _, e := range p.NoProxy {
		e = strings.ToLower(strings.TrimSpace(e))
		switch {
		case e == "":
		case e == "*":
			return true
		case strings.Contains(e, "/"):
			if _, block, err := net.ParseCIDR(e); err == nil && ip != nil && block.Contains(ip) {
				return true
			}
		default:
			eHost, ePort := e, ""
			if h, pt, err := net.SplitHostPort(e); err == nil {
				eHost, ePort = h, pt
			}
			eHost = strings.TrimSuffix(strings.TrimPrefix(eHost, "["), "]")
			if ePort != "" && ePort != port {
				continue
			}
			if eIP := net.ParseIP(eHost); eIP != nil {
				if ip != nil && eIP.Equal(ip) {
					return true
				}
				continue
			}
			eHost = strings.TrimPrefix(strings.TrimSuffix(eHost, "."), ".")
			if host == eHost || strings.HasSuffix(host, "."+eHost) {
				return true
			}
		}
	}
	return false
}
