package awsauth

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// hostRecorder is an HTTP client that records the host of every request
// and sends nothing.
type hostRecorder struct {
	mu    sync.Mutex
	hosts []string
}

func (h *hostRecorder) Do(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hosts = append(h.hosts, r.URL.Host)
	return nil, errors.New("recorded, not sent")
}

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
		rec := &hostRecorder{}
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
		if len(rec.hosts) == 0 || rec.hosts[0] != tc.want {
			t.Errorf("dual-stack %v: STS called at %v, want %s (%v)", tc.dual, rec.hosts, tc.want, err)
		}
	}
}
