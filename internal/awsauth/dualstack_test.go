package awsauth

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
)

// TestDualStackEndpoints: with DualStack, STS is called at its dual-stack
// (IPv6) endpoint; without, at the regional one.
func TestDualStackEndpoints(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, k := range []string{"AWS_CA_BUNDLE", "AWS_ENDPOINT_URL_STS", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_PROFILE"} {
		t.Setenv(k, "")
	}
	for _, tc := range []struct {
		dual     bool
		endpoint string // AWS_ENDPOINT_URL, which wins
		want     string
	}{{true, "", "sts.eu-west-1.api.aws"}, {false, "", "sts.eu-west-1.amazonaws.com"}, {true, "https://127.0.0.1:9", "127.0.0.1:9"}} {
		t.Setenv("AWS_ENDPOINT_URL", tc.endpoint)
		rec := &awsfake.HostRecorder{}
		// The recorder's error is retried as a network failure: the
		// deadline ends the retries (only the first request matters).
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := Resolve(ctx, Params{
			Region:       "eu-west-1",
			Base:         Base{Kind: Static, Static: aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}},
			NeedIdentity: true,
			DualStack:    tc.dual,
			LoadOptions:  []func(*config.LoadOptions) error{config.WithHTTPClient(rec)},
		})
		if err == nil {
			t.Fatal("Resolve succeeded without an STS answer")
		}
		if hosts := rec.Hosts(); len(hosts) == 0 || hosts[0] != tc.want {
			t.Errorf("dual-stack %v: STS called at %v, want %s (%v)", tc.dual, hosts, tc.want, err)
		}
	}
}
