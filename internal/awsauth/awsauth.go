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
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/oidc"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// Params says how to get credentials.
type Params struct {
	Region      string
	Role        inputs.RoleARN // zero: no role to assume
	SessionName string
	Duration    time.Duration
	// WebIdentity yields the token for AssumeRoleWithWebIdentity. Required
	// when Role is set.
	WebIdentity oidc.Source
	// Mask is called with every secret as soon as it is known.
	Mask func(string)
	// LoadOptions are added to the SDK's config loading (tests, CLI).
	LoadOptions []func(*config.LoadOptions) error
}

// Session is the outcome: an SDK configuration carrying the credentials,
// and what to tell the user about them.
type Session struct {
	Config aws.Config
	// Source says where the credentials came from, for the log.
	Source string
	// RoleARN is the role assumed ("" if none).
	RoleARN string
	// AssumedRoleARN is the STS session ARN (arn:aws:sts::...:assumed-role/...).
	AssumedRoleARN string
	// AccountID is the account of the credentials, when known.
	AccountID string
	// Credentials are the final credentials (already masked).
	Credentials aws.Credentials
}

// NewRetryer is the retry policy for every AWS call: the SDK's standard
// retryer (throttling, 5xx, timeouts, connection resets; never access
// denied or validation errors) with more attempts and a longer cap than the
// default, because one failed login fails a whole pipeline. The overall
// deadline is the context's. Client-side retry rate limiting is off: a
// single short-lived process gains nothing from it.
func NewRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 8
		o.MaxBackoff = 5 * time.Second
		o.RateLimiter = ratelimit.None
		o.Retryables = append(o.Retryables, retry.RetryableErrorCode{Codes: map[string]struct{}{
			"IDPCommunicationError": {}, // STS could not reach the OIDC provider: transient
		}})
	})
}

// LoadConfig loads the SDK configuration for region with our retry policy.
func LoadConfig(ctx context.Context, region string, extra ...func(*config.LoadOptions) error) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithRetryer(NewRetryer),
	}
	opts = append(opts, extra...)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, problem.Wrap(problem.InvalidSetting, err, "loading the AWS SDK configuration failed",
			"Check the AWS_* environment variables and any AWS config files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE).")
	}
	return cfg, nil
}

// Resolve gets the credentials.
func Resolve(ctx context.Context, p Params) (*Session, error) {
	mask := p.Mask
	if mask == nil {
		mask = func(string) {}
	}
	cfg, err := LoadConfig(ctx, p.Region, p.LoadOptions...)
	if err != nil {
		return nil, err
	}
	if p.Role.ARN == "" {
		return nil, &problem.Problem{
			Code: problem.MissingSetting,
			What: "no role to assume",
			Fix:  "Set role-to-assume to the ARN of an IAM role that trusts this CI's OIDC provider.",
		}
	}
	if p.WebIdentity == nil {
		return nil, problem.New(problem.NoCredentials, "", "no web identity token source for role "+p.Role.ARN,
			"Run in GitHub Actions with `permissions: id-token: write`, or give a web identity token file.")
	}
	token, err := p.WebIdentity.Token(ctx)
	if err != nil {
		return nil, err
	}
	client := sts.NewFromConfig(cfg)
	out, err := client.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          aws.String(p.Role.ARN),
		RoleSessionName:  aws.String(p.SessionName),
		WebIdentityToken: aws.String(token),
		DurationSeconds:  aws.Int32(int32(p.Duration / time.Second)),
	})
	if err != nil {
		return nil, stsProblem(err, p)
	}
	if out.Credentials == nil || out.Credentials.AccessKeyId == nil || out.Credentials.SecretAccessKey == nil {
		return nil, problem.New(problem.STSFailed, "", "STS answered AssumeRoleWithWebIdentity without credentials", "Re-run the job; if it persists, report it.")
	}
	c := out.Credentials
	creds := aws.Credentials{
		AccessKeyID:     aws.ToString(c.AccessKeyId),
		SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken:    aws.ToString(c.SessionToken),
		Source:          "AssumeRoleWithWebIdentity",
		CanExpire:       c.Expiration != nil,
		Expires:         aws.ToTime(c.Expiration),
	}
	mask(creds.AccessKeyID)
	mask(creds.SecretAccessKey)
	mask(creds.SessionToken)

	cfg.Credentials = aws.NewCredentialsCache(credentials.StaticCredentialsProvider{Value: creds})
	s := &Session{
		Config:      cfg,
		Source:      p.WebIdentity.String() + " -> sts:AssumeRoleWithWebIdentity",
		RoleARN:     p.Role.ARN,
		AccountID:   p.Role.AccountID,
		Credentials: creds,
	}
	if u := out.AssumedRoleUser; u != nil {
		s.AssumedRoleARN = aws.ToString(u.Arn)
	}
	return s, nil
}

