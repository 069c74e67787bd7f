// Package awsauth turns the job's identity into AWS credentials: it loads
// the standard AWS SDK configuration (so AWS_REGION, AWS_ENDPOINT_URL*,
// AWS_CA_BUNDLE and friends are honoured) and, when a role is given,
// exchanges a web identity token for that role with STS
// AssumeRoleWithWebIdentity.
//
// Every credential it obtains is passed to the mask function before it is
// used or returned.
package awsauth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go/logging"

	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/oidc"
	"github.com/ecr-credentials/ecr-credentials/internal/preconnect"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// BaseKind is where the first AWS identity comes from.
type BaseKind int

// The base kinds.
const (
	// WebIdentity: a web identity (OIDC) token exchanged for Params.Role.
	WebIdentity BaseKind = iota
	// Static: access keys given as settings.
	Static
	// DefaultChain: the AWS SDK default chain (environment, shared config,
	// ECS container credentials, EC2 instance role).
	DefaultChain
)

// Base is the first identity.
type Base struct {
	Kind        BaseKind
	WebIdentity oidc.Source     // for WebIdentity
	Static      aws.Credentials // for Static
	// Why says why this base was chosen, for the log.
	Why string
}

// Params says how to get credentials.
type Params struct {
	Region      string
	Base        Base
	Role        inputs.RoleARN   // zero: no role to assume after the base
	Chain       []inputs.RoleARN // roles assumed after Role, in order
	SessionName string
	Duration    time.Duration
	// For sts:AssumeRole calls.
	ExternalID     string
	SourceIdentity string
	Tags           []inputs.Tag
	// DroppableTags are keys of Tags that may be dropped, once, when STS
	// finds the packed tags too large (PackedPolicyTooLarge).
	DroppableTags map[string]bool
	// Policy and PolicyARNs (managed policies) scope the final role
	// session down.
	Policy     string
	PolicyARNs []string
	// AllowedAccounts, if any, are the only accounts the final
	// credentials may belong to.
	AllowedAccounts []string
	// NeedIdentity asks for the account and ARN of the final credentials
	// even when no role is assumed (sts:GetCallerIdentity).
	NeedIdentity bool
	// DualStack uses the dual-stack (IPv4 and IPv6) AWS API endpoints.
	DualStack bool
	// Proxy is the run's proxy decision (nil: the environment's).
	Proxy *Proxy
	// Mask is called with every secret as soon as it is known.
	Mask func(string)
	// MaskAccount, if set, is called with the account ID of the
	// credentials as soon as STS tells it, before any error can name it.
	MaskAccount func(string)
	// Warn, if set, is told what the run set aside and why (a shared
	// config profile that a web identity or static keys do not need).
	Warn func(string)
	// LoadOptions are added to the SDK's config loading (tests, CLI).
	LoadOptions []func(*config.LoadOptions) error
	// Log receives the SDK's own log lines (a malformed Date header, a
	// configuration warning), e.g. the console's Debugf: the SDK never
	// writes to stderr itself. Nil drops them.
	Log func(format string, args ...any)
	// Preconnect, with a web identity base, has the connections the run
	// will need opened while the token request is in flight: the token is
	// requested first, then the SDK configuration is loaded, the STS
	// connection opened and Warm called to open the others (ECR,
	// registries); the SDK's transport takes them (see internal/preconnect).
	Preconnect *preconnect.Pool
	Warm       func(ctx context.Context, cfg aws.Config, open *Opener)
}

// Session is the outcome: an SDK configuration carrying the credentials,
// and what to tell the user about them.
type Session struct {
	Config aws.Config
	// Source says how the credentials were obtained, for the log.
	Source string
	// RoleARN is the last role assumed ("" if none).
	RoleARN string
	// AccountID is the account of the final credentials, when known.
	AccountID string
	// AuthenticatedARN is the ARN of the final credentials' principal
	// (arn:aws:sts::<account>:assumed-role/<role>/<session> for a role),
	// when known.
	AuthenticatedARN string
	// Credentials are the final credentials (already masked).
	Credentials aws.Credentials
}

// LoadConfig loads the SDK configuration for region with our retry policy.
func LoadConfig(ctx context.Context, region string, extra ...func(*config.LoadOptions) error) (aws.Config, error) {
	return loadConfig(ctx, region, nil, nil, sharedUse{needed: true}, nil, extra...)
}

