package ecr

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ecr-credentials/ecr-credentials/internal/registry"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
)

// TestDualStackAPIEndpoint: the credentials' own registry with DualStack,
// and a dual-stack registry host, are fetched from ECR's dual-stack API
// endpoint; a standard host from the regional one.
func TestDualStackAPIEndpoint(t *testing.T) {
	dual, err := registry.ForAccountDualStack("123456789012", "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	std, _ := registry.ForAccount("123456789012", "eu-west-1")
	for _, tc := range []struct {
		name string
		req  Request
		want string
	}{
		{"own registry, dual-stack", Request{DefaultRegion: "eu-west-1", DualStack: true}, "ecr.eu-west-1.api.aws"},
		{"dual-stack host", Request{Registries: []registry.Registry{dual}}, "ecr.eu-west-1.api.aws"},
		{"standard host", Request{Registries: []registry.Registry{std}}, "api.ecr.eu-west-1.amazonaws.com"},
	} {
		rec := &awsfake.HostRecorder{}
		cfg := aws.Config{Region: "eu-west-1", HTTPClient: rec, Retryer: func() aws.Retryer { return aws.NopRetryer{} },
			Credentials: credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "")}
		if _, err := Fetch(context.Background(), cfg, tc.req); err == nil {
			t.Fatalf("%s: Fetch succeeded without an answer", tc.name)
		}
		if hosts := rec.Hosts(); len(hosts) != 1 || hosts[0] != tc.want {
			t.Errorf("%s: ECR called at %v, want %s", tc.name, hosts, tc.want)
		}
	}
}
