package awsfake

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// setEnv applies environment maps in order (later ones win) for the test.
func setEnv(t *testing.T, envs ...map[string]string) {
	t.Helper()
	for _, env := range envs {
		for k, v := range env {
			t.Setenv(k, v)
		}
	}
}

// imdsEnvFor is the environment of a client that takes credentials and
// region from the emulated instance: Env, then IMDSEnv. It fails the test
// if IMDSEnv would leave IMDS disabled or pointed anywhere but the
// emulator's loopback listener.
func imdsEnvFor(t *testing.T, s *Server) map[string]string {
	t.Helper()
	env := s.Env()
	imdsEnv := s.IMDSEnv()
	if imdsEnv["AWS_EC2_METADATA_SERVICE_ENDPOINT"] != s.IMDSEndpoint() || !strings.HasPrefix(s.IMDSEndpoint(), "http://127.0.0.1:") {
		t.Fatalf("IMDSEnv() = %v, want the emulator's loopback endpoint %q", imdsEnv, s.IMDSEndpoint())
	}
	for k, v := range imdsEnv {
		env[k] = v
	}
	if env["AWS_EC2_METADATA_DISABLED"] != "false" {
		t.Fatalf("IMDSEnv() does not turn IMDS on: %v", imdsEnv)
	}
	return env
}

// statusOf returns the HTTP status an SDK error carries, or 0.
func statusOf(err error) int {
	var st interface{ HTTPStatusCode() int }
	if errors.As(err, &st) {
		return st.HTTPStatusCode()
	}
	return 0
}

// TestIMDSCredentialsDriveSDK: with only Env and IMDSEnv, the SDK's default
// chain finds the instance region and credentials in IMDSv2 (plain HTTP)
// and uses them against ECR and STS (HTTPS with the emulator's CA).
func TestIMDSCredentialsDriveSDK(t *testing.T) {
	s := startServer(t, Options{TLS: true})
	mustAddRole(t, s, Role{ARN: testRoleARN, ECR: true})
	if s.IMDSEnv() != nil {
		t.Fatalf("IMDSEnv() = %v before SetInstanceRole, want nil", s.IMDSEnv())
	}
	if err := s.SetInstanceRole(testRoleARN, "eu-west-1"); err != nil {
		t.Fatal(err)
	}
	s.SetRegistryPassword(testAccount, "eu-west-1", "imds-registry-pw")
	setEnv(t, imdsEnvFor(t, s))
	ctx := context.Background()

	cfg, err := config.LoadDefaultConfig(ctx, config.WithEC2IMDSRegion())
	if err != nil {
		t.Fatalf("LoadDefaultConfig: %v", err)
	}
	if cfg.Region != "eu-west-1" {
		t.Errorf("region %q from IMDS, want eu-west-1", cfg.Region)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatalf("retrieve credentials from IMDS: %v", err)
	}
	if creds.Source != ec2rolecreds.ProviderName || !strings.HasPrefix(creds.AccessKeyID, "ASIA") || creds.SessionToken == "" {
		t.Errorf("credentials from %q with key %q, want temporary EC2 role credentials", creds.Source, creds.AccessKeyID)
	}
	out, err := ecr.NewFromConfig(cfg).GetAuthorizationToken(ctx, nil)
	if err != nil {
		t.Fatalf("ECR with instance credentials: %v", err)
	}
	if _, pw := decodeAuthToken(t, *out.AuthorizationData[0].AuthorizationToken); pw != "imds-registry-pw" {
		t.Errorf("ECR returned a %d-char password, want the one set for the instance's account and region", len(pw))
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, nil)
	if err != nil {
		t.Fatalf("STS with instance credentials: %v", err)
	}
	if !regexp.MustCompile(`^arn:aws:sts::123456789012:assumed-role/ci-ecr/i-[0-9a-f]{17}$`).MatchString(*id.Arn) || *id.Account != testAccount {
		t.Errorf("GetCallerIdentity = %s in %s, want the role session named after the instance", *id.Arn, *id.Account)
	}

	imdsOps := map[string]bool{}
	var handedOut string
	for _, c := range s.Calls() {
		switch c.Service {
		case "imds":
			imdsOps[c.Operation] = true
			if c.Status != http.StatusOK {
				t.Errorf("IMDS %s answered %d (%s)", c.Operation, c.Status, c.ErrorCode)
			}
			if c.Operation == "GetCredentials" {
				handedOut = c.AccessKeyID
			}
		case "ecr", "sts":
			if c.AccessKeyID != creds.AccessKeyID || c.Region != "eu-west-1" || c.Status != http.StatusOK {
				t.Errorf("%s call %+v, want key %s in eu-west-1", c.Service, c, creds.AccessKeyID)
			}
		default:
			t.Errorf("unexpected call %+v", c)
		}
	}
	for _, op := range []string{"GetToken", "GetInstanceIdentityDocument", "GetRoleName", "GetCredentials"} {
		if !imdsOps[op] {
			t.Errorf("no IMDS %s call; calls: %v", op, imdsOps)
		}
	}
	if handedOut != creds.AccessKeyID {
		t.Errorf("IMDS logged key %q handed out, SDK uses %q", handedOut, creds.AccessKeyID)
	}
	issued := strings.Join(s.Issued(), "\n")
	if !strings.Contains(issued, creds.SecretAccessKey) || !strings.Contains(issued, creds.SessionToken) {
		t.Error("Issued() lacks the instance credentials")
	}
}

