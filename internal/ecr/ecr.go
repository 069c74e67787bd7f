// Package ecr gets registry credentials from Amazon ECR and ECR Public with
// GetAuthorizationToken and decodes them.
//
// An ECR token is scoped to a region and works for every registry there
// that the caller may reach, so Fetch makes one call per region (and per
// FIPS / dual-stack endpoint flavour), all regions at once, plus one ECR
// Public call if public.ecr.aws is wanted. The deprecated registryIds
// parameter is not used: the host of another account in the same region is
// built from its account ID.
package ecr

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/aws/smithy-go"

	"github.com/ecr-credentials/ecr-credentials/internal/awsauth"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
	"github.com/ecr-credentials/ecr-credentials/internal/registry"
)

// Login is the decoded credential for one registry.
type Login struct {
	// Registry is the registry as requested; Registry.Host is the host
	// clients use (the docker config.json key).
	Registry registry.Registry
	// Username is always "AWS" for ECR.
	Username string
	// Password is the part after "AWS:" of the decoded token.
	Password string
	// AuthorizationToken is the token as ECR returned it: base64("AWS:"+Password).
	AuthorizationToken string
	// ProxyEndpoint is "https://" + Registry.Host.
	ProxyEndpoint string
	// ExpiresAt is when ECR stops accepting the password.
	ExpiresAt time.Time
}

// Request says what to fetch.
type Request struct {
	// Registries to log in to; empty means the caller's own registry in
	// DefaultRegion.
	Registries    []registry.Registry
	DefaultRegion string
	// CallerAccount is the account of the credentials if known (from the
	// role ARN); its registry's host is taken from the proxyEndpoint ECR
	// returns, so an endpoint override maps it as ECR says.
	CallerAccount string
	// DualStack: the credentials' own registry (when Registries is empty)
	// is its dual-stack host, fetched through the dual-stack API endpoint.
	DualStack bool
	// Mask is called with every password and token before Fetch returns.
	Mask func(string)
}

// group is one GetAuthorizationToken call.
type group struct {
	region    string
	fips      bool
	dualStack bool
	public    bool
	regs      []int // indexes into the request's registries
}

// Fetch calls GetAuthorizationToken once per region (concurrently) and
// returns one Login per requested registry, in the order requested. If any
// call fails, it returns no logins and an error describing every failure.
func Fetch(ctx context.Context, cfg aws.Config, req Request) ([]Login, error) {
	regs := req.Registries
	self := len(regs) == 0
	if self {
		regs = []registry.Registry{registry.Own(req.DefaultRegion, req.DualStack)}
	}
	groups := groupByEndpoint(regs)

	type result struct {
		token authData
		err   error
	}
	results := make([]result, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Go(func() {
			t, err := call(ctx, cfg, g)
			results[i] = result{token: t, err: err}
		})
	}
	wg.Wait()

	var failures []error
	for i, r := range results {
		if r.err != nil {
			failures = append(failures, explain(r.err, groups[i]))
		}
	}
	if len(failures) > 0 {
		return nil, problem.Join(failures)
	}

	logins := make([]Login, len(regs))
	for i, g := range groups {
		t := results[i].token
		password, err := decode(t.token)
		if err != nil {
			return nil, problem.Wrap(problem.ECRFailed, err, "ECR returned an authorization token that cannot be decoded for "+g.describe(), "Report this with the step log.")
		}
		if req.Mask != nil {
			req.Mask(password)
			req.Mask(t.token)
		}
		for _, idx := range g.regs {
			reg := regs[idx]
			host, err := hostFor(reg, t.proxyEndpoint, req.CallerAccount, self)
			if err != nil {
				return nil, problem.Wrap(problem.ECRFailed, err, "ECR returned an unusable proxyEndpoint for "+g.describe()+"; nothing was written",
					"ECR names its registry as https://<host>[:port]. If AWS_ENDPOINT_URL_ECR (or AWS_ENDPOINT_URL) points at a proxy or emulator, make it answer so; otherwise report this with the step log.")
			}
			reg = reg.WithHost(host)
			if self && req.DualStack {
				// The dual-stack name of the registry ECR named (a
				// proxyEndpoint that is no standard ECR host stays).
				if r, err := registry.ParseHost(host); err == nil {
					reg = registry.DualStackOf(r)
				}
			}
			if reg.Region == "" {
				reg = reg.WithRegion(g.region)
			}
			logins[idx] = Login{
				Registry:           reg,
				Username:           "AWS",
				Password:           password,
				AuthorizationToken: t.token,
				ProxyEndpoint:      "https://" + host,
				ExpiresAt:          t.expiresAt,
			}
		}
	}
	return logins, nil
}

