// Package awsfake is an in-process emulator of the AWS and GitHub services
// ecr-credentials talks to: STS (AssumeRoleWithWebIdentity, AssumeRole,
// GetCallerIdentity), ECR and ECR Public GetAuthorizationToken, a
// GitHub-Actions-style OIDC issuer with its ID-token request endpoint, and
// the two local credential endpoints of AWS compute: EC2 instance metadata
// (IMDSv2) and the container credentials endpoint (ECS / EKS Pod Identity).
//
// It speaks the real wire protocols (awsQuery with XML responses for STS,
// awsJson1_1 for ECR and ECR Public, SigV4 request signing) so that the
// unmodified aws-sdk-go-v2 clients and the AWS CLI v2 work against it when
// pointed at [Server.URL]. The AWS APIs and OIDC are served from one
// loopback listener; requests are routed by protocol (an X-Amz-Target header
// means awsJson, an Action parameter means STS's query protocol, GETs under
// the issuer paths are OIDC).
//
// The instance metadata and container credentials endpoints get a second
// loopback listener, [Server.MetadataURL], that always speaks plain HTTP
// like the real link-local endpoints (169.254.169.254, 169.254.170.2/.23):
// IMDS owns the root paths /latest/..., clients such as the AWS CLI reach
// IMDS without the custom CA of a TLS emulator, and, as on EC2, the
// metadata host does not answer AWS API calls nor the API host metadata
// requests. Configure them with [Server.SetInstanceRole] and
// [Server.SetContainerRole]; [Server.IMDSEnv] and [Server.ContainerEnv]
// give the variables a client needs.
//
// Tests configure identities with [Server.AddRole] and [Server.AddAccessKey],
// shape ECR answers with [Server.MapRegistry] and [Server.SetRegistryPassword],
// and make trouble with [Server.Inject], [Server.SetLatency], a custom
// clock ([Options.Now]) and odd Date headers ([Server.SetDateHeader]). [Server.Calls] records what happened and
// [Server.Issued] lists every secret handed out, for leak checks.
package awsfake

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// Now is the emulator's clock, used for token and credential expiry,
	// SigV4 date checks and issued timestamps. Default time.Now. A clock that
	// differs from the client's models clock skew.
	Now func() time.Time
	// TLS serves HTTPS with a certificate for 127.0.0.1, ::1 and localhost
	// (and DNSNames) signed by a CA generated at New; CertPEM returns that CA.
	TLS bool
	// DNSNames are more host names for the certificate, for clients that
	// reach the emulator under other names (a benchmark's own DNS).
	DNSNames []string
	// Addr is the listen address; it must be a loopback IP with a port.
	// Default "127.0.0.1:0" (a free port).
	Addr string
	// MetadataAddr is the listen address of the plain-HTTP metadata
	// listener (instance metadata and container credentials); it must be a
	// loopback IP with a port. Default: the host of Addr on a free port.
	MetadataAddr string
	// IssuerPath puts the OIDC issuer below a path of the server, the way
	// a Forgejo instance issues tokens as <instance>/api/actions: the
	// tokens' iss, the discovery document, the JWKS and the ID-token
	// request endpoint all move below it. Default "" (the server's root,
	// like https://token.actions.githubusercontent.com).
	IssuerPath string
	// OnCall, if set, is called after every request with its log entry
	// (which never contains secrets). It must be safe for concurrent use.
	OnCall func(Call)
}

// Server is the emulator. Create it with New, configure it, then Start it
// (once). URL, MetadataURL, IMDSEndpoint, IssuerURL, IDTokenRequestURL,
// CAFile, Env, IMDSEnv and ContainerEnv are meaningful only after Start, and tokens should be minted after Start (their `iss` is
// the URL). All methods are safe for concurrent use.
type Server struct {
	opts Options
	now  func() time.Time

	signKey  *rsa.PrivateKey // OIDC issuer key
	keyID    string
	reqToken string // ACTIONS_ID_TOKEN_REQUEST_TOKEN
	planPath string // path of the ID-token request endpoint

	caPEM   []byte
	tlsCert *tls.Certificate

	ln      net.Listener
	srv     *http.Server
	url     string
	metaLn  net.Listener // plain-HTTP IMDS and container credentials
	metaSrv *http.Server
	metaURL string // with a trailing slash, as IMDS clients join paths to it
	tmpDir  string
	closing chan struct{}
	closed  sync.Once
	conns   atomic.Int64 // connections accepted by the main listener

	mu         sync.Mutex
	claims     Claims
	roles      map[string]Role
	creds      map[string]*credential // by access key id
	registries map[string]string      // account/region -> proxy endpoint
	passwords  map[string]string      // account/region -> fixed password
	publicPW   string
	tokenTTL   time.Duration
	sessionTTL time.Duration        // 0: sessions last as requested
	validPW    map[string]time.Time // account/region/password -> expiry
	latency    time.Duration
	faults     []*Fault
	calls      []Call
	issued     []string

	// metaMu guards the metadata endpoints' state. Lock order: metaMu, then
	// mu (issuing credentials takes mu).
	metaMu     sync.Mutex
	instance   *instance
	imdsV1     bool
	imdsTokens map[string]time.Time // IMDSv2 session token -> expiry
	container  *container

	ecrLimit rateLimiter // ECR GetAuthorizationToken quota (ratelimit.go)

	dateHeader func(now time.Time) string // nil: the clock in HTTP form (SetDateHeader)
}

