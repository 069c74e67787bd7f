package awsfake

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

const (
	testAccount = "123456789012"
	testRoleARN = "arn:aws:iam::123456789012:role/ci-ecr"
	testUserARN = "arn:aws:iam::123456789012:user/deployer"
)

// TestMain keeps the host's AWS configuration and the instance metadata
// service out of every test.
func TestMain(m *testing.M) {
	for _, k := range []string{
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_SESSION_NAME",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS",
		"AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL_ECR_PUBLIC", "AWS_CA_BUNDLE",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "AWS_EC2_METADATA_V1_DISABLED",
		"ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
	} {
		os.Unsetenv(k)
	}
	// Any client not pointed at an emulator fails fast on a closed loopback
	// port instead of resolving real AWS host names.
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL_ECR_PUBLIC"} {
		os.Setenv(k, "http://127.0.0.1:9")
	}
	// IMDS is off, and even a test that turns it on without pointing it at
	// the emulator reaches a closed loopback port, never 169.254.169.254.
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9/")
	os.Setenv("AWS_CONFIG_FILE", "/nonexistent/awsfake-test/config")
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/awsfake-test/credentials")
	os.Exit(m.Run())
}

// fakeClock is an adjustable emulator clock.
type fakeClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// startServer starts an emulator that is closed when the test ends.
func startServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s := New(opts)
	if err := s.Start(); err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func mustAddRole(t testing.TB, s *Server, r Role) {
	t.Helper()
	if err := s.AddRole(r); err != nil {
		t.Fatal(err)
	}
}

// clientConfig builds an SDK config for the emulator with the given
// credentials (nil: anonymous) and fast retries (maxAttempts 1: no retries).
func clientConfig(t testing.TB, s *Server, region string, creds aws.CredentialsProvider, maxAttempts int) aws.Config {
	t.Helper()
	if creds == nil {
		creds = aws.AnonymousCredentials{}
	}
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(region),
		config.WithCredentialsProvider(creds),
		config.WithBaseEndpoint(s.URL()),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = maxAttempts
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
			})
		}),
	)
	if err != nil {
		t.Fatalf("load SDK config: %v", err)
	}
	return cfg
}

func stsClient(t testing.TB, s *Server, creds aws.CredentialsProvider) *sts.Client {
	return newSTS(clientConfig(t, s, "us-east-1", creds, 1), s)
}

func ecrClient(t testing.TB, s *Server, region string, creds aws.CredentialsProvider) *ecr.Client {
	return newECR(clientConfig(t, s, region, creds, 1), s)
}

func ecrPublicClient(t testing.TB, s *Server, region string, creds aws.CredentialsProvider) *ecrpublic.Client {
	return ecrpublic.NewFromConfig(clientConfig(t, s, region, creds, 1), func(o *ecrpublic.Options) { o.BaseEndpoint = aws.String(s.URL()) })
}

// newSTS and newECR set the endpoint on the client itself: service-specific
// AWS_ENDPOINT_URL_* variables would override the config's BaseEndpoint.
func newSTS(cfg aws.Config, s *Server) *sts.Client {
	return sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(s.URL()) })
}

func newECR(cfg aws.Config, s *Server) *ecr.Client {
	return ecr.NewFromConfig(cfg, func(o *ecr.Options) { o.BaseEndpoint = aws.String(s.URL()) })
}

func staticCreds(id, secret, token string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(id, secret, token)
}

// assumeWebIdentity mints a token and exchanges it for role credentials.
func assumeWebIdentity(t testing.TB, s *Server, roleARN string) aws.CredentialsProvider {
	t.Helper()
	tok, err := s.MintIDToken("sts.amazonaws.com")
	if err != nil {
		t.Fatal(err)
	}
	out, err := stsClient(t, s, nil).AssumeRoleWithWebIdentity(context.Background(), &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("test-session"), WebIdentityToken: aws.String(tok),
	})
	if err != nil {
		t.Fatalf("AssumeRoleWithWebIdentity: %v", err)
	}
	c := out.Credentials
	return staticCreds(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
}

// apiError returns the AWS error code and HTTP status of an SDK error.
func apiError(t testing.TB, err error) (string, int) {
	t.Helper()
	if err == nil {
		t.Fatal("call succeeded, want an error")
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error is not an AWS API error: %v", err)
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), status
}

// wantAPIError fails unless err carries the code and status.
func wantAPIError(t testing.TB, err error, code string, status int) {
	t.Helper()
	gotCode, gotStatus := apiError(t, err)
	if gotCode != code || gotStatus != status {
		t.Fatalf("got error %s (HTTP %d), want %s (HTTP %d); error: %v", gotCode, gotStatus, code, status, err)
	}
}

// assertNoSecrets fails if text contains anything the emulator issued.
func assertNoSecrets(t testing.TB, s *Server, what, text string) {
	t.Helper()
	for _, secret := range s.Issued() {
		if strings.Contains(text, secret) {
			t.Fatalf("%s contains an issued secret (%d chars)", what, len(secret))
		}
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func errorsIs(err, target error) bool { return errors.Is(err, target) }
