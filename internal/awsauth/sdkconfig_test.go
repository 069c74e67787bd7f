package awsauth

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
)

// TestStrayProfile: AWS_PROFILE naming a profile no file has does not stop
// a web identity exchange (a warning names it, and AWS_CA_BUNDLE, which
// the emulator's TLS needs, still applies); the default chain fails with
// an error naming the profile; AWS_PROFILE is as it was afterwards.
func TestStrayProfile(t *testing.T) {
	s, _ := fakeAWS(t)
	t.Setenv("AWS_PROFILE", "stray")
	token, err := s.MintIDToken("sts.amazonaws.com", awsfake.WithSubject(testSubject))
	if err != nil {
		t.Fatal(err)
	}
	role, _ := inputs.ParseRoleARN(testRole)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var warnings []string
	sess, err := Resolve(ctx, Params{Region: "eu-west-1", SessionName: "test", Duration: time.Hour, Role: role,
		Base: Base{Kind: WebIdentity, WebIdentity: tokenSource(token)}, Warn: func(m string) { warnings = append(warnings, m) }})
	if err != nil {
		t.Fatalf("web identity with a stray AWS_PROFILE: %v", err)
	}
	if sess.RoleARN != testRole {
		t.Errorf("session for %q", sess.RoleARN)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `AWS_PROFILE names the profile "stray"`) {
		t.Errorf("warnings %q", warnings)
	}

	_, err = Resolve(ctx, Params{Region: "eu-west-1", SessionName: "test", Duration: time.Hour, Base: Base{Kind: DefaultChain}})
	p := problem.As(err)
	if p.Code != problem.InvalidSetting || p.Subject != "environment variable AWS_PROFILE" || !strings.Contains(p.What, `the AWS profile "stray" is defined in none`) {
		t.Errorf("default chain: %+v", p)
	}
	if v, ok := os.LookupEnv("AWS_PROFILE"); !ok || v != "stray" {
		t.Errorf("AWS_PROFILE is %q (%v) after the runs", v, ok)
	}
}
