package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
)

// The emulated AWS account every contender logs in to.
const (
	account = "123456789012"
	roleARN = "arn:aws:iam::123456789012:role/bench-ecr"
	// homeRegion is the region of STS and of the single-registry login.
	homeRegion = "eu-west-1"
)

// regions are the regions of the fan-out registries, homeRegion first.
var regions = []string{
	"eu-west-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
	"eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1",
	"ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1",
	"ap-southeast-2", "ca-central-1", "sa-east-1", "me-south-1", "af-south-1",
}

// call is one request seen by the emulator or by a registry stub.
type call struct {
	Service    string // "oidc", "sts", "ecr", ..., or "registry"
	Start, End time.Time
}

// lab is the shared test bed: the AWS emulator (one transport, plain or
// TLS), one registry stub per region (always TLS, like ECR), a CA bundle
// trusting both, and the passwords ECR hands out.
type lab struct {
	fake *awsfake.Server
	dir  string // scratch directory of the lab
	// bundle is a PEM file holding the system's trusted roots (so loading
	// it costs what loading the real roots costs), the emulator's CA (with
	// TLS) and the registry stubs' CA; extraCAs holds only the last two.
	bundle    string
	extraCAs  string
	stubs     []*stub  // stubs[i] stands in for the registry of regions[i]
	hosts     []string // hosts[i] is that registry's host as clients see it
	passwords []string // passwords[i] is the ECR password of regions[i]
	// net is the connection-level model; nil: every answer is delayed.
	net *netModel
	// dockerShim, in the connection model, is the docker CLI for login
	// (dockershim/): never the daemon, which would look the names up for
	// real.
	dockerShim string
	latency    atomic.Int64
	ln         *launcher

	mu    sync.Mutex
	calls []call // registry stub calls
}

// newLab starts the emulator and n registry stubs (n <= len(regions));
// contenders start their processes through the launch helper launchBin.
// With connModel the lab is the connection-level model (see netmodel.go):
// real host names, our DNS, a latency proxy per host; it needs the
// benchmark's own mount namespace.
func newLab(useTLS bool, n int, launchBin string, connModel bool) (*lab, error) {
	if n < 1 || n > len(regions) {
		return nil, fmt.Errorf("lab: %d registries; want 1..%d", n, len(regions))
	}
	dir, err := os.MkdirTemp("", "ecr-bench-lab-")
	if err != nil {
		return nil, fmt.Errorf("lab: create scratch directory: %w", err)
	}
	l := &lab{dir: dir, ln: &launcher{bin: launchBin, dir: dir}}
	ok := false
	defer func() {
		if !ok {
			l.close()
		}
	}()

	var names []string
	if connModel {
		names = awsNames(n)
	}
	l.fake = awsfake.New(awsfake.Options{TLS: useTLS, DNSNames: names})
	if err := l.fake.AddRole(awsfake.Role{ARN: roleARN, Subjects: []string{"repo:octo-org/octo-repo:*"}, ECR: true, ECRPublic: true}); err != nil {
		return nil, fmt.Errorf("lab: add role: %w", err)
	}
	if err := l.fake.Start(); err != nil {
		return nil, fmt.Errorf("lab: start the AWS emulator: %w", err)
	}

	var regNames []string
	if connModel {
		for i := range n {
			regNames = append(regNames, ecrHost(regions[i]))
		}
	}
	caPEM, cert, err := newStubCert(regNames)
	if err != nil {
		return nil, fmt.Errorf("lab: make the registry stubs' certificate: %w", err)
	}
	extra := append([]byte(nil), caPEM...)
	if useTLS {
		extra = append(append(extra, '\n'), l.fake.CertPEM()...)
	}
	l.extraCAs = filepath.Join(dir, "extra-cas.pem")
	if err := os.WriteFile(l.extraCAs, extra, 0o644); err != nil {
		return nil, fmt.Errorf("lab: write CA file: %w", err)
	}
	system, err := systemRoots()
	if err != nil {
		return nil, err
	}
	l.bundle = filepath.Join(dir, "ca-bundle.pem")
	if err := os.WriteFile(l.bundle, append(append(system, '\n'), extra...), 0o644); err != nil {
		return nil, fmt.Errorf("lab: write CA bundle: %w", err)
	}

	for i := range n {
		pw, err := ecrLikePassword()
		if err != nil {
			return nil, err
		}
		st, err := startStub(l, cert, pw)
		if err != nil {
			return nil, err
		}
		l.stubs = append(l.stubs, st)
		l.passwords = append(l.passwords, pw)
		host := st.host
		if connModel {
			host = ecrHost(regions[i])
		}
		l.hosts = append(l.hosts, host)
		l.fake.MapRegistry(account, regions[i], "https://"+host)
		l.fake.SetRegistryPassword(account, regions[i], pw)
	}
	if connModel {
		if l.net, err = startNetModel(l, names); err != nil {
			return nil, err
		}
	}
	ok = true
	return l, nil
}

// setLatency sets the delay before every response of the emulator and the
// registry stubs.
func (l *lab) setLatency(d time.Duration) {
	if l.net != nil {
		l.net.rtt.Store(int64(d)) // the network, not the answers
		return
	}
	l.fake.SetLatency(d)
	l.latency.Store(int64(d))
}

func (l *lab) close() {
	l.net.close()
	for _, s := range l.stubs {
		s.close()
	}
	if l.fake != nil {
		l.fake.Close()
	}
	os.RemoveAll(l.dir)
}

