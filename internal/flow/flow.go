// Package flow is the run's one-way path: settings -> AWS credentials
// (awsauth, oidc) -> registry logins (ecr). Run takes the loaded settings
// and returns the logins every sink writes; it writes nothing itself but
// the console's lines.
package flow

import (
	"context"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/ecr-credentials/ecr-credentials/internal/awsauth"
	"github.com/ecr-credentials/ecr-credentials/internal/ecr"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/oidc"
	"github.com/ecr-credentials/ecr-credentials/internal/output"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
	"github.com/ecr-credentials/ecr-credentials/internal/registry"
)

// Env is what the flow takes from its process: the environment (the
// GitHub job's tags, the token request variables, other CIs' tokens,
// proxies).
type Env struct {
	Getenv func(string) string
}

// Result is what the flow produced, before any sink has written anything.
type Result struct {
	Session *awsauth.Session
	// Logins are the registries' logins, in the order of the registries
	// setting (one, the credentials' own registry, when it is empty).
	Logins []Login
	// JSON is the rendered blob (already masked).
	JSON string
	// Base is the base identity the run started from.
	Base awsauth.Base
}

// Login is one registry's login, with the identity (as the registries
// setting names it; the main one for most) and the session that obtained it.
type Login struct {
	ecr.Login
	Identity inputs.Identity
	Session  *awsauth.Session
}

// ECRLogins are the logins alone, in order, for the sinks that write them.
func (r *Result) ECRLogins() []ecr.Login {
	out := make([]ecr.Login, len(r.Logins))
	for i, l := range r.Logins {
		out[i] = l.Login
	}
	return out
}