// TestIMDSInstanceVariants: the region always comes from IMDS; what the
// credentials may do depends on the instance profile.
func TestIMDSInstanceVariants(t *testing.T) {
	const noECRRole = "arn:aws:iam::210987654321:role/no-ecr"
	cases := []struct {
		name          string
		role          string
		region        string
		wantCredsHTTP int    // status of the failed credential fetch; 0: credentials load
		wantECRCode   string // "" : ECR succeeds
		wantAccount   string
	}{
		{name: "role with ECR", role: testRoleARN, region: "us-west-2", wantAccount: testAccount},
		{name: "role without ECR", role: noECRRole, region: "ap-southeast-2", wantECRCode: "AccessDeniedException", wantAccount: "210987654321"},
		{name: "no instance profile", region: "sa-east-1", wantCredsHTTP: http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, Options{})
			mustAddRole(t, s, Role{ARN: testRoleARN, ECR: true})
			mustAddRole(t, s, Role{ARN: noECRRole})
			if err := s.SetInstanceRole(tc.role, tc.region); err != nil {
				t.Fatal(err)
			}
			setEnv(t, imdsEnvFor(t, s))
			ctx := context.Background()
			cfg, err := config.LoadDefaultConfig(ctx, config.WithEC2IMDSRegion())
			if err != nil {
				t.Fatalf("LoadDefaultConfig: %v", err)
			}
			if cfg.Region != tc.region {
				t.Errorf("region %q, want %q from IMDS", cfg.Region, tc.region)
			}
			_, err = cfg.Credentials.Retrieve(ctx)
			if tc.wantCredsHTTP != 0 {
				if err == nil || statusOf(err) != tc.wantCredsHTTP {
					t.Fatalf("credentials: err %v (HTTP %d), want HTTP %d", err, statusOf(err), tc.wantCredsHTTP)
				}
				assertNoSecrets(t, s, "credential error", err.Error())
				return
			}
			if err != nil {
				t.Fatalf("credentials: %v", err)
			}
			id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, nil)
			if err != nil || *id.Account != tc.wantAccount {
				t.Fatalf("GetCallerIdentity: %v (account %v), want account %s", err, id, tc.wantAccount)
			}
			_, err = ecr.NewFromConfig(cfg).GetAuthorizationToken(ctx, nil)
			if tc.wantECRCode == "" {
				if err != nil {
					t.Fatalf("ECR: %v", err)
				}
				return
			}
			wantAPIError(t, err, tc.wantECRCode, http.StatusBadRequest)
		})
	}
}

