package inputs

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/ecr-credentials/ecr-credentials/internal/registry"
)

// Mode is the way the program was started; it decides where settings are
// read from and where results go.
type Mode string

// The modes.
const (
	GitHub Mode = "github" // GitHub Actions container action: INPUT_* variables
	Plugin Mode = "plugin" // Drone or Woodpecker plugin step: PLUGIN_* variables
	CLI    Mode = "cli"    // a person or script: command-line flags
)

// Modes is a set of modes.
type Modes uint8

// The mode sets.
const (
	InGitHub Modes = 1 << iota
	InPlugin
	InCLI
	InAll = InGitHub | InPlugin | InCLI
)

// Has reports whether m is in the set.
func (s Modes) Has(m Mode) bool {
	switch m {
	case GitHub:
		return s&InGitHub != 0
	case Plugin:
		return s&InPlugin != 0
	case CLI:
		return s&InCLI != 0
	}
	return false
}

// Kind is the type of a setting's value.
type Kind string

// The kinds.
const (
	String   Kind = "string"
	Bool     Kind = "boolean"
	Int      Kind = "integer"
	List     Kind = "list"
	Duration Kind = "duration"
)

// Setting describes one setting in every CI it can be given in.
type Setting struct {
	// Name is the canonical name and the GitHub input name (kebab-case).
	Name string
	// Plugin lists the Drone/Woodpecker setting names (snake_case, without
	// the PLUGIN_ prefix); the first is the documented one, the rest are
	// accepted aliases.
	Plugin []string
	// Flag lists the CLI flag names (without dashes); the first is documented.
	Flag []string
	// Env lists environment variables consulted, in order, when the setting
	// is not given explicitly.
	Env []string
	// Default is the value when nothing else gives one. ModeDefault overrides
	// it per mode. A default described in words (derived at run time) is in
	// DefaultDoc instead.
	Default     string
	ModeDefault map[Mode]string
	DefaultDoc  string
	// Doc is one or two sentences for action.yml, README and --help.
	Doc string
	// Kind is the value's type.
	Kind Kind
	// Secret values are masked and never echoed in errors.
	Secret bool
	// Modes says where the setting applies.
	Modes Modes
	// FromArgs: in GitHub mode the value arrives as the program argument
	// --<Name>=<value> (action.yml runs.args), not as INPUT_*. The runner
	// rewrites host paths in INPUT_* variables to container paths but
	// passes args untouched, so host paths must come this way.
	FromArgs bool
	// apply parses the value (never empty) into the config. A returned
	// *invalid says what is wrong and how to fix it.
	apply func(c *Config, v string) error
}

// DefaultFor returns the literal default in mode m ("" if none).
func (s *Setting) DefaultFor(m Mode) string {
	if d, ok := s.ModeDefault[m]; ok {
		return d
	}
	return s.Default
}

// PluginVar is the documented environment variable of the setting in plugin mode.
func (s *Setting) PluginVar() string {
	if len(s.Plugin) == 0 {
		return ""
	}
	return "PLUGIN_" + strings.ToUpper(s.Plugin[0])
}

// InputVar is the variable the GitHub runner sets for the input.
func (s *Setting) InputVar() string {
	return "INPUT_" + strings.ToUpper(s.Name)
}

// invalid is what apply functions return; Load turns it into a Problem that
// names the setting the way the user spelled it.
type invalid struct {
	what, fix string
}

func (e *invalid) Error() string { return e.what + ". " + e.fix }

func bad(fix, format string, args ...any) error {
	return &invalid{what: fmt.Sprintf(format, args...), fix: fix}
}

