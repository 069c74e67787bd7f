package awsauth

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
)

const (
	testRole    = "arn:aws:iam::123456789012:role/ci"
	testUser    = "arn:aws:iam::123456789012:user/deployer"
	testSubject = "repo:octo-org/octo-repo:ref:refs/heads/main"
)

// tokenSource hands out one fixed token.
type tokenSource string

func (s tokenSource) Token(context.Context) (string, error) { return string(s), nil }
func (s tokenSource) String() string                        { return "test token" }

// fakeAWS starts the emulator with a role that trusts the emulator's
// tokens and the key of a user, and points the SDK at it.
func fakeAWS(t *testing.T) (*awsfake.Server, awsfake.AccessKey) {
	t.Helper()
	s := awsfake.New(awsfake.Options{TLS: true}) // an https issuer, as STS wants
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	key, err := s.AddAccessKey(awsfake.AccessKey{UserARN: testUser})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddRole(awsfake.Role{ARN: testRole, Subjects: []string{"repo:octo-org/octo-repo:*"}, TrustedPrincipals: []string{testUser}, ECR: true}); err != nil {
		t.Fatal(err)
	}
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CA_BUNDLE", s.CAFile())
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_ENDPOINT_URL", s.URL())
	t.Setenv("AWS_ENDPOINT_URL_STS", s.URL())
	return s, key
}

// TestAdviceTableEndToEnd: for every code of the table, STS (the
// emulator) answers the call the advice is for with that code, and the
// problem Resolve returns carries the table's problem code and advice
// (with the token's claims for a refused web identity token).
func TestAdviceTableEndToEnd(t *testing.T) {
	role, err := inputs.ParseRoleARN(testRole)
	if err != nil {
		t.Fatal(err)
	}
	table := AdviceTable()
	keys := make([]AdviceKey, 0, len(table))
	for k := range table {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Operation+keys[i].Code < keys[j].Operation+keys[j].Code })
	for _, k := range keys {
		want := table[k]
		t.Run(k.Operation+"/"+k.Code, func(t *testing.T) {
			s, key := fakeAWS(t) // each its own: a fault not taken stays queued
			token, err := s.MintIDToken("sts.amazonaws.com", awsfake.WithSubject(testSubject))
			if err != nil {
				t.Fatal(err)
			}
			// The first STS call is the one the advice is for: the web
			// identity exchange; AssumeRole with static keys; otherwise
			// GetCallerIdentity, the plainest signed call.
			p := Params{Region: "eu-west-1", SessionName: "test", Duration: time.Hour,
				Base: Base{Kind: Static, Static: aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}},
				// Retryable codes are reported once retrying gives up.
				LoadOptions: []func(*config.LoadOptions) error{config.WithRetryer(func() aws.Retryer { return retry.AddWithMaxAttempts(NewRetryer(), 2) })},
			}
			switch k.Operation {
			case OpAssumeRoleWithWebIdentity:
				p.Base, p.Role = Base{Kind: WebIdentity, WebIdentity: tokenSource(token)}, role
			case OpAssumeRole:
				p.Role = role
			default:
				p.NeedIdentity = true
			}
			s.Inject(awsfake.Fault{Service: "sts", Kind: awsfake.FaultError, Code: k.Code, Message: "injected " + k.Code, Count: 2})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err = Resolve(ctx, p)
			if err == nil {
				t.Fatal("Resolve succeeded")
			}
			got := problem.As(err)
			code := want.Problem
			if code == "" {
				code = problem.STSFailed
			}
			if got.Code != code {
				t.Errorf("problem code %s, want %s: %v", got.Code, code, err)
			}
			if !strings.Contains(got.Error(), k.Code) {
				t.Errorf("the message does not name the AWS error code: %v", err)
			}
			if want.Trust {
				for _, s := range []string{`iss "` + s.IssuerURL() + `"`, `sub "` + testSubject + `"`, `aud "sts.amazonaws.com"`, "arn:aws:iam::123456789012:oidc-provider/127.0.0.1:"} {
					if !strings.Contains(got.Error(), s) {
						t.Errorf("a refused token's message does not show %s: %v", s, err)
					}
				}
				if strings.Contains(got.Error(), token) {
					t.Error("the message holds the token")
				}
				return
			}
			if got.Fix != want.Fix && !(k.Code == "ValidationError" && strings.Contains(got.Fix, "role-")) {
				t.Errorf("fix %q, want the table's %q", got.Fix, want.Fix)
			}
			if !strings.Contains(got.What, want.What) && got.Code != problem.AssumeRoleDenied {
				t.Errorf("what %q, want the table's %q", got.What, want.What)
			}
		})
	}
}

// TestAdviceNeverRerunForCredentials: the advice for credentials AWS
// refuses, or for a token or role it refuses, never tells to run the job
// again (it would fail the same way), and every code the issue names is
// in the table.
func TestAdviceNeverRerunForCredentials(t *testing.T) {
	table := AdviceTable()
	for k, a := range table {
		switch a.Problem {
		case problem.CredentialsRejected, problem.AssumeRoleDenied, problem.InvalidIdentityToken, problem.InvalidSetting:
			if l := strings.ToLower(a.Fix); strings.Contains(l, "re-run") || strings.Contains(l, "run the job again") || strings.Contains(l, "retry") {
				t.Errorf("%v: advice %q says to run again", k, a.Fix)
			}
		}
		if a.What == "" || a.Fix == "" {
			t.Errorf("%v: empty advice", k)
		}
	}
	for _, c := range []string{"InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "ExpiredToken", "AccessDenied",
		"RegionDisabledException", "ThrottlingException"} {
		if _, ok := AdviceFor(AnyOperation, c); !ok {
			t.Errorf("no advice for %s", c)
		}
	}
	for _, c := range []string{"AccessDenied", "InvalidIdentityToken", "IDPRejectedClaim", "IDPCommunicationError", "ExpiredTokenException"} {
		if _, ok := AdviceFor(OpAssumeRoleWithWebIdentity, c); !ok {
			t.Errorf("no advice for %s from AssumeRoleWithWebIdentity", c)
		}
	}
	// The web identity call is not signed: key advice does not apply.
	if a, ok := AdviceFor(OpAssumeRoleWithWebIdentity, "InvalidClientTokenId"); ok {
		t.Errorf("key advice for the unsigned web identity call: %+v", a)
	}
}
