package preconnect

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// server is a TLS test server that counts connections and requests.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	conns    int
	closed   int
	requests int
	closedCh chan struct{}
}

func newServer(t *testing.T, h2 bool) *server {
	t.Helper()
	s := &server{closedCh: make(chan struct{}, 16)}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests++
		s.mu.Unlock()
		io.WriteString(w, r.Proto)
	}))
	s.EnableHTTP2 = h2
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch st {
		case http.StateNew:
			s.conns++
		case http.StateClosed, http.StateHijacked:
			s.closed++
			s.closedCh <- struct{}{}
		}
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func (s *server) counts() (conns, requests int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns, s.requests
}

func (s *server) addr() string { return strings.TrimPrefix(s.URL, "https://") }

func (s *server) tlsConfig(h2 bool) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	return &tls.Config{RootCAs: pool, NextProtos: NextProtos(h2, nil)}
}

func client(p *Pool, cfg *tls.Config) *http.Client {
	return &http.Client{Transport: &http.Transport{
		ForceAttemptHTTP2: true,
		DialTLSContext:    p.DialTLSContext(func() *tls.Config { return cfg }, nil),
	}}
}

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// wantProtocol GETs url with c and checks the protocol the server saw.
func wantProtocol(t *testing.T, c *http.Client, url, want string) {
	t.Helper()
	if got := get(t, c, url); got != want {
		t.Errorf("protocol %q, want %q", got, want)
	}
}

// wantStats checks the pool's counters.
func wantStats(t *testing.T, p *Pool, want Stats) {
	t.Helper()
	if st := p.Stats(); st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
}

func TestOpenedConnectionIsTakenAndNothingIsSentBefore(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1", true: "h2"}[h2], func(t *testing.T) {
			s := newServer(t, h2)
			cfg := s.tlsConfig(h2)
			p := New(nil)
			defer p.Close()
			p.Open(context.Background(), s.addr(), cfg)
			p.Open(context.Background(), s.addr(), cfg) // once per address
			<-p.pending[s.addr()][0].done
			if err := p.pending[s.addr()][0].err; err != nil {
				t.Fatalf("opening failed: %v", err)
			}
			if conns, reqs := s.counts(); conns != 1 || reqs != 0 {
				t.Fatalf("after Open: %d connections, %d requests; want 1, 0", conns, reqs)
			}
			c := client(p, cfg)
			want := map[bool]string{false: "HTTP/1.1", true: "HTTP/2.0"}[h2]
			for range 2 {
				wantProtocol(t, c, s.URL, want)
			}
			if conns, reqs := s.counts(); conns != 1 || reqs != 2 {
				t.Errorf("after 2 requests: %d connections, %d requests; want 1, 2", conns, reqs)
			}
			// A second client (transport) dials afresh: taken once only.
			wantProtocol(t, client(p, cfg), s.URL, want)
			if conns, _ := s.counts(); conns != 2 {
				t.Errorf("a second transport: %d connections, want 2", conns)
			}
			wantStats(t, p, Stats{Opened: 1, Taken: 1})
		})
	}
}

func TestAddressNotOpenedIsDialedAfresh(t *testing.T) {
	s := newServer(t, false)
	p := New(nil)
	defer p.Close()
	wantProtocol(t, client(p, s.tlsConfig(false)), s.URL, "HTTP/1.1")
	if conns, _ := s.counts(); conns != 1 {
		t.Errorf("%d connections, want 1", conns)
	}
	wantStats(t, p, Stats{})
	var nilPool *Pool
	nilPool.Open(context.Background(), s.addr(), nil)
	wantProtocol(t, client(nilPool, s.tlsConfig(false)), s.URL, "HTTP/1.1")
}

func TestFailedOpeningFallsBackToAFreshDial(t *testing.T) {
	s := newServer(t, false)
	p := New(nil)
	defer p.Close()
	// A configuration that does not trust the server: the handshake fails.
	p.Open(context.Background(), s.addr(), &tls.Config{RootCAs: x509.NewCertPool()})
	<-p.pending[s.addr()][0].done
	wantProtocol(t, client(p, s.tlsConfig(false)), s.URL, "HTTP/1.1")
	wantStats(t, p, Stats{Opened: 1, Failed: 1})
}

func TestCloseClosesWhatWasNotTaken(t *testing.T) {
	s := newServer(t, false)
	p := New(nil)
	p.Open(context.Background(), s.addr(), s.tlsConfig(false))
	<-p.pending[s.addr()][0].done
	p.Close()
	<-s.closedCh // the server sees the connection end
	p.Open(context.Background(), s.addr(), s.tlsConfig(false))
	if st := p.Stats(); st.Opened != 1 {
		t.Errorf("Open after Close opened: %+v", st)
	}
	if conns, reqs := s.counts(); conns != 1 || reqs != 0 {
		t.Errorf("%d connections, %d requests; want 1, 0", conns, reqs)
	}
}

func TestCancelledDialLeavesNoConnection(t *testing.T) {
	// A dial that never completes until cancelled stands for a slow host.
	release := make(chan struct{})
	p := New(func(ctx context.Context, network, addr string) (net.Conn, error) {
		<-release
		return nil, context.Canceled
	})
	p.Open(context.Background(), "127.0.0.1:9", nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.DialTLSContext(func() *tls.Config { return nil }, nil)(ctx, "tcp", "127.0.0.1:9"); err == nil {
		t.Fatal("a cancelled dial succeeded")
	}
	close(release)
	p.Close()
}
