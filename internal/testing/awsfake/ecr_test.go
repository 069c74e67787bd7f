package awsfake

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	ecrpublictypes "github.com/aws/aws-sdk-go-v2/service/ecrpublic/types"
)

// decodeAuthToken splits base64("AWS:"+password).
func decodeAuthToken(t *testing.T, token string) (user, password string) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		t.Fatalf("authorizationToken is not base64: %v", err)
	}
	user, password, ok := strings.Cut(string(raw), ":")
	if !ok {
		t.Fatal("authorizationToken does not decode to user:password")
	}
	return user, password
}

func TestWebIdentityToECRToken(t *testing.T) {
	clock := &fakeClock{}
	s := startServer(t, Options{Now: clock.Now})
	mustAddRole(t, s, Role{ARN: testRoleARN, Subjects: []string{"repo:octo-org/octo-repo:*"}, ECR: true})
	creds := assumeWebIdentity(t, s, testRoleARN)

	out, err := ecrClient(t, s, "eu-west-1", creds).GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatalf("GetAuthorizationToken: %v", err)
	}
	if len(out.AuthorizationData) != 1 {
		t.Fatalf("got %d authorizationData entries, want 1", len(out.AuthorizationData))
	}
	d := out.AuthorizationData[0]
	user, pw := decodeAuthToken(t, *d.AuthorizationToken)
	if user != "AWS" {
		t.Errorf("token user %q, want AWS", user)
	}
	if len(pw) < 1500 || len(pw) > 2200 {
		t.Errorf("password is %d chars, want the 1.5-2.2 KB of a real ECR password", len(pw))
	}
	if got, want := *d.ProxyEndpoint, "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"; got != want {
		t.Errorf("proxyEndpoint %q, want %q", got, want)
	}
	if diff := d.ExpiresAt.Sub(clock.Now().Add(12 * time.Hour)); diff < -5*time.Second || diff > 5*time.Second {
		t.Errorf("expiresAt %v is not 12h after the emulator's now", d.ExpiresAt)
	}
	issued := strings.Join(s.Issued(), "\n")
	if !strings.Contains(issued, pw) || !strings.Contains(issued, *d.AuthorizationToken) {
		t.Error("Issued() lacks the ECR password or authorization token")
	}
	calls := s.Calls()
	last := calls[len(calls)-1]
	if last.Service != "ecr" || last.Operation != "GetAuthorizationToken" || last.Region != "eu-west-1" ||
		!strings.HasPrefix(last.AccessKeyID, "ASIA") || last.Status != 200 || last.End.Before(last.Start) {
		t.Errorf("last call = %+v", last)
	}

	// A second call hands out a different password; a fixed one is honoured.
	out2, err := ecrClient(t, s, "eu-west-1", creds).GetAuthorizationToken(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, pw2 := decodeAuthToken(t, *out2.AuthorizationData[0].AuthorizationToken); pw2 == pw {
		t.Error("two calls returned the same random password")
	}
	s.SetRegistryPassword(testAccount, "eu-west-1", "fixed-password")
	s.SetTokenTTL(time.Hour)
	out3, err := ecrClient(t, s, "eu-west-1", creds).GetAuthorizationToken(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, pw3 := decodeAuthToken(t, *out3.AuthorizationData[0].AuthorizationToken); pw3 != "fixed-password" {
		t.Errorf("password %q, want the fixed one", pw3)
	}
	if diff := out3.AuthorizationData[0].ExpiresAt.Sub(clock.Now().Add(time.Hour)); diff < -5*time.Second || diff > 5*time.Second {
		t.Errorf("expiresAt %v does not follow SetTokenTTL(1h)", out3.AuthorizationData[0].ExpiresAt)
	}
}

func TestECRProxyEndpoints(t *testing.T) {
	s := startServer(t, Options{})
	key, err := s.AddAccessKey(AccessKey{UserARN: testUserARN, ECR: true})
	if err != nil {
		t.Fatal(err)
	}
	s.MapRegistry("111111111111", "us-east-1", "https://127.0.0.1:5443")
	s.SetRegistryPassword("111111111111", "us-east-1", "pw-for-local-registry")
	creds := staticCreds(key.ID, key.Secret, "")

	cases := []struct {
		region      string
		registryIDs []string
		want        []string
	}{
		{"us-east-1", nil, []string{"https://123456789012.dkr.ecr.us-east-1.amazonaws.com"}},
		{"us-east-1", []string{"111111111111", "222222222222"}, []string{"https://127.0.0.1:5443", "https://222222222222.dkr.ecr.us-east-1.amazonaws.com"}},
		{"cn-north-1", nil, []string{"https://123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"}},
		{"us-gov-west-1", nil, []string{"https://123456789012.dkr.ecr.us-gov-west-1.amazonaws.com"}},
		{"eusc-de-east-1", nil, []string{"https://123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu"}},
		{"us-iso-east-1", nil, []string{"https://123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov"}},
	}
	for _, tc := range cases {
		t.Run(tc.region+"/"+strings.Join(tc.registryIDs, ","), func(t *testing.T) {
			//lint:ignore SA1019 the emulator must still answer clients that send registryIds
			out, err := ecrClient(t, s, tc.region, creds).GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{RegistryIds: tc.registryIDs})
			if err != nil {
				t.Fatalf("GetAuthorizationToken: %v", err)
			}
			var got []string
			for _, d := range out.AuthorizationData {
				got = append(got, *d.ProxyEndpoint)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("proxyEndpoints %v, want %v", got, tc.want)
			}
			for _, d := range out.AuthorizationData {
				_, pw := decodeAuthToken(t, *d.AuthorizationToken)
				if (*d.ProxyEndpoint == "https://127.0.0.1:5443") != (pw == "pw-for-local-registry") {
					t.Errorf("registry %s got password of %d chars; only the mapped one has the fixed password", *d.ProxyEndpoint, len(pw))
				}
			}
		})
	}
}