// Table is the one list of settings. action.yml, the README and --help are
// generated from it, and tests keep them in step.
//
// Order matters: settings are applied top to bottom, so a setting whose
// parsing depends on another (registries on aws-region) comes after it.
var Table = []*Setting{
	{
		Name:   "role-to-assume",
		Plugin: []string{"role_arn", "role_to_assume", "assume_role"},
		Flag:   []string{"role-arn", "role-to-assume"},
		Env:    []string{"AWS_ROLE_ARN"},
		Doc:    "ARN of the IAM role to assume with the job's web identity (OIDC) token, e.g. arn:aws:iam::123456789012:role/ecr-push. Required unless other AWS credentials are configured.",
		Kind:   String,
		Modes:  InAll,
		apply: func(c *Config, v string) error {
			a, err := ParseRoleARN(v)
			if err != nil {
				return err
			}
			c.Role = a
			return nil
		},
	},
	{
		Name:   "aws-region",
		Plugin: []string{"region", "aws_region"},
		Flag:   []string{"region", "aws-region"},
		Env:    []string{"AWS_REGION", "AWS_DEFAULT_REGION"},
		Doc:    "AWS region of STS and of registries given as account IDs, e.g. eu-west-1. Falls back to AWS_REGION, then AWS_DEFAULT_REGION.",
		Kind:   String,
		Modes:  InAll,
		apply: func(c *Config, v string) error {
			v = strings.ToLower(v)
			if err := registry.ValidRegion(v); err != nil {
				return bad("Use a region code such as us-east-1 or eu-west-1.", "%q is not an AWS region: %v", v, err)
			}
			c.Region = v
			return nil
		},
	},
	{
		Name:    "audience",
		Plugin:  []string{"audience"},
		Flag:    []string{"audience"},
		Default: "sts.amazonaws.com",
		Doc:     "Audience (aud) requested for the GitHub OIDC token; must match the audience of the IAM OIDC identity provider.",
		Kind:    String,
		Modes:   InAll,
		apply: func(c *Config, v string) error {
			if strings.ContainsAny(v, " \t\r\n") {
				return bad("Use the audience configured on the IAM OIDC provider, usually sts.amazonaws.com.", "%q contains white space", v)
			}
			c.Audience = v
			return nil
		},
	},
	{
		Name:    "credential-source",
		Plugin:  []string{"credential_source"},
		Flag:    []string{"credential-source"},
		Default: "auto",
		Doc:     "Where the AWS identity comes from: auto, github-oidc, web-identity-file, web-identity-env, static or default-chain. auto picks, in order: static keys if given, the GitHub OIDC token (GitHub, with role-to-assume), a web identity token file or variable (with role-to-assume), then the AWS SDK default chain (environment, shared config, ECS, EC2 instance role).",
		Kind:    String,
		Modes:   InAll,
		apply: func(c *Config, v string) error {
			v = strings.ToLower(v)
			switch CredentialSource(v) {
			case SourceAuto, SourceGitHubOIDC, SourceWebIdentityFile, SourceWebIdentityEnv, SourceStatic, SourceDefaultChain:
				c.CredentialSource = CredentialSource(v)
				return nil
			}
			return bad("Use one of auto, github-oidc, web-identity-file, web-identity-env, static, default-chain.", "%q is not a credential source", v)
		},
	},
	{
		Name:   "web-identity-token-file",
		Plugin: []string{"web_identity_token_file", "token_file"},
		Flag:   []string{"web-identity-token-file"},
		Env:    []string{"AWS_WEB_IDENTITY_TOKEN_FILE"},
		Doc:    "File holding a web identity (OIDC) token to exchange for role-to-assume, re-read on every use (Kubernetes, Buildkite `buildkite-agent oidc request-token > file`, any CI).",
		Kind:   String,
		Modes:  InAll,
		apply:  func(c *Config, v string) error { c.WebIdentityTokenFile = v; return nil },
	},
	{
		Name:   "web-identity-token-env",
		Plugin: []string{"web_identity_token_env", "token_env"},
		Flag:   []string{"web-identity-token-env"},
		Doc:    "Name of an environment variable holding the web identity token, e.g. the one a GitLab job declares under id_tokens. CIRCLE_OIDC_TOKEN_V2 (CircleCI) and BITBUCKET_STEP_OIDC_TOKEN (Bitbucket) are found without it.",
		Kind:   String,
		Modes:  InAll,
		apply: func(c *Config, v string) error {
			if !envNameRe.MatchString(v) {
				return bad("Give the variable's name, not its value, e.g. ECR_ID_TOKEN.", "%q is not an environment variable name", shorten(v))
			}
			c.WebIdentityTokenEnv = v
			return nil
		},
	},
	{
		Name:   "aws-access-key-id",
		Plugin: []string{"access_key", "aws_access_key_id"},
		Flag:   []string{"access-key-id"},
		Doc:    "Static access key ID (with aws-secret-access-key). Long-lived keys are the weakest option: prefer role-to-assume with OIDC.",
		Kind:   String,
		Secret: true,
		Modes:  InAll,
		apply: func(c *Config, v string) error {
			if strings.ContainsAny(v, " \t\r\n") || len(v) < 16 || len(v) > 128 {
				return bad("Give the access key ID as IAM shows it (AKIA... or ASIA...).", "it does not look like an access key ID (%d characters)", len(v))
			}
			c.Static.AccessKeyID = v
			return nil
		},
	},
	{
		Name:   "aws-secret-access-key",
		Plugin: []string{"secret_key", "aws_secret_access_key"},
		Flag:   []string{"secret-access-key"},
		Doc:    "Static secret access key (with aws-access-key-id). Pass it from a secret store, never in plain text.",
		Kind:   String,
		Secret: true,
		Modes:  InAll,
		apply:  func(c *Config, v string) error { c.Static.SecretAccessKey = v; return nil },
	},
	{
		Name:   "aws-session-token",
		Plugin: []string{"session_token", "aws_session_token"},
		Flag:   []string{"session-token"},
		Doc:    "Session token of temporary static credentials (with aws-access-key-id and aws-secret-access-key).",
		Kind:   String,
		Secret: true,
		Modes:  InAll,
		apply:  func(c *Config, v string) error { c.Static.SessionToken = v; return nil },
	},
	{
		Name:   "role-chain",
		Plugin: []string{"role_chain"},
		Flag:   []string{"role-chain"},
		Doc:    "Further roles to assume, in order, after role-to-assume (or after the base credentials), separated by commas or new lines; e.g. a role in the registry's account. Chained sessions last at most 1 hour.",
		Kind:   List,
		Modes:  InAll,
		apply: func(c *Config, v string) error {
			for _, item := range splitList(v) {
				a, err := ParseRoleARN(item)
				if err != nil {
					return err
				}
				c.RoleChain = append(c.RoleChain, a)
			}
			return nil
		},
	},
	{
		Name:   "role-external-id",
		Plugin: []string{"external_id", "role_external_id"},
		Flag:   []string{"external-id"},
		Doc:    "External ID presented to sts:AssumeRole (role chaining, or role-to-assume with static or default-chain credentials).",
		Kind:   String,
		Modes:  InAll,
		apply: func(c *Config, v string) error {
			if len(v) < 2 || len(v) > 1224 || strings.ContainsAny(v, " \t\r\n") {
				return bad("Use 2 to 1224 characters without white space.", "the external ID is not valid")
			}
			c.ExternalID = v
			return nil
		},
	},
	{
		Name:   "role-session-tags",
		Plugin: []string{"session_tags", "role_session_tags"},
		Flag:   []string{"session-tags"},
		Doc:    "Session tags for sts:AssumeRole, as Key=Value pairs separated by commas or new lines (at most 50).",
		Kind:   List,
		Modes:  InAll,
		apply: func(c *Config, v string) error {
			for _, item := range splitList(v) {
				k, val, ok := strings.Cut(item, "=")
				k = strings.TrimSpace(k)
				if !ok || k == "" || len(k) > 128 || len(val) > 256 {
					return bad("Write each tag as Key=Value (key up to 128, value up to 256 characters).", "%q is not a Key=Value tag", shorten(item))
				}
				c.SessionTags = append(c.SessionTags, Tag{Key: k, Value: strings.TrimSpace(val)})
			}
			if len(c.SessionTags) > 50 {
				return bad("Give at most 50 tags.", "%d tags given", len(c.SessionTags))
			}
			return nil
		},
	},
	{
		Name:   "role-source-identity",
		Plugin: []string{"source_identity"},
		Flag:   []string{"source-identity"},
		Doc:    "Source identity set on sts:AssumeRole sessions (shown in CloudTrail; cannot be changed further down a chain).",
		Kind:   String,
		Modes:  InAll,
		apply: func(c *Config, v string) error {
			if !validSourceIdentity(v) {
				return bad("Use 2 to 64 characters from letters, digits and + = , . @ - _.", "%q is not a valid source identity", shorten(v))
			}
			c.SourceIdentity = v
			return nil
		},
	},
	{
		Name:   "inline-session-policy",
		Plugin: []string{"session_policy"},
		Flag:   []string{"session-policy", "inline-session-policy"},
		Doc:    "Inline IAM policy (JSON) that scopes the final role session down, e.g. to ecr:GetAuthorizationToken and one repository.",
		Kind:   String,
		Modes:  InAll,
		apply: func(c *Config, v string) error {
			if !json.Valid([]byte(v)) || !strings.HasPrefix(strings.TrimSpace(v), "{") {
				return bad("Give the policy document as a JSON object, e.g. {\"Version\":\"2012-10-17\",\"Statement\":[...]}.", "the session policy is not a JSON object")
			}
			c.SessionPolicy = v
			return nil
		},
	},
	{
		Name:       "role-session-name",
		Plugin:     []string{"role_session_name", "session_name"},
		Flag:       []string{"role-session-name"},
		DefaultDoc: "GitHubActions-<run id>-<run attempt> (Drone-<build>, Woodpecker-<pipeline>, ecr-credentials on the CLI)",
		Doc:        "Session name of the assumed role, shown in CloudTrail. 2 to 64 characters of letters, digits and + = , . @ - _.",
		Kind:       String,
		Modes:      InAll,
		apply: func(c *Config, v string) error {
			if !validSessionName(v) {
				return bad("Use 2 to 64 characters from letters, digits and + = , . @ - _.", "%q is not a valid role session name", v)
			}
			c.SessionName = v
			return nil
		},
	},
	{
		Name:    "role-duration-seconds",
		Plugin:  []string{"role_duration_seconds", "duration"},
		Flag:    []string{"role-duration-seconds", "duration"},
		Default: "3600",
		Doc:     "Lifetime of the assumed role's credentials in seconds, 900 to 43200 (and at most the role's maximum session duration). The ECR token itself is valid for 12 hours regardless.",
		Kind:    Int,
		Modes:   InAll,
		apply: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return bad("Give a whole number of seconds from 900 to 43200, e.g. 3600.", "%q is not a whole number of seconds", v)
			}
			if n < 900 || n > 43200 {
				return bad("Give a whole number of seconds from 900 to 43200, e.g. 3600.", "%d is out of range", n)
			}
			c.Duration = time.Duration(n) * time.Second
			return nil
		},
	},
	{
		Name:   "registry-aliases",
		Plugin: []string{"registry_aliases"},
		Flag:   []string{"registry-alias"},
		Env:    []string{"ECR_CREDENTIALS_REGISTRY_ALIASES"},
		Doc:    "Other host names that stand for an ECR registry (a pull-through proxy, a mirror, a private DNS name), as alias=registry pairs separated by commas, e.g. ecr.example.internal=123456789012.dkr.ecr.eu-west-1.amazonaws.com. An alias may then appear in registries, and the credential helper answers for it.",
		Kind:   List,
		Modes:  InAll,
		apply: func(c *Config, v string) error {
			const fix = "Write each as alias=registry, e.g. ecr.example.internal=123456789012.dkr.ecr.eu-west-1.amazonaws.com."
			c.RegistryAliases = map[string]registry.Registry{}
			for _, item := range splitList(v) {
				alias, target, ok := strings.Cut(item, "=")
				alias = normalizeHost(alias)
				if !ok || alias == "" || strings.ContainsAny(alias, "/ ") {
					return bad(fix, "%q is not an alias=registry pair", shorten(item))
				}
				r, err := registry.ParseHost(strings.TrimSpace(target))
				if err != nil {
					return bad(fix, "alias %s: %v", alias, err)
				}
				c.RegistryAliases[alias] = r
			}
			return nil
		},
	},
	{
		Name:       "registries",
		Plugin:     []string{"registries", "registry"},
		Flag:       []string{"registries", "registry"},
		DefaultDoc: "the registry of the credentials' own account in aws-region",
		Doc:        "Registries to log in to, separated by commas or new lines: AWS account IDs (in aws-region), registry hosts such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com, public.ecr.aws, or registry-aliases. An entry may name its own identity after `=`: a role assumed from the base identity instead of role-to-assume (222222222222.dkr.ecr.us-east-1.amazonaws.com=arn:aws:iam::222222222222:role/pull; on an account ID, 222222222222=arn:..., the role also serves that account's other registries), or an AWS profile (…=profile:dev, for the credential helper on a developer's machine).",
		Kind:       List,
		Modes:      InAll,
		apply: func(c *Config, v string) error {
			const fix = "Use account IDs (123456789012), hosts such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com, or public.ecr.aws, each optionally followed by =<role ARN> or =profile:<name>."
			seen := map[string]bool{}
			accounts := map[string]Identity{}
			for _, item := range splitList(v) {
				ref, idText, named := strings.Cut(item, "=")
				ref = strings.TrimSpace(ref)
				var id Identity
				if named {
					var err error
					if id, err = parseIdentity(strings.TrimSpace(idText)); err != nil {
						var inv *invalid
						if errors.As(err, &inv) {
							return bad(inv.fix, "entry %q: %s", shorten(ref), inv.what)
						}
						return err
					}
				}
				r, ok := c.RegistryAliases[normalizeHost(ref)]
				if ok {
					r.Host = normalizeHost(ref)
				} else {
					var err error
					if r, err = registry.Parse(ref, c.Region); err != nil {
						return bad(fix, "%v", err)
					}
				}
				if named && allDigits(ref) {
					if prev, ok := accounts[r.AccountID]; ok && prev != id {
						return bad("Give each account one identity.", "account %s is given two identities (%s and %s)", r.AccountID, prev, id)
					}
					accounts[r.AccountID] = id
				}
				if prev, has := c.RegistryIdentities[r.Host]; named && has && prev != id {
					return bad("Give each registry one identity.", "registry %s is given twice with different identities (%s and %s)", r.Host, prev, id)
				}
				if !seen[r.Host] {
					seen[r.Host] = true
					c.Registries = append(c.Registries, r)
				}
				if named {
					if c.RegistryIdentities == nil {
						c.RegistryIdentities = map[string]Identity{}
					}
					c.RegistryIdentities[r.Host] = id
				}
			}
			// A role given on an account ID serves that account's other
			// registries that name no identity of their own.
			for _, r := range c.Registries {
				if _, own := c.RegistryIdentities[r.Host]; !own && r.AccountID != "" {
					if id, ok := accounts[r.AccountID]; ok {
						c.RegistryIdentities[r.Host] = id
					}
				}
			}
			return nil
		},
	},
	{
		Name:        "docker-login",
		Plugin:      []string{"docker_login"},
		Flag:        []string{"docker-login"},
		Default:     "true",
		ModeDefault: map[Mode]string{CLI: "false"},
		Doc:         "Write the login to the docker client configuration (config.json), so that later steps can push and pull.",
		Kind:        Bool,
		Modes:       InAll,
		apply:       setBool(func(c *Config, b bool) { c.DockerLogin = b }),
	},
	{
		Name:        "docker-config",
		Plugin:      []string{"docker_config"},
		Flag:        []string{"docker-config"},
		ModeDefault: map[Mode]string{Plugin: ".docker"},
		DefaultDoc:  "DOCKER_CONFIG, else ~/.docker (plugin: .docker in the workspace, which later steps share)",
		Doc:         "Directory of the docker client configuration to write the login to (the directory that holds config.json).",
		Kind:        String,
		Modes:       InAll,
		apply: func(c *Config, v string) error {
			c.DockerConfig = v
			return nil
		},
	},
	{
		Name:    "export-docker-config",
		Default: "true",
		Doc:     "Export DOCKER_CONFIG so that later steps (on the host and in containers) use this login. In a container action this is the runner's host path of the config directory.",
		Kind:    Bool,
		Modes:   InGitHub,
		apply:   setBool(func(c *Config, b bool) { c.ExportDockerConfig = b }),
	},
	{
		Name:     "host-runner-temp",
		Default:  "${{ runner.temp }}",
		Doc:      "Leave unset: the runner fills it in, so that the login can be exported with its host path.",
		Kind:     String,
		Modes:    InGitHub,
		FromArgs: true,
		apply:    func(c *Config, v string) error { c.HostRunnerTemp = v; return nil },
	},
	{
		Name:     "host-workspace",
		Default:  "${{ github.workspace }}",
		Doc:      "Leave unset: the runner fills it in, so that a docker-config inside the workspace can be exported with its host path.",
		Kind:     String,
		Modes:    InGitHub,
		FromArgs: true,
		apply:    func(c *Config, v string) error { c.HostWorkspace = v; return nil },
	},
	{
		Name:    "verify",
		Plugin:  []string{"verify"},
		Flag:    []string{"verify"},
		Default: "true",
		Doc:     "After docker-login, check that the registry accepts the new credentials (an authenticated GET /v2/).",
		Kind:    Bool,
		Modes:   InAll,
		apply:   setBool(func(c *Config, b bool) { c.Verify = b }),
	},
	{
		Name:    "skip-logout",
		Default: "false",
		Doc:     "Keep the docker login after the job instead of removing it in the post step.",
		Kind:    Bool,
		Modes:   InGitHub,
		apply:   setBool(func(c *Config, b bool) { c.SkipLogout = b }),
	},
	{
		Name:        "export-env",
		Plugin:      []string{"export_env"},
		Flag:        []string{"export-env"},
		Default:     "true",
		ModeDefault: map[Mode]string{CLI: "false"},
		Doc:         "Export the credentials as environment variables for later steps (GitHub: GITHUB_ENV; plugin: a dotenv file in the workspace).",
		Kind:        Bool,
		Modes:       InGitHub | InPlugin,
		apply:       setBool(func(c *Config, b bool) { c.ExportEnv = b }),
	},
	{
		Name:    "env-prefix",
		Plugin:  []string{"env_prefix"},
		Flag:    []string{"env-prefix"},
		Default: "ECR_",
		Doc:     "Prefix of the exported environment variable names (ECR_USERNAME, ECR_PASSWORD, ...). Upper-case letters, digits and underscores.",
		Kind:    String,
		Modes:   InAll,
		apply: func(c *Config, v string) error {
			if !validEnvPrefix(v) {
				return bad("Use upper-case letters, digits and underscores, starting with a letter and not with GITHUB_ or RUNNER_ (GitHub reserves those), e.g. ECR_ or PROD_ECR_.", "%q is not a usable prefix for environment variable names", v)
			}
			c.EnvPrefix = v
			return nil
		},
	},
	{
		Name:    "mask-password",
		Default: "true",
		Doc:     "Mask the password, authorization token and JSON outputs in the log. Set to false only to pass the password to a later job's container.credentials (GitHub drops job outputs that contain masked values).",
		Kind:    Bool,
		Modes:   InGitHub,
		apply:   setBool(func(c *Config, b bool) { c.MaskPassword = b }),
	},
	{
		Name:    "mask-aws-account-id",
		Default: "false",
		Doc:     "Also mask the AWS account IDs (and so the registry hosts) in the log.",
		Kind:    Bool,
		Modes:   InGitHub,
		apply:   setBool(func(c *Config, b bool) { c.MaskAccountID = b }),
	},
	{
		Name:   "formats",
		Plugin: []string{"formats"},
		Flag:   []string{"formats"},
		Doc:    "Extra formats to produce, separated by commas: ecs (ECS repositoryCredentials / Secrets Manager JSON), dockerconfigjson (Kubernetes .dockerconfigjson), k8s-secret (a Secret manifest for imagePullSecrets), dotenv. GitHub: outputs of the same names (ecs-credentials, dockerconfigjson, k8s-secret, dotenv), masked; plugin: files in output-dir.",
		Kind:   List,
		Modes:  InGitHub | InPlugin,
		apply: func(c *Config, v string) error {
			for _, f := range splitList(v) {
				f = strings.ToLower(f)
				if !knownFormat(f) {
					return bad("Use any of "+strings.Join(FormatNames, ", ")+", separated by commas.", "%q is not a format", shorten(f))
				}
				c.Formats = append(c.Formats, f)
			}
			return nil
		},
	},
	{
		Name:    "k8s-secret-name",
		Plugin:  []string{"k8s_secret_name"},
		Flag:    []string{"k8s-secret-name"},
		Default: "ecr-credentials",
		Doc:     "metadata.name of the k8s-secret format's Secret.",
		Kind:    String,
		Modes:   InAll,
		apply: func(c *Config, v string) error {
			if !dnsLabel.MatchString(v) || len(v) > 253 {
				return bad("Use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit.", "%q is not a Kubernetes object name", shorten(v))
			}
			c.K8sSecretName = v
			return nil
		},
	},
	{
		Name:   "k8s-namespace",
		Plugin: []string{"k8s_namespace"},
		Flag:   []string{"k8s-namespace"},
		Doc:    "metadata.namespace of the k8s-secret format's Secret (omitted when empty).",
		Kind:   String,
		Modes:  InAll,
		apply: func(c *Config, v string) error {
			if !dnsLabel.MatchString(v) || len(v) > 63 || strings.Contains(v, ".") {
				return bad("Use lower-case letters, digits and '-', starting and ending with a letter or digit.", "%q is not a Kubernetes namespace", shorten(v))
			}
			c.K8sNamespace = v
			return nil
		},
	},
	{
		Name:    "bamboo-namespace",
		Plugin:  []string{"bamboo_namespace"},
		Flag:    []string{"bamboo-namespace"},
		Default: "custom.aws.ecr",
		Doc:     "Namespace of the bamboo format's variables (<namespace>.username, <namespace>.password, ...): names separated by dots, of letters, digits, '_' and '-'.",
		Kind:    String,
		Modes:   InAll,
		apply: func(c *Config, v string) error {
			if !bambooNamespace.MatchString(v) || len(v) > 200 {
				return bad("Use names of letters, digits, '_' and '-' separated by dots, e.g. custom.aws.ecr.", "%q is not a Bamboo variable namespace", shorten(v))
			}
			c.BambooNamespace = v
			return nil
		},
	},
	{
		Name:    "shell",
		Flag:    []string{"shell"},
		Default: "sh",
		Doc:     "The shell `env` prints for: sh (export NAME='...', also bash and zsh), fish (set -gx NAME '...'), powershell ($Env:NAME = '...') or cmd (set NAME=..., for a batch file you `call`).",
		Kind:    String,
		Modes:   InCLI,
		apply: func(c *Config, v string) error {
			v = strings.ToLower(v)
			for _, s := range ShellNames {
				if v == s {
					c.Shell = v
					return nil
				}
			}
			return bad("Use one of "+strings.Join(ShellNames, ", ")+".", "%q is not a shell", shorten(v))
		},
	},
	{
		Name:    "output-dir",
		Plugin:  []string{"output_dir"},
		Default: ".ecr-credentials",
		Doc:     "Directory (relative to the workspace) for the plugin's files: ecr.env with the exported variables, and the files of `formats`. Mode 0700, files 0600.",
		Kind:    String,
		Modes:   InPlugin,
		apply:   func(c *Config, v string) error { c.OutputDir = v; return nil },
	},
	{
		Name:    "export-aws-credentials",
		Plugin:  []string{"export_aws_credentials"},
		Flag:    []string{"export-aws-credentials"},
		Default: "false",
		Doc:     "Also hand the temporary AWS credentials to later steps (GitHub: AWS_* environment variables and aws-* outputs, masked; plugin: the dotenv file). Off by default: ECR needs only the registry password.",
		Kind:    Bool,
		Modes:   InAll,
		apply:   setBool(func(c *Config, b bool) { c.ExportAWSCredentials = b }),
	},
	{
		Name:   "debug",
		Plugin: []string{"debug"},
		Flag:   []string{"debug"},
		Doc:    "Print debug lines (never secrets). In GitHub, use the runner's debug logging (ACTIONS_STEP_DEBUG) instead.",
		Kind:   Bool,
		Modes:  InPlugin | InCLI,
		apply:  setBool(func(c *Config, b bool) { c.Debug = b }),
	},
	{
		Name:    "timeout",
		Plugin:  []string{"timeout"},
		Flag:    []string{"timeout"},
		Default: "2m",
		Doc:     "Overall deadline for getting the credentials, retries included, as a Go duration (90s, 2m).",
		Kind:    Duration,
		Modes:   InAll,
		apply: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return bad("Give a positive duration such as 90s or 2m.", "%q is not a duration", v)
			}
			c.Timeout = d
			return nil
		},
	},
}

