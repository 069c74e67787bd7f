package flow

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/awsauth"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/oidc"
	"github.com/ecr-credentials/ecr-credentials/internal/output"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// TestChooseBase: which base identity each credential-source, and auto in
// each situation, picks (its kind, token source and the reason logged), or
// which problem it reports.
func TestChooseBase(t *testing.T) {
	role, _ := inputs.ParseRoleARN("arn:aws:iam::123456789012:role/ci")
	keys := inputs.StaticKeys{AccessKeyID: "AKIAEXAMPLEEXAMPLE12", SecretAccessKey: "secret"}
	request := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.example/", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t"}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	tests := []struct {
		name string
		cfg  inputs.Config
		env  map[string]string
		// want is "<kind> <token source> <why>", or the problem's code.
		want string
		warn bool // the static keys warning
	}{
		{"auto: nothing", inputs.Config{}, nil, "default-chain - no explicit credentials", false},
		{"auto: role alone outside GitHub", inputs.Config{Role: role, Mode: inputs.CLI}, nil, "default-chain - no explicit credentials", false},
		{"auto: role in GitHub mode without the token variables", inputs.Config{Role: role, Mode: inputs.GitHub}, nil, "web-identity *oidc.GitHub GitHub Actions job", false},
		{"auto: role in GitHub mode with AWS_ACCESS_KEY_ID", inputs.Config{Role: role, Mode: inputs.GitHub}, map[string]string{"AWS_ACCESS_KEY_ID": "AKIA"}, "default-chain - no explicit credentials", false},
		{"auto: role with the token request variables", inputs.Config{Role: role, Mode: inputs.CLI}, request, "web-identity *oidc.GitHub GitHub Actions job with id-token: write", false},
		{"auto: the token request variables before a token file", inputs.Config{Role: role, Mode: inputs.CLI, WebIdentityTokenFile: "/t"}, request, "web-identity *oidc.GitHub GitHub Actions job with id-token: write", false},
		{"auto: token file", inputs.Config{Role: role, WebIdentityTokenFile: "/t", WebIdentityTokenEnv: "TOKEN"}, nil, "web-identity *oidc.File web identity token file given", false},
		{"auto: token variable", inputs.Config{Role: role, WebIdentityTokenEnv: "TOKEN"}, nil, "web-identity *oidc.Env web identity token variable given", false},
		{"auto: CircleCI", inputs.Config{Role: role}, map[string]string{"CIRCLE_OIDC_TOKEN_V2": "x", "BITBUCKET_STEP_OIDC_TOKEN": "y"}, "web-identity *oidc.Env CircleCI OIDC token found", false},
		{"auto: Bitbucket", inputs.Config{Role: role}, map[string]string{"BITBUCKET_STEP_OIDC_TOKEN": "y"}, "web-identity *oidc.Env Bitbucket Pipelines OIDC token found", false},
		{"auto: static keys", inputs.Config{Static: keys, Role: role}, request, "static - static keys given", true},
		{"auto: half the static keys", inputs.Config{Static: inputs.StaticKeys{AccessKeyID: "AKIAEXAMPLEEXAMPLE12"}}, nil, string(problem.MissingSetting), false},
		{"auto: static keys and a token", inputs.Config{Static: keys, Role: role, WebIdentityTokenFile: "/t"}, nil, string(problem.ConflictingSettings), false},
		{"auto: a token without a role", inputs.Config{WebIdentityTokenEnv: "TOKEN"}, nil, string(problem.MissingSetting), false},
		{"static", inputs.Config{CredentialSource: inputs.SourceStatic, Static: keys, WebIdentityTokenFile: "/t"}, nil, "static - static keys given", true},
		{"static without keys", inputs.Config{CredentialSource: inputs.SourceStatic}, nil, string(problem.MissingSetting), false},
		{"github-oidc in GitHub mode", inputs.Config{CredentialSource: inputs.SourceGitHubOIDC, Role: role, Mode: inputs.GitHub}, nil, "web-identity *oidc.GitHub credential-source github-oidc", false},
		{"github-oidc in a run: step", inputs.Config{CredentialSource: inputs.SourceGitHubOIDC, Role: role, Mode: inputs.CLI}, map[string]string{"GITHUB_ACTIONS": "true"}, "web-identity *oidc.GitHub credential-source github-oidc", false},
		{"github-oidc elsewhere", inputs.Config{CredentialSource: inputs.SourceGitHubOIDC, Role: role, Mode: inputs.CLI}, request, string(problem.ConflictingSettings), false},
		{"github-oidc without a role", inputs.Config{CredentialSource: inputs.SourceGitHubOIDC, Mode: inputs.GitHub}, nil, string(problem.MissingSetting), false},
		{"web-identity-file", inputs.Config{CredentialSource: inputs.SourceWebIdentityFile, Role: role, WebIdentityTokenFile: "/t"}, request, "web-identity *oidc.File credential-source web-identity-file", false},
		{"web-identity-file without a file", inputs.Config{CredentialSource: inputs.SourceWebIdentityFile, Role: role}, nil, string(problem.MissingSetting), false},
		{"web-identity-env", inputs.Config{CredentialSource: inputs.SourceWebIdentityEnv, Role: role, WebIdentityTokenEnv: "TOKEN"}, nil, "web-identity *oidc.Env credential-source web-identity-env", false},
		{"web-identity-env without a name", inputs.Config{CredentialSource: inputs.SourceWebIdentityEnv, Role: role}, nil, string(problem.MissingSetting), false},
		{"web-identity-env without a role", inputs.Config{CredentialSource: inputs.SourceWebIdentityEnv, WebIdentityTokenEnv: "TOKEN"}, nil, string(problem.MissingSetting), false},
		{"default-chain", inputs.Config{CredentialSource: inputs.SourceDefaultChain, Role: role, Static: keys}, request, "default-chain - credential-source default-chain", false},
	}
	kinds := map[awsauth.BaseKind]string{awsauth.Static: "static", awsauth.WebIdentity: "web-identity", awsauth.DefaultChain: "default-chain"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			env := with(tt.env)
			var log bytes.Buffer
			con := output.NewConsole(output.StylePlain, &log, &log, false)
			base, err := chooseBase(&cfg, Env{Getenv: func(k string) string { return env[k] }}, con, awsauth.NewProxy(nil, nil, func(string) string { return "" }))
			got := ""
			if err != nil {
				got = string(problem.As(err).Code)
			} else {
				src := "-"
				if base.WebIdentity != nil {
					src = fmt.Sprintf("%T", base.WebIdentity)
				}
				got = kinds[base.Kind] + " " + src + " " + base.Why
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if warned := bytes.Contains(log.Bytes(), []byte("static access keys")); warned != tt.warn {
				t.Errorf("static keys warning %v, want %v:\n%s", warned, tt.warn, log.String())
			}
			if e, ok := base.WebIdentity.(*oidc.Env); ok && err == nil && e.Getenv == nil {
				t.Error("the token variable is read with no environment")
			}
		})
	}
}
