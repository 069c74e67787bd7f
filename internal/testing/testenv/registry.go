package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// DefaultRegistryUser is the user name StartRegistry uses when a password is
// set without one; it is also the user name ECR tokens carry.
const DefaultRegistryUser = "AWS"

// bcryptMaxPassword is the number of password bytes bcrypt looks at.
const bcryptMaxPassword = 72

// RegistryOptions configures StartRegistry.
type RegistryOptions struct {
	// Username for basic auth; DefaultRegistryUser when empty and Password
	// is set. It must not contain ':'.
	Username string
	// Password enables htpasswd (basic) auth. Empty means no auth at all:
	// every client may push and pull. Any length works, including the
	// 1.5-2 KB of a real ECR password; see Registry for how a password over
	// 72 bytes is checked in full.
	Password string
	// TLS makes the registry serve HTTPS with a certificate from CA.
	TLS bool
	// CA signs the server certificate when TLS is set; nil means a new one
	// from NewCA.
	CA *CA
	// Accept, when set, decides which passwords of Username the registry
	// takes, as ECR takes only passwords it issued that have not expired
	// (see awsfake.Server.RegistryPasswordValid); Password then only
	// guards the registry behind the front, which uses it for requests it
	// let through. Password must be set too.
	Accept func(password string) bool
}

// Registry is a running docker-registry (Debian package docker-registry,
// github.com/docker/distribution 2.8) bound to 127.0.0.1 with filesystem
// storage in a temporary directory. It is stopped at test cleanup; when the
// test failed, its log is printed with t.Log.
//
// # Long passwords
//
// The registry checks htpasswd entries with bcrypt, and bcrypt only looks at
// the first 72 bytes of a password: docker-registry 2.8.2 as shipped by
// Debian accepts any password that shares those 72 bytes with the right one
// (TestRegistryAloneTruncatesLongPasswords shows it). golang.org/x/crypto
// refuses to hash more than 72 bytes, so the htpasswd file holds the hash
// of the first 72 bytes. For a real ECR password (~1.5-2 KB) that alone
// would let a truncated or corrupted password through, so when Password is
// longer than 72 bytes StartRegistry puts a small in-process front on Addr
// that compares the whole password (constant time) and answers a mismatch
// for the configured user with the registry's own 401 response; everything
// else is proxied unchanged to the registry on a second loopback port. With
// a password of 72 bytes or less clients talk to docker-registry directly.
type Registry struct {
	// Addr is "127.0.0.1:port", the registry host as image references and
	// docker config.json name it.
	Addr string
	// URL is "https://Addr" or "http://Addr".
	URL string
	// CA is the CA that signed the server certificate, nil without TLS.
	CA *CA
	// Username is the basic-auth user ("" when auth is off).
	Username string
	// Guarded reports whether the full-password front described above is
	// in use.
	Guarded bool

	logs *lockedBuffer
	dir  string

	clientOnce sync.Once
	client     *http.Client
}

// Logs returns what the registry (and the front, when Guarded) logged so
// far. Passwords are never logged; user names are.
func (r *Registry) Logs() string { return r.logs.String() }

// HTTPClient returns a client (the same one on every call) that trusts the
// registry's CA, if any, ignores proxy settings and refuses redirects off
// loopback.
func (r *Registry) HTTPClient() *http.Client {
	r.clientOnce.Do(func() { r.client = r.newHTTPClient() })
	return r.client
}

func (r *Registry) newHTTPClient() *http.Client {
	tr := &http.Transport{Proxy: nil} // never an HTTP(S)_PROXY from the host
	if r.CA != nil {
		tr.TLSClientConfig = r.CA.ClientTLSConfig()
	}
	return &http.Client{
		Transport: tr,
		Timeout:   30 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if !isLoopbackHost(req.URL.Hostname()) {
				return fmt.Errorf("refusing redirect off loopback to %s", req.URL.Host)
			}
			return nil
		},
	}
}

// StartRegistry starts docker-registry on a free 127.0.0.1 port and waits
// until /v2/ answers. A missing docker-registry fails the test if CI=true
// and skips it otherwise.
func StartRegistry(t testing.TB, opts RegistryOptions) *Registry {
	t.Helper()
	return startRegistry(t, opts, len(opts.Password) > bcryptMaxPassword || opts.Accept != nil)
}

