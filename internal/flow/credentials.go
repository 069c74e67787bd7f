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

// chooseBase decides where the first AWS identity comes from: the
// credential-source setting, or (auto) the first of static keys, the
// GitHub OIDC token, a web identity token file or variable, and the SDK
// default chain. The GitHub token request goes through proxy.
func chooseBase(cfg *inputs.Config, e Env, con *output.Console, proxy *awsauth.Proxy) (awsauth.Base, error) {
	spell := cfg.Describe
	github := &oidc.GitHub{
		Action: githubactions.New(
			githubactions.WithGetenv(e.Getenv),
			githubactions.WithHTTPClient(&http.Client{Timeout: awsauth.AttemptTimeoutFor(cfg.Timeout), Transport: awsauth.Transport(proxy)}),
		),
		Audience: cfg.Audience,
		Mask:     con.Mask,
	}
	file := func() *oidc.File {
		return &oidc.File{Path: cfg.WebIdentityTokenFile, Subject: spell(inputs.WebIdentityTokenFile), Mask: con.Mask}
	}
	envToken := func(name string) *oidc.Env { return &oidc.Env{Name: name, Getenv: e.Getenv, Mask: con.Mask} }
	static := func() (awsauth.Base, error) {
		k := cfg.Static
		if k.AccessKeyID == "" || k.SecretAccessKey == "" {
			return awsauth.Base{}, &problem.Problem{Code: problem.MissingSetting,
				Subject: spell(inputs.AWSAccessKeyID) + " / " + spell(inputs.AWSSecretAccessKey),
				What:    "static credentials need both an access key ID and a secret access key",
				Fix:     "Give both, or neither (to use another credential source)."}
		}
		con.Warnf("Using long-lived static access keys, the weakest option: prefer role-to-assume with an OIDC token, or an instance role.")
		return awsauth.Base{Kind: awsauth.Static, Why: "static keys given", Static: aws.Credentials{
			AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey, SessionToken: k.SessionToken, Source: "settings"}}, nil
	}
	webIdentity := func(src oidc.Source, why string) (awsauth.Base, error) {
		if cfg.Role.ARN == "" {
			return awsauth.Base{}, &problem.Problem{Code: problem.MissingSetting, Subject: spell(inputs.RoleToAssume),
				What: "a web identity token (" + src.String() + ") needs a role to assume",
				Fix:  fmt.Sprintf("Set %s to the ARN of the IAM role that trusts this token's issuer.", spell(inputs.RoleToAssume))}
		}
		return awsauth.Base{Kind: awsauth.WebIdentity, WebIdentity: src, Why: why}, nil
	}
	tokenGiven := cfg.WebIdentityTokenFile != "" || cfg.WebIdentityTokenEnv != ""

	switch cfg.CredentialSource {
	case inputs.SourceStatic:
		return static()
	case inputs.SourceGitHubOIDC:
		if cfg.Mode != inputs.GitHub && e.Getenv("GITHUB_ACTIONS") != "true" {
			return awsauth.Base{}, &problem.Problem{Code: problem.ConflictingSettings, Subject: spell(inputs.CredentialSource),
				What: "github-oidc works only inside a GitHub Actions job", Fix: "Use web-identity-file or web-identity-env with this CI's token, or auto."}
		}
		return webIdentity(github, "credential-source github-oidc")
	case inputs.SourceWebIdentityFile:
		if cfg.WebIdentityTokenFile == "" {
			return awsauth.Base{}, problem.New(problem.MissingSetting, spell(inputs.WebIdentityTokenFile), "credential-source web-identity-file needs a token file", "Set "+spell(inputs.WebIdentityTokenFile)+".")
		}
		return webIdentity(file(), "credential-source web-identity-file")
	case inputs.SourceWebIdentityEnv:
		if cfg.WebIdentityTokenEnv == "" {
			return awsauth.Base{}, problem.New(problem.MissingSetting, spell(inputs.WebIdentityTokenEnv), "credential-source web-identity-env needs the variable's name", "Set "+spell(inputs.WebIdentityTokenEnv)+".")
		}
		return webIdentity(envToken(cfg.WebIdentityTokenEnv), "credential-source web-identity-env")
	case inputs.SourceDefaultChain:
		return awsauth.Base{Kind: awsauth.DefaultChain, Why: "credential-source default-chain"}, nil
	}

	// auto
	if tokenGiven && !cfg.Static.Given() && cfg.Role.ARN == "" {
		subject := spell(inputs.WebIdentityTokenFile)
		if cfg.WebIdentityTokenEnv != "" {
			subject = spell(inputs.WebIdentityTokenEnv)
		}
		return awsauth.Base{}, &problem.Problem{Code: problem.MissingSetting, Subject: subject,
			What: "a web identity token is given but no role to exchange it for",
			Fix:  fmt.Sprintf("Set %s to the ARN of the IAM role that trusts this token's issuer (or AWS_ROLE_ARN).", spell(inputs.RoleToAssume))}
	}
	if cfg.Static.Given() {
		if tokenGiven {
			return awsauth.Base{}, &problem.Problem{Code: problem.ConflictingSettings,
				Subject: spell(inputs.AWSAccessKeyID) + " and a web identity token",
				What:    "both static access keys and a web identity token are set",
				Fix:     "Keep one: remove the static keys to use the token with role-to-assume, or remove the token settings (and AWS_WEB_IDENTITY_TOKEN_FILE) to use the keys."}
		}
		return static()
	}
	if cfg.Role.ARN != "" {
		// In every mode: the CLI in a run: step of a GitHub job too.
		if github.Available() {
			return webIdentity(github, "GitHub Actions job with id-token: write")
		}
		if cfg.WebIdentityTokenFile != "" {
			return webIdentity(file(), "web identity token file given")
		}
		if cfg.WebIdentityTokenEnv != "" {
			return webIdentity(envToken(cfg.WebIdentityTokenEnv), "web identity token variable given")
		}
		for _, v := range ciTokenVariables {
			if e.Getenv(v.name) != "" {
				return webIdentity(envToken(v.name), v.ci+" OIDC token found")
			}
		}
		if cfg.Mode == inputs.GitHub && e.Getenv("AWS_ACCESS_KEY_ID") == "" {
			// No token and no keys: say how to get the token.
			return webIdentity(github, "GitHub Actions job")
		}
	}
	return awsauth.Base{Kind: awsauth.DefaultChain, Why: "no explicit credentials"}, nil
}