// mark is a position in the call logs; since marks the calls after it.
type mark struct{ fake, stub int }

func (l *lab) mark() mark {
	l.mu.Lock()
	defer l.mu.Unlock()
	return mark{fake: len(l.fake.Calls()), stub: len(l.calls)}
}

// since returns every call made after m, sorted by start.
func (l *lab) since(m mark) []call {
	var out []call
	for _, c := range l.fake.Calls()[m.fake:] {
		out = append(out, call{Service: c.Service, Start: c.Start, End: c.End})
	}
	l.mu.Lock()
	out = append(out, l.calls[m.stub:]...)
	l.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

func (l *lab) record(c call) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
}

// secrets lists every secret handed out, for scrubbing quoted output.
func (l *lab) secrets() []string {
	var s []string
	if l.fake != nil {
		s = l.fake.Issued()
	}
	return append(s, l.passwords...)
}

// scrub blanks every secret of the lab in s (longest first).
func (l *lab) scrub(s string) string {
	secrets := l.secrets()
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, sec := range secrets {
		if len(sec) >= 6 {
			s = strings.ReplaceAll(s, sec, "***")
		}
	}
	return s
}

// systemRoots reads the distribution's bundle of trusted roots.
func systemRoots() ([]byte, error) {
	for _, p := range []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"} {
		if b, err := os.ReadFile(p); err == nil && len(b) > 0 {
			return b, nil
		}
	}
	return nil, errors.New("lab: no system CA bundle found (install Debian's ca-certificates package)")
}

// ecrLikePassword makes a password shaped like ECR's: a long base64 blob.
func ecrLikePassword() (string, error) {
	b := make([]byte, 1200)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("lab: random password: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// stub is the part of a registry a login touches: GET /v2/ answering 401
// with a Basic challenge, and 200 to the right AWS:<password>. It adds the
// lab's latency before every answer, like the emulator.
type stub struct {
	host string // 127.0.0.1:port
	srv  *http.Server
}

func startStub(l *lab, cert tls.Certificate, password string) (*stub, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lab: listen for a registry stub: %w", err)
	}
	s := &stub{host: ln.Addr().String()}
	s.srv = &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := call{Service: "registry", Start: time.Now()}
			defer func() { c.End = time.Now(); l.record(c) }()
			if d := time.Duration(l.latency.Load()); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-r.Context().Done():
					t.Stop()
					return
				}
			}
			w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
			if r.URL.Path != "/v2/" && r.URL.Path != "/v2" {
				http.NotFound(w, r)
				return
			}
			user, pw, ok := r.BasicAuth()
			if !ok || user != "AWS" || pw != password {
				w.Header().Set("WWW-Authenticate", `Basic realm="bench-registry"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte("{}"))
		}),
	}
	go s.srv.ServeTLS(ln, "", "") //nolint:errcheck // returns on close
	return s, nil
}

func (s *stub) close() { _ = s.srv.Close() }

// newStubCert makes a throw-away CA and a certificate for 127.0.0.1 and
// names signed by it; it returns the CA's PEM and the server certificate.
func newStubCert(names []string) ([]byte, tls.Certificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ecr-credentials bench registry CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     names,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return caPEM, tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key}, nil
}

// awsEnv is the emulator's environment for a contender: endpoint
// overrides to its address in the per-answer model; in the connection
// model none (the contenders find AWS by its real names, through our DNS)
// and the token request URL under GitHub's name. AWS_CA_BUNDLE is left
// out: no real runner sets it (SSL_CERT_FILE carries the CAs).
func (l *lab) awsEnv() map[string]string {
	env := l.fake.Env()
	delete(env, "AWS_CA_BUNDLE")
	if l.net != nil {
		for k := range env {
			if strings.HasPrefix(k, "AWS_ENDPOINT_URL") {
				delete(env, k)
			}
		}
		env["ACTIONS_ID_TOKEN_REQUEST_URL"] = l.tokenURL()
	}
	return env
}

// tokenURL is the runner's ID token request URL.
func (l *lab) tokenURL() string {
	u := l.fake.IDTokenRequestURL()
	if l.net == nil {
		return u
	}
	return "https://" + oidcHost + strings.TrimPrefix(u, l.fake.URL())
}

// endpointArgs are the AWS CLI's --endpoint-url arguments (none in the
// connection model).
func (l *lab) endpointArgs() []string {
	if l.net != nil {
		return nil
	}
	return []string{"--endpoint-url", l.fake.URL()}
}

// endpointEnv sets AWS_ENDPOINT_URL_<service> for the JavaScript actions
// (nothing in the connection model).
func (l *lab) endpointEnv(env map[string]string, services ...string) {
	if l.net != nil {
		return
	}
	for _, s := range services {
		env["AWS_ENDPOINT_URL_"+s] = l.fake.URL()
	}
}

// ideal is the wall time no client can beat at latency d: in the
// per-answer model one latency per request (OIDC, STS, ECR, and the
// registry when checked); in the connection model the OIDC host's DNS,
// TCP, TLS and request (4 round trips), then STS and ECR one each (their
// set-up overlapped with the token request), and one per registry check.
func (l *lab) ideal(checksRegistry bool, d time.Duration) time.Duration {
	n := roundTrips(checksRegistry)
	if l.net != nil {
		n += 3
	}
	return time.Duration(n) * d
}

// dockerCLI is the docker command contenders log in with.
func (l *lab) dockerCLI(t tools) string {
	if l.net != nil {
		return l.dockerShim
	}
	return t.Docker
}
