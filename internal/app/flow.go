package app

import (
	"context"
	"fmt"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/awsauth"
	"github.com/ecr-credentials/ecr-credentials/internal/ecr"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/output"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// Result is what the flow produced, before any sink has written anything.
type Result struct {
	Session *awsauth.Session
	Logins  []ecr.Login
	// JSON is the rendered blob (already masked).
	JSON string
}

// flow runs settings -> credentials -> logins. Every secret is masked on
// the console as soon as it is known; registry passwords, tokens and the
// JSON blob go through maskRegistry instead (see mask-password).
func flow(ctx context.Context, cfg *inputs.Config, e Env, con *output.Console, maskRegistry func(string)) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	base, err := chooseBase(cfg, e, con)
	if err != nil {
		return nil, err
	}
	for _, secret := range []string{cfg.Static.AccessKeyID, cfg.Static.SecretAccessKey, cfg.Static.SessionToken} {
		con.Mask(secret)
	}
	sess, err := awsauth.Resolve(ctx, awsauth.Params{
		Region:         cfg.Region,
		Base:           base,
		Role:           cfg.Role,
		Chain:          cfg.RoleChain,
		SessionName:    cfg.SessionName,
		Duration:       cfg.Duration,
		ExternalID:     cfg.ExternalID,
		SourceIdentity: cfg.SourceIdentity,
		Tags:           cfg.SessionTags,
		Policy:         cfg.SessionPolicy,
		Mask:           con.Mask,
	})
	if err != nil {
		return nil, err
	}
	con.Infof("AWS credentials: %s (%s; session %s)", sess.Source, base.Why, cfg.SessionName)

	logins, err := ecr.Fetch(ctx, sess.Config, ecr.Request{
		Registries:    cfg.Registries,
		DefaultRegion: cfg.Region,
		CallerAccount: sess.AccountID,
		Mask:          maskRegistry,
	})
	if err != nil {
		return nil, err
	}
	blob, err := output.JSON(logins)
	if err != nil {
		return nil, problem.Wrap(problem.Internal, err, "rendering the JSON output failed", "")
	}
	maskRegistry(blob)
	return &Result{Session: sess, Logins: logins, JSON: blob}, nil
}

// describeExpiry renders "2026-11-25T09:41:00Z (in 11h59m)".
func describeExpiry(t, now time.Time) string {
	d := t.Sub(now).Round(time.Minute)
	if d < 0 {
		return fmt.Sprintf("%s (expired)", output.FormatTime(t))
	}
	return fmt.Sprintf("%s (in %s)", output.FormatTime(t), shortDuration(d))
}

func shortDuration(d time.Duration) string {
	h := int(d / time.Hour)
	m := int((d % time.Hour) / time.Minute)
	if h == 0 {
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%dh%02dm", h, m)
}
