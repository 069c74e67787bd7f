package testenv

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// ConnectProxy is an HTTP CONNECT proxy on loopback that knows host names
// the machine cannot resolve (each mapped to a loopback address), and
// records what it was asked for. Names it does not know get 502, so
// nothing it is asked for is ever looked up for real.
type ConnectProxy struct {
	// URL is the proxy's address, http://127.0.0.1:port.
	URL string

	names map[string]string
	mu    sync.Mutex
	seen  []string
	auth  []string
}

// StartConnectProxy starts a proxy that tunnels to names (host -> loopback
// address; the port is the one asked for). It stops when the test ends.
func StartConnectProxy(t testing.TB, names map[string]string) *ConnectProxy {
	t.Helper()
	p := &ConnectProxy{names: names}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func (p *ConnectProxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	p.mu.Lock()
	p.seen = append(p.seen, r.Host)
	p.auth = append(p.auth, r.Header.Get("Proxy-Authorization"))
	p.mu.Unlock()
	host, port, err := net.SplitHostPort(r.Host)
	target, ok := p.names[host]
	if err != nil || !ok {
		http.Error(w, "unknown host", http.StatusBadGateway)
		return
	}
	up, err := net.Dial("tcp", net.JoinHostPort(target, port))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		up.Close()
		return
	}
	conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")) //nolint:errcheck
	go func() { io.Copy(up, buf); up.Close() }()                      //nolint:errcheck
	go func() { io.Copy(conn, up); conn.Close() }()                   //nolint:errcheck
}

// Hosts lists the host:port of every CONNECT, in order.
func (p *ConnectProxy) Hosts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

// Auth lists the Proxy-Authorization header of every CONNECT ("" when
// none was sent), in order.
func (p *ConnectProxy) Auth() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.auth...)
}
