package ecr

import (
	"context"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	smithyendpoints "github.com/aws/smithy-go/endpoints"

	"github.com/ecr-credentials/ecr-credentials/internal/registry"
)

// Ahead is what Fetch will contact and what it will return, told before
// the calls, so that connections can be opened while the credentials are
// still being obtained.
type Ahead struct {
	// Endpoints are the URLs of the GetAuthorizationToken calls, as the
	// clients resolve them (AWS_ENDPOINT_URL_ECR and friends included).
	Endpoints []*url.URL
	// Hosts are the registry hosts of the logins, when they can be told:
	// only a standard AWS endpoint answers with the standard
	// proxyEndpoint (an endpoint override, such as an emulator, may
	// answer anything), and only when the caller's account is known.
	Hosts []string
}

// Predict tells what Fetch(ctx, cfg, req) will contact and return.
func Predict(ctx context.Context, cfg aws.Config, req Request) Ahead {
	regs := req.Registries
	self := len(regs) == 0
	if self {
		regs = []registry.Registry{registry.Own(req.DefaultRegion, false)}
	}
	var a Ahead
	for _, g := range groupByEndpoint(regs) {
		u, overridden := endpoint(ctx, cfg, g)
		if u != nil {
			a.Endpoints = append(a.Endpoints, u)
		}
		if overridden || u == nil {
			continue
		}
		for _, idx := range g.regs {
			reg := regs[idx]
			if reg.Public {
				host, _ := hostFor(reg, "", "", false)
				a.Hosts = append(a.Hosts, host)
				continue
			}
			if req.CallerAccount == "" {
				continue
			}
			std, err := registry.ForAccount(req.CallerAccount, g.region)
			if err != nil || g.fips || g.dualStack {
				continue
			}
			if host, err := hostFor(reg, "https://"+std.Host, req.CallerAccount, self); err == nil {
				a.Hosts = append(a.Hosts, host)
			}
		}
	}
	return a
}

// endpoint resolves the URL of the group's call; overridden says it is
// not AWS's standard endpoint.
func endpoint(ctx context.Context, cfg aws.Config, g *group) (u *url.URL, overridden bool) {
	if g.public {
		o := ecrpublic.NewFromConfig(cfg, publicOptions).Options()
		fips, dual := endpointVariant(o.EndpointOptions.UseFIPSEndpoint, o.EndpointOptions.UseDualStackEndpoint)
		p := ecrpublic.EndpointParameters{Region: aws.String(o.Region), Endpoint: o.BaseEndpoint, UseFIPS: fips, UseDualStack: dual}
		ep, err := o.EndpointResolverV2.ResolveEndpoint(ctx, p.WithDefaults())
		return resolved(ep, err, o.BaseEndpoint)
	}
	o := ecr.NewFromConfig(cfg, g.options).Options()
	fips, dual := endpointVariant(o.EndpointOptions.UseFIPSEndpoint, o.EndpointOptions.UseDualStackEndpoint)
	p := ecr.EndpointParameters{Region: aws.String(o.Region), Endpoint: o.BaseEndpoint, UseFIPS: fips, UseDualStack: dual}
	ep, err := o.EndpointResolverV2.ResolveEndpoint(ctx, p.WithDefaults())
	return resolved(ep, err, o.BaseEndpoint)
}

// endpointVariant turns a client's FIPS and dual-stack settings into the
// endpoint parameters of both services.
func endpointVariant(fips aws.FIPSEndpointState, dual aws.DualStackEndpointState) (*bool, *bool) {
	return aws.Bool(fips == aws.FIPSEndpointStateEnabled), aws.Bool(dual == aws.DualStackEndpointStateEnabled)
}

// resolved is endpoint's answer for a resolution: an endpoint that cannot
// be resolved counts as overridden (nothing can be predicted about it).
func resolved(ep smithyendpoints.Endpoint, err error, base *string) (*url.URL, bool) {
	if err != nil {
		return nil, true
	}
	return &ep.URI, base != nil
}
