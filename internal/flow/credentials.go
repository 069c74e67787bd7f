package flow

import (
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/sethvargo/go-githubactions"

	"github.com/ecr-credentials/ecr-credentials/internal/awsauth"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/oidc"
	"github.com/ecr-credentials/ecr-credentials/internal/output"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// ciTokenVariables are web identity tokens other CIs put in the environment
// of every job that asks for one; with role-to-assume they are used
// without further settings.
var ciTokenVariables = []struct{ name, ci string }{
	{"CIRCLE_OIDC_TOKEN_V2", "CircleCI"},
	{"BITBUCKET_STEP_OIDC_TOKEN", "Bitbucket Pipelines"},
}

// A baseSource is one place the base AWS identity may come from. The
// sources are tried in order, as authn.NewMultiKeychain tries keychains
// and the SDK's default chain its providers: credential-source auto takes
// the first that applies; any other value takes the source of that name.
type baseSource struct {
	// name is the credential-source value that picks this source ("" for
	// one only auto picks).
	name inputs.BaseSource
	// why is the reason logged when auto picks it.
	why string
	// applies reports whether auto picks it.
	applies func(c *chooser) bool
	// check, when credential-source names it, says what it lacks (auto
	// picks it only when it lacks nothing).
	check func(c *chooser) error
	// build makes the base identity; why is the reason to log.
	build func(c *chooser, why string) (awsauth.Base, error)
}

// baseSources in the order auto tries them: first the settings that
// cannot be used as given, then static keys, the job's own OIDC token
// (whenever the token request variables are set), a token file, a token
// variable, another CI's token, the GitHub job's token (to say how to get
// it), and the SDK's default chain, which always applies.
var baseSources = func() []baseSource {
	list := []baseSource{
		{applies: (*chooser).tokenLacksRole, build: (*chooser).tokenWithoutRole},
		{applies: (*chooser).staticAndTokenGiven, build: (*chooser).staticAndToken},
		{name: inputs.SourceStatic,
			applies: (*chooser).staticGiven, build: (*chooser).static},
		{name: inputs.SourceGitHubOIDC, why: "GitHub Actions job with id-token: write",
			applies: withRole((*chooser).tokenRequestGiven), check: (*chooser).inGitHubJob, build: (*chooser).githubToken},
		{name: inputs.SourceWebIdentityFile, why: "web identity token file given",
			applies: withRole((*chooser).tokenFileNamed), check: (*chooser).tokenFileGiven, build: (*chooser).tokenFile},
		{name: inputs.SourceWebIdentityEnv, why: "web identity token variable given",
			applies: withRole((*chooser).tokenEnvNamed), check: (*chooser).tokenEnvGiven, build: (*chooser).tokenEnv},
	}
	for _, v := range ciTokenVariables {
		list = append(list, baseSource{why: v.ci + " OIDC token found",
			applies: withRole(func(c *chooser) bool { return c.e.Getenv(v.name) != "" }),
			build:   func(c *chooser, why string) (awsauth.Base, error) { return c.webIdentity(c.envToken(v.name), why) }})
	}
	return append(list,
		// In GitHub mode with a role, no token and no keys: the GitHub
		// token, whose request then fails saying how to get it.
		baseSource{why: "GitHub Actions job",
			applies: withRole((*chooser).githubWithoutKeys), build: (*chooser).githubToken},
		baseSource{name: inputs.SourceDefaultChain, why: "no explicit credentials",
			applies: func(*chooser) bool { return true }, build: (*chooser).defaultChain},
	)
}()

// withRole applies f only with role-to-assume: a token is exchanged for it.
func withRole(f func(c *chooser) bool) func(c *chooser) bool {
	return func(c *chooser) bool { return c.cfg.Role.ARN != "" && f(c) }
}

// chooseBase decides where the first AWS identity comes from: the source
// credential-source names, or (auto) the first of baseSources that
// applies. The GitHub token request goes through proxy.
func chooseBase(cfg *inputs.Config, e Env, con *output.Console, proxy *awsauth.Proxy) (awsauth.Base, error) {
	c := &chooser{cfg: cfg, e: e, con: con, github: &oidc.GitHub{
		Action: githubactions.New(
			githubactions.WithGetenv(e.Getenv),
			githubactions.WithHTTPClient(&http.Client{Timeout: awsauth.AttemptTimeoutFor(cfg.Timeout), Transport: awsauth.Transport(proxy)}),
		),
		Audience: cfg.Audience,
		Mask:     con.Mask,
	}}
	if cfg.CredentialSource != inputs.SourceAuto {
		for _, s := range baseSources {
			if s.name != "" && s.name == cfg.CredentialSource {
				if s.check != nil {
					if err := s.check(c); err != nil {
						return awsauth.Base{}, err
					}
				}
				return s.build(c, "credential-source "+string(s.name))
			}
		}
	}
	for _, s := range baseSources {
		if s.applies(c) {
			return s.build(c, s.why)
		}
	}
	panic("chooseBase: the default chain always applies")
}

// chooser is what the base sources are built from.
type chooser struct {
	cfg    *inputs.Config
	e      Env
	con    *output.Console
	github *oidc.GitHub
}

func (c *chooser) spell(s *inputs.Setting) string { return c.cfg.Describe(s) }

func (c *chooser) tokenGiven() bool {
	return c.cfg.WebIdentityTokenFile != "" || c.cfg.WebIdentityTokenEnv != ""
}

func (c *chooser) envToken(name string) *oidc.Env {
	return &oidc.Env{Name: name, Getenv: c.e.Getenv, Mask: c.con.Mask}
}

func (c *chooser) tokenLacksRole() bool {
	return c.tokenGiven() && !c.cfg.Static.Given() && c.cfg.Role.ARN == ""
}

func (c *chooser) staticAndTokenGiven() bool { return c.tokenGiven() && c.cfg.Static.Given() }
func (c *chooser) staticGiven() bool         { return c.cfg.Static.Given() }
func (c *chooser) tokenRequestGiven() bool   { return c.github.Available() }
func (c *chooser) tokenFileNamed() bool      { return c.cfg.WebIdentityTokenFile != "" }
func (c *chooser) tokenEnvNamed() bool       { return c.cfg.WebIdentityTokenEnv != "" }

func (c *chooser) githubWithoutKeys() bool {
	return c.cfg.Mode == inputs.GitHub && c.e.Getenv("AWS_ACCESS_KEY_ID") == ""
}

// githubToken: the GitHub job's OIDC token.
func (c *chooser) githubToken(why string) (awsauth.Base, error) { return c.webIdentity(c.github, why) }

// tokenEnv: the token in the variable web-identity-token-env names.
func (c *chooser) tokenEnv(why string) (awsauth.Base, error) {
	return c.webIdentity(c.envToken(c.cfg.WebIdentityTokenEnv), why)
}

// defaultChain: the SDK's default chain.
func (c *chooser) defaultChain(why string) (awsauth.Base, error) {
	return awsauth.Base{Kind: awsauth.DefaultChain, Why: why}, nil
}

// static: the access keys given, both of them; the reason logged is the
// same however it was picked.
func (c *chooser) static(string) (awsauth.Base, error) {
	k := c.cfg.Static
	if k.AccessKeyID == "" || k.SecretAccessKey == "" {
		return awsauth.Base{}, &problem.Problem{Code: problem.MissingSetting,
			Subject: c.spell(inputs.AWSAccessKeyID) + " / " + c.spell(inputs.AWSSecretAccessKey),
			What:    "static credentials need both an access key ID and a secret access key",
			Fix:     "Give both, or neither (to use another credential source)."}
	}
	c.con.Warnf("Using long-lived static access keys, the weakest option: prefer role-to-assume with an OIDC token, or an instance role.")
	return awsauth.Base{Kind: awsauth.Static, Why: "static keys given", Static: aws.Credentials{
		AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey, SessionToken: k.SessionToken, Source: "settings"}}, nil
}

// webIdentity: the token src, exchanged for role-to-assume.
func (c *chooser) webIdentity(src oidc.Source, why string) (awsauth.Base, error) {
	if c.cfg.Role.ARN == "" {
		return awsauth.Base{}, &problem.Problem{Code: problem.MissingSetting, Subject: c.spell(inputs.RoleToAssume),
			What: "a web identity token (" + src.String() + ") needs a role to assume",
			Fix:  fmt.Sprintf("Set %s to the ARN of the IAM role that trusts this token's issuer.", c.spell(inputs.RoleToAssume))}
	}
	return awsauth.Base{Kind: awsauth.WebIdentity, WebIdentity: src, Why: why}, nil
}

// inGitHubJob: the GitHub job's OIDC token, which only a GitHub job has.
func (c *chooser) inGitHubJob() error {
	if c.cfg.Mode != inputs.GitHub && c.e.Getenv("GITHUB_ACTIONS") != "true" {
		return &problem.Problem{Code: problem.ConflictingSettings, Subject: c.spell(inputs.CredentialSource),
			What: "github-oidc works only inside a GitHub Actions job", Fix: "Use web-identity-file or web-identity-env with this CI's token, or auto."}
	}
	return nil
}

func (c *chooser) tokenFileGiven() error {
	if c.cfg.WebIdentityTokenFile == "" {
		return problem.New(problem.MissingSetting, c.spell(inputs.WebIdentityTokenFile), "credential-source web-identity-file needs a token file", "Set "+c.spell(inputs.WebIdentityTokenFile)+".")
	}
	return nil
}

func (c *chooser) tokenEnvGiven() error {
	if c.cfg.WebIdentityTokenEnv == "" {
		return problem.New(problem.MissingSetting, c.spell(inputs.WebIdentityTokenEnv), "credential-source web-identity-env needs the variable's name", "Set "+c.spell(inputs.WebIdentityTokenEnv)+".")
	}
	return nil
}

// tokenFile: the token in web-identity-token-file.
func (c *chooser) tokenFile(why string) (awsauth.Base, error) {
	return c.webIdentity(&oidc.File{Path: c.cfg.WebIdentityTokenFile, Subject: c.spell(inputs.WebIdentityTokenFile), Mask: c.con.Mask}, why)
}

// tokenWithoutRole: auto with a token given but no role to exchange it for.
func (c *chooser) tokenWithoutRole(string) (awsauth.Base, error) {
	subject := c.spell(inputs.WebIdentityTokenFile)
	if c.cfg.WebIdentityTokenEnv != "" {
		subject = c.spell(inputs.WebIdentityTokenEnv)
	}
	return awsauth.Base{}, &problem.Problem{Code: problem.MissingSetting, Subject: subject,
		What: "a web identity token is given but no role to exchange it for",
		Fix:  fmt.Sprintf("Set %s to the ARN of the IAM role that trusts this token's issuer (or AWS_ROLE_ARN).", c.spell(inputs.RoleToAssume))}
}

// staticAndToken: auto with both static keys and a token given.
func (c *chooser) staticAndToken(string) (awsauth.Base, error) {
	return awsauth.Base{}, &problem.Problem{Code: problem.ConflictingSettings,
		Subject: c.spell(inputs.AWSAccessKeyID) + " and a web identity token",
		What:    "both static access keys and a web identity token are set",
		Fix:     "Keep one: remove the static keys to use the token with role-to-assume, or remove the token settings (and AWS_WEB_IDENTITY_TOKEN_FILE) to use the keys."}
}
