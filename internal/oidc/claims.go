package oidc

import (
	"errors"
	"net/url"
	"strings"

	gojwt "github.com/golang-jwt/jwt/v5" // named apart from the tests' jwt constant
)

// Claims are the claims of a web identity token that a trust policy
// matches: who issued it, for whom and for which audience. None of them is
// a secret (the signature is what makes a token usable).
type Claims struct {
	Issuer   string   // iss
	Subject  string   // sub
	Audience []string // aud
	// JobWorkflowRef is GitHub's job_workflow_ref (the workflow file the
	// job comes from, a reusable one included); "" if the token has none.
	JobWorkflowRef string
	// gitlab: the token carries GitLab's project_path claim.
	gitlab bool
}

// ReadClaims decodes the claims of token WITHOUT verifying it. They serve
// only to explain a refusal (STS verifies the token, and decides); nothing
// is ever trusted because of them. The error never quotes the token.
func ReadClaims(token string) (Claims, error) {
	var m gojwt.MapClaims
	if _, _, err := gojwt.NewParser().ParseUnverified(token, &m); err != nil {
		return Claims{}, errors.New("the token's payload is not a readable JWT claims set")
	}
	c := Claims{}
	c.Issuer, _ = m.GetIssuer()
	c.Subject, _ = m.GetSubject()
	aud, _ := m.GetAudience()
	c.Audience = aud
	c.JobWorkflowRef, _ = m["job_workflow_ref"].(string)
	_, c.gitlab = m["project_path"].(string)
	return c, nil
}

// ProviderPath is what IAM names the token's OIDC identity provider by:
// the issuer URL without its scheme and trailing slash
// (token.actions.githubusercontent.com, ghes.example.com/_services/token).
// It ends the provider's ARN and starts its condition keys
// (<path>:aud, <path>:sub). "" if the issuer is not an https URL.
func (c Claims) ProviderPath() string {
	u, err := url.Parse(c.Issuer)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return ""
	}
	return strings.ToLower(u.Host) + strings.TrimRight(u.EscapedPath(), "/")
}

// IssuedBy names the CI that issued the token, from its issuer (and, for
// GitLab, its claims); "" when it is none we know.
func (c Claims) IssuedBy() string {
	u, err := url.Parse(c.Issuer)
	if err != nil {
		return ""
	}
	host, path := strings.ToLower(u.Hostname()), strings.TrimRight(u.Path, "/")
	switch {
	case host == "token.actions.githubusercontent.com":
		return "GitHub Actions"
	case path == "/_services/token":
		return "GitHub Enterprise Server"
	case strings.HasSuffix(path, "/api/actions"):
		return "Forgejo Actions"
	case host == "gitlab.com" || c.gitlab:
		return "GitLab CI"
	case host == "oidc.circleci.com":
		return "CircleCI"
	case host == "api.bitbucket.org":
		return "Bitbucket Pipelines"
	case host == "agent.buildkite.com":
		return "Buildkite"
	}
	return ""
}