func loadConfig(ctx context.Context, region string, hook *sdkHook, proxy *Proxy, shared sharedUse, log func(string, ...any), extra ...func(*config.LoadOptions) error) (aws.Config, error) {
	client := NewHTTPClient(ctx, proxy)
	if hook != nil {
		client = client.WithTransportOptions(hook.install)
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithRetryer(NewRetryer),
		config.WithHTTPClient(client),
	}
	opts = append(opts, extra...)
	// Last, so that nothing turns the SDK's default logger (stderr) back
	// on: every client made from the config logs through sdkLogger.
	opts = append(opts, config.WithLogger(sdkLogger(log)), config.WithClientLogMode(0))
	// The SDK reads the shared files, from the process environment, with
	// os.ReadFile: a named pipe there would block past the timeout.
	if err := checkSharedFiles(os.Getenv, shared.needed); err != nil {
		if shared.needed {
			return aws.Config{}, err
		}
		return loadSettingAside(ctx, shared, opts, err)
	}
	cfg, err := loadSDKConfig(ctx, shared, opts)
	if err != nil {
		if p := caBundleProblem(os.Getenv); p != nil {
			return aws.Config{}, p
		}
	}
	return cfg, err
}

// sdkLogger hands the SDK's log lines to log, which writes them as the
// console writes everything (redacted, one line, no workflow command);
// without log they are dropped. The SDK's default logger would write to
// stderr directly, where a value from an answer (a Date header holding
// "##[stop-commands]") could reach the step log as a command.
func sdkLogger(log func(string, ...any)) logging.Logger {
	if log == nil {
		return logging.Nop{}
	}
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		log("AWS SDK %s: %s", strings.ToLower(string(c)), fmt.Sprintf(format, v...))
	})
}

// Resolve gets the credentials: the base identity (exchange), then
// role-to-assume and each role of the chain (chain), then the account
// they belong to (check).
func Resolve(ctx context.Context, p Params) (*Session, error) {
	r := &resolution{p: p, mask: p.Mask, dualStack: DualStackOption(p.DualStack)}
	if r.mask == nil {
		r.mask = func(string) {}
	}
	var token *tokenRequest
	var hook *sdkHook
	if p.Base.Kind == WebIdentity && p.Role.ARN != "" {
		token = requestToken(ctx, p.Base.WebIdentity)
		defer token.abandon()
		if p.Preconnect != nil && !p.Proxy.Configured() { // connections opened ahead would not go through the proxy
			hook = &sdkHook{pool: p.Preconnect}
		}
	}
	shared := sharedUse{needed: p.Base.Kind == DefaultChain, warn: p.Warn}
	cfg, err := loadConfig(ctx, p.Region, hook, p.Proxy, shared, p.Log, p.LoadOptions...)
	if err != nil {
		return nil, err
	}
	if hook != nil && hook.loaded(cfg) {
		hook.opener.Open(ctx, stsEndpoint(ctx, cfg, p.DualStack))
		if p.Warm != nil {
			p.Warm(ctx, cfg, hook.opener)
		}
	}
	r.cfg = cfg
	roles, err := r.exchange(ctx, token)
	if err != nil {
		return nil, err
	}
	if err := r.chain(ctx, roles); err != nil {
		return nil, err
	}
	if err := r.check(ctx); err != nil {
		return nil, err
	}
	r.cfg.Credentials = aws.NewCredentialsCache(credentials.StaticCredentialsProvider{Value: r.creds})
	r.s.Config = r.cfg
	r.s.Credentials = r.creds
	r.s.Source = strings.Join(r.steps, " -> ")
	return &r.s, nil
}

// resolution is one Resolve under way: the credentials so far and how
// they were obtained.
type resolution struct {
	p         Params
	cfg       aws.Config
	mask      func(string)
	dualStack func(base **string, use *aws.DualStackEndpointState)
	s         Session
	steps     []string
	creds     aws.Credentials
	fromRole  bool // the current credentials are a role session
}

// take makes c the current credentials, masked, obtained by step.
func (r *resolution) take(c aws.Credentials, step ...string) {
	r.mask(c.AccessKeyID)
	r.mask(c.SecretAccessKey)
	r.mask(c.SessionToken)
	r.creds = c
	r.steps = append(r.steps, step...)
}

// client is an STS client with the current credentials.
func (r *resolution) client() *sts.Client {
	return sts.NewFromConfig(r.cfg, func(o *sts.Options) {
		o.Credentials = aws.NewCredentialsCache(credentials.StaticCredentialsProvider{Value: r.creds})
		r.dualStack(&o.BaseEndpoint, &o.EndpointOptions.UseDualStackEndpoint)
	})
}

