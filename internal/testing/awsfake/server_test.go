package awsfake

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
)

// TestEnvDrivesSDKDefaultChainOverTLS uses only the environment from Env()
// plus the standard web-identity variables: the SDK's default credential
// chain reads the token file, calls STS and then ECR, all over HTTPS with
// the emulator's CA from AWS_CA_BUNDLE.
func TestEnvDrivesSDKDefaultChainOverTLS(t *testing.T) {
	s := startServer(t, Options{TLS: true})
	mustAddRole(t, s, Role{ARN: testRoleARN, Subjects: []string{"repo:octo-org/octo-repo:*"}, ECR: true, ECRPublic: true})
	s.MapRegistry(testAccount, "us-east-1", "https://127.0.0.1:5000")
	s.SetRegistryPassword(testAccount, "us-east-1", "registry-pw")

	env := s.Env()
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_CA_BUNDLE", "SSL_CERT_FILE", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "AWS_EC2_METADATA_DISABLED"} {
		if env[k] == "" {
			t.Fatalf("Env() lacks %s", k)
		}
	}
	if pem, err := os.ReadFile(env["AWS_CA_BUNDLE"]); err != nil || string(pem) != string(s.CertPEM()) {
		t.Fatalf("AWS_CA_BUNDLE file does not hold CertPEM(): %v", err)
	}
	envText, _ := json.Marshal(env)
	for _, secret := range s.Issued() {
		if secret != s.IDTokenRequestToken() && strings.Contains(string(envText), secret) {
			t.Fatal("Env() holds an issued secret other than the test request token")
		}
	}

	// Fetch the ID token over TLS like the action does (trusting the CA).
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CertPEM()) {
		t.Fatal("CertPEM() is not a PEM certificate")
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest(http.MethodGet, env["ACTIONS_ID_TOKEN_REQUEST_URL"]+"&audience=sts.amazonaws.com", nil)
	req.Header.Set("Authorization", "Bearer "+env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"])
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("ID token over TLS: %v", err)
	}
	var idt struct{ Value string }
	json.NewDecoder(resp.Body).Decode(&idt)
	resp.Body.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(idt.Value), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL_ECR_PUBLIC",
		"AWS_CA_BUNDLE", "AWS_EC2_METADATA_DISABLED", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
		if env[k] == "" {
			t.Fatalf("Env() lacks %s", k)
		}
		t.Setenv(k, env[k])
	}
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ROLE_ARN", testRoleARN)
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tokenFile)
	t.Setenv("AWS_ROLE_SESSION_NAME", "default-chain")
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatalf("LoadDefaultConfig: %v", err)
	}
	out, err := ecr.NewFromConfig(cfg).GetAuthorizationToken(context.Background(), nil)
	if err != nil {
		t.Fatalf("ECR via default chain over TLS: %v", err)
	}
	if _, pw := decodeAuthToken(t, *out.AuthorizationData[0].AuthorizationToken); pw != "registry-pw" || *out.AuthorizationData[0].ProxyEndpoint != "https://127.0.0.1:5000" {
		t.Errorf("got proxyEndpoint %s and a password of %d chars", *out.AuthorizationData[0].ProxyEndpoint, len(pw))
	}
	if _, err := ecrpublic.NewFromConfig(cfg).GetAuthorizationToken(context.Background(), nil); err != nil {
		t.Fatalf("ECR Public via default chain over TLS: %v", err)
	}
	var ops []string
	for _, c := range s.Calls() {
		ops = append(ops, c.Service+":"+c.Operation)
	}
	want := "oidc:IDToken sts:AssumeRoleWithWebIdentity ecr:GetAuthorizationToken ecr-public:GetAuthorizationToken"
	if got := strings.Join(ops, " "); got != want {
		t.Errorf("calls %q, want %q", got, want)
	}
}

func TestListenAddressMustBeLoopback(t *testing.T) {
	cases := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:0", true},
		{"127.0.0.2:0", true},
		{"localhost:0", true},
		{"0.0.0.0:0", false},
		{":0", false},
		{"10.1.2.3:8080", false},
		{"192.168.1.5:0", false},
		{"example.com:80", false},
		{"127.0.0.1", false},
	}
	s := New(Options{})
	for _, tc := range cases {
		s.opts.Addr = tc.addr
		err := s.Start()
		if err == nil {
			s.ln.Close()
			s.metaLn.Close()
			os.RemoveAll(s.tmpDir)
		}
		if (err == nil) != tc.ok {
			t.Errorf("Start with Addr %q: err %v, want ok=%v", tc.addr, err, tc.ok)
		}
	}
	s.Close()
}

func TestMetadataListenAddressMustBeLoopback(t *testing.T) {
	cases := []struct {
		addr, metaAddr string
		ok             bool
		wantMetaHost   string
	}{
		{"127.0.0.1:0", "", true, "127.0.0.1"},
		{"127.0.0.2:0", "", true, "127.0.0.2"}, // default: the API listener's host
		{"127.0.0.1:0", "127.0.0.3:0", true, "127.0.0.3"},
		{"127.0.0.1:0", "0.0.0.0:0", false, ""},
		{"127.0.0.1:0", "10.1.2.3:80", false, ""},
		{"127.0.0.1:0", "127.0.0.1", false, ""},
	}
	for _, tc := range cases {
		s := New(Options{Addr: tc.addr, MetadataAddr: tc.metaAddr})
		err := s.Start()
		if (err == nil) != tc.ok {
			t.Errorf("Start with MetadataAddr %q: err %v, want ok=%v", tc.metaAddr, err, tc.ok)
		}
		if err == nil && !strings.HasPrefix(s.MetadataURL(), "http://"+tc.wantMetaHost+":") {
			t.Errorf("MetadataURL %q, want plain HTTP on %s", s.MetadataURL(), tc.wantMetaHost)
		}
		s.Close()
	}
}