// New creates a Server with a fresh OIDC signing key (and, with TLS, a fresh
// CA and certificate). It does not listen until Start.
func New(opts Options) *Server {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		// crypto/rand failing means the machine is unusable for anything.
		panic(fmt.Sprintf("awsfake: generate OIDC signing key: %v", err))
	}
	s := &Server{
		opts:       opts,
		now:        now,
		signKey:    key,
		keyID:      randomHex(20),
		planPath:   "/_apis/distributedtask/hubs/Actions/plans/" + randomUUID() + "/jobs/" + randomUUID() + "/idtoken",
		closing:    make(chan struct{}),
		roles:      map[string]Role{},
		creds:      map[string]*credential{},
		registries: map[string]string{},
		passwords:  map[string]string{},
		tokenTTL:   12 * time.Hour,
		validPW:    map[string]time.Time{},
		imdsTokens: map[string]time.Time{},
	}
	s.reqToken = "fake-request-token-" + randomHex(16)
	s.issued = append(s.issued, s.reqToken)
	if opts.TLS {
		ca, cert, err := newTLSMaterial(s.opts.DNSNames)
		if err != nil {
			panic(fmt.Sprintf("awsfake: generate TLS certificate: %v", err))
		}
		s.caPEM, s.tlsCert = ca, cert
	}
	return s
}

// Start listens on the loopback address from Options.Addr (default
// 127.0.0.1 on a free port), and for the metadata endpoints on
// Options.MetadataAddr, and serves in the background until Close.
func (s *Server) Start() error {
	addr := s.opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := checkLoopback(addr); err != nil {
		return err
	}
	metaAddr := s.opts.MetadataAddr
	if metaAddr == "" {
		host, _, _ := net.SplitHostPort(addr)
		metaAddr = net.JoinHostPort(host, "0")
	}
	if err := checkLoopback(metaAddr); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("awsfake: listen on %s: %w", addr, err)
	}
	metaLn, err := net.Listen("tcp", metaAddr)
	if err != nil {
		ln.Close()
		return fmt.Errorf("awsfake: listen on %s for the metadata endpoints: %w", metaAddr, err)
	}
	scheme := "http"
	if s.tlsCert != nil {
		ln = tls.NewListener(ln, &tls.Config{
			Certificates: []tls.Certificate{*s.tlsCert},
			NextProtos:   []string{"http/1.1"}, // no HTTP/2: faults hijack connections
			MinVersion:   tls.VersionTLS12,
		})
		scheme = "https"
	}
	dir, err := os.MkdirTemp("", "awsfake-")
	if err != nil {
		ln.Close()
		metaLn.Close()
		return fmt.Errorf("awsfake: create temp dir: %w", err)
	}
	if s.caPEM != nil {
		if err := os.WriteFile(filepath.Join(dir, "ca.pem"), s.caPEM, 0o600); err != nil {
			ln.Close()
			metaLn.Close()
			os.RemoveAll(dir)
			return fmt.Errorf("awsfake: write CA bundle: %w", err)
		}
	}
	s.ln, s.metaLn, s.tmpDir = ln, metaLn, dir
	s.url = scheme + "://" + ln.Addr().String()
	s.metaURL = "http://" + metaLn.Addr().String() + "/"
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:          nil,
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				s.conns.Add(1)
			}
		},
	}
	s.metaSrv = &http.Server{
		Handler:           http.HandlerFunc(s.serveMetadataHTTP),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go s.srv.Serve(ln)         //nolint:errcheck // returns on Close
	go s.metaSrv.Serve(metaLn) //nolint:errcheck // returns on Close
	return nil
}

