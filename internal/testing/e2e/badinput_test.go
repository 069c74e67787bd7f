package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// existingConfig is the docker config.json every bad-input run starts
// with: another registry's login, spelled the way a person would (tabs,
// key order, no final newline), so that any rewrite shows.
const existingConfig = "{\n\t\"auths\": {\n\t\t\"ghcr.io\": {\"auth\": \"b2N0b2NhdDpnaHBfZmFrZQ==\"}\n\t},\n\t\"psFormat\": \"table {{.ID}}\"\n}"

// badCtx is where one bad-input run happens.
type badCtx struct {
	t         *testing.T
	f         *fixture
	dir       string // scratch space outside everything the run may touch
	home      string
	dockerDir string // the docker config directory the run would write to
	workspace string // plugin only
	env       map[string]string
	args      []string
	readOnly  string // a directory mounted read-only for the run
}

func (c *badCtx) file(name, content string) string {
	p := filepath.Join(c.dir, name)
	must(c.t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func (c *badCtx) setDockerConfig(content string) {
	must(c.t, os.WriteFile(filepath.Join(c.dockerDir, "config.json"), []byte(content), 0o600))
}

// TestBadInput: bad settings and hostile environments in every mode. Each
// fails with exit 1 and one error naming its code and what to change, and
// leaves every file it could have touched (outputs, env, state, summary,
// docker config.json, the workspace, HOME) exactly as it was.
func TestBadInput(t *testing.T) {
	f := newEmulatorFixture(t, awsfake.Options{})
	token, err := f.fake.MintIDToken("sts.amazonaws.com", awsfake.WithSubject(subject))
	must(t, err)
	const secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

	del := "\x00delete" // an env value that removes the variable
	tests := []struct {
		name  string
		mode  string            // github, plugin, cli, helper
		set   map[string]string // inputs, plugin settings (without PLUGIN_) or nothing for the CLI
		env   map[string]string // extra environment; del removes
		args  []string          // program arguments (CLI: after the command)
		cmd   []string          // CLI: the command taking args (default: login --verify=false)
		setup func(c *badCtx)
		code  string
		inMsg []string
	}{
		// role-to-assume
		{name: "role name instead of ARN", mode: "github", set: map[string]string{"role-to-assume": "github-ecr"},
			code: "invalid-setting", inMsg: []string{`input "role-to-assume"`, "is not an ARN", "arn:aws:iam::123456789012:role/"}},
		{name: "ARN of an S3 bucket", mode: "github", set: map[string]string{"role-to-assume": "arn:aws:s3:::my-bucket"},
			code: "invalid-setting", inMsg: []string{`input "role-to-assume"`, "is not an IAM role ARN"}},
		{name: "ARN of a user", mode: "github", set: map[string]string{"role-to-assume": "arn:aws:iam::123456789012:user/ci"},
			code: "invalid-setting", inMsg: []string{"is not an IAM role ARN"}},
		{name: "ARN with an 11-digit account", mode: "github", set: map[string]string{"role-to-assume": "arn:aws:iam::12345678901:role/ci"},
			code: "invalid-setting", inMsg: []string{"has no 12-digit account ID"}},
		{name: "ARN without a role name", mode: "github", set: map[string]string{"role-to-assume": "arn:aws:iam::123456789012:role/"},
			code: "invalid-setting", inMsg: []string{"is not an IAM role ARN"}},
		{name: "ARN with a newline and a file command", mode: "github", set: map[string]string{"role-to-assume": roleARN + "\nGITHUB_PATH=/tmp"},
			code: "invalid-setting", inMsg: []string{`input "role-to-assume"`, "white space or control characters"}},
		{name: "plugin role ARN malformed", mode: "plugin", set: map[string]string{"role_arn": "role/ci"},
			code: "invalid-setting", inMsg: []string{`setting "role_arn" (PLUGIN_ROLE_ARN)`, "is not an ARN"}},
		{name: "CLI role ARN malformed", mode: "cli", args: []string{"--role-arn", "arn:aws:iam::123456789012"},
			code: "invalid-setting", inMsg: []string{"flag --role-arn", "is not an ARN"}},
		{name: "role ARN from the environment malformed", mode: "cli", env: map[string]string{"AWS_ROLE_ARN": "not-an-arn"},
			code: "invalid-setting", inMsg: []string{"environment variable AWS_ROLE_ARN"}},
		{name: "no role and no credentials", mode: "github", set: map[string]string{"role-to-assume": ""},
			code: "no-credentials", inMsg: []string{"role-to-assume", "id-token: write"}},

		// regions
		{name: "region misspelt", mode: "github", set: map[string]string{"aws-region": "eu-wset-1"},
			code: "invalid-setting", inMsg: []string{`input "aws-region"`, "region code such as us-east-1"}},
		{name: "region with spaces", mode: "github", set: map[string]string{"aws-region": "eu west 1"},
			code: "invalid-setting", inMsg: []string{`input "aws-region"`}},
		{name: "no region anywhere", mode: "github", set: map[string]string{"aws-region": ""},
			code: "missing-setting", inMsg: []string{`input "aws-region"`, "AWS_REGION"}},
		{name: "plugin region unknown", mode: "plugin", set: map[string]string{"region": "mars-north-1"},
			code: "invalid-setting", inMsg: []string{`setting "region" (PLUGIN_REGION)`}},
		{name: "region from AWS_REGION unknown", mode: "cli", env: map[string]string{"AWS_REGION": "nowhere"},
			code: "invalid-setting", inMsg: []string{"environment variable AWS_REGION"}},
		{name: "CLI region flag is a zone", mode: "cli", args: []string{"--region", "us-east-1a"},
			code: "invalid-setting", inMsg: []string{"flag --region"}},

		// registries
		{name: "registry not ECR", mode: "github", set: map[string]string{"registries": "ghcr.io"},
			code: "invalid-setting", inMsg: []string{`input "registries"`, "not an Amazon ECR registry"}},
		{name: "registry account too short", mode: "github", set: map[string]string{"registries": "12345"},
			code: "invalid-setting", inMsg: []string{`input "registries"`}},
		{name: "registry in an unknown region", mode: "github", set: map[string]string{"registries": "123456789012.dkr.ecr.nowhere-1.amazonaws.com"},
			code: "invalid-setting", inMsg: []string{`input "registries"`}},
		{name: "registry with a port", mode: "plugin", set: map[string]string{"registries": "123456789012.dkr.ecr.eu-west-1.amazonaws.com:5000"},
			code: "invalid-setting", inMsg: []string{"PLUGIN_REGISTRIES"}},
		{name: "registry with user info", mode: "cli", args: []string{"https://user:pw@123456789012.dkr.ecr.eu-west-1.amazonaws.com"},
			code: "invalid-setting", inMsg: []string{"flag --registries"}},
		// refresh
		{name: "refresh not a boolean", mode: "github", set: map[string]string{"refresh": "always"},
			code: "invalid-setting", inMsg: []string{`input "refresh"`, "not a boolean"}},
		{name: "refresh without docker-login", mode: "github", set: map[string]string{"refresh": "true", "docker-login": "false"},
			code: "conflicting-settings", inMsg: []string{`input "refresh"`, "docker-login"}},
		{name: "plugin refresh without docker_login", mode: "plugin", set: map[string]string{"refresh": "yes", "docker_login": "false"},
			code: "conflicting-settings", inMsg: []string{`setting "refresh" (PLUGIN_REFRESH)`, "docker_login"}},
		// registries entries with an identity of their own
		{name: "registry role is a role name", mode: "github", set: map[string]string{"registries": "222222222222=pull"},
			code: "invalid-setting", inMsg: []string{`input "registries"`, `entry "222222222222"`, "is not an ARN", "role ARN"}},
		{name: "registry role is a user ARN", mode: "plugin", set: map[string]string{"registries": "222222222222.dkr.ecr.eu-west-1.amazonaws.com=arn:aws:iam::222222222222:user/ci"},
			code: "invalid-setting", inMsg: []string{`setting "registries" (PLUGIN_REGISTRIES)`, "is not an IAM role ARN"}},
		{name: "registry identity empty", mode: "cli", args: []string{"222222222222="},
			code: "invalid-setting", inMsg: []string{"flag --registries", "nothing follows ="}},
		{name: "registry profile with a space", mode: "github", set: map[string]string{"registries": "222222222222=profile:my dev"},
			code: "invalid-setting", inMsg: []string{`input "registries"`, "not an AWS profile name"}},
		{name: "registry given two roles", mode: "plugin", set: map[string]string{"registries": "222222222222=arn:aws:iam::222222222222:role/a,222222222222=arn:aws:iam::222222222222:role/b"},
			code: "invalid-setting", inMsg: []string{"two identities"}},
		{name: "registry role with a newline and a file command", mode: "github", set: map[string]string{"registries": "222222222222=arn:aws:iam::222222222222:role/a\nGITHUB_PATH=/tmp"},
			code: "invalid-setting", inMsg: []string{`input "registries"`}},
		{name: "registry alias malformed", mode: "github", set: map[string]string{"registry-aliases": "mirror.example.com"},
			code: "invalid-setting", inMsg: []string{`input "registry-aliases"`, "alias=registry"}},
		{name: "registry alias to a non-ECR host", mode: "cli", env: map[string]string{"ECR_CREDENTIALS_REGISTRY_ALIASES": "mirror.internal=ghcr.io"},
			code: "invalid-setting", inMsg: []string{"environment variable ECR_CREDENTIALS_REGISTRY_ALIASES"}},

		// durations and numbers
		{name: "duration below 900", mode: "github", set: map[string]string{"role-duration-seconds": "899"},
			code: "invalid-setting", inMsg: []string{`input "role-duration-seconds"`, "899 is out of range", "900 to 43200"}},
		{name: "duration above 43200", mode: "plugin", set: map[string]string{"duration": "43201"},
			code: "invalid-setting", inMsg: []string{"PLUGIN_DURATION", "out of range"}},
		{name: "duration with a unit", mode: "cli", args: []string{"--duration", "1h"},
			code: "invalid-setting", inMsg: []string{"flag --duration", "not a whole number of seconds"}},
		{name: "timeout not a duration", mode: "github", set: map[string]string{"timeout": "soon"},
			code: "invalid-setting", inMsg: []string{`input "timeout"`, "positive duration"}},
		{name: "timeout negative", mode: "plugin", set: map[string]string{"timeout": "-5s"},
			code: "invalid-setting", inMsg: []string{"PLUGIN_TIMEOUT"}},
		{name: "timeout zero", mode: "cli", args: []string{"--timeout", "0s"},
			code: "invalid-setting", inMsg: []string{"flag --timeout"}},
		{name: "more than 50 session tags", mode: "github", set: map[string]string{"role-session-tags": strings.Repeat("k=v,", 51)},
			code: "invalid-setting", inMsg: []string{`input "role-session-tags"`, "at most 50"}},

		// env-prefix and injection into file commands
		{name: "env prefix GITHUB_", mode: "github", set: map[string]string{"env-prefix": "GITHUB_"},
			code: "invalid-setting", inMsg: []string{`input "env-prefix"`, "GITHUB_ or RUNNER_"}},
		{name: "env prefix RUNNER_", mode: "github", set: map[string]string{"env-prefix": "RUNNER_TOOL_"},
			code: "invalid-setting", inMsg: []string{`input "env-prefix"`}},
		{name: "env prefix injecting a line", mode: "github", set: map[string]string{"env-prefix": "X\nNODE_OPTIONS=--require=/tmp/x.js\nY_"},
			code: "invalid-setting", inMsg: []string{`input "env-prefix"`}},
		{name: "env prefix with a heredoc marker", mode: "github", set: map[string]string{"env-prefix": "ECR_<<EOF"},
			code: "invalid-setting", inMsg: []string{`input "env-prefix"`}},
		{name: "env prefix with an equals sign", mode: "plugin", set: map[string]string{"env_prefix": "PATH=/tmp:"},
			code: "invalid-setting", inMsg: []string{"PLUGIN_ENV_PREFIX"}},
		{name: "env prefix lower case", mode: "cli", cmd: []string{"env"}, args: []string{"--env-prefix", "ecr_"},
			code: "invalid-setting", inMsg: []string{"flag --env-prefix"}},
		{name: "audience with a newline", mode: "github", set: map[string]string{"audience": "sts.amazonaws.com\nGITHUB_ENV"},
			code: "invalid-setting", inMsg: []string{`input "audience"`, "white space"}},
		{name: "session name with a newline", mode: "github", set: map[string]string{"role-session-name": "ci\nrun"},
			code: "invalid-setting", inMsg: []string{`input "role-session-name"`}},
		{name: "session name too short", mode: "plugin", set: map[string]string{"role_session_name": "x"},
			code: "invalid-setting", inMsg: []string{"PLUGIN_ROLE_SESSION_NAME"}},
		{name: "k8s secret name with delimiter characters", mode: "github", set: map[string]string{"formats": "k8s-secret", "k8s-secret-name": "x<<EOF"},
			code: "invalid-setting", inMsg: []string{`input "k8s-secret-name"`}},
		{name: "k8s namespace with a dot", mode: "plugin", set: map[string]string{"formats": "k8s-secret", "k8s_namespace": "a.b"},
			code: "invalid-setting", inMsg: []string{"PLUGIN_K8S_NAMESPACE"}},

		// configure-aws-credentials' session settings
		{name: "managed policy that is a role ARN", mode: "github", set: map[string]string{"managed-session-policies": "arn:aws:iam::123456789012:role/x"},
			code: "invalid-setting", inMsg: []string{`input "managed-session-policies"`, "is not an IAM managed policy ARN"}},
		{name: "eleven managed policies", mode: "plugin", set: map[string]string{"managed_session_policies": strings.Repeat("arn:aws:iam::aws:policy/ReadOnlyAccess,", 11)},
			code: "invalid-setting", inMsg: []string{"PLUGIN_MANAGED_SESSION_POLICIES", "at most 10"}},
		{name: "allowed account ID with 11 digits", mode: "cli", args: []string{"--allowed-account-ids", "12345678901"},
			code: "invalid-setting", inMsg: []string{"flag --allowed-account-ids", "is not an AWS account ID"}},
		{name: "credentials of an account not allowed", mode: "github", set: map[string]string{"allowed-account-ids": "210987654321"},
			code: "account-not-allowed", inMsg: []string{"account 123456789012", "allowed-account-ids"}},
		{name: "plugin credentials of an account not allowed", mode: "plugin", set: map[string]string{"allowed_account_ids": "210987654321,111111111111"},
			code: "account-not-allowed", inMsg: []string{"account 123456789012"}},
		{name: "skip session tagging not a boolean", mode: "github", set: map[string]string{"role-skip-session-tagging": "sometimes"},
			code: "invalid-setting", inMsg: []string{`input "role-skip-session-tagging"`, "true or false"}},

		// dual-stack
		{name: "dual-stack not a boolean", mode: "github", set: map[string]string{"dual-stack": "ipv6"},
			code: "invalid-setting", inMsg: []string{`input "dual-stack"`, "true or false"}},
		{name: "dual-stack account in a partition without dual-stack hosts", mode: "cli", args: []string{"--ipv6", "--region", "us-iso-east-1", "123456789012"},
			code: "invalid-setting", inMsg: []string{"flag --registries", "no known dual-stack registry host", "set dual-stack to false"}},
		{name: "AWS_USE_DUALSTACK_ENDPOINT not a boolean", mode: "cli", env: map[string]string{"AWS_USE_DUALSTACK_ENDPOINT": "maybe"},
			code: "invalid-setting", inMsg: []string{"environment variable AWS_USE_DUALSTACK_ENDPOINT"}},

		// http-proxy, no-proxy
		{name: "proxy without a scheme", mode: "github", set: map[string]string{"http-proxy": "proxy.internal:3128"},
			code: "invalid-setting", inMsg: []string{`input "http-proxy"`, "scheme http, https or socks5"}},
		{name: "proxy with a password and a bad scheme", mode: "plugin", set: map[string]string{"http_proxy": "ftp://user:hunter2secret@proxy.internal"},
			code: "invalid-setting", inMsg: []string{"PLUGIN_HTTP_PROXY"}},
		{name: "no-proxy entry with a scheme", mode: "cli", args: []string{"--http-proxy", "http://proxy.internal:3128", "--no-proxy", "https://example.com"},
			code: "invalid-setting", inMsg: []string{"flag --no-proxy", "without a scheme"}},

		// registry-auth-file
		{name: "registry auth file is a directory path", mode: "cli", args: []string{"--registry-auth-file", "/tmp/containers/"},
			code: "invalid-setting", inMsg: []string{"flag --registry-auth-file", "is not a file path"}},
		{name: "registry auth file not named auth.json with a post step", mode: "github", set: map[string]string{"registry-auth-file": "/tmp/ecr-peers2-never/registries.json"},
			code: "invalid-setting", inMsg: []string{`input "registry-auth-file"`, "not named auth.json", "skip-logout"}},
		{name: "registry auth file that is not JSON", mode: "plugin", setup: func(c *badCtx) {
			c.env["PLUGIN_REGISTRY_AUTH_FILE"] = c.file("auth.json", "not json")
		}, code: "docker-config", inMsg: []string{"auth.json"}},

		// bamboo-namespace and shell
		{name: "bamboo namespace with a space", mode: "github", set: map[string]string{"formats": "bamboo", "bamboo-namespace": "custom aws"},
			code: "invalid-setting", inMsg: []string{`input "bamboo-namespace"`, "is not a Bamboo variable namespace"}},
		{name: "bamboo namespace with an empty part", mode: "plugin", set: map[string]string{"formats": "bamboo", "bamboo_namespace": "custom..ecr"},
			code: "invalid-setting", inMsg: []string{"PLUGIN_BAMBOO_NAMESPACE"}},
		{name: "bamboo namespace with a new line", mode: "cli", cmd: []string{"print", "bamboo"}, args: []string{"--bamboo-namespace", "a\nb=c"},
			code: "invalid-setting", inMsg: []string{"flag --bamboo-namespace"}},
		{name: "unknown shell", mode: "cli", cmd: []string{"env"}, args: []string{"--shell", "tcsh"},
			code: "invalid-setting", inMsg: []string{"flag --shell", `"tcsh" is not a shell`, "sh, fish, powershell, cmd"}},

		// other settings
		{name: "unknown format", mode: "github", set: map[string]string{"formats": "ecs, yaml"},
			code: "invalid-setting", inMsg: []string{`input "formats"`, `"yaml" is not a format`}},
		{name: "unknown format in a JSON list", mode: "plugin", set: map[string]string{"formats": `["ecs","nope"]`},
			code: "invalid-setting", inMsg: []string{"PLUGIN_FORMATS"}},
		{name: "boolean that is not one", mode: "github", set: map[string]string{"mask-password": "maybe"},
			code: "invalid-setting", inMsg: []string{`input "mask-password"`, "true or false"}},
		{name: "docker-login not a boolean", mode: "plugin", set: map[string]string{"docker_login": "please"},
			code: "invalid-setting", inMsg: []string{"PLUGIN_DOCKER_LOGIN"}},
		{name: "credential source unknown", mode: "github", set: map[string]string{"credential-source": "magic"},
			code: "invalid-setting", inMsg: []string{`input "credential-source"`, "default-chain"}},
		{name: "role chain with a bad ARN", mode: "github", set: map[string]string{"role-chain": "arn:aws:iam::123:role/x"},
			code: "invalid-setting", inMsg: []string{`input "role-chain"`}},
		{name: "session tag without a value", mode: "github", set: map[string]string{"role-session-tags": "team"},
			code: "invalid-setting", inMsg: []string{`input "role-session-tags"`, "Key=Value"}},
		{name: "source identity with the aws: prefix", mode: "cli", args: []string{"--source-identity", "aws:root"},
			code: "invalid-setting", inMsg: []string{"flag --source-identity"}},
		{name: "session policy not JSON", mode: "github", set: map[string]string{"inline-session-policy": "{\"Version\": "},
			code: "invalid-setting", inMsg: []string{`input "inline-session-policy"`, "JSON object"}},
		{name: "external ID of one character", mode: "plugin", set: map[string]string{"external_id": "x"},
			code: "invalid-setting", inMsg: []string{"PLUGIN_EXTERNAL_ID"}},
		{name: "token variable given as a value", mode: "cli", args: []string{"--web-identity-token-env", "eyJ.abc.def"},
			code: "invalid-setting", inMsg: []string{"flag --web-identity-token-env", "name, not its value"}},
		{name: "access key ID malformed", mode: "github", set: map[string]string{"aws-access-key-id": "short", "aws-secret-access-key": secretKey},
			code: "invalid-setting", inMsg: []string{`input "aws-access-key-id"`, "(5 characters)"}},
		{name: "unknown plugin setting", mode: "plugin", set: map[string]string{"regoin": region},
			code: "unknown-setting", inMsg: []string{"PLUGIN_REGOIN", `Did you mean "region"`}},
		// issue 24 item 1: unknown inputs, as the runner passes every with: entry
		{name: "input misspelt", mode: "github", set: map[string]string{"aws-regoin": "eu-west-1"},
			code: "unknown-setting", inMsg: []string{`input "aws-regoin"`, `Did you mean "aws-region"`}},
		{name: "input spelt as the plugin setting", mode: "github", set: map[string]string{"role_arn": roleARN},
			code: "unknown-setting", inMsg: []string{`input "role_arn"`, `Did you mean "role-to-assume"`}},
		{name: "unknown input with an empty value", mode: "github", setup: func(c *badCtx) { c.env["INPUT_ROLE-TO-ASUME"] = "" },
			code: "unknown-setting", inMsg: []string{`input "role-to-asume"`, `Did you mean "role-to-assume"`}},
		// issue 24 item 2: peer names refused, naming ours
		{name: "configure-aws-credentials aws-profile", mode: "github", set: map[string]string{"aws-profile": "ci"},
			code: "unknown-setting", inMsg: []string{`input "aws-profile" (configure-aws-credentials)`, "export-aws-credentials: true"}},
		{name: "configure-aws-credentials retry-max-attempts", mode: "github", set: map[string]string{"retry-max-attempts": "3"},
			code: "unknown-setting", inMsg: []string{`input "retry-max-attempts"`, "set timeout"}},
		{name: "configure-aws-credentials disable-retry", mode: "github", set: map[string]string{"disable-retry": "true"},
			code: "unknown-setting", inMsg: []string{`input "disable-retry"`, `"true" is not taken here`, "set timeout"}},
		{name: "configure-aws-credentials transitive-tag-keys", mode: "github", set: map[string]string{"transitive-tag-keys": "Team"},
			code: "unknown-setting", inMsg: []string{`input "transitive-tag-keys"`, "role-session-tags"}},
		{name: "configure-aws-credentials special-characters-workaround", mode: "github", set: map[string]string{"special-characters-workaround": "true"},
			code: "unknown-setting", inMsg: []string{`input "special-characters-workaround"`, "GITHUB_ENV"}},
		{name: "configure-aws-credentials unset-current-credentials", mode: "github", set: map[string]string{"unset-current-credentials": "true"},
			code: "unknown-setting", inMsg: []string{`input "unset-current-credentials"`, "credential-source: github-oidc"}},
		{name: "configure-aws-credentials use-existing-credentials", mode: "github", set: map[string]string{"use-existing-credentials": "true"},
			code: "unknown-setting", inMsg: []string{`input "use-existing-credentials"`, "credential-source: default-chain"}},
		{name: "amazon-ecr-login registry-type of another kind", mode: "github", set: map[string]string{"registry-type": "hybrid"},
			code: "unknown-setting", inMsg: []string{`input "registry-type" (amazon-ecr-login)`, "private or public"}},
		{name: "role-chaining against credential-source", mode: "github", set: map[string]string{"role-chaining": "true", "credential-source": "github-oidc"},
			code: "conflicting-settings", inMsg: []string{`input "credential-source" and input "role-chaining"`, "default-chain"}},
		{name: "mask-passwords against mask-password", mode: "github", set: map[string]string{"mask-passwords": "true", "mask-password": "false"},
			code: "conflicting-settings", inMsg: []string{`input "mask-passwords"`, `input "mask-password"`}},
		{name: "unexpected action argument", mode: "github", args: []string{"--registries=ghcr.io"},
			code: "invalid-setting", inMsg: []string{"argument --registries=ghcr.io", "runs.args"}},

		// conflicting or missing credential sources
		{name: "static keys and a token file", mode: "plugin", set: map[string]string{"access_key": "AKIAABCDEFGHIJKLMNOP", "secret_key": secretKey},
			code: "conflicting-settings", inMsg: []string{"static access keys and a web identity token"}},
		{name: "access key without the secret", mode: "github", set: map[string]string{"role-to-assume": "", "aws-access-key-id": "AKIAABCDEFGHIJKLMNOP"},
			code: "missing-setting", inMsg: []string{`input "aws-secret-access-key"`}},
		{name: "github-oidc outside GitHub", mode: "plugin", set: map[string]string{"credential_source": "github-oidc"},
			code: "conflicting-settings", inMsg: []string{"only inside a GitHub Actions job"}},
		{name: "web-identity-file without a file", mode: "github", set: map[string]string{"credential-source": "web-identity-file"},
			code: "missing-setting", inMsg: []string{`input "web-identity-token-file"`}},
		{name: "web-identity-env without a name", mode: "cli", args: []string{"--credential-source", "web-identity-env"},
			code: "missing-setting", inMsg: []string{"flag --web-identity-token-env"}},
		{name: "token file but no role", mode: "plugin", set: map[string]string{"role_arn": ""},
			code: "missing-setting", inMsg: []string{"web_identity_token_file", "no role to exchange it for", "PLUGIN_ROLE_ARN"}},
		{name: "no id-token permission", mode: "github", env: map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": del, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": del},
			code: "no-id-token-permission", inMsg: []string{"id-token: write"}},

		// token files
		{name: "token file missing", mode: "plugin", set: map[string]string{"web_identity_token_file": "/nonexistent/token"},
			code: "web-identity-token-unreadable", inMsg: []string{"PLUGIN_WEB_IDENTITY_TOKEN_FILE", "cannot read"}},
		{name: "token file is a directory", mode: "plugin", setup: func(c *badCtx) { c.env["PLUGIN_WEB_IDENTITY_TOKEN_FILE"] = c.dir },
			code: "web-identity-token-unreadable", inMsg: []string{"cannot read the web identity token file"}},
		{name: "token file empty", mode: "cli", setup: func(c *badCtx) { c.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = c.file("empty", "\n") },
			code: "web-identity-token-unreadable", inMsg: []string{"does not hold a JWT: it is empty"}},
		{name: "token file holds JSON", mode: "cli", setup: func(c *badCtx) {
			c.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = c.file("json", `{"value": "eyJ.a.b"}`)
		}, code: "web-identity-token-unreadable", inMsg: []string{"does not hold a JWT"}},
		{name: "token variable empty", mode: "cli", env: map[string]string{"AWS_WEB_IDENTITY_TOKEN_FILE": del, "GITLAB_TOKEN": " "},
			args: []string{"--web-identity-token-env", "GITLAB_TOKEN"},
			code: "web-identity-token-unreadable", inMsg: []string{"environment variable GITLAB_TOKEN", "it is empty"}},

		// the docker configuration
		{name: "config.json malformed", mode: "github", setup: func(c *badCtx) { c.setDockerConfig(`{"auths": {"ghcr.io": `) },
			code: "docker-config", inMsg: []string{"config.json"}},
		{name: "config.json an array", mode: "plugin", setup: func(c *badCtx) { c.setDockerConfig(`[]`) },
			code: "docker-config", inMsg: []string{"config.json"}},
		{name: "config.json auths not an object", mode: "cli", setup: func(c *badCtx) { c.setDockerConfig(`{"auths": "none"}`) },
			code: "docker-config", inMsg: []string{"config.json"}},
		{name: "credsStore helper missing", mode: "github", setup: func(c *badCtx) { c.setDockerConfig(`{"credsStore": "no-such-store"}`) },
			code: "credential-helper", inMsg: []string{"docker-credential-no-such-store", "credsStore"}},
		{name: "credHelpers entry missing", mode: "cli", setup: func(c *badCtx) {
			c.setDockerConfig(`{"credHelpers": {"` + account + `.dkr.ecr.` + region + `.amazonaws.com": "gone"}}`)
		}, code: "credential-helper", inMsg: []string{"docker-credential-gone", "credHelpers"}},
		{name: "docker config directory is a file", mode: "cli", setup: func(c *badCtx) { c.args = append(c.args, "--docker-config", c.file("not-a-dir", "x")) },
			code: "docker-config", inMsg: []string{"not-a-dir"}},
		{name: "read-only docker config directory", mode: "github", setup: func(c *badCtx) { c.readOnly = c.dockerDir },
			code: "docker-config", inMsg: []string{"config.json"}},
		{name: "read-only plugin workspace", mode: "plugin", setup: func(c *badCtx) { c.readOnly = c.workspace },
			code: "output-failed", inMsg: []string{"read-only file system", "workspace is writable"}},

		// where results go
		{name: "GITHUB_OUTPUT not set", mode: "github", env: map[string]string{"GITHUB_OUTPUT": del},
			code: "output-failed", inMsg: []string{"GITHUB_OUTPUT not set"}},
		{name: "GITHUB_ENV is a directory", mode: "github", setup: func(c *badCtx) { c.env["GITHUB_ENV"] = c.dir },
			code: "output-failed", inMsg: []string{"GITHUB_ENV", "docker login was undone"}},
		{name: "DRONE_OUTPUT is a directory", mode: "plugin", setup: func(c *badCtx) { c.env["DRONE_OUTPUT"] = c.dir },
			code: "output-failed", inMsg: []string{"DRONE_OUTPUT"}},
		{name: "plugin output_dir is a file", mode: "plugin", setup: func(c *badCtx) {
			must(c.t, os.WriteFile(filepath.Join(c.workspace, "out"), []byte("keep me"), 0o644))
			c.env["PLUGIN_OUTPUT_DIR"] = "out"
		}, code: "output-failed", inMsg: []string{"output_dir"}},
	}

	for _, tt := range tests {
		t.Run(tt.mode+"/"+tt.name, func(t *testing.T) {
			t.Parallel()
			c := &badCtx{t: t, f: f, dir: t.TempDir(), home: t.TempDir()}
			var r *runner
			switch tt.mode {
			case "github":
				r = newRunner(t)
				c.home = r.homeDir
				set := map[string]string{"role-to-assume": roleARN, "aws-region": region, "verify": "false"}
				for k, v := range tt.set {
					set[k] = v
				}
				c.env = f.githubEnv(r, set)
				c.dockerDir = filepath.Join(r.homeDir, ".docker")
			case "plugin":
				c.workspace = t.TempDir()
				must(t, os.WriteFile(filepath.Join(c.workspace, "main.go"), []byte("package main\n"), 0o644))
				set := map[string]string{"role_arn": roleARN, "region": region, "verify": "false",
					"web_identity_token_file": c.file("token", token)}
				for k, v := range tt.set {
					set[k] = v
				}
				c.env = f.pluginEnv("woodpecker", set, map[string]string{"HOME": c.home})
				c.dockerDir = filepath.Join(c.workspace, ".docker")
			case "cli":
				c.env = f.cliEnv(t)
				c.env["HOME"] = c.home
				c.dockerDir = filepath.Join(c.home, ".docker")
			}
			for k, v := range tt.set {
				if v == "" {
					delete(c.env, "INPUT_"+strings.ToUpper(k))
					delete(c.env, "PLUGIN_"+strings.ToUpper(k))
				}
			}
			for k, v := range tt.env {
				if v == del {
					delete(c.env, k)
				} else {
					c.env[k] = v
				}
			}
			must(t, os.MkdirAll(c.dockerDir, 0o700))
			c.setDockerConfig(existingConfig)
			c.args = append([]string(nil), tt.args...)
			if tt.mode == "cli" {
				cmd := tt.cmd
				if cmd == nil {
					cmd = []string{"login", "--verify=false"}
				}
				c.args = append(append([]string(nil), cmd...), c.args...)
			}
			if tt.setup != nil {
				tt.setup(c)
			}

			roots := []string{c.home, c.dockerDir}
			if r != nil {
				roots = append(roots, r.dir)
			}
			if c.workspace != "" {
				roots = append(roots, c.workspace)
			}
			before := takeSnapshot(t, roots...)
			opts := testenv.RunOptions{Env: c.env, Args: c.args, Dir: c.workspace, Timeout: runBound}
			var res testenv.Result
			if c.readOnly != "" {
				res = runWithReadOnly(t, f.bin, opts, c.readOnly)
			} else {
				res = testenv.RunProgram(t, f.bin, opts)
			}

			switch tt.mode {
			case "github":
				wantGitHubFailure(t, res, tt.code, tt.inMsg...)
				assertNoLeaks(t, f.fake, res)
			case "plugin":
				wantPlainFailure(t, res, res.Stdout, tt.code, tt.inMsg...)
				assertNoLeaksAtAll(t, f.fake, res, token, secretKey)
			case "cli":
				wantPlainFailure(t, res, res.Stderr, tt.code, tt.inMsg...)
				if res.Stdout != "" {
					t.Errorf("a failed run printed to stdout: %q", abbreviate(res.Stdout))
				}
				assertNoLeaksAtAll(t, f.fake, res, token, secretKey)
			}
			if strings.Contains(res.Stdout+res.Stderr, secretKey) {
				t.Errorf("the secret access key appears in the output")
			}
			if d := before.diff(withoutLockFile(t, takeSnapshot(t, roots...), c.dockerDir)); len(d) != 0 {
				t.Errorf("a failed run changed files: %v", d)
			}
		})
	}
	if n := len(tests); n < 50 {
		t.Errorf("only %d bad inputs; the issue asks for at least 50", n)
	}
}

// withoutLockFile drops docker's config.json.lock from a snapshot, after
// checking it is empty: the docker config editor keeps its lock file
// beside config.json, as removing a lock file others may be waiting on is
// not safe.
func withoutLockFile(t *testing.T, s snapshot, dockerDir string) snapshot {
	t.Helper()
	lock := filepath.Join(dockerDir, "config.json.lock")
	if v, ok := s[lock]; ok {
		if !strings.HasPrefix(v, "-") || !strings.HasSuffix(v, " ") || strings.Count(v, " ") != 1 {
			t.Errorf("config.json.lock is not an empty regular file: %q", abbreviate(v))
		}
		delete(s, lock)
	}
	return s
}

// runWithReadOnly runs the program with dir bind-mounted read-only, in a
// mount namespace of its own (so the mount ends with the run). Root
// ignores permission bits, so a read-only mount is the only way to show
// root what a read-only directory does.
func runWithReadOnly(t *testing.T, bin string, opts testenv.RunOptions, dir string) testenv.Result {
	t.Helper()
	unshare := testenv.RequireTool(t, "unshare")
	// bash, not sh: dash drops the INPUT_AWS-REGION style variables.
	bash := testenv.RequireTool(t, "bash")
	script := `mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$0" "$@"`
	opts.Args = append([]string{"--mount", "--", bash, "-c", script, bin, dir}, opts.Args...)
	return testenv.RunProgram(t, unshare, opts)
}