// ParseRoleARN parses an IAM role ARN.
func ParseRoleARN(v string) (RoleARN, error) {
	const fix = "Use the full role ARN, e.g. arn:aws:iam::123456789012:role/my-role (copy it from the IAM console)."
	a, err := arn.Parse(v)
	if err != nil {
		return RoleARN{}, bad(fix, "%q is not an ARN", v)
	}
	if a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") || len(a.Resource) <= len("role/") {
		return RoleARN{}, bad(fix, "%q is not an IAM role ARN", v)
	}
	if !isAccountID(a.AccountID) {
		return RoleARN{}, bad(fix, "%q has no 12-digit account ID", v)
	}
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return RoleARN{}, bad(fix, "%q contains white space or control characters, which no role name has", v)
	}
	return RoleARN{ARN: v, Partition: a.Partition, AccountID: a.AccountID, Name: a.Resource[strings.LastIndexByte(a.Resource, '/')+1:]}, nil
}

// parseIdentity reads what follows `=` in a registries entry: a role ARN
// or profile:<name>.
func parseIdentity(v string) (Identity, error) {
	if name, ok := strings.CutPrefix(v, "profile:"); ok {
		if !profileRe.MatchString(name) {
			return Identity{}, bad("Write profile:<name> with the name of a profile in the AWS config file, e.g. profile:dev.", "%q is not an AWS profile name", shorten(name))
		}
		return Identity{Profile: name}, nil
	}
	if v == "" {
		return Identity{}, bad("After = give a role ARN (arn:aws:iam::222222222222:role/pull) or profile:<name>, or drop the =.", "nothing follows =")
	}
	a, err := ParseRoleARN(v)
	if err != nil {
		var inv *invalid
		if errors.As(err, &inv) {
			return Identity{}, bad("After = give a role ARN (arn:aws:iam::222222222222:role/pull) or profile:<name>.", "%s", inv.what)
		}
		return Identity{}, err
	}
	return Identity{Role: a}, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func setBool(set func(*Config, bool)) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := ParseBool(v)
		if err != nil {
			return err
		}
		set(c, b)
		return nil
	}
}