// Close stops the server, releases requests held by hang faults and removes
// the temporary files (CA bundle). It is safe to call more than once.
func (s *Server) Close() {
	s.closed.Do(func() {
		close(s.closing)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, srv := range []*http.Server{s.srv, s.metaSrv} {
			if srv != nil {
				if err := srv.Shutdown(ctx); err != nil {
					srv.Close()
				}
			}
		}
		if s.tmpDir != "" {
			os.RemoveAll(s.tmpDir)
		}
	})
}

// URL is the single AWS endpoint (for AWS_ENDPOINT_URL or --endpoint-url)
// serving STS, ECR and ECR Public, e.g. "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.url }

// MetadataURL is the base URL of the plain-HTTP listener serving instance
// metadata and container credentials, with a trailing slash, e.g.
// "http://127.0.0.1:41235/". It is the same whether or not the API is TLS.
func (s *Server) MetadataURL() string { return s.metaURL }

// CertPEM returns the PEM of the CA that signed the server certificate, or
// nil without TLS.
func (s *Server) CertPEM() []byte { return append([]byte(nil), s.caPEM...) }

// CAFile is the path of a file holding CertPEM (valid between Start and
// Close), or "" without TLS.
func (s *Server) CAFile() string {
	if s.caPEM == nil || s.tmpDir == "" {
		return ""
	}
	return filepath.Join(s.tmpDir, "ca.pem")
}

