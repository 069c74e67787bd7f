package main

// The connection-level network model: every host name the contenders use
// (GitHub's token service, STS, ECR, the registries) has a loopback
// address of its own, answered by a DNS server of ours, where a latency
// proxy forwards to the emulator or a registry stub. The proxy delays
// every chunk by half the round trip in each direction and holds the
// client's first bytes until a TCP handshake would have completed, and the
// DNS server answers one round trip late, so a contender pays for DNS,
// TCP and TLS set-up like on a real network, and for nothing it avoids.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// latencyProxy forwards TCP connections from its listener to target,
// emulating a network round trip of rtt.
type latencyProxy struct {
	ln     net.Listener
	target string
	rtt    *atomic.Int64 // shared by every proxy of a lab
	conns  atomic.Int64  // connections accepted
	wg     sync.WaitGroup
}

func startLatencyProxy(listen, target string, rtt *atomic.Int64) (*latencyProxy, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("latency proxy: listen on %s: %w", listen, err)
	}
	p := &latencyProxy{ln: ln, target: target, rtt: rtt}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

func (p *latencyProxy) addr() string { return p.ln.Addr().String() }

func (p *latencyProxy) close() {
	p.ln.Close()
	p.wg.Wait()
}

func (p *latencyProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.conns.Add(1)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(c)
		}()
	}
}

// handle relays one connection. The kernel completes the client's TCP
// handshake at once; on a real network the client's first bytes leave one
// round trip later (SYN, SYN-ACK), so client data is held until then.
func (p *latencyProxy) handle(c net.Conn) {
	accepted := time.Now()
	rtt := time.Duration(p.rtt.Load())
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	done := make(chan struct{})
	go func() {
		relay(up, c, rtt/2, accepted.Add(rtt))
		close(done)
	}()
	relay(c, up, rtt/2, time.Time{})
	<-done
	c.Close()
	up.Close()
}

// relay copies src to dst, each chunk delay after it was read (and not
// before notBefore+delay), in order, then half-closes dst. A failed write
// closes both ends, so that the other direction ends too.
func relay(dst, src net.Conn, delay time.Duration, notBefore time.Time) {
	type chunk struct {
		b  []byte
		at time.Time
	}
	ch := make(chan chunk, 256)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				t := time.Now()
				if t.Before(notBefore) {
					t = notBefore
				}
				ch <- chunk{buf[:n], t.Add(delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		if d := time.Until(c.at); d > 0 {
			time.Sleep(d)
		}
		if _, err := dst.Write(c.b); err != nil {
			dst.Close()
			src.Close()
			for range ch {
			}
			return
		}
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	} else {
		dst.Close()
	}
}

// dnsServer answers A queries for its names from a table, one round trip
// late; other names get NXDOMAIN (and are recorded), AAAA and other types
// an empty answer. It serves UDP and TCP on port 53 of one address.
type dnsServer struct {
	addr  string // ip:53
	udp   net.PacketConn
	tcp   net.Listener
	names map[string]net.IP // lower case, with the final dot
	rtt   *atomic.Int64

	mu       sync.Mutex
	queries  int
	unknown  []string
	wg       sync.WaitGroup
	shutdown atomic.Bool
}

func startDNS(ip string, names map[string]net.IP, rtt *atomic.Int64) (*dnsServer, error) {
	s := &dnsServer{addr: net.JoinHostPort(ip, "53"), names: map[string]net.IP{}, rtt: rtt}
	for n, a := range names {
		s.names[strings.ToLower(strings.TrimSuffix(n, "."))+"."] = a
	}
	var err error
	if s.udp, err = net.ListenPacket("udp", s.addr); err != nil {
		return nil, fmt.Errorf("dns: listen on udp %s: %w", s.addr, err)
	}
	if s.tcp, err = net.Listen("tcp", s.addr); err != nil {
		s.udp.Close()
		return nil, fmt.Errorf("dns: listen on tcp %s: %w", s.addr, err)
	}
	s.wg.Add(2)
	go s.serveUDP()
	go s.serveTCP()
	return s, nil
}

func (s *dnsServer) close() {
	s.shutdown.Store(true)
	s.udp.Close()
	s.tcp.Close()
	s.wg.Wait()
}

// stats returns the number of queries and the unknown names asked for.
func (s *dnsServer) stats() (int, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries, append([]string(nil), s.unknown...)
}

func (s *dnsServer) serveUDP() {
	defer s.wg.Done()
	for {
		buf := make([]byte, 1500)
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if out := s.answer(buf[:n]); out != nil {
				_, _ = s.udp.WriteTo(out, from)
			}
		}()
	}
}