// imdsDo sends one raw request to the metadata listener.
func imdsDo(t *testing.T, s *Server, method, path string, header map[string]string) (status int, body string, h http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, strings.TrimSuffix(s.MetadataURL(), "/")+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func imdsToken(t *testing.T, s *Server, ttl string) string {
	t.Helper()
	status, tok, _ := imdsDo(t, s, http.MethodPut, "/latest/api/token", map[string]string{imdsTTLHeader: ttl})
	if status != http.StatusOK || tok == "" {
		t.Fatalf("PUT token: HTTP %d", status)
	}
	return tok
}

// TestIMDSProtocol checks the IMDSv2 rules request by request: token TTLs,
// 401 without a valid token, 404 for what the instance does not have.
func TestIMDSProtocol(t *testing.T) {
	clock := &fakeClock{}
	s := startServer(t, Options{Now: clock.Now})
	mustAddRole(t, s, Role{ARN: testRoleARN, ECR: true})
	if err := s.SetInstanceRole(testRoleARN, "eu-north-1"); err != nil {
		t.Fatal(err)
	}
	valid := imdsToken(t, s, "21600")
	short := imdsToken(t, s, "1")
	withTok := func(tok string) map[string]string { return map[string]string{imdsTokenHeader: tok} }
	ttl := func(v string) map[string]string { return map[string]string{imdsTTLHeader: v} }

	cases := []struct {
		name         string
		imdsV1       bool
		advance      time.Duration
		method, path string
		header       map[string]string
		wantStatus   int
		wantBody     string // exact, or a regexp when it starts with ^
		wantTTL      string // X-Aws-Ec2-Metadata-Token-Ttl-Seconds, when set
	}{
		{name: "token", method: "PUT", path: "/latest/api/token", header: ttl("21600"), wantStatus: 200, wantBody: `^AQAE[A-Za-z0-9+/=]{52}$`, wantTTL: "21600"},
		{name: "token ttl 1", method: "PUT", path: "/latest/api/token", header: ttl("1"), wantStatus: 200, wantTTL: "1"},
		{name: "token ttl 0", method: "PUT", path: "/latest/api/token", header: ttl("0"), wantStatus: 400},
		{name: "token ttl above 6h", method: "PUT", path: "/latest/api/token", header: ttl("21601"), wantStatus: 400},
		{name: "token ttl not a number", method: "PUT", path: "/latest/api/token", header: ttl("1h"), wantStatus: 400},
		{name: "token without ttl", method: "PUT", path: "/latest/api/token", wantStatus: 400},
		{name: "token through a proxy", method: "PUT", path: "/latest/api/token", header: map[string]string{imdsTTLHeader: "60", "X-Forwarded-For": "10.0.0.1"}, wantStatus: 403},
		{name: "token with GET", method: "GET", path: "/latest/api/token", header: ttl("60"), wantStatus: 405},
		{name: "region", method: "GET", path: "/latest/meta-data/placement/region", header: withTok(valid), wantStatus: 200, wantBody: "eu-north-1", wantTTL: "^2159[0-9]$"},
		{name: "availability zone with slash", method: "GET", path: "/latest/meta-data/placement/availability-zone/", header: withTok(valid), wantStatus: 200, wantBody: "eu-north-1a"},
		{name: "instance id", method: "GET", path: "/latest/meta-data/instance-id", header: withTok(valid), wantStatus: 200, wantBody: `^i-[0-9a-f]{17}$`},
		{name: "role list", method: "GET", path: "/latest/meta-data/iam/security-credentials/", header: withTok(valid), wantStatus: 200, wantBody: "ci-ecr"},
		{name: "role list without slash", method: "GET", path: "/latest/meta-data/iam/security-credentials", header: withTok(valid), wantStatus: 200, wantBody: "ci-ecr"},
		{name: "credentials of another role", method: "GET", path: "/latest/meta-data/iam/security-credentials/admin", header: withTok(valid), wantStatus: 404},
		{name: "iam info", method: "GET", path: "/latest/meta-data/iam/info", header: withTok(valid), wantStatus: 200, wantBody: `^(?s)\{.*"InstanceProfileArn": "arn:aws:iam::123456789012:instance-profile/ci-ecr".*\}$`},
		{name: "identity document", method: "GET", path: "/latest/dynamic/instance-identity/document", header: withTok(valid), wantStatus: 200, wantBody: `^(?s)\{.*"accountId": "123456789012".*"region": "eu-north-1".*\}$`},
		{name: "unknown path", method: "GET", path: "/latest/meta-data/no-such-thing", header: withTok(valid), wantStatus: 404},
		{name: "not IMDS at all", method: "GET", path: "/computeMetadata/v1/instance", header: withTok(valid), wantStatus: 404},
		{name: "POST", method: "POST", path: "/latest/meta-data/placement/region", header: withTok(valid), wantStatus: 405},
		{name: "no token", method: "GET", path: "/latest/meta-data/placement/region", wantStatus: 401},
		{name: "bogus token", method: "GET", path: "/latest/meta-data/placement/region", header: withTok("AQAEnot-a-token"), wantStatus: 401},
		{name: "IMDSv1 allowed: no token", imdsV1: true, method: "GET", path: "/latest/meta-data/placement/region", wantStatus: 200, wantBody: "eu-north-1"},
		{name: "IMDSv1 allowed: bogus token", imdsV1: true, method: "GET", path: "/latest/meta-data/placement/region", header: withTok("AQAEnot-a-token"), wantStatus: 401},
		{name: "expired token", advance: 2 * time.Second, method: "GET", path: "/latest/meta-data/placement/region", header: withTok(short), wantStatus: 401},
		{name: "long token still valid", method: "GET", path: "/latest/meta-data/placement/region", header: withTok(valid), wantStatus: 200, wantBody: "eu-north-1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.SetIMDSv1(tc.imdsV1)
			clock.Advance(tc.advance)
			status, body, h := imdsDo(t, s, tc.method, tc.path, tc.header)
			if status != tc.wantStatus {
				t.Fatalf("HTTP %d, want %d; body %q", status, tc.wantStatus, body)
			}
			if ct := h.Get("Content-Type"); ct != "text/plain" {
				t.Errorf("Content-Type %q, want text/plain", ct)
			}
			if tc.wantBody != "" && !matches(tc.wantBody, body) {
				t.Errorf("body %q, want %q", body, tc.wantBody)
			}
			if tc.wantTTL != "" && !matches(tc.wantTTL, h.Get(imdsTTLHeader)) {
				t.Errorf("TTL header %q, want %q", h.Get(imdsTTLHeader), tc.wantTTL)
			}
			last := s.Calls()[len(s.Calls())-1]
			if last.Status != tc.wantStatus || (tc.wantStatus != 200) != (last.ErrorCode != "") {
				t.Errorf("logged %+v for HTTP %d", last, tc.wantStatus)
			}
		})
	}
	unknown := 0
	for _, c := range s.Calls() {
		if c.Service == "unknown" {
			unknown++
		} else if c.Service != "imds" {
			t.Errorf("call %+v logged as %s, want imds", c, c.Service)
		}
	}
	if unknown != 1 {
		t.Errorf("%d calls logged as unknown, want 1 (the non-IMDS path)", unknown)
	}
}