func startRegistry(t testing.TB, opts RegistryOptions, guard bool) *Registry {
	t.Helper()
	bin := RequireTool(t, "docker-registry")
	if opts.Password != "" && opts.Username == "" {
		opts.Username = DefaultRegistryUser
	}
	if strings.Contains(opts.Username, ":") {
		t.Fatalf("testenv: registry user name %q contains ':', which htpasswd cannot store", opts.Username)
	}
	if opts.Username != "" && opts.Password == "" {
		t.Fatalf("testenv: registry user %q given without a password; set Password (or neither, for no auth)", opts.Username)
	}
	if opts.TLS && opts.CA == nil {
		opts.CA = NewCA(t)
	}

	r := &Registry{Username: opts.Username, Guarded: guard, logs: &lockedBuffer{}, dir: t.TempDir()}
	if opts.TLS {
		r.CA = opts.CA
	}
	if err := r.writeHtpasswd(opts); err != nil {
		t.Fatalf("testenv: registry: %v", err)
	}

	var front net.Listener
	if guard {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("testenv: registry front: listen on loopback: %v", err)
		}
		front = ln
		r.Addr = ln.Addr().String()
		t.Cleanup(func() { _ = front.Close() }) // also if we fail below
	}

	// The registry binds the port itself; another process may take a port
	// between our probe and its bind, so try a few.
	var proc *registryProcess
	var backendAddr string
	var lastErr error
	for attempt := 0; attempt < 3 && proc == nil; attempt++ {
		addr, err := freeLoopbackAddr()
		if err != nil {
			t.Fatalf("testenv: registry: %v", err)
		}
		useTLS := opts.TLS && !guard // behind the front the hop is plain HTTP on loopback
		cfg, err := r.writeConfig(addr, useTLS, opts)
		if err != nil {
			t.Fatalf("testenv: registry: %v", err)
		}
		p, err := startRegistryProcess(bin, cfg, r.logs)
		if err != nil {
			t.Fatalf("testenv: registry: %v", err)
		}
		scheme := "http"
		if useTLS {
			scheme = "https"
		}
		if err := waitForRegistry(p, scheme+"://"+addr+"/v2/", r.CA); err != nil {
			p.stop()
			lastErr = err
			if strings.Contains(r.logs.String(), "address already in use") {
				continue
			}
			break
		}
		proc, backendAddr = p, addr
	}
	if proc == nil {
		t.Fatalf("testenv: start docker-registry: %v\nregistry log:\n%s", lastErr, r.logs.String())
	}

	var srv *http.Server
	if guard {
		srv = r.serveFront(front, backendAddr, opts)
	} else {
		r.Addr = backendAddr
	}
	r.URL = "http://" + r.Addr
	if opts.TLS {
		r.URL = "https://" + r.Addr
	}
	t.Cleanup(func() {
		if srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = srv.Shutdown(ctx)
			cancel()
		}
		if r.client != nil {
			r.client.CloseIdleConnections()
		}
		if err := proc.stop(); err != nil {
			t.Errorf("testenv: stop docker-registry: %v", err)
		}
		if t.Failed() {
			t.Logf("docker-registry log (%s):\n%s", r.Addr, r.logs.String())
		}
	})
	if guard {
		// The front is up already (it listens since before the registry
		// started); check the whole path once.
		if err := waitForRegistry(nil, r.URL+"/v2/", r.CA); err != nil {
			t.Fatalf("testenv: registry front: %v", err)
		}
	}
	return r
}

func (r *Registry) writeHtpasswd(opts RegistryOptions) error {
	if opts.Password == "" {
		return nil
	}
	pw := []byte(opts.Password)
	if len(pw) > bcryptMaxPassword {
		pw = pw[:bcryptMaxPassword] // all that bcrypt (and so the registry) compares
	}
	// Cost 4, the minimum: a test registry needs no brute-force resistance,
	// and every authenticated request pays for a bcrypt comparison.
	hash, err := bcrypt.GenerateFromPassword(pw, bcrypt.MinCost)
	if err != nil {
		return fmt.Errorf("hash password for htpasswd: %w", err)
	}
	line := opts.Username + ":" + string(hash) + "\n"
	if err := os.WriteFile(filepath.Join(r.dir, "htpasswd"), []byte(line), 0o600); err != nil {
		return fmt.Errorf("write htpasswd: %w", err)
	}
	return nil
}

// writeConfig writes the registry configuration as JSON (which the
// registry's YAML parser reads as well) and returns its path.
func (r *Registry) writeConfig(addr string, useTLS bool, opts RegistryOptions) (string, error) {
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return "", fmt.Errorf("make HTTP secret: %w", err)
	}
	httpCfg := map[string]any{
		"addr":         addr,
		"secret":       hex.EncodeToString(secret),
		"draintimeout": "0s",
		"headers":      map[string][]string{"X-Content-Type-Options": {"nosniff"}},
	}
	if useTLS {
		httpCfg["tls"] = map[string]any{
			"certificate": opts.CA.LeafCertFile,
			"key":         opts.CA.LeafKeyFile,
		}
	}
	cfg := map[string]any{
		"version": "0.1",
		"log": map[string]any{
			"level":     "info",
			"formatter": "text",
			"fields":    map[string]string{"service": "registry"},
		},
		"storage": map[string]any{
			"filesystem":  map[string]string{"rootdirectory": filepath.Join(r.dir, "data")},
			"delete":      map[string]bool{"enabled": true},
			"maintenance": map[string]any{"uploadpurging": map[string]bool{"enabled": false}},
			"cache":       map[string]string{"blobdescriptor": "inmemory"},
		},
		"http": httpCfg,
	}
	if opts.Password != "" {
		cfg["auth"] = map[string]any{
			"htpasswd": map[string]string{
				"realm": "testenv-registry",
				"path":  filepath.Join(r.dir, "htpasswd"),
			},
		}
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode registry config: %w", err)
	}
	p := filepath.Join(r.dir, "config.yml")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		return "", fmt.Errorf("write registry config: %w", err)
	}
	return p, nil
}