// ParseBool accepts the YAML 1.2 booleans GitHub uses (true, True, TRUE,
// false, ...) and the common yes/no, on/off, 1/0.
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, bad("Use true or false.", "%q is not a boolean", v)
}

var (
	envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	profileRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$`)
	dnsLabel  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
	// bambooNamespace: Bamboo variable names, dot-separated.
	bambooNamespace = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)
)

// FormatNames are the values of the formats setting (output.Formats names
// them too; a test keeps the two lists equal).
var FormatNames = []string{"ecs", "dockerconfigjson", "k8s-secret", "dotenv", "bamboo"}

// ShellNames are the values of the shell setting (output.ShellNames names
// them too; a test keeps the two lists equal).
var ShellNames = []string{"sh", "fish", "powershell", "cmd"}

func knownFormat(f string) bool {
	for _, n := range FormatNames {
		if n == f {
			return true
		}
	}
	return false
}

// splitList splits a list setting at commas and new lines, or parses a
// JSON array (as Woodpecker passes lists; a YAML list of bare account IDs
// arrives as JSON numbers); empty items are dropped.
func splitList(v string) []string {
	if strings.HasPrefix(strings.TrimSpace(v), "[") {
		dec := json.NewDecoder(strings.NewReader(v))
		dec.UseNumber()
		var raw []any
		if err := dec.Decode(&raw); err == nil {
			items := make([]string, 0, len(raw))
			for _, r := range raw {
				switch x := r.(type) {
				case string:
					items = append(items, x)
				case json.Number:
					items = append(items, x.String())
				}
			}
			return trimAll(items)
		}
	}
	return trimAll(strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }))
}

func trimAll(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// shorten keeps error messages short when a value is long (it may be a
// secret pasted into the wrong setting).
func shorten(s string) string {
	if len(s) > 40 {
		return s[:12] + "…(" + strconv.Itoa(len(s)) + " characters)"
	}
	return s
}

// normalizeHost lower-cases a host and drops a scheme and trailing slash.
func normalizeHost(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	return strings.TrimSuffix(s, "/")
}

// NormalizeHost is normalizeHost for other packages (the credential helper
// receives server URLs).
func NormalizeHost(s string) string { return normalizeHost(s) }

func validSourceIdentity(s string) bool {
	return validSessionName(s) && !strings.HasPrefix(strings.ToLower(s), "aws:")
}

func validSessionName(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !sessionNameChar(r) {
			return false
		}
	}
	return true
}

func sessionNameChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+=,.@-_", r)
}

// SanitizeSessionName turns any string into a valid role session name.
func SanitizeSessionName(s string) string {
	out := make([]byte, 0, 64)
	for _, r := range s {
		if sessionNameChar(r) {
			out = append(out, byte(r))
		} else {
			out = append(out, '-')
		}
		if len(out) == 64 {
			break
		}
	}
	for len(out) < 2 {
		out = append(out, '-')
	}
	return string(out)
}

func validEnvPrefix(s string) bool {
	if s == "" || strings.HasPrefix(s, "GITHUB_") || strings.HasPrefix(s, "RUNNER_") {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'A' && r <= 'Z', r == '_':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