func groupByEndpoint(regs []registry.Registry) []*group {
	type groupKey struct {
		region                  string
		fips, dualStack, public bool
	}
	var groups []*group
	index := map[groupKey]*group{}
	for i, r := range regs {
		key := groupKey{region: r.Region, fips: r.FIPS, dualStack: r.DualStack, public: r.Public}
		if r.Public {
			key = groupKey{region: registry.PublicRegion, public: true}
		}
		g, ok := index[key]
		if !ok {
			g = &group{region: key.region, fips: key.fips, dualStack: key.dualStack, public: key.public}
			index[key] = g
			groups = append(groups, g)
		}
		g.regs = append(g.regs, i)
	}
	return groups
}

func (g *group) describe() string {
	if g.public {
		return "ECR Public (public.ecr.aws)"
	}
	s := "region " + g.region
	if g.fips {
		s += " (FIPS endpoint)"
	}
	if g.dualStack {
		s += " (dual-stack endpoint)"
	}
	return s
}

type authData struct {
	token         string
	proxyEndpoint string
	expiresAt     time.Time
}

func call(ctx context.Context, cfg aws.Config, g *group) (authData, error) {
	if g.public {
		client := ecrpublic.NewFromConfig(cfg, publicOptions)
		out, err := client.GetAuthorizationToken(ctx, &ecrpublic.GetAuthorizationTokenInput{})
		if err != nil {
			return authData{}, err
		}
		if out.AuthorizationData == nil || out.AuthorizationData.AuthorizationToken == nil {
			return authData{}, errors.New("ECR Public answered without authorization data")
		}
		return authData{
			token:         aws.ToString(out.AuthorizationData.AuthorizationToken),
			proxyEndpoint: "https://" + registry.PublicHost,
			expiresAt:     aws.ToTime(out.AuthorizationData.ExpiresAt),
		}, nil
	}
	client := ecr.NewFromConfig(cfg, g.options)
	out, err := client.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return authData{}, err
	}
	if len(out.AuthorizationData) == 0 || out.AuthorizationData[0].AuthorizationToken == nil {
		return authData{}, errors.New("ECR answered without authorization data")
	}
	d := out.AuthorizationData[0]
	return authData{
		token:         aws.ToString(d.AuthorizationToken),
		proxyEndpoint: aws.ToString(d.ProxyEndpoint),
		expiresAt:     aws.ToTime(d.ExpiresAt),
	}, nil
}

func publicOptions(o *ecrpublic.Options) { o.Region = registry.PublicRegion }

// options points an ECR client at the group's endpoint.
func (g *group) options(o *ecr.Options) {
	o.Region = g.region
	if g.fips {
		o.EndpointOptions.UseFIPSEndpoint = aws.FIPSEndpointStateEnabled
	}
	// A configured endpoint URL (AWS_ENDPOINT_URL*) wins: the SDK cannot
	// combine it with the dual-stack endpoint.
	switch {
	case o.BaseEndpoint != nil:
		o.EndpointOptions.UseDualStackEndpoint = aws.DualStackEndpointStateDisabled
	case g.dualStack:
		o.EndpointOptions.UseDualStackEndpoint = aws.DualStackEndpointStateEnabled
	}
}

// decode returns the password of a base64("AWS:<password>") token.
func decode(token string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return "", fmt.Errorf("not base64: %w", err)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok || user == "" || pass == "" {
		return "", errors.New("not of the form <user>:<password>")
	}
	if user != "AWS" {
		return "", fmt.Errorf("unexpected user name %q (ECR always uses AWS)", user)
	}
	return pass, nil
}

