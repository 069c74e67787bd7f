package awsfake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

type rawResponse struct {
	status int
	header http.Header
	body   string
}

// rawRequest is a hand-built ECR call, signed with the SDK's own SigV4
// signer and then optionally tampered with.
type rawRequest struct {
	creds           *aws.Credentials // nil: unsigned
	service, region string           // signing scope
	signTime        time.Time
	target          string // X-Amz-Target; default ECR GetAuthorizationToken
	path, query     string
	body            string
	tamper          func(r *http.Request, body *string) // applied after signing
}

func (rr rawRequest) do(t *testing.T, s *Server) rawResponse {
	t.Helper()
	if rr.target == "" {
		rr.target = ecrTargetPrefix + ".GetAuthorizationToken"
	}
	if rr.path == "" {
		rr.path = "/"
	}
	if rr.body == "" {
		rr.body = "{}"
	}
	url := s.URL() + rr.path
	if rr.query != "" {
		url += "?" + rr.query
	}
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(rr.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", rr.target)
	if rr.creds != nil {
		sum := sha256.Sum256([]byte(rr.body))
		if err := v4.NewSigner().SignHTTP(context.Background(), *rr.creds, req, hex.EncodeToString(sum[:]), rr.service, rr.region, rr.signTime); err != nil {
			t.Fatalf("sign: %v", err)
		}
	}
	body := rr.body
	if rr.tamper != nil {
		rr.tamper(req, &body)
	}
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("raw call: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func TestSigV4Verification(t *testing.T) {
	clock := &fakeClock{}
	s := startServer(t, Options{Now: clock.Now})
	mustAddRole(t, s, Role{ARN: testRoleARN, Subjects: []string{"*"}, ECR: true, ECRPublic: true})
	sess, err := assumeWebIdentity(t, s, testRoleARN).Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	setAuth := func(f func(string) string) func(*http.Request, *string) {
		return func(r *http.Request, _ *string) { r.Header.Set("Authorization", f(r.Header.Get("Authorization"))) }
	}

	cases := []struct {
		name     string
		req      rawRequest
		wantCode string // "" means success
		wantMsg  string
	}{
		{name: "valid", req: rawRequest{service: "ecr", region: "us-east-1"}},
		{name: "valid with query and path", req: rawRequest{service: "ecr", region: "us-east-1", path: "/some/path%20x", query: "b=2&a=1&a=0&c=%2F"}},
		{name: "valid ecr-public", req: rawRequest{service: "ecr-public", region: "us-east-1", target: ecrPublicTargetPrefix + ".GetAuthorizationToken"}},
		{name: "valid with skew inside 15 min", req: rawRequest{service: "ecr", region: "us-east-1", signTime: now.Add(-14 * time.Minute)}},
		{name: "tampered body", wantCode: "InvalidSignatureException", wantMsg: "signature we calculated does not match",
			req: rawRequest{service: "ecr", region: "us-east-1", tamper: func(_ *http.Request, b *string) { *b = `{"registryIds":["999999999999"]}` }}},
		{name: "tampered signed header", wantCode: "InvalidSignatureException", wantMsg: "does not match",
			req: rawRequest{service: "ecr", region: "us-east-1", tamper: func(r *http.Request, _ *string) { r.Header.Set("Content-Type", "application/json") }}},
		{name: "query added after signing", wantCode: "InvalidSignatureException", wantMsg: "does not match",
			req: rawRequest{service: "ecr", region: "us-east-1", tamper: func(r *http.Request, _ *string) { r.URL.RawQuery = "x=1" }}},
		{name: "region changed in scope", wantCode: "InvalidSignatureException", wantMsg: "does not match",
			req: rawRequest{service: "ecr", region: "us-east-1", tamper: setAuth(func(a string) string { return strings.Replace(a, "/us-east-1/", "/eu-west-1/", 1) })}},
		{name: "signed for another service", wantCode: "InvalidSignatureException", wantMsg: "scoped to correct service: 'ecr'",
			req: rawRequest{service: "s3", region: "us-east-1"}},
		{name: "ecr signature sent to ecr-public", wantCode: "InvalidSignatureException", wantMsg: "correct service: 'ecr-public'",
			req: rawRequest{service: "ecr", region: "us-east-1", target: ecrPublicTargetPrefix + ".GetAuthorizationToken"}},
		{name: "invalid region", wantCode: "InvalidSignatureException", wantMsg: "valid region",
			req: rawRequest{service: "ecr", region: "moon"}},
		{name: "signature too old", wantCode: "InvalidSignatureException", wantMsg: "Signature expired",
			req: rawRequest{service: "ecr", region: "us-east-1", signTime: now.Add(-20 * time.Minute)}},
		{name: "signature from the future", wantCode: "InvalidSignatureException", wantMsg: "not yet current",
			req: rawRequest{service: "ecr", region: "us-east-1", signTime: now.Add(20 * time.Minute)}},
		{name: "X-Amz-Date not matching scope date", wantCode: "InvalidSignatureException", wantMsg: "Date in Credential scope",
			req: rawRequest{service: "ecr", region: "us-east-1", tamper: func(r *http.Request, _ *string) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/"+r.Header.Get("X-Amz-Date")[:8]+"/", "/19990101/", 1))
			}}},
		{name: "host not signed", wantCode: "InvalidSignatureException", wantMsg: "'Host' must be a 'SignedHeader'",
			req: rawRequest{service: "ecr", region: "us-east-1", tamper: setAuth(func(a string) string { return strings.Replace(a, "host;", "", 1) })}},
		{name: "no X-Amz-Date", wantCode: "IncompleteSignatureException", wantMsg: "X-Amz-Date",
			req: rawRequest{service: "ecr", region: "us-east-1", tamper: func(r *http.Request, _ *string) { r.Header.Del("X-Amz-Date") }}},
		{name: "other algorithm", wantCode: "IncompleteSignatureException", wantMsg: "algorithm",
			req: rawRequest{service: "ecr", region: "us-east-1", tamper: setAuth(func(a string) string { return strings.Replace(a, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1) })}},
		{name: "garbage header", wantCode: "IncompleteSignatureException",
			req: rawRequest{service: "ecr", region: "us-east-1", tamper: setAuth(func(string) string { return "AWS4-HMAC-SHA256 garbage" })}},
		{name: "short credential scope", wantCode: "IncompleteSignatureException", wantMsg: "aws4_request",
			req: rawRequest{service: "ecr", region: "us-east-1", tamper: setAuth(func(a string) string { return strings.Replace(a, "/aws4_request", "", 1) })}},
		{name: "unsigned", wantCode: "MissingAuthenticationTokenException", req: rawRequest{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rr := tc.req
			if rr.service != "" {
				rr.creds = &sess
			}
			if rr.signTime.IsZero() {
				rr.signTime = clock.Now()
			}
			resp := rr.do(t, s)
			if tc.wantCode == "" {
				if resp.status != 200 || !strings.Contains(resp.body, "authorizationToken") {
					t.Fatalf("got %d %s, want a token", resp.status, resp.body)
				}
				return
			}
			var body struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal([]byte(resp.body), &body); err != nil {
				t.Fatalf("body %q: %v", resp.body, err)
			}
			if resp.status != 400 || body.Type != tc.wantCode || resp.header.Get("X-Amzn-ErrorType") != tc.wantCode {
				t.Fatalf("got %d %s (header %q), want 400 %s", resp.status, body.Type, resp.header.Get("X-Amzn-ErrorType"), tc.wantCode)
			}
			if !strings.Contains(body.Message, tc.wantMsg) {
				t.Errorf("message %q does not mention %q", body.Message, tc.wantMsg)
			}
			assertNoSecrets(t, s, "error body", resp.body)
		})
	}
}

// TestSigV4CanonicalRequest checks the canonical request against the worked
// example in the SigV4 documentation (IAM ListUsers).
func TestSigV4CanonicalRequest(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", nil)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("X-Amz-Date", "20150830T123600Z")
	req.Host = "iam.amazonaws.com"
	got := canonicalRequest(req, nil, []string{"content-type", "host", "x-amz-date"})
	want := strings.Join([]string{
		"GET", "/", "Action=ListUsers&Version=2010-05-08",
		"content-type:application/x-www-form-urlencoded; charset=utf-8", "host:iam.amazonaws.com", "x-amz-date:20150830T123600Z", "",
		"content-type;host;x-amz-date",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	}, "\n")
	if got != want {
		t.Fatalf("canonical request:\n%s\nwant:\n%s", got, want)
	}
	sum := sha256.Sum256([]byte(got))
	if h := hex.EncodeToString(sum[:]); h != "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59" {
		t.Errorf("canonical request hash %s differs from the documented one", h)
	}
	a := &parsedAuth{date: "20150830", region: "us-east-1", service: "iam"}
	sig := sigv4Signature("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", a, "20150830T123600Z", got)
	if h := hex.EncodeToString(sig); h != "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7" {
		t.Errorf("signature %s differs from the documented one", h)
	}
}

func TestCanonicalQueryAndURI(t *testing.T) {
	cases := []struct{ raw, want string }{
		{"", ""},
		{"b=2&a=1&a=0", "a=0&a=1&b=2"},
		{"x=a%20b&y=a+b&z=%2F~", "x=a%20b&y=a%20b&z=%2F~"},
		{"flag", "flag="},
	}
	for _, tc := range cases {
		if got := canonicalQuery(tc.raw); got != tc.want {
			t.Errorf("canonicalQuery(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, "http://h/a%20b/c", bytes.NewReader(nil))
	if got := canonicalURI(req.URL); got != "/a%2520b/c" {
		t.Errorf("canonicalURI = %q, want the path encoded twice (non-S3 rule)", got)
	}
}
