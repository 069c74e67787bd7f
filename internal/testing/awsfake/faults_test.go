package awsfake

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestFaultsPerService(t *testing.T) {
	s := startServer(t, Options{})
	mustAddRole(t, s, Role{ARN: testRoleARN, Subjects: []string{"*"}, ECR: true, ECRPublic: true})
	creds := assumeWebIdentity(t, s, testRoleARN)
	tok, _ := s.MintIDToken("sts.amazonaws.com")
	ctx := context.Background()

	callSTS := func(t *testing.T) error {
		_, err := stsClient(t, s, nil).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(testRoleARN), RoleSessionName: aws.String("faulty"), WebIdentityToken: aws.String(tok)})
		return err
	}
	callECR := func(t *testing.T) error {
		_, err := ecrClient(t, s, "us-east-1", creds).GetAuthorizationToken(ctx, nil)
		return err
	}
	callPublic := func(t *testing.T) error {
		_, err := ecrPublicClient(t, s, "us-east-1", creds).GetAuthorizationToken(ctx, nil)
		return err
	}
	cases := []struct {
		service    string
		kind       FaultKind
		call       func(*testing.T) error
		wantCode   string
		wantStatus int
	}{
		{"sts", FaultInternalError, callSTS, "InternalFailure", 500},
		{"sts", FaultUnavailable, callSTS, "ServiceUnavailable", 503},
		{"sts", FaultThrottle, callSTS, "Throttling", 400},
		{"ecr", FaultInternalError, callECR, "ServerException", 500},
		{"ecr", FaultUnavailable, callECR, "ServiceUnavailableException", 503},
		{"ecr", FaultThrottle, callECR, "ThrottlingException", 400},
		{"ecr-public", FaultThrottle, callPublic, "ThrottlingException", 400},
		{"ecr-public", FaultInternalError, callPublic, "ServerException", 500},
	}
	for _, tc := range cases {
		t.Run(tc.service+"/"+tc.kind.String(), func(t *testing.T) {
			s.Inject(Fault{Service: tc.service, Kind: tc.kind})
			wantAPIError(t, tc.call(t), tc.wantCode, tc.wantStatus)
			if err := tc.call(t); err != nil {
				t.Fatalf("the fault should be used up, but the next call failed: %v", err)
			}
		})
	}

	t.Run("reset", func(t *testing.T) {
		s.Inject(Fault{Service: "ecr", Kind: FaultReset})
		err := callECR(t)
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("got %v, want a connection reset", err)
		}
		if c := s.Calls(); c[len(c)-1].Status != 0 || c[len(c)-1].ErrorCode != "fault:Reset" {
			t.Errorf("logged %+v", c[len(c)-1])
		}
	})
	t.Run("hang until the client gives up", func(t *testing.T) {
		s.Inject(Fault{Service: "sts", Kind: FaultHang})
		ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		_, err := stsClient(t, s, nil).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(testRoleARN), RoleSessionName: aws.String("faulty"), WebIdentityToken: aws.String(tok)})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want the client's deadline", err)
		}
	})
	t.Run("custom error", func(t *testing.T) {
		s.Inject(Fault{Service: "ecr", Kind: FaultError, Code: "LimitExceededException", Message: "slow down"})
		wantAPIError(t, callECR(t), "LimitExceededException", 400)
	})
}

func TestFaultOrderCountAndFilter(t *testing.T) {
	s := startServer(t, Options{})
	user, _ := s.AddAccessKey(AccessKey{UserARN: testUserARN, ECR: true})
	creds := staticCreds(user.ID, user.Secret, "")
	s.Inject(Fault{Service: "sts", Kind: FaultInternalError, Count: 5}) // never reached by ECR calls
	s.Inject(Fault{Service: "ecr", Kind: FaultThrottle, Count: 2})
	s.Inject(Fault{Kind: FaultUnavailable}) // any service, after the throttles

	// The SDK retries throttling and 5xx: 2 throttles + 1 unavailable, then success.
	client := newECR(clientConfig(t, s, "us-west-2", creds, 5), s)
	if _, err := client.GetAuthorizationToken(context.Background(), nil); err != nil {
		t.Fatalf("GetAuthorizationToken with retries: %v", err)
	}
	var got []string
	for _, c := range s.Calls() {
		got = append(got, c.ErrorCode)
	}
	if want := "ThrottlingException,ThrottlingException,ServiceUnavailableException,"; strings.Join(got, ",") != want {
		t.Errorf("attempts answered %q, want %q", strings.Join(got, ","), want)
	}
	// The STS fault is still queued.
	_, err := stsClient(t, s, creds).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "InternalFailure", 500)
}

func TestOIDCFaultsAndLatency(t *testing.T) {
	s := startServer(t, Options{})
	get := func(ctx context.Context) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.IDTokenRequestURL()+"&audience=sts.amazonaws.com", nil)
		req.Header.Set("Authorization", "Bearer "+s.IDTokenRequestToken())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	for kind, want := range map[FaultKind]int{FaultThrottle: 429, FaultInternalError: 500, FaultUnavailable: 503} {
		s.Inject(Fault{Service: "oidc", Kind: kind})
		if got, err := get(context.Background()); err != nil || got != want {
			t.Errorf("%v: got %d %v, want %d", kind, got, err, want)
		}
	}
	if got, err := get(context.Background()); err != nil || got != 200 {
		t.Fatalf("after the faults: %d %v", got, err)
	}

	// Latency longer than the client waits: the client gives up, the log says so.
	s.SetLatency(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("with 1m latency: %v, want the client's deadline", err)
	}
	s.SetLatency(0)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := s.Calls()
		if last := c[len(c)-1]; last.ErrorCode == "ClientGaveUp" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the abandoned call was not logged: %+v", s.Calls())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