func (s *dnsServer) serveTCP() {
	defer s.wg.Done()
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			for {
				var l [2]byte
				if _, err := readFull(c, l[:]); err != nil {
					return
				}
				msg := make([]byte, int(l[0])<<8|int(l[1]))
				if _, err := readFull(c, msg); err != nil {
					return
				}
				out := s.answer(msg)
				if out == nil {
					return
				}
				if _, err := c.Write(append([]byte{byte(len(out) >> 8), byte(len(out))}, out...)); err != nil {
					return
				}
			}
		}()
	}
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// answer builds the reply to one query, after the round trip; nil for a
// message that is no query.
func (s *dnsServer) answer(query []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil || h.Response {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	if d := time.Duration(s.rtt.Load()); d > 0 {
		time.Sleep(d)
	}
	if s.shutdown.Load() {
		return nil
	}
	name := strings.ToLower(q.Name.String())
	ip, known := s.names[name]
	s.mu.Lock()
	s.queries++
	if !known {
		s.unknown = append(s.unknown, strings.TrimSuffix(name, "."))
	}
	s.mu.Unlock()
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	if !known {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), rh)
	b.EnableCompression()
	if b.StartQuestions() != nil || b.Question(q) != nil || b.StartAnswers() != nil {
		return nil
	}
	if known && q.Type == dnsmessage.TypeA && q.Class == dnsmessage.ClassINET {
		var a [4]byte
		copy(a[:], ip.To4())
		if b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: a}) != nil {
			return nil
		}
	}
	out, err := b.Finish()
	if err != nil {
		return nil
	}
	return out
}

// The environment variable that tells the benchmark it runs in the mount
// namespace it made for itself.
const mountNSVar = "ECR_BENCH_MOUNT_NAMESPACE"

// reexecInMountNamespace runs this program again in a mount namespace of
// its own (unshare --mount, propagation private), where it can put its
// DNS server into /etc/resolv.conf for itself and every contender without
// touching the machine's. It returns the child's exit code; ok is false
// when the namespace cannot be made (not root, no unshare), and why says
// why.
func reexecInMountNamespace(args []string) (code int, ok bool, why string) {
	if os.Geteuid() != 0 {
		return 0, false, "needs root (a mount namespace and port 53 on loopback)"
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return 0, false, "needs unshare (util-linux)"
	}
	self, err := os.Executable()
	if err != nil {
		return 0, false, "cannot find the benchmark's own executable: " + err.Error()
	}
	cmd := exec.Command(unshare, append([]string{"--mount", "--propagation", "private", "--", self}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), mountNSVar+"=1")
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), true, ""
		}
		return 0, false, "unshare --mount failed: " + err.Error()
	}
	return 0, true, ""
}

// inMountNamespace reports whether this process is the re-executed one.
func inMountNamespace() bool { return os.Getenv(mountNSVar) == "1" }