func matches(want, got string) bool {
	if strings.HasPrefix(want, "^") {
		return regexp.MustCompile(want).MatchString(got)
	}
	return want == got
}

// imdsCredentials is the JSON document IMDS serves for a role.
type imdsCredentials struct {
	Code, LastUpdated, Type, AccessKeyId, SecretAccessKey, Token, Expiration string
}

func getIMDSCredentials(t *testing.T, s *Server, tok, role string) imdsCredentials {
	t.Helper()
	status, body, _ := imdsDo(t, s, http.MethodGet, "/latest/meta-data/iam/security-credentials/"+role, map[string]string{imdsTokenHeader: tok})
	if status != http.StatusOK {
		t.Fatalf("credentials for %s: HTTP %d", role, status)
	}
	var c imdsCredentials
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatalf("credentials are not JSON: %v", err)
	}
	return c
}

// TestIMDSCredentialRotation: credentials last 6 hours and are replaced
// once less than an hour is left; a new instance role takes over at once.
func TestIMDSCredentialRotation(t *testing.T) {
	clock := &fakeClock{}
	s := startServer(t, Options{Now: clock.Now})
	const otherRole = "arn:aws:iam::123456789012:role/other"
	mustAddRole(t, s, Role{ARN: testRoleARN, ECR: true})
	mustAddRole(t, s, Role{ARN: otherRole})
	if err := s.SetInstanceRole(testRoleARN, "us-east-1"); err != nil {
		t.Fatal(err)
	}
	tok := imdsToken(t, s, "21600")

	first := getIMDSCredentials(t, s, tok, "ci-ecr")
	if first.Code != "Success" || first.Type != "AWS-HMAC" || !strings.HasPrefix(first.AccessKeyId, "ASIA") || len(first.SecretAccessKey) != 40 || first.Token == "" {
		t.Fatalf("credential document %+v is not shaped like IMDS's", first.Code+" "+first.Type+" "+first.AccessKeyId)
	}
	exp, err := time.Parse(time.RFC3339, first.Expiration)
	if err != nil {
		t.Fatalf("Expiration %q: %v", first.Expiration, err)
	}
	if d := exp.Sub(clock.Now()); d < 6*time.Hour-5*time.Second || d > 6*time.Hour+time.Second {
		t.Errorf("credentials expire in %v, want 6h", d)
	}
	if _, err := time.Parse(time.RFC3339, first.LastUpdated); err != nil {
		t.Errorf("LastUpdated %q: %v", first.LastUpdated, err)
	}

	steps := []struct {
		advance time.Duration
		role    string
		setRole string
		wantNew bool
	}{
		{advance: time.Minute, role: "ci-ecr", wantNew: false},
		{advance: 4*time.Hour + 50*time.Minute, role: "ci-ecr", wantNew: false}, // 1h09m left
		{advance: 10 * time.Minute, role: "ci-ecr", wantNew: true},              // 59m left: rotated
		{advance: time.Minute, role: "other", setRole: otherRole, wantNew: true},
	}
	prev := first
	for i, st := range steps {
		clock.Advance(st.advance)
		if st.setRole != "" {
			if err := s.SetInstanceRole(st.setRole, "us-east-1"); err != nil {
				t.Fatal(err)
			}
		}
		got := getIMDSCredentials(t, s, tok, st.role)
		if isNew := got.AccessKeyId != prev.AccessKeyId; isNew != st.wantNew {
			t.Errorf("step %d: new credentials %v, want %v", i, isNew, st.wantNew)
		}
		prev = got
	}
	if status, _, _ := imdsDo(t, s, http.MethodGet, "/latest/meta-data/iam/security-credentials/ci-ecr", map[string]string{imdsTokenHeader: tok}); status != http.StatusNotFound {
		t.Errorf("credentials of the replaced role: HTTP %d, want 404", status)
	}
}