// exchange gets the base identity's credentials: the web identity token
// exchanged for role-to-assume, the static keys, or the SDK's default
// chain. It returns the roles left to assume: the chain, after
// role-to-assume unless the exchange assumed it.
func (r *resolution) exchange(ctx context.Context, token *tokenRequest) ([]inputs.RoleARN, error) {
	p := r.p
	roles := p.Chain
	switch p.Base.Kind {
	case WebIdentity:
		if p.Role.ARN == "" {
			return nil, &problem.Problem{Code: problem.MissingSetting, What: "a web identity token needs a role to assume",
				Fix: "Set role-to-assume to the ARN of an IAM role that trusts this CI's OIDC provider."}
		}
		token, err := token.wait()
		if err != nil {
			return nil, err
		}
		policy := ""
		if len(roles) == 0 {
			policy = p.Policy
		}
		client := sts.NewFromConfig(r.cfg, func(o *sts.Options) { r.dualStack(&o.BaseEndpoint, &o.EndpointOptions.UseDualStackEndpoint) })
		out, err := client.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn:          aws.String(p.Role.ARN),
			RoleSessionName:  aws.String(p.SessionName),
			WebIdentityToken: aws.String(token),
			DurationSeconds:  aws.Int32(int32(p.Duration / time.Second)),
			Policy:           optional(policy),
			PolicyArns:       policyARNs(p.PolicyARNs, len(roles) == 0),
		})
		if err != nil {
			return nil, webIdentityProblem(err, p.Role, token)
		}
		creds, err := fromSTS(out.Credentials, "AssumeRoleWithWebIdentity")
		if err != nil {
			return nil, err
		}
		r.take(creds, p.Base.WebIdentity.String(), "sts:AssumeRoleWithWebIdentity "+p.Role.ARN)
		r.s.RoleARN, r.s.AccountID, r.fromRole = p.Role.ARN, p.Role.AccountID, true
		r.s.AuthenticatedARN = assumedARN(out.AssumedRoleUser)
		return roles, nil
	case Static:
		r.take(p.Base.Static, "static access keys")
	case DefaultChain:
		if r.cfg.Credentials == nil {
			return nil, noCredentials(nil)
		}
		creds, err := r.cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return nil, credentialFailure(err)
		}
		r.take(creds, "AWS SDK default chain ("+describeProvider(creds.Source)+")")
		r.fromRole = creds.SessionToken != ""
	}
	if p.Role.ARN != "" {
		roles = append([]inputs.RoleARN{p.Role}, roles...)
	}
	return roles, nil
}

// chain assumes each role in turn, each with the credentials of the one
// before; the last gets the session policies.
func (r *resolution) chain(ctx context.Context, roles []inputs.RoleARN) error {
	p := r.p
	for i, role := range roles {
		client := r.client()
		d := p.Duration
		if r.fromRole && d > time.Hour {
			d = time.Hour // STS caps role chaining at one hour
		}
		in := &sts.AssumeRoleInput{
			RoleArn:         aws.String(role.ARN),
			RoleSessionName: aws.String(p.SessionName),
			DurationSeconds: aws.Int32(int32(d / time.Second)),
			ExternalId:      optional(p.ExternalID),
			SourceIdentity:  optional(p.SourceIdentity),
		}
		for _, t := range p.Tags {
			in.Tags = append(in.Tags, ststypes.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
		}
		if i == len(roles)-1 {
			in.Policy = optional(p.Policy)
			in.PolicyArns = policyARNs(p.PolicyARNs, true)
		}
		out, err := client.AssumeRole(ctx, in)
		var tooLarge *ststypes.PackedPolicyTooLargeException
		if errors.As(err, &tooLarge) && dropTags(in, p.DroppableTags) {
			// As configure-aws-credentials does: drop the convenience
			// tags and try once more.
			out, err = client.AssumeRole(ctx, in)
		}
		if err != nil {
			return stsProblem(err, "AssumeRole", role)
		}
		creds, err := fromSTS(out.Credentials, "AssumeRole")
		if err != nil {
			return err
		}
		r.take(creds, "sts:AssumeRole "+role.ARN)
		r.s.RoleARN, r.s.AccountID, r.fromRole = role.ARN, role.AccountID, true
		r.s.AuthenticatedARN = assumedARN(out.AssumedRoleUser)
	}
	return nil
}

// check learns the account and principal of the final credentials when
// they are needed and not known (sts:GetCallerIdentity), and refuses an
// account allowed-account-ids does not list.
func (r *resolution) check(ctx context.Context) error {
	p, s := r.p, &r.s
	if (s.AccountID == "" || s.AuthenticatedARN == "") && (p.NeedIdentity || len(p.AllowedAccounts) > 0) {
		id, err := r.client().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return stsProblem(err, "GetCallerIdentity", inputs.RoleARN{})
		}
		s.AccountID, s.AuthenticatedARN = aws.ToString(id.Account), aws.ToString(id.Arn)
		if p.MaskAccount != nil {
			p.MaskAccount(s.AccountID)
		}
	}
	if len(p.AllowedAccounts) > 0 && !slices.Contains(p.AllowedAccounts, s.AccountID) {
		return &problem.Problem{Code: problem.AccountNotAllowed,
			What: fmt.Sprintf("the AWS credentials belong to account %s, which allowed-account-ids does not list", s.AccountID),
			Fix:  "Check that role-to-assume (or the credentials given) is the role of the intended account, or add the account to allowed-account-ids."}
	}
	return nil
}

