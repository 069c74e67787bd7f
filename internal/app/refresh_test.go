package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ecr-credentials/ecr-credentials/internal/awsauth"
	"github.com/ecr-credentials/ecr-credentials/internal/ecr"
	"github.com/ecr-credentials/ecr-credentials/internal/flow"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/oidc"
	"github.com/ecr-credentials/ecr-credentials/internal/registry"
)

// TestRefreshSettings: the helper's settings name the base identity the
// run used, the registries with their identities, and an alias for a host
// that is no ECR host (a proxy endpoint), so that the helper logs in again
// as the run did; they load back into the same registries.
func TestRefreshSettings(t *testing.T) {
	role, _ := inputs.ParseRoleARN("arn:aws:iam::123456789012:role/ci")
	pull, _ := inputs.ParseRoleARN("arn:aws:iam::222222222222:role/pull")
	other, _ := registry.ParseHost("222222222222.dkr.ecr.us-east-1.amazonaws.com")
	cfg := &inputs.Config{Region: "eu-west-1", Role: role, Audience: "sts.amazonaws.com", SessionName: "GitHubActions-1", Duration: time.Hour, Timeout: 2 * time.Minute,
		Static: inputs.StaticKeys{AccessKeyID: "AKIAEXAMPLEEXAMPLE12", SecretAccessKey: "secret"}}
	res := &flow.Result{
		Logins: []flow.Login{
			{Login: ecr.Login{Registry: registry.Own("eu-west-1", false).WithHost("127.0.0.1:5443")}, Session: &awsauth.Session{AccountID: "123456789012"}},
			{Login: ecr.Login{Registry: other}, Identity: inputs.Identity{Role: pull}, Session: &awsauth.Session{AccountID: "222222222222"}},
		},
	}
	tests := []struct {
		name string
		base awsauth.Base
		want map[*inputs.Setting]string
		not  []*inputs.Setting
	}{
		{"github oidc", awsauth.Base{Kind: awsauth.WebIdentity, WebIdentity: &flow.OnceSource{Source: &oidc.GitHub{}}},
			map[*inputs.Setting]string{inputs.CredentialSource: "github-oidc", inputs.RoleToAssume: role.ARN, inputs.Audience: "sts.amazonaws.com"}, []*inputs.Setting{inputs.AWSSecretAccessKey}},
		{"token file", awsauth.Base{Kind: awsauth.WebIdentity, WebIdentity: &oidc.File{Path: "/ws/.ci/token"}},
			map[*inputs.Setting]string{inputs.CredentialSource: "web-identity-file", inputs.WebIdentityTokenFile: "/ws/.ci/token"}, []*inputs.Setting{inputs.AWSSecretAccessKey}},
		{"static keys", awsauth.Base{Kind: awsauth.Static, Static: aws.Credentials{AccessKeyID: "AKIAEXAMPLEEXAMPLE12"}},
			map[*inputs.Setting]string{inputs.CredentialSource: "static", inputs.AWSAccessKeyID: "AKIAEXAMPLEEXAMPLE12", inputs.AWSSecretAccessKey: "secret"}, nil},
		{"default chain", awsauth.Base{Kind: awsauth.DefaultChain},
			map[*inputs.Setting]string{inputs.CredentialSource: "default-chain"}, []*inputs.Setting{inputs.AWSSecretAccessKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res.Base = tt.base
			f := refreshSettings(cfg, Env{Getenv: func(string) string { return "" }}, res)
			for k, v := range tt.want {
				if f.Settings[k] != v {
					t.Errorf("%s = %q, want %q", k.Name, f.Settings[k], v)
				}
			}
			for _, k := range tt.not {
				if _, ok := f.Settings[k]; ok {
					t.Errorf("%s is set", k.Name)
				}
			}
			if f.Settings[inputs.Registries] != "127.0.0.1:5443\n222222222222.dkr.ecr.us-east-1.amazonaws.com="+pull.ARN {
				t.Errorf("registries = %q", f.Settings[inputs.Registries])
			}
			if f.Settings[inputs.RegistryAliases] != "127.0.0.1:5443=123456789012.dkr.ecr.eu-west-1.amazonaws.com" {
				t.Errorf("registry-aliases = %q", f.Settings[inputs.RegistryAliases])
			}
			// The helper loads them back.
			env := map[string]string{}
			loaded, _, err := inputs.Load(inputs.Source{Mode: inputs.CLI, Getenv: func(k string) string { return env[k] }, Flags: f.Flags()})
			if err != nil {
				t.Fatalf("the helper cannot load the settings: %v", err)
			}
			var hosts []string
			for _, r := range loaded.Registries {
				hosts = append(hosts, r.Host+"="+loaded.IdentityFor(r.Host).String())
			}
			if got := strings.Join(hosts, " "); got != "127.0.0.1:5443= 222222222222.dkr.ecr.us-east-1.amazonaws.com="+pull.ARN {
				t.Errorf("loaded registries %s", got)
			}
		})
	}
}

// TestRefreshSettingsCarryGitHubsDefaultTags (issue 21, finding 1): the
// tags a GitHub step adds (GitHub=Actions, Repository, ... from the step's
// environment) reach the helper as role-session-tags, in the step's order
// and with the convenience ones still droppable, so the helper, which
// runs in CLI mode in another step's environment, sends what the step sent.
func TestRefreshSettingsCarryGitHubsDefaultTags(t *testing.T) {
	role, _ := inputs.ParseRoleARN("arn:aws:iam::123456789012:role/ci")
	cfg := &inputs.Config{Mode: inputs.GitHub, Region: "eu-west-1", Role: role, SessionName: "GitHubActions-1", Duration: time.Hour, Timeout: time.Minute,
		SessionTags: []inputs.Tag{{Key: "Team", Value: "build"}}}
	stepEnv := map[string]string{"GITHUB_REPOSITORY": "octo-org/octo-repo", "GITHUB_WORKFLOW": " ci ", "GITHUB_ACTION": "login", "GITHUB_RUN_ID": "42"}
	res := &flow.Result{Base: awsauth.Base{Kind: awsauth.WebIdentity, WebIdentity: &oidc.GitHub{}}}
	step := flow.DefaultSessionTags(cfg, flow.Env{Getenv: func(k string) string { return stepEnv[k] }})
	f := refreshSettings(cfg, Env{Getenv: func(k string) string { return stepEnv[k] }}, res)

	// The helper: CLI mode, another step's environment.
	laterEnv := map[string]string{"GITHUB_ACTION": "__run_2", "GITHUB_RUN_ID": "42"}
	loaded, _, err := inputs.Load(inputs.Source{Mode: inputs.CLI, Getenv: func(k string) string { return laterEnv[k] }, Flags: f.Flags()})
	if err != nil {
		t.Fatalf("the helper cannot load the settings: %v", err)
	}
	f.Apply(loaded)
	helper := flow.DefaultSessionTags(loaded, flow.Env{Getenv: func(k string) string { return laterEnv[k] }})
	if fmt.Sprint(helper.Tags) != fmt.Sprint(step.Tags) {
		t.Errorf("the helper's tags %v, the step's %v", helper.Tags, step.Tags)
	}
	if fmt.Sprint(helper.Droppable) != fmt.Sprint(step.Droppable) {
		t.Errorf("the helper may drop %v, the step %v", helper.Droppable, step.Droppable)
	}
	if !strings.Contains(f.Settings[inputs.RoleSessionTags], "Action=login") {
		t.Errorf("role-session-tags %q do not name the step's action", f.Settings[inputs.RoleSessionTags])
	}
}