// stsProblem explains an AssumeRoleWithWebIdentity failure.
func stsProblem(err error, p Params) error {
	if e := timeoutProblem(err, "STS AssumeRoleWithWebIdentity"); e != nil {
		return e
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return problem.Wrap(problem.STSFailed, err, "STS AssumeRoleWithWebIdentity failed",
			"Check network access to STS (AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL if set) and re-run.")
	}
	msg := fmt.Errorf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	switch ae.ErrorCode() {
	case "AccessDenied", "AccessDeniedException":
		return &problem.Problem{
			Code: problem.AssumeRoleDenied, Err: msg,
			What: fmt.Sprintf("STS refused to let this job assume %s", p.Role.ARN),
			Fix: "Check the role's trust policy: its Principal must be the OIDC provider (arn:aws:iam::" + p.Role.AccountID +
				":oidc-provider/token.actions.githubusercontent.com for GitHub), and its conditions on the token's `sub` (e.g. repo:OWNER/REPO:ref:refs/heads/main) and `aud` must match this job.",
		}
	case "InvalidIdentityToken":
		return &problem.Problem{
			Code: problem.InvalidIdentityToken, Err: msg,
			What: "STS rejected the web identity token",
			Fix:  "Make sure the account has an IAM OIDC identity provider for this token's issuer and that its audience list contains the `audience` setting (default sts.amazonaws.com).",
		}
	case "ExpiredTokenException":
		return &problem.Problem{
			Code: problem.InvalidIdentityToken, Err: msg,
			What: "the web identity token had expired when STS received it",
			Fix:  "Re-run the job. If it keeps happening, check the runner's clock, or that a token file is refreshed.",
		}
	case "IDPCommunicationError":
		return &problem.Problem{
			Code: problem.STSFailed, Err: msg,
			What: "STS could not reach the OIDC provider to check the token",
			Fix:  "This is usually temporary: re-run the job.",
		}
	case "ValidationError":
		fix := "Check role-to-assume and role-session-name."
		if strings.Contains(ae.ErrorMessage(), "DurationSeconds") {
			fix = "Lower role-duration-seconds to at most the role's maximum session duration (1 hour unless raised in IAM)."
		}
		return &problem.Problem{Code: problem.InvalidSetting, Err: msg, What: "STS refused the request", Fix: fix}
	}
	return problem.Wrap(problem.STSFailed, msg, "STS AssumeRoleWithWebIdentity failed", "Re-run the job; if it persists, check the AWS status page.")
}

// timeoutProblem recognises a context deadline or cancellation.
func timeoutProblem(err error, waitingFor string) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &problem.Problem{Code: problem.Timeout, Err: err,
			What: "gave up waiting for " + waitingFor,
			Fix:  "The endpoint was slow or unreachable within the `timeout` setting; raise it, or check network access and AWS_ENDPOINT_URL*."}
	case errors.Is(err, context.Canceled):
		return &problem.Problem{Code: problem.Timeout, Err: err, What: "cancelled while waiting for " + waitingFor}
	}
	return nil
}

// TimeoutProblem is timeoutProblem for other packages.
func TimeoutProblem(err error, waitingFor string) error { return timeoutProblem(err, waitingFor) }
