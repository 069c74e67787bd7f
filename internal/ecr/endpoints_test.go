package ecr

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ecr-credentials/ecr-credentials/internal/registry"
)

func TestPredict(t *testing.T) {
	const acct = "123456789012"
	other, err := registry.ForAccount("210987654321", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	public, err := registry.ParseHost(registry.PublicHost)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		base      string // cfg.BaseEndpoint: an override
		req       Request
		endpoints string
		hosts     string
	}{
		{name: "own registry", req: Request{DefaultRegion: "eu-west-1", CallerAccount: acct},
			endpoints: "[https://api.ecr.eu-west-1.amazonaws.com]", hosts: "[123456789012.dkr.ecr.eu-west-1.amazonaws.com]"},
		{name: "account unknown: hosts untold", req: Request{DefaultRegion: "eu-west-1"},
			endpoints: "[https://api.ecr.eu-west-1.amazonaws.com]", hosts: "[]"},
		{name: "two regions and public", req: Request{CallerAccount: acct, Registries: []registry.Registry{other, public}},
			endpoints: "[https://api.ecr.us-east-1.amazonaws.com https://api.ecr-public.us-east-1.amazonaws.com]",
			hosts:     "[210987654321.dkr.ecr.us-east-1.amazonaws.com public.ecr.aws]"},
		{name: "endpoint override: the registry is whatever it answers", base: "https://127.0.0.1:4443",
			req: Request{DefaultRegion: "eu-west-1", CallerAccount: acct}, endpoints: "[https://127.0.0.1:4443]", hosts: "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := aws.Config{Region: "eu-west-1"}
			if tc.base != "" {
				cfg.BaseEndpoint = aws.String(tc.base)
			}
			a := Predict(context.Background(), cfg, tc.req)
			var eps []string
			for _, u := range a.Endpoints {
				eps = append(eps, u.String())
			}
			if got := fmt.Sprint(eps); got != tc.endpoints {
				t.Errorf("endpoints %s, want %s", got, tc.endpoints)
			}
			if got := fmt.Sprint(a.Hosts); got != tc.hosts {
				t.Errorf("hosts %s, want %s", got, tc.hosts)
			}
		})
	}
}
