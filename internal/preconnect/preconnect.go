// Package preconnect opens connections to the hosts a run is about to call
// while it waits for something else (the OIDC token), so that the calls
// skip DNS, TCP and TLS set-up: a Pool dials and completes the TLS
// handshake of each address it is asked to open, and hands each
// connection to the first dial of an HTTP transport for that address
// (install Pool.DialTLSContext as the transport's DialTLSContext).
//
// Nothing but the TLS handshake is sent on a connection before a transport
// takes it, and a transport never receives a connection it did not dial
// for: an address that was not opened, or whose opening failed, is dialed
// afresh, exactly as the transport would have.
package preconnect

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
)

// DialFunc dials a plain connection, like net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Pool holds the connections being opened and not yet taken. The zero
// value is not usable; make one with New. A nil *Pool opens nothing and
// dials afresh.
type Pool struct {
	dial DialFunc

	mu      sync.Mutex
	pending map[string][]*pending // by host:port, not yet taken
	opened  map[string]bool
	closed  bool
	stats   Stats
}

// Stats counts what a Pool did.
type Stats struct {
	Opened int // connections started by Open
	Taken  int // handed to a transport's dial
	Failed int // openings that failed (the transport then dialed afresh)
}

type pending struct {
	done chan struct{} // closed when the handshake ended
	conn *tls.Conn
	err  error
	stop context.CancelFunc
}

// New makes a pool that dials with dial (a zero net.Dialer's when nil).
func New(dial DialFunc) *Pool {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	return &Pool{dial: dial, pending: map[string][]*pending{}, opened: map[string]bool{}}
}

// Open starts connecting to addr (host:port) and its TLS handshake with
// cfg (ServerName defaults to the host), in the background, unless addr
// was opened before: one connection per address, as a transport keeps one
// for calls made one after the other. ctx bounds the opening; cancelling
// it later does not close a connection that was made.
func (p *Pool) Open(ctx context.Context, addr string, cfg *tls.Config) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.opened[addr] {
		return
	}
	p.opened[addr] = true
	ctx, stop := context.WithCancel(ctx)
	pc := &pending{done: make(chan struct{}), stop: stop}
	p.pending[addr] = append(p.pending[addr], pc)
	p.stats.Opened++
	go func() {
		defer close(pc.done)
		defer stop()
		pc.conn, pc.err = handshake(ctx, p.dial, addr, cfg)
		if pc.err != nil {
			p.mu.Lock()
			p.stats.Failed++
			p.mu.Unlock()
		}
	}()
}

// handshake dials addr and completes a TLS handshake on it.
func handshake(ctx context.Context, dial DialFunc, addr string, cfg *tls.Config) (*tls.Conn, error) {
	raw, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := cfg.Clone()
	if c == nil {
		c = &tls.Config{}
	}
	if c.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		c.ServerName = host
	}
	conn := tls.Client(raw, c)
	if err := conn.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return conn, nil
}

// take removes and returns the first opening of addr, if any.
func (p *Pool) take(addr string) *pending {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	q := p.pending[addr]
	if len(q) == 0 {
		return nil
	}
	if len(q) == 1 {
		delete(p.pending, addr)
	} else {
		p.pending[addr] = q[1:]
	}
	return q[0]
}

// DialTLSContext returns a function for http.Transport.DialTLSContext:
// the connection opened for addr if there is one (waiting for its
// handshake to end), else a new connection dialed with dial (the pool's
// dialer when nil) and a TLS handshake with tlsConfig() - what the
// transport does itself without the hook.
func (p *Pool) DialTLSContext(tlsConfig func() *tls.Config, dial DialFunc) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if pc := p.take(addr); pc != nil {
			select {
			case <-pc.done:
			case <-ctx.Done():
				go func() { <-pc.done; closeConn(pc) }()
				return nil, ctx.Err()
			}
			if pc.err == nil {
				p.mu.Lock()
				p.stats.Taken++
				p.mu.Unlock()
				return pc.conn, nil
			}
		}
		if dial == nil {
			dial = p.dialer()
		}
		return handshake(ctx, dial, addr, tlsConfig())
	}
}

func (p *Pool) dialer() DialFunc {
	if p == nil {
		return (&net.Dialer{}).DialContext
	}
	return p.dial
}

func closeConn(pc *pending) {
	if pc.conn != nil {
		pc.conn.Close()
	}
}

// Close stops the openings in progress and closes every connection no
// transport took; later Opens do nothing.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	left := p.pending
	p.pending, p.closed = map[string][]*pending{}, true
	p.mu.Unlock()
	for _, q := range left {
		for _, pc := range q {
			pc.stop()
			<-pc.done
			closeConn(pc)
		}
	}
}

// Stats reports what the pool did so far.
func (p *Pool) Stats() Stats {
	if p == nil {
		return Stats{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// NextProtos is the ALPN list an http.Transport offers on the TLS
// connections it makes itself: HTTP/2 and HTTP/1.1 when it attempts
// HTTP/2, else HTTP/1.1 only. Give it to Open so that a connection opened
// ahead speaks what the transport would have negotiated.
func NextProtos(forceAttemptHTTP2 bool, cfg *tls.Config) []string {
	if cfg != nil && len(cfg.NextProtos) > 0 {
		return cfg.NextProtos
	}
	if forceAttemptHTTP2 {
		return []string{"h2", "http/1.1"}
	}
	return []string{"http/1.1"}
}