func TestECRPublicToken(t *testing.T) {
	s := startServer(t, Options{})
	mustAddRole(t, s, Role{ARN: testRoleARN, Subjects: []string{"*"}, ECR: true, ECRPublic: true})
	creds := assumeWebIdentity(t, s, testRoleARN)
	out, err := ecrPublicClient(t, s, "us-east-1", creds).GetAuthorizationToken(context.Background(), &ecrpublic.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatalf("ecr-public GetAuthorizationToken: %v", err)
	}
	d := out.AuthorizationData
	if user, pw := decodeAuthToken(t, *d.AuthorizationToken); user != "AWS" || len(pw) < 1500 {
		t.Errorf("token decodes to user %q and a %d-char password", user, len(pw))
	}
	if d.ExpiresAt == nil || time.Until(*d.ExpiresAt) < 11*time.Hour {
		t.Errorf("expiresAt %v, want about 12h ahead", d.ExpiresAt)
	}
	if c := s.Calls(); c[len(c)-1].Service != "ecr-public" || c[len(c)-1].Region != "us-east-1" {
		t.Errorf("last call %+v, want ecr-public in us-east-1", c[len(c)-1])
	}
	s.SetPublicRegistryPassword("public-pw")
	out, err = ecrPublicClient(t, s, "us-east-1", creds).GetAuthorizationToken(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, pw := decodeAuthToken(t, *out.AuthorizationData.AuthorizationToken); pw != "public-pw" {
		t.Errorf("password %q, want the fixed public one", pw)
	}

	// Outside us-east-1 the service refuses the command.
	_, err = ecrPublicClient(t, s, "eu-west-1", creds).GetAuthorizationToken(context.Background(), nil)
	wantAPIError(t, err, "UnsupportedCommandException", 400)
	var unsupported *ecrpublictypes.UnsupportedCommandException
	if !errorsAs(err, &unsupported) {
		t.Errorf("error %T is not the SDK's UnsupportedCommandException", err)
	}
}

func TestECRRejections(t *testing.T) {
	clock := &fakeClock{}
	s := startServer(t, Options{Now: clock.Now})
	mustAddRole(t, s, Role{ARN: testRoleARN, Subjects: []string{"*"}, ECR: true})
	mustAddRole(t, s, Role{ARN: "arn:aws:iam::123456789012:role/no-ecr", Subjects: []string{"*"}})
	user, _ := s.AddAccessKey(AccessKey{UserARN: testUserARN, ECR: true})
	good := assumeWebIdentity(t, s, testRoleARN)
	goodCreds, _ := good.Retrieve(context.Background())
	noECR := assumeWebIdentity(t, s, "arn:aws:iam::123456789012:role/no-ecr")

	cases := []struct {
		name     string
		public   bool
		region   string
		creds    aws.CredentialsProvider
		ids      []string
		wantCode string
	}{
		{name: "unsigned", creds: nil, wantCode: "MissingAuthenticationTokenException"},
		{name: "unknown access key", creds: staticCreds("AKIAIOSFODNN7EXAMPLE", user.Secret, ""), wantCode: "UnrecognizedClientException"},
		{name: "wrong secret", creds: staticCreds(user.ID, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""), wantCode: "InvalidSignatureException"},
		{name: "session key without its token", creds: staticCreds(goodCreds.AccessKeyID, goodCreds.SecretAccessKey, ""), wantCode: "UnrecognizedClientException"},
		{name: "forged session token", creds: staticCreds(goodCreds.AccessKeyID, goodCreds.SecretAccessKey, goodCreds.SessionToken+"x"), wantCode: "UnrecognizedClientException"},
		{name: "role without ecr permission", creds: noECR, wantCode: "AccessDeniedException"},
		{name: "user without ecr-public permission", public: true, creds: staticCreds(user.ID, user.Secret, ""), wantCode: "AccessDeniedException"},
		{name: "malformed registry id", creds: good, ids: []string{"12345"}, wantCode: "ValidationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			region := tc.region
			if region == "" {
				region = "us-east-1"
			}
			var err error
			if tc.public {
				_, err = ecrPublicClient(t, s, region, tc.creds).GetAuthorizationToken(context.Background(), nil)
			} else {
				//lint:ignore SA1019 the emulator must still answer clients that send registryIds
				_, err = ecrClient(t, s, region, tc.creds).GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{RegistryIds: tc.ids})
			}
			wantAPIError(t, err, tc.wantCode, 400)
			assertNoSecrets(t, s, "error", err.Error())
		})
	}

	t.Run("expired session", func(t *testing.T) {
		clock.Advance(time.Hour + time.Minute) // sessions last 1h by default
		client := newECR(clientConfig(t, s, "us-east-1", good, 3), s)
		_, err := client.GetAuthorizationToken(context.Background(), nil)
		wantAPIError(t, err, "ExpiredTokenException", 400)
		// The long-lived user key still works after the SDK corrected the skew.
		client = newECR(clientConfig(t, s, "us-east-1", staticCreds(user.ID, user.Secret, ""), 3), s)
		if _, err := client.GetAuthorizationToken(context.Background(), nil); err != nil {
			t.Fatalf("long-lived key after 1h: %v", err)
		}
	})
}