func TestSetInstanceRoleValidation(t *testing.T) {
	s := New(Options{})
	mustAddRole(t, s, Role{ARN: testRoleARN})
	cases := []struct {
		role, region string
		wantErr      string
	}{
		{testRoleARN, "eu-west-1", ""},
		{"", "eu-west-1", ""},
		{testRoleARN, "", "region"},
		{testRoleARN, "Europe", "region"},
		{"arn:aws:iam::123:role/x", "eu-west-1", "not of the form"},
		{"arn:aws:iam::123456789012:role/undefined", "eu-west-1", "AddRole first"},
	}
	for _, tc := range cases {
		err := s.SetInstanceRole(tc.role, tc.region)
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("SetInstanceRole(%q, %q) = %v, want error containing %q", tc.role, tc.region, err, tc.wantErr)
		}
	}
}

// TestIMDSFaultsAndNoInstance: faults reach the metadata endpoints in
// plain text, and a server without an instance answers 404.
func TestIMDSFaultsAndNoInstance(t *testing.T) {
	s := startServer(t, Options{})
	if status, _, _ := imdsDo(t, s, http.MethodPut, "/latest/api/token", map[string]string{imdsTTLHeader: "60"}); status != http.StatusNotFound {
		t.Errorf("IMDS without an instance: HTTP %d, want 404", status)
	}
	if err := s.SetInstanceRole("", "us-east-1"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		kind       FaultKind
		wantStatus int
	}{
		{FaultUnavailable, 503},
		{FaultInternalError, 500},
		{FaultThrottle, 429},
	}
	for _, tc := range cases {
		s.Inject(Fault{Service: "imds", Kind: tc.kind})
		status, _, h := imdsDo(t, s, http.MethodPut, "/latest/api/token", map[string]string{imdsTTLHeader: "60"})
		if status != tc.wantStatus || h.Get("Content-Type") != "text/plain" {
			t.Errorf("%v: HTTP %d (%s), want %d in text/plain", tc.kind, status, h.Get("Content-Type"), tc.wantStatus)
		}
		if status, _, _ := imdsDo(t, s, http.MethodPut, "/latest/api/token", map[string]string{imdsTTLHeader: "60"}); status != http.StatusOK {
			t.Errorf("%v: the fault outlived its count (HTTP %d)", tc.kind, status)
		}
	}

	// The SDK's IMDS client sees the same: a 503 on every attempt fails
	// GetRegion with that status.
	s.Inject(Fault{Service: "imds", Kind: FaultUnavailable, Count: 100})
	client := imds.New(imds.Options{Endpoint: s.IMDSEndpoint(), ClientEnableState: imds.ClientEnabled, Retryer: aws.NopRetryer{}})
	_, err := client.GetRegion(context.Background(), nil)
	if err == nil || statusOf(err) != http.StatusServiceUnavailable {
		t.Errorf("GetRegion under faults: %v (HTTP %d), want HTTP 503", err, statusOf(err))
	}
}