// serveFront runs the full-password check in front of the registry.
func (r *Registry) serveFront(ln net.Listener, backendAddr string, opts RegistryOptions) *http.Server {
	backend := &url.URL{Scheme: "http", Host: backendAddr}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(backend)
			pr.Out.Host = pr.In.Host // the registry builds Location URLs from it
			pr.SetXForwarded()
		},
		Transport: &http.Transport{Proxy: nil},
		ErrorLog:  log.New(r.logs, "testenv front: ", 0),
	}
	want := []byte(opts.Password)
	accept := func(p string) bool { return subtle.ConstantTimeCompare([]byte(p), want) == 1 }
	if opts.Accept != nil {
		accept = opts.Accept
		rewrite := proxy.Rewrite
		proxy.Rewrite = func(pr *httputil.ProxyRequest) {
			rewrite(pr)
			if u, _, ok := pr.In.BasicAuth(); ok && u == opts.Username {
				pr.Out.SetBasicAuth(opts.Username, opts.Password)
			}
		}
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if u, p, ok := req.BasicAuth(); ok && u == opts.Username && !accept(p) {
			fmt.Fprintf(r.logs, "testenv front: %s %s from %s: password for user %q does not match in full (%d bytes given, %d expected); answered 401\n",
				req.Method, req.URL.Path, req.RemoteAddr, u, len(p), len(want))
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
			w.Header().Set("Www-Authenticate", `Basic realm="testenv-registry"`)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}` + "\n"))
			return
		}
		proxy.ServeHTTP(w, req)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, ErrorLog: log.New(r.logs, "testenv front: ", 0)}
	if opts.TLS {
		srv.TLSConfig = opts.CA.ServerTLSConfig()
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	go func() { _ = srv.Serve(ln) }()
	return srv
}

func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free loopback port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("find a free loopback port: %w", err)
	}
	return addr, nil
}

type registryProcess struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // valid after exited is closed
	once   sync.Once
}

func startRegistryProcess(bin, config string, logs *lockedBuffer) (*registryProcess, error) {
	cmd := exec.Command(bin, "serve", config)
	// Only PATH: REGISTRY_* variables from the host would override the config.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = groupAttr(true)
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &registryProcess{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// stop sends SIGTERM, waits up to five seconds, then kills the process.
func (p *registryProcess) stop() error {
	var err error
	p.once.Do(func() {
		select {
		case <-p.exited:
			return
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			_ = killGroup(p.cmd.Process)
			<-p.exited
			err = errors.New("docker-registry ignored SIGTERM for 5s and was killed")
		}
	})
	return err
}

// waitForRegistry polls url until it answers 200 or 401, the process (if
// any) exits, or 15 seconds pass.
func waitForRegistry(p *registryProcess, u string, ca *CA) error {
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true}
	if ca != nil {
		tr.TLSClientConfig = ca.ClientTLSConfig()
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	var exited <-chan struct{}
	if p != nil {
		exited = p.exited
	}
	var lastErr error
	deadline := time.Now().Add(15 * time.Second)
	for delay := 5 * time.Millisecond; time.Now().Before(deadline); delay = min(delay*2, 100*time.Millisecond) {
		resp, err := client.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
			lastErr = fmt.Errorf("GET %s: unexpected status %s", u, resp.Status)
		} else {
			lastErr = err
		}
		select {
		case <-exited:
			return fmt.Errorf("docker-registry exited before answering: %v", p.err)
		case <-time.After(delay):
		}
	}
	return fmt.Errorf("docker-registry did not answer %s within 15s: %w", u, lastErr)
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// lockedBuffer collects a process's output from several goroutines. It
// keeps the first 8 MiB, which is plenty for a test's registry log.
type lockedBuffer struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	truncated bool
}

const maxLogBytes = 8 << 20

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxLogBytes - b.buf.Len(); room < len(p) {
		if room > 0 {
			b.buf.Write(p[:room])
		}
		b.truncated = true
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.truncated {
		return b.buf.String() + "\n[log truncated at 8 MiB]\n"
	}
	return b.buf.String()
}