// Run runs settings -> credentials -> logins -> their check: with verify,
// when the logins go to a docker config or registry auth file, each is
// tried at its registry before Run returns (on the connections opened for
// it ahead, through the run's proxy), so a sink writes only logins that
// work. Nothing of the run is left open in the Result.
func Run(ctx context.Context, cfg *inputs.Config, e Env, con *output.Console) (*Result, error) {
	// One proxy decision for every connection of the run.
	proxy := awsauth.NewProxy(cfg.HTTPProxy, cfg.NoProxy, e.Getenv)
	res, conns, err := obtain(ctx, cfg, e, con, proxy)
	if err != nil {
		return nil, err
	}
	if verifies(cfg) {
		if err := verifyAll(ctx, res.Logins, cfg.Timeout, conns, proxy); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// verifies reports whether the run checks its logins: with verify, when
// they go to a docker login or a registry auth file.
func verifies(cfg *inputs.Config) bool {
	return cfg.Verify && (cfg.DockerLogin || cfg.RegistryAuthFile != "")
}

// obtain runs settings -> credentials -> logins. Every secret is masked on
// the console as soon as it is known; registry passwords, tokens and the
// JSON blob go through maskRegistry instead (see mask-password).
//
// Registries that name their own identity (registries entry =<role> or
// =profile:<name>) are grouped by it: one STS call per distinct role, all
// identities at once, and within each one GetAuthorizationToken per
// region (ecr.Fetch). Any failure fails the whole run.
func obtain(ctx context.Context, cfg *inputs.Config, e Env, con *output.Console, proxy *awsauth.Proxy) (*Result, *ahead, error) {
	maskRegistry := MaskRegistry(cfg, con)
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	maskAccount := MaskAccounts(cfg, con)
	groups := identityGroups(cfg)
	tags := DefaultSessionTags(cfg, e)
	base, err := chooseBase(baseConfig(cfg, groups), e, con, proxy)
	if err != nil {
		return nil, nil, err
	}
	for _, secret := range []string{cfg.Static.AccessKeyID, cfg.Static.SecretAccessKey, cfg.Static.SessionToken} {
		con.Mask(secret)
	}
	if base.Kind == awsauth.WebIdentity && len(groups) > 1 {
		// One token for every role: the GitHub runtime is asked once.
		base.WebIdentity = &OnceSource{Source: base.WebIdentity}
	}

	// The registries' connections are for verify, Run's last step.
	conns := openAhead(base, verifies(cfg), proxy)
	defer conns.doneWithAWS()
	ok := false
	defer func() {
		if !ok {
			conns.close()
		}
	}()

	type outcome struct {
		sess   *awsauth.Session
		logins []ecr.Login
		err    error
	}
	outcomes := make([]outcome, len(groups))
	var warned sync.Map // each warning once, however many identities meet it
	warnOnce := func(msg string) {
		if _, seen := warned.LoadOrStore(msg, true); !seen {
			con.Warnf("%s", msg)
		}
	}
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Go(func() {
			regs := make([]registry.Registry, len(g.regs))
			for k, idx := range g.regs {
				regs[k] = cfg.Registries[idx]
			}
			params := identityParams(cfg, base, tags, g.id, con.Mask)
			params.Proxy = proxy
			params.MaskAccount = maskAccount
			params.Warn = warnOnce
			params.Log = con.Debugf // the SDK's own lines, never straight to stderr
			req := ecr.Request{Registries: regs, DefaultRegion: cfg.Region, CallerAccount: finalAccount(params), DualStack: cfg.DualStack, Mask: maskRegistry}
			params.Preconnect, params.Warm = conns.pool(), conns.warm(req)
			sess, err := awsauth.Resolve(ctx, params)
			if err != nil {
				outcomes[i].err = err
				return
			}
			req.CallerAccount = sess.AccountID
			logins, err := ecr.Fetch(ctx, sess.Config, req)
			for _, l := range logins {
				maskAccount(l.Registry.AccountID)
				if r, err := registry.ParseHost(l.Registry.Host); err == nil {
					maskAccount(r.AccountID) // the caller's own registry
				}
			}
			outcomes[i] = outcome{sess: sess, logins: logins, err: err}
		})
	}
	wg.Wait()

	var failures []error
	for i, o := range outcomes {
		if o.err == nil {
			continue
		}
		if !groups[i].id.IsMain() {
			p := *problem.As(o.err)
			p.What = "registries with identity " + groups[i].id.String() + ": " + p.What
			o.err = &p
		}
		failures = append(failures, o.err)
	}
	if len(failures) > 0 {
		return nil, nil, problem.Join(failures)
	}

	res := &Result{Logins: make([]Login, max(len(cfg.Registries), 1)), Base: base}
	for i, g := range groups {
		o := outcomes[i]
		note := ""
		if !g.id.IsMain() {
			note = " for " + strings.Join(hostsOf(cfg, g.regs), ", ")
		}
		con.Infof("AWS credentials%s: %s (%s; session %s)", note, o.sess.Source, base.Why, cfg.SessionName)
		if len(g.regs) == 0 {
			res.Logins[0] = Login{Login: o.logins[0], Session: o.sess} // the credentials' own registry
			continue
		}
		for k, idx := range g.regs {
			res.Logins[idx] = Login{Login: o.logins[k], Identity: g.id, Session: o.sess}
		}
	}
	blob, err := output.JSON(res.ECRLogins())
	if err != nil {
		return nil, nil, problem.Wrap(problem.Internal, err, "rendering the JSON output failed", "")
	}
	maskRegistry(blob)
	if st := conns.pool().Stats(); st.Opened > 0 {
		con.Debugf("connections opened ahead for STS and ECR: %d, taken: %d, failed: %d", st.Opened, st.Taken, st.Failed)
	}
	ok = true
	// The session handed to later steps (export-aws-credentials) is the
	// main identity's; when every registry names its own, the first's.
	res.Session, res.JSON = outcomes[0].sess, blob
	return res, conns, nil
}

// finalAccount is the account of the last role p assumes, known from the
// settings ("" without a role).
func finalAccount(p awsauth.Params) string {
	if n := len(p.Chain); n > 0 {
		return p.Chain[n-1].AccountID
	}
	return p.Role.AccountID
}

// identityGroup is the registries (indexes into cfg.Registries) that one
// identity logs in to; no indexes means the credentials' own registry.
type identityGroup struct {
	id   inputs.Identity
	regs []int
}

// identityGroups groups the registries by identity, the main identity
// first (when any registry uses it), then in the order given.
func identityGroups(cfg *inputs.Config) []identityGroup {
	if len(cfg.Registries) == 0 {
		return []identityGroup{{}}
	}
	var groups []identityGroup
	index := map[inputs.Identity]int{}
	for i, r := range cfg.Registries {
		id := cfg.IdentityFor(r.Host)
		g, ok := index[id]
		if !ok {
			g = len(groups)
			index[id] = g
			groups = append(groups, identityGroup{id: id})
		}
		groups[g].regs = append(groups[g].regs, i)
	}
	if m, ok := index[inputs.Identity{}]; ok && m != 0 {
		groups[0], groups[m] = groups[m], groups[0]
	}
	return groups
}

// baseConfig is the configuration the base identity is chosen from: when
// no registry uses role-to-assume and none is given, a registry's own role
// stands in for it (a web identity token needs a role to be exchanged for).
func baseConfig(cfg *inputs.Config, groups []identityGroup) *inputs.Config {
	if cfg.Role.ARN != "" || groups[0].id.IsMain() {
		return cfg
	}
	for _, g := range groups {
		if g.id.Role.ARN != "" {
			c := *cfg
			c.Role = g.id.Role
			return &c
		}
	}
	return cfg
}

// identityParams says how to get one identity's credentials: the main one
// as configured; a registry's role in place of role-to-assume (without
// the role chain), from the same base; a profile from the AWS config
// files.
func identityParams(cfg *inputs.Config, base awsauth.Base, tags SessionTags, id inputs.Identity, mask func(string)) awsauth.Params {
	p := awsauth.Params{
		Region:          cfg.Region,
		Base:            base,
		Role:            cfg.Role,
		Chain:           cfg.RoleChain,
		SessionName:     cfg.SessionName,
		Duration:        cfg.Duration,
		ExternalID:      cfg.ExternalID,
		SourceIdentity:  cfg.SourceIdentity,
		Tags:            tags.Tags,
		DroppableTags:   tags.Droppable,
		Policy:          cfg.SessionPolicy,
		PolicyARNs:      cfg.ManagedSessionPolicies,
		AllowedAccounts: cfg.AllowedAccountIDs,
		NeedIdentity:    cfg.Mode == inputs.GitHub, // aws-account-id and authenticated-arn outputs
		DualStack:       cfg.DualStack,
		Mask:            mask,
	}
	switch {
	case id.Profile != "":
		p.Base = awsauth.Base{Kind: awsauth.DefaultChain, Why: "profile " + id.Profile}
		p.Role, p.Chain = inputs.RoleARN{}, nil
		p.LoadOptions = []func(*config.LoadOptions) error{config.WithSharedConfigProfile(id.Profile)}
	case id.Role.ARN != "":
		p.Role, p.Chain = id.Role, nil
	}
	return p
}

func hostsOf(cfg *inputs.Config, regs []int) []string {
	hosts := make([]string, len(regs))
	for i, idx := range regs {
		hosts[i] = cfg.Registries[idx].Host
	}
	return hosts
}

// OnceSource hands out one token to every caller (the roles of one run
// share the job's token): Result.Base's web identity source when several
// roles are assumed.
type OnceSource struct {
	oidc.Source
	once  sync.Once
	token string
	err   error
}

func (o *OnceSource) Token(ctx context.Context) (string, error) {
	o.once.Do(func() { o.token, o.err = o.Source.Token(ctx) })
	return o.token, o.err
}

// MaskRegistry masks what is derived from registry passwords: with
// mask-password false (GitHub) it only hides it from our own log.
func MaskRegistry(cfg *inputs.Config, con *output.Console) func(string) {
	if cfg.Mode == inputs.GitHub && !cfg.MaskPassword {
		return con.Hide
	}
	return con.Mask
}

// SessionParams are the role session settings of identity id, as Run
// would ask STS for them (the base identity left out).
func SessionParams(cfg *inputs.Config, e Env, id inputs.Identity) awsauth.Params {
	return identityParams(cfg, awsauth.Base{}, DefaultSessionTags(cfg, e), id, nil)
}

// MaskAccounts implements mask-aws-account-id: every account is masked
// before the first line that may hold it. It masks those the settings
// name at once and returns the function that masks the ones STS or ECR
// tell later (the caller's own).
func MaskAccounts(cfg *inputs.Config, con *output.Console) func(string) {
	mask := func(id string) {
		if cfg.MaskAccountID && id != "" {
			con.Mask(id)
		}
	}
	for _, id := range cfg.AccountIDs() {
		mask(id)
	}
	return mask
}