// DualStackOption returns what a service client's options function calls
// with its BaseEndpoint and UseDualStackEndpoint: with on, the dual-stack
// endpoint is used, unless an endpoint URL is configured
// (AWS_ENDPOINT_URL*), which wins (the SDK cannot combine the two, and
// would fail even for AWS_USE_DUALSTACK_ENDPOINT alone).
func DualStackOption(on bool) func(base **string, use *aws.DualStackEndpointState) {
	return func(base **string, use *aws.DualStackEndpointState) {
		switch {
		case *base != nil:
			*use = aws.DualStackEndpointStateDisabled // also against AWS_USE_DUALSTACK_ENDPOINT
		case on:
			*use = aws.DualStackEndpointStateEnabled
		}
	}
}

// policyARNs are the PolicyArns of a call: only for the final session.
func policyARNs(arns []string, final bool) []ststypes.PolicyDescriptorType {
	if !final {
		return nil
	}
	var out []ststypes.PolicyDescriptorType
	for _, a := range arns {
		out = append(out, ststypes.PolicyDescriptorType{Arn: aws.String(a)})
	}
	return out
}

// dropTags removes the droppable tags from in and reports whether any was
// there.
func dropTags(in *sts.AssumeRoleInput, droppable map[string]bool) bool {
	kept := in.Tags[:0:0]
	for _, t := range in.Tags {
		if !droppable[aws.ToString(t.Key)] {
			kept = append(kept, t)
		}
	}
	dropped := len(kept) < len(in.Tags)
	in.Tags = kept
	return dropped
}

func assumedARN(u *ststypes.AssumedRoleUser) string {
	if u == nil {
		return ""
	}
	return aws.ToString(u.Arn)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func fromSTS(c *ststypes.Credentials, op string) (aws.Credentials, error) {
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil {
		return aws.Credentials{}, problem.New(problem.STSFailed, "", "STS answered "+op+" without credentials", "Re-run the job; if it persists, report it.")
	}
	return aws.Credentials{
		AccessKeyID:     aws.ToString(c.AccessKeyId),
		SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken:    aws.ToString(c.SessionToken),
		Source:          op,
		CanExpire:       c.Expiration != nil,
		Expires:         aws.ToTime(c.Expiration),
	}, nil
}

// describeProvider names an SDK credential provider for people.
func describeProvider(source string) string {
	switch {
	case strings.Contains(source, "EnvConfig"):
		return "environment variables"
	case strings.Contains(source, "SharedConfig"), strings.Contains(source, "SharedCredentials"):
		return "shared config/credentials files"
	case strings.Contains(source, "EC2RoleProvider"):
		return "EC2 instance role"
	case strings.Contains(source, "CredentialsEndpointProvider"), strings.Contains(source, "Endpoint"):
		return "ECS container credentials"
	case strings.Contains(source, "WebIdentity"):
		return "web identity token file"
	case strings.Contains(source, "SSO"):
		return "IAM Identity Center (SSO)"
	case strings.Contains(source, "Process"):
		return "credential_process"
	case source == "":
		return "unknown provider"
	}
	return source
}

func noCredentials(err error) *problem.Problem {
	return &problem.Problem{Code: problem.NoCredentials, Err: err,
		What: "no AWS credentials found",
		Fix: "In GitHub Actions set role-to-assume (and `permissions: id-token: write`); elsewhere give role-to-assume with a web identity token " +
			"(web-identity-token-file / web-identity-token-env), run on an EC2 instance or ECS task with a role, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."}
}