func TestECRErrorShape(t *testing.T) {
	s := startServer(t, Options{})
	resp := rawRequest{}.do(t, s)
	if resp.status != 400 || resp.header.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" ||
		resp.header.Get("Content-Type") != "application/x-amz-json-1.1" || resp.header.Get("X-Amzn-RequestId") == "" {
		t.Fatalf("unsigned call answered %d with headers %v", resp.status, resp.header)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(resp.body), &body); err != nil {
		t.Fatalf("error body %q is not JSON: %v", resp.body, err)
	}
	if body["__type"] != "MissingAuthenticationTokenException" || body["message"] != "Missing Authentication Token" {
		t.Errorf("error body %v", body)
	}
}

// TestShortLivedSessionsAndTokens: with SetSessionTTL and SetTokenTTL of a
// minute, sessions and passwords expire within a minute of the emulator's
// clock; RegistryPasswordValid accepts an issued password only until then,
// and never one it did not issue.
func TestShortLivedSessionsAndTokens(t *testing.T) {
	clock := &fakeClock{}
	s := startServer(t, Options{Now: clock.Now})
	mustAddRole(t, s, Role{ARN: testRoleARN, Subjects: []string{"repo:octo-org/octo-repo:*"}, ECR: true})
	s.SetSessionTTL(time.Minute)
	s.SetTokenTTL(time.Minute)
	creds := assumeWebIdentity(t, s, testRoleARN)
	out, err := ecrClient(t, s, "eu-west-1", creds).GetAuthorizationToken(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, pw := decodeAuthToken(t, *out.AuthorizationData[0].AuthorizationToken)
	if !s.RegistryPasswordValid(testAccount, "eu-west-1", pw) {
		t.Error("a fresh password is not valid")
	}
	if s.RegistryPasswordValid(testAccount, "eu-west-2", pw) || s.RegistryPasswordValid(testAccount, "eu-west-1", pw+"x") {
		t.Error("a password is valid for another region, or a changed one is valid")
	}
	clock.Advance(61 * time.Second)
	if s.RegistryPasswordValid(testAccount, "eu-west-1", pw) {
		t.Error("the password is still valid after its minute")
	}
	if _, err := ecrClient(t, s, "eu-west-1", creds).GetAuthorizationToken(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "Expired") {
		t.Errorf("the expired session was accepted (%v)", err)
	}
}