// hostFor decides the host clients will use for reg. The caller's own
// registry (and the default one) uses the proxyEndpoint ECR returned;
// registries of other accounts, and hosts the user spelled out (FIPS,
// dual-stack, aliases), keep the host asked for.
func hostFor(reg registry.Registry, proxyEndpoint, callerAccount string, self bool) (string, error) {
	if reg.Public {
		if reg.Host != "" {
			return reg.Host, nil // public.ecr.aws or its dual-stack name
		}
		return registry.PublicHost, nil
	}
	pe, err := proxyHost(proxyEndpoint)
	if err != nil {
		return "", err
	}
	if self {
		return pe, nil
	}
	if callerAccount == "" {
		if r, err := registry.ParseHost(pe); err == nil {
			callerAccount = r.AccountID
		}
	}
	// A host the user spelled out differently from the standard one (FIPS,
	// dual-stack, an alias) is what clients will use: keep it.
	if std, err := registry.ForAccount(reg.AccountID, reg.Region); err == nil && std.Host == reg.Host && reg.AccountID == callerAccount {
		return pe, nil
	}
	return reg.Host, nil
}

// proxyHost is the host (and port) of the proxyEndpoint ECR returned.
// The host goes into config.json keys, environment files, outputs and the
// refresh helper's settings, so it is accepted only as
// https://<DNS name or IP address>[:port] (a lone "/" path at most, no user
// information, query or fragment): this is the one place a host from
// ECR's answer is checked before anything is written.
func proxyHost(proxyEndpoint string) (string, error) {
	if proxyEndpoint == "" {
		return "", errors.New("empty proxyEndpoint")
	}
	u, err := url.Parse(proxyEndpoint)
	if err != nil || u.Scheme != "https" || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery ||
		u.Fragment != "" || strings.Contains(proxyEndpoint, "#") || (u.Path != "" && u.Path != "/") || u.Host == "" {
		return "", fmt.Errorf("proxyEndpoint %q is not of the form https://<host>[:port]", proxyEndpoint)
	}
	if !validHost(u.Hostname()) || !validPort(u.Port(), strings.HasSuffix(u.Host, ":")) {
		return "", fmt.Errorf("proxyEndpoint %q does not name a DNS host or IP address with an optional port", proxyEndpoint)
	}
	return strings.ToLower(u.Host), nil
}

// validHost: a DNS name (labels of letters, digits and inner hyphens, at
// most 63 characters each and 253 in all) or an IP address without a zone.
func validHost(h string) bool {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Zone() == ""
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// validPort: none, or a decimal port 1..65535 (a bare ":" is not one).
func validPort(p string, colon bool) bool {
	if p == "" {
		return !colon
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535 && p[0] != '0' && p[0] != '+'
}

// explain turns a call's error into a Problem about that region.
func explain(err error, g *group) error {
	what := "GetAuthorizationToken failed for " + g.describe()
	if p := problem.FromContext(err, "ECR GetAuthorizationToken in "+g.describe(), "AWS_ENDPOINT_URL_ECR"); p != nil {
		return p
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return problem.Wrap(problem.ECRFailed, problem.Safe(err), what, "Check network access to ECR (AWS_ENDPOINT_URL_ECR / AWS_ENDPOINT_URL if set) and re-run.")
	}
	cause := fmt.Errorf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	switch ae.ErrorCode() {
	case "AccessDeniedException", "AccessDenied":
		fix := "Allow ecr:GetAuthorizationToken on Resource \"*\" in the role's permissions policy (it cannot be scoped to a repository)."
		if g.public {
			fix = "Allow ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken on Resource \"*\" in the role's permissions policy."
		}
		return &problem.Problem{Code: problem.ECRDenied, Err: cause, What: "ECR denied " + what, Fix: fix}
	}
	if a, ok := awsauth.AdviceFor(awsauth.AnyOperation, ae.ErrorCode()); ok {
		p := &problem.Problem{Code: a.Problem, Err: cause, What: what + ": " + a.What, Fix: a.Fix}
		if p.Code == "" {
			p.Code = problem.ECRFailed
		}
		return p
	}
	return &problem.Problem{Code: problem.ECRFailed, Err: cause, What: what, Fix: "If it persists, check the AWS Health Dashboard and the error code above."}
}