func TestCloseReleasesHangsAndRemovesFiles(t *testing.T) {
	s := New(Options{TLS: true})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	ca := s.CAFile()
	if _, err := os.Stat(ca); err != nil {
		t.Fatalf("CA file: %v", err)
	}
	s.Inject(Fault{Kind: FaultHang})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CertPEM())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	done := make(chan error, 1)
	go func() {
		resp, err := hc.Get(s.IssuerURL() + "/.well-known/jwks")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for len(s.faultQueue()) > 0 { // wait until the request holds the fault
		time.Sleep(5 * time.Millisecond)
	}
	s.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a hanging request outlived Close")
	}
	if _, err := os.Stat(ca); !os.IsNotExist(err) {
		t.Errorf("CA file still there after Close: %v", err)
	}
}

func (s *Server) faultQueue() []*Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Fault(nil), s.faults...)
}

// TestCallsShowConcurrency: with latency, parallel clients are served in
// parallel, and the log's start/end times show the overlap.
func TestCallsShowConcurrency(t *testing.T) {
	s := startServer(t, Options{})
	user, _ := s.AddAccessKey(AccessKey{UserARN: testUserARN, ECR: true})
	s.SetLatency(200 * time.Millisecond)
	client := ecrClient(t, s, "us-east-1", staticCreds(user.ID, user.Secret, ""))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := client.GetAuthorizationToken(context.Background(), nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	calls := s.Calls()
	if len(calls) != 4 {
		t.Fatalf("%d calls logged, want 4", len(calls))
	}
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, c := range calls {
		edges = append(edges, edge{c.Start, 1}, edge{c.End, -1})
	}
	sort.Slice(edges, func(i, j int) bool { return edges[i].at.Before(edges[j].at) })
	inFlight, most := 0, 0
	for _, e := range edges {
		inFlight += e.delta
		most = max(most, inFlight)
	}
	if most < 2 {
		t.Errorf("at most %d call in flight at once; the emulator serialised parallel clients", most)
	}
}

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"repo:octo-org/octo-repo:ref:refs/heads/main", "repo:octo-org/octo-repo:ref:refs/heads/main", true},
		{"repo:octo-org/*", "repo:octo-org/octo-repo:ref:refs/heads/main", true},
		{"repo:octo-org/*:ref:refs/heads/main", "repo:octo-org/a:ref:refs/heads/main", true},
		{"repo:octo-org/*:ref:refs/heads/main", "repo:octo-org/a:ref:refs/heads/dev", false},
		{"repo:octo-org/octo-rep?:*", "repo:octo-org/octo-repo:pull_request", true},
		{"repo:octo-org/octo-rep?:*", "repo:octo-org/octo-rep:pull_request", false},
		{"*", "", true},
		{"", "x", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"repo:octo-org/octo-repo", "repo:octo-org/octo-repo:ref:x", false},
	}
	for _, tc := range cases {
		if got := globMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestAddRoleAndKeyValidation(t *testing.T) {
	s := New(Options{})
	bad := []Role{
		{ARN: "arn:aws:iam::123:role/short-account"},
		{ARN: "arn:aws:iam::123456789012:user/not-a-role"},
		{ARN: testRoleARN, MaxSessionDuration: 13 * time.Hour},
		{ARN: testRoleARN, MaxSessionDuration: 30 * time.Minute},
	}
	for _, r := range bad {
		if err := s.AddRole(r); err == nil {
			t.Errorf("AddRole(%+v) accepted", r)
		}
	}
	if err := s.AddRole(Role{ARN: "arn:aws-cn:iam::123456789012:role/path/to/name", MaxSessionDuration: 12 * time.Hour}); err != nil {
		t.Errorf("AddRole with a path and aws-cn partition: %v", err)
	}
	if _, err := s.AddAccessKey(AccessKey{UserARN: testRoleARN}); err == nil {
		t.Error("AddAccessKey with a role ARN accepted")
	}
	k, err := s.AddAccessKey(AccessKey{UserARN: testUserARN})
	if err != nil || len(k.ID) != 20 || k.ID[:4] != "AKIA" || len(k.Secret) != 40 {
		t.Errorf("AddAccessKey generated %q / %d-char secret, %v", k.ID, len(k.Secret), err)
	}
}

// TestSetDateHeader: answers carry the Date header the test chose, and the
// clock in HTTP form again after SetDateHeader(nil).
func TestSetDateHeader(t *testing.T) {
	s := startServer(t, Options{})
	get := func() string {
		t.Helper()
		resp, err := http.Get(s.URL() + "/no-such-path")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("Date")
	}
	s.SetDateHeader(func(time.Time) string { return "##[warning]x" })
	if got := get(); got != "##[warning]x" {
		t.Errorf("Date = %q, want the one set", got)
	}
	s.SetDateHeader(nil)
	if _, err := http.ParseTime(get()); err != nil {
		t.Errorf("after SetDateHeader(nil) the Date header is not an HTTP date: %v", err)
	}
}