// Env returns the environment a client process needs to use the emulator:
// AWS_ENDPOINT_URL and the per-service AWS_ENDPOINT_URL_STS, _ECR and
// _ECR_PUBLIC (aws-sdk-go-v2's default credential chain builds its STS
// client before it applies AWS_ENDPOINT_URL, so without AWS_ENDPOINT_URL_STS
// web-identity credentials would go to the real STS),
// ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN,
// AWS_EC2_METADATA_DISABLED=true, AWS_CONFIG_FILE and
// AWS_SHARED_CREDENTIALS_FILE pointing at files that do not exist (so the
// host's AWS configuration never leaks in), and with TLS AWS_CA_BUNDLE and
// SSL_CERT_FILE naming the CA file. It holds no AWS secrets; the request
// token is a test value. IMDSEnv and ContainerEnv give the variables of the
// metadata endpoints, to lay over this map.
func (s *Server) Env() map[string]string {
	env := map[string]string{
		"AWS_ENDPOINT_URL":               s.URL(),
		"AWS_ENDPOINT_URL_STS":           s.URL(),
		"AWS_ENDPOINT_URL_ECR":           s.URL(),
		"AWS_ENDPOINT_URL_ECR_PUBLIC":    s.URL(),
		"ACTIONS_ID_TOKEN_REQUEST_URL":   s.IDTokenRequestURL(),
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": s.IDTokenRequestToken(),
		"AWS_EC2_METADATA_DISABLED":      "true",
		"AWS_CONFIG_FILE":                filepath.Join(s.tmpDir, "no-such-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE":    filepath.Join(s.tmpDir, "no-such-aws-credentials"),
	}
	if f := s.CAFile(); f != "" {
		env["AWS_CA_BUNDLE"] = f
		env["SSL_CERT_FILE"] = f
	}
	return env
}

// SetLatency adds d before every response, the metadata endpoints'
// included (0 turns it off). A client that gives up earlier gets no
// response; aws-sdk-go-v2's IMDS client waits only 500ms for headers.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Call is one request as the emulator saw it. It never holds secrets.
type Call struct {
	Service   string // "sts", "ecr", "ecr-public", "oidc", "imds", "ecs-credentials" or "unknown"
	Operation string // e.g. "AssumeRoleWithWebIdentity", "GetAuthorizationToken", "IDToken", "JWKS", "GetToken", "GetCredentials"
	Region    string // from the SigV4 credential scope; "" for unsigned calls
	// AccessKeyID is the key of the SigV4 credential scope; for credential
	// fetches from imds and ecs-credentials, the key handed out; "" for
	// other unsigned calls.
	AccessKeyID string
	Status      int       // HTTP status sent; 0 when the connection was reset or abandoned
	ErrorCode   string    // AWS error code sent, or the fault applied; "" on success
	Start, End  time.Time // wall-clock (not Options.Now) arrival and completion
	// For STS AssumeRole calls: the session tags sent ("Key=Value", in
	// order) and the managed session policy ARNs (PolicyArns).
	Tags       []string
	PolicyARNs []string
	// STSParams are an STS call's parameters as sent (RoleArn,
	// RoleSessionName, DurationSeconds, Policy, PolicyArns.member.N.arn,
	// Tags.member.N.Key, SourceIdentity, ExternalId, ...), without the
	// web identity token, for comparing two clients' requests.
	STSParams map[string]string
}

// Connections is the number of connections the main listener (OIDC, STS,
// ECR) accepted so far.
func (s *Server) Connections() int { return int(s.conns.Load()) }

// Calls returns a copy of the request log, in completion order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Issued returns every secret handed out so far: the ID-token request token,
// minted JWTs, secret access keys (including ones added with AddAccessKey
// and those of instance and container credentials), session tokens, ECR
// passwords, ECR authorization tokens, IMDSv2 session tokens and container
// authorization tokens. Leak tests
// scan logs and outputs for these.
func (s *Server) Issued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

func (s *Server) addIssued(secrets ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issued = append(s.issued, secrets...)
}

// exchange is one request in flight: the handlers fill in the log fields.
type exchange struct {
	w    http.ResponseWriter
	r    *http.Request
	body []byte
	call Call
}

// SetDateHeader makes every answer carry the Date header f returns for
// the emulator's clock, e.g. a malformed one that a client's SDK logs a
// warning about; nil restores the clock in HTTP form.
func (s *Server) SetDateHeader(f func(now time.Time) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dateHeader = f
}

func (s *Server) date() string {
	s.mu.Lock()
	f := s.dateHeader
	s.mu.Unlock()
	if f != nil {
		return f(s.now())
	}
	return s.now().UTC().Format(http.TimeFormat)
}

// serveHTTP serves the API listener.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) { s.handle(w, r, false) }

// serveMetadataHTTP serves the metadata listener.
func (s *Server) serveMetadataHTTP(w http.ResponseWriter, r *http.Request) { s.handle(w, r, true) }

// handle logs, applies faults and latency, and dispatches one request.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, metadata bool) {
	ex := &exchange{w: w, r: r, call: Call{Start: time.Now(), Service: "unknown"}}
	defer func() {
		ex.call.End = time.Now()
		s.mu.Lock()
		s.calls = append(s.calls, ex.call)
		s.mu.Unlock()
		if s.opts.OnCall != nil {
			s.opts.OnCall(ex.call)
		}
	}()
	if !metadata {
		w.Header().Set("x-amzn-RequestId", randomUUID())
	}
	// The emulator's clock, like AWS's, so SDKs can correct clock skew.
	w.Header().Set("Date", s.date())

	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		ex.call.ErrorCode = "ReadError"
		return
	}
	ex.body = body

	var service, op string
	if metadata {
		service, op = routeMetadata(r)
	} else {
		service, op = s.route(r, body)
	}
	ex.call.Service, ex.call.Operation = service, op
	if s.applyFault(ex) {
		return
	}
	if !s.delay(r.Context()) {
		ex.call.ErrorCode = "ClientGaveUp"
		return
	}
	switch service {
	case "oidc":
		s.serveOIDC(ex)
	case "sts":
		s.serveSTS(ex)
	case "ecr", "ecr-public":
		s.serveECR(ex)
	case "imds":
		s.serveIMDS(ex)
	case "ecs-credentials":
		s.serveContainerCredentials(ex)
	default:
		if metadata {
			writeText(ex, http.StatusNotFound, "NotFound", "404 - Not Found\n")
			return
		}
		ex.call.Status = http.StatusNotFound
		http.Error(w, "awsfake: no emulated service answers "+r.Method+" "+r.URL.Path, http.StatusNotFound)
	}
}

// route decides the service and operation from the protocol markers.
func (s *Server) route(r *http.Request, body []byte) (service, op string) {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		prefix, name, _ := strings.Cut(target, ".")
		switch prefix {
		case ecrTargetPrefix:
			return "ecr", name
		case ecrPublicTargetPrefix:
			return "ecr-public", name
		}
		return "unknown", target
	}
	if r.Method == http.MethodGet {
		switch {
		case r.URL.Path == s.opts.IssuerPath+s.planPath:
			return "oidc", "IDToken"
		case r.URL.Path == s.opts.IssuerPath+"/.well-known/openid-configuration":
			return "oidc", "Discovery"
		case r.URL.Path == s.opts.IssuerPath+jwksPath:
			return "oidc", "JWKS"
		}
	}
	if action := queryAction(r, body); action != "" {
		return "sts", action
	}
	return "unknown", ""
}

// delay waits for the configured latency; false if the client gave up.
func (s *Server) delay(ctx context.Context) bool {
	s.mu.Lock()
	d := s.latency
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("awsfake: listen address %q: %w (want a loopback address like 127.0.0.1:0)", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return errors.New("awsfake: listen address " + addr + " is not a loopback address; use 127.0.0.1:PORT or [::1]:PORT")
	}
	return nil
}
