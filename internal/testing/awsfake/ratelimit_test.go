package awsfake

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// TestTokenBucket drives one bucket with a hand-moved clock.
func TestTokenBucket(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var l rateLimiter
	l.set(RateLimit{Rate: 2, Burst: 3}, func() time.Time { return now })
	take := func(n int, key string) (allowed int) {
		for range n {
			if l.allow(key) {
				allowed++
			}
		}
		return allowed
	}
	steps := []struct {
		advance time.Duration
		tries   int
		want    int
	}{
		{0, 5, 3},                       // a full bucket: the burst, then throttled
		{250 * time.Millisecond, 1, 0},  // half a token is not a token
		{250 * time.Millisecond, 2, 1},  // 0.5s at 2/s: one token
		{10 * time.Second, 10, 3},       // refills only up to the burst
		{1500 * time.Millisecond, 5, 3}, // 3 tokens in 1.5s
	}
	for i, st := range steps {
		now = now.Add(st.advance)
		if got := take(st.tries, "ecr/123456789012/eu-west-1"); got != st.want {
			t.Fatalf("step %d: %d of %d allowed, want %d", i, got, st.tries, st.want)
		}
	}
	// Another key has its own full bucket.
	if got := take(4, "ecr/123456789012/us-east-1"); got != 3 {
		t.Errorf("other region: %d of 4 allowed, want 3", got)
	}

	// Off: everything passes; a rate without a burst still lets one through.
	l.set(RateLimit{}, func() time.Time { return now })
	if got := take(1000, "k"); got != 1000 {
		t.Errorf("no limit: %d of 1000 allowed", got)
	}
	l.set(RateLimit{Rate: 1}, func() time.Time { return now })
	if got := take(3, "k"); got != 1 {
		t.Errorf("rate 1, burst 0: %d of 3 allowed, want 1", got)
	}
}

// TestECRRateLimit: the emulator throttles GetAuthorizationToken per
// account and region with ECR's real answer, and the SDK's standard
// retryer treats it as throttling.
func TestECRRateLimit(t *testing.T) {
	s := startServer(t, Options{})
	mustAddRole(t, s, Role{ARN: testRoleARN, Subjects: []string{"*"}, ECR: true, ECRPublic: true})
	creds := assumeWebIdentity(t, s, testRoleARN)
	ctx := context.Background()
	// No refill within the test: exactly Burst calls pass per bucket.
	s.SetECRRateLimit(RateLimit{Burst: 2})

	euWest := ecrClient(t, s, "eu-west-1", creds)
	for i := range 2 {
		if _, err := euWest.GetAuthorizationToken(ctx, nil); err != nil {
			t.Fatalf("call %d within the burst: %v", i+1, err)
		}
	}
	_, err := euWest.GetAuthorizationToken(ctx, nil)
	wantAPIError(t, err, "ThrottlingException", http.StatusBadRequest)
	if !retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool() {
		t.Errorf("the SDK does not see the answer as throttling: %v", err)
	}
	// Other regions and ECR Public have buckets of their own.
	if _, err := ecrClient(t, s, "us-east-1", creds).GetAuthorizationToken(ctx, nil); err != nil {
		t.Errorf("another region was throttled too: %v", err)
	}
	if _, err := ecrPublicClient(t, s, "us-east-1", creds).GetAuthorizationToken(ctx, nil); err != nil {
		t.Errorf("ECR Public was throttled by the private bucket: %v", err)
	}

	// The wire shape is ECR's: HTTP 400, x-amzn-ErrorType and a JSON body
	// with __type and "Rate exceeded".
	var throttled []Call
	for _, c := range s.Calls() {
		if c.ErrorCode == "ThrottlingException" {
			throttled = append(throttled, c)
		}
	}
	if len(throttled) != 1 || throttled[0].Service != "ecr" || throttled[0].Region != "eu-west-1" || throttled[0].Status != 400 {
		t.Errorf("throttled calls = %+v, want one ecr eu-west-1 call with status 400", throttled)
	}
	checkRawThrottle(t, s)

	// Turning the limit off lets the throttled bucket through again.
	s.SetECRRateLimit(RateLimit{})
	if _, err := euWest.GetAuthorizationToken(ctx, nil); err != nil {
		t.Errorf("limit off, still throttled: %v", err)
	}
}

// checkRawThrottle reads a throttled answer off the wire, through an SDK
// client whose HTTP client records the response (a new session of the
// same account: the eu-west-1 bucket is empty).
func checkRawThrottle(t *testing.T, s *Server) {
	t.Helper()
	rec := &recordingClient{}
	cfg := clientConfig(t, s, "eu-west-1", assumeWebIdentity(t, s, testRoleARN), 1)
	cfg.HTTPClient = rec
	if _, err := newECR(cfg, s).GetAuthorizationToken(context.Background(), nil); err == nil {
		t.Fatal("the bucket should still be empty")
	}
	if rec.status != http.StatusBadRequest || rec.header.Get("X-Amzn-Errortype") != "ThrottlingException" {
		t.Errorf("status %d, x-amzn-ErrorType %q", rec.status, rec.header.Get("X-Amzn-Errortype"))
	}
	var body map[string]string
	if err := json.Unmarshal(rec.body, &body); err != nil || body["__type"] != "ThrottlingException" || body["message"] != "Rate exceeded" {
		t.Errorf("body %s (%v)", rec.body, err)
	}
}

type recordingClient struct {
	status int
	header http.Header
	body   []byte
}

func (r *recordingClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.status, r.header, r.body = resp.StatusCode, resp.Header, b
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}