// useResolver points /etc/resolv.conf of this mount namespace at the DNS
// server (a bind mount of a file in dir) and checks that it took: a
// lookup must never leave the machine.
func useResolver(dir, serverIP string) (string, error) {
	if !inMountNamespace() {
		return "", errors.New("not in the benchmark's own mount namespace")
	}
	content := "nameserver " + serverIP + "\noptions timeout:5 attempts:1\n"
	file := dir + "/resolv.conf"
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		return "", err
	}
	if err := syscall.Mount(file, "/etc/resolv.conf", "", syscall.MS_BIND, ""); err != nil {
		return "", fmt.Errorf("bind-mount %s on /etc/resolv.conf: %w", file, err)
	}
	got, err := os.ReadFile("/etc/resolv.conf")
	if err != nil || string(got) != content {
		return "", errors.New("/etc/resolv.conf does not show the benchmark's DNS server after the bind mount")
	}
	return file, nil
}

// loopbackBase picks a /24 of 127.0.0.0/8 for one lab's addresses.
func loopbackBase() string {
	return fmt.Sprintf("127.%d.%d.", 100+rand.IntN(150), 1+rand.IntN(250))
}

// The host names of the connection-level model: AWS's and GitHub's own,
// resolved only by our DNS server inside the benchmark's mount namespace.
const (
	oidcHost = "pipelines.actions.githubusercontent.com"
	stsHost  = "sts." + homeRegion + ".amazonaws.com"
)

func ecrAPIHost(region string) string { return "api.ecr." + region + ".amazonaws.com" }

// awsNames are the emulator's names for n regions.
func awsNames(n int) []string {
	names := []string{oidcHost, stsHost, "sts.amazonaws.com"}
	for i := range n {
		names = append(names, ecrAPIHost(regions[i]))
	}
	return names
}

// netModel is a lab's network: an address, a proxy and a DNS entry per
// host name.
type netModel struct {
	rtt     atomic.Int64
	dns     *dnsServer
	proxies []*latencyProxy
	resolv  string // the resolv.conf file naming the DNS server
}

// startNetModel gives each of the emulator's names and each registry of
// l an address of its own in a /24 of loopback, with a latency proxy on
// port 443 in front of the emulator or the stub, and starts the DNS server
// that answers for them.
func startNetModel(l *lab, awsHosts []string) (*netModel, error) {
	var lastErr error
	for range 5 { // another lab (another engineer's benchmark) may hold a /24
		m, err := tryNetModel(l, awsHosts, loopbackBase())
		if err == nil {
			return m, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func tryNetModel(l *lab, awsHosts []string, base string) (*netModel, error) {
	m := &netModel{}
	ok := false
	defer func() {
		if !ok {
			m.close()
		}
	}()
	names := map[string]net.IP{}
	emulator := strings.TrimPrefix(strings.TrimPrefix(l.fake.URL(), "https://"), "http://")
	add := func(name, target string) error {
		ip := base + fmt.Sprint(10+len(m.proxies))
		p, err := startLatencyProxy(net.JoinHostPort(ip, "443"), target, &m.rtt)
		if err != nil {
			return err
		}
		m.proxies = append(m.proxies, p)
		names[name] = net.ParseIP(ip)
		return nil
	}
	for _, h := range awsHosts {
		if err := add(h, emulator); err != nil {
			return nil, err
		}
	}
	for i, h := range l.hosts {
		if err := add(h, l.stubs[i].host); err != nil {
			return nil, err
		}
	}
	var err error
	if m.dns, err = startDNS(base+"53", names, &m.rtt); err != nil {
		return nil, err
	}
	if m.resolv, err = useResolver(l.dir, base+"53"); err != nil {
		return nil, err
	}
	ok = true
	return m, nil
}

func (m *netModel) close() {
	if m == nil {
		return
	}
	if m.dns != nil {
		m.dns.close()
	}
	for _, p := range m.proxies {
		p.close()
	}
}

// connections is the number of TCP connections the proxies accepted.
func (m *netModel) connections() int {
	if m == nil {
		return 0
	}
	n := 0
	for _, p := range m.proxies {
		n += int(p.conns.Load())
	}
	return n
}
