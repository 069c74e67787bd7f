package inputs

import (
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/ecr-credentials/ecr-credentials/internal/output/names"
	"github.com/ecr-credentials/ecr-credentials/internal/registry"
)

// The settings, one variable each: code names a setting by its variable, so
// a typo does not compile. Table lists them in the order they are applied.
var (
	RoleToAssume = &Setting{
		Name:        "role-to-assume",
		Plugin:      []string{"role_arn", "role_to_assume", "assume_role"},
		Flag:        []string{"role-arn", "role-to-assume"},
		Env:         []string{"AWS_ROLE_ARN"},
		Doc:         "ARN of the IAM role to assume with the job's web identity (OIDC) token, e.g. arn:aws:iam::123456789012:role/ecr-push. Required unless other AWS credentials are configured.",
		Kind:        String,
		Modes:       InAll,
		Helper:      HelperInherits,
		helperValue: func(c *Config) string { return c.Role.ARN },
		setText: func(c *Config, v string) error {
			a, err := ParseRoleARN(v)
			if err != nil {
				return err
			}
			c.Role = a
			return nil
		},
	}
	AWSRegion = &Setting{
		Name:        "aws-region",
		Plugin:      []string{"region", "aws_region"},
		Flag:        []string{"region", "aws-region"},
		Env:         []string{"AWS_REGION", "AWS_DEFAULT_REGION"},
		Doc:         "AWS region of STS and of registries given as account IDs, e.g. eu-west-1.",
		Kind:        String,
		Modes:       InAll,
		Helper:      HelperInherits,
		helperValue: func(c *Config) string { return c.Region },
		setText: func(c *Config, v string) error {
			v = strings.ToLower(v)
			if err := registry.ValidRegion(v); err != nil {
				return bad("Use a region code such as us-east-1 or eu-west-1.", "%q is not an AWS region: %v", v, err)
			}
			c.Region = v
			return nil
		},
	}
	Audience = &Setting{
		Name:        "audience",
		Plugin:      []string{"audience"},
		Flag:        []string{"audience"},
		Default:     "sts.amazonaws.com",
		Doc:         "Audience (aud) requested for the GitHub OIDC token; must match the audience of the IAM OIDC identity provider.",
		Kind:        String,
		Modes:       InAll,
		Helper:      HelperInherits,
		helperValue: func(c *Config) string { return c.Audience },
		setText: func(c *Config, v string) error {
			if strings.ContainsAny(v, " \t\r\n") {
				return bad("Use the audience configured on the IAM OIDC provider, usually sts.amazonaws.com.", "%q contains white space", v)
			}
			c.Audience = v
			return nil
		},
	}
	CredentialSource = &Setting{
		Name:    "credential-source",
		Plugin:  []string{"credential_source"},
		Flag:    []string{"credential-source"},
		Default: "auto",
		Doc:     "Where the AWS identity comes from: auto, github-oidc, web-identity-file, web-identity-env, static or default-chain. auto picks, in order: static keys if given, the GitHub OIDC token (in a GitHub job that may request one, the CLI's included, with role-to-assume), a web identity token file or variable (with role-to-assume), then the AWS SDK default chain (environment, shared config, ECS, EC2 instance role).",
		Kind:    String,
		Modes:   InAll,
		Helper:  HelperDerived,
		setText: func(c *Config, v string) error {
			v = strings.ToLower(v)
			switch BaseSource(v) {
			case SourceAuto, SourceGitHubOIDC, SourceWebIdentityFile, SourceWebIdentityEnv, SourceStatic, SourceDefaultChain:
				c.CredentialSource = BaseSource(v)
				return nil
			}
			return bad("Use one of auto, github-oidc, web-identity-file, web-identity-env, static, default-chain.", "%q is not a credential source", v)
		},
	}
	WebIdentityTokenFile = &Setting{
		Name:    "web-identity-token-file",
		Plugin:  []string{"web_identity_token_file", "token_file"},
		Flag:    []string{"web-identity-token-file"},
		Env:     []string{"AWS_WEB_IDENTITY_TOKEN_FILE"},
		Doc:     "File holding a web identity (OIDC) token to exchange for role-to-assume, re-read on every use (Kubernetes, Buildkite `buildkite-agent oidc request-token > file`, any CI).",
		Kind:    String,
		Modes:   InAll,
		Helper:  HelperDerived,
		setText: func(c *Config, v string) error { c.WebIdentityTokenFile = v; return nil },
	}
	WebIdentityTokenEnv = &Setting{
		Name:   "web-identity-token-env",
		Plugin: []string{"web_identity_token_env", "token_env"},
		Flag:   []string{"web-identity-token-env"},
		Doc:    "Name of an environment variable holding the web identity token, e.g. the one a GitLab job declares under id_tokens. CIRCLE_OIDC_TOKEN_V2 (CircleCI) and BITBUCKET_STEP_OIDC_TOKEN (Bitbucket) are found without it.",
		Kind:   String,
		Modes:  InAll,
		Helper: HelperDerived,
		setText: func(c *Config, v string) error {
			if !envNameRe.MatchString(v) {
				return bad("Give the variable's name, not its value, e.g. ECR_ID_TOKEN.", "%q is not an environment variable name", shorten(v))
			}
			c.WebIdentityTokenEnv = v
			return nil
		},
	}
	AWSAccessKeyID = &Setting{
		Name:   "aws-access-key-id",
		Plugin: []string{"access_key", "aws_access_key_id"},
		Flag:   []string{"access-key-id"},
		Doc:    "Static access key ID (with aws-secret-access-key). Long-lived keys are the weakest option: prefer role-to-assume with OIDC.",
		Kind:   String,
		Secret: true,
		Modes:  InAll,
		Helper: HelperDerived,
		setText: func(c *Config, v string) error {
			if strings.ContainsAny(v, " \t\r\n") || len(v) < 16 || len(v) > 128 {
				return bad("Give the access key ID as IAM shows it (AKIA... or ASIA...).", "it does not look like an access key ID (%d characters)", len(v))
			}
			c.Static.AccessKeyID = v
			return nil
		},
	}
	AWSSecretAccessKey = &Setting{
		Name:    "aws-secret-access-key",
		Plugin:  []string{"secret_key", "aws_secret_access_key"},
		Flag:    []string{"secret-access-key"},
		Doc:     "Static secret access key (with aws-access-key-id). Pass it from a secret store, never in plain text.",
		Kind:    String,
		Secret:  true,
		Modes:   InAll,
		Helper:  HelperDerived,
		setText: func(c *Config, v string) error { c.Static.SecretAccessKey = v; return nil },
	}
	AWSSessionToken = &Setting{
		Name:    "aws-session-token",
		Plugin:  []string{"session_token", "aws_session_token"},
		Flag:    []string{"session-token"},
		Doc:     "Session token of temporary static credentials (with aws-access-key-id and aws-secret-access-key).",
		Kind:    String,
		Secret:  true,
		Modes:   InAll,
		Helper:  HelperDerived,
		setText: func(c *Config, v string) error { c.Static.SessionToken = v; return nil },
	}
	RoleChain = &Setting{
		Name:        "role-chain",
		Plugin:      []string{"role_chain"},
		Flag:        []string{"role-chain"},
		Doc:         "Further roles to assume, in order, after role-to-assume (or after the base credentials), separated by commas or new lines; e.g. a role in the registry's account. Chained sessions last at most 1 hour.",
		Kind:        List,
		Modes:       InAll,
		Helper:      HelperInherits,
		helperValue: func(c *Config) string { return joinRoles(c.RoleChain) },
		setList: func(c *Config, list []string) error {
			for _, item := range list {
				a, err := ParseRoleARN(item)
				if err != nil {
					return err
				}
				c.RoleChain = append(c.RoleChain, a)
			}
			return nil
		},
	}
	RoleExternalID = &Setting{
		Name:        "role-external-id",
		Plugin:      []string{"external_id", "role_external_id"},
		Flag:        []string{"external-id"},
		Doc:         "External ID presented to sts:AssumeRole (role chaining, or role-to-assume with static or default-chain credentials).",
		Kind:        String,
		Modes:       InAll,
		Helper:      HelperInherits,
		helperValue: func(c *Config) string { return c.ExternalID },
		setText: func(c *Config, v string) error {
			if len(v) < 2 || len(v) > 1224 || strings.ContainsAny(v, " \t\r\n") {
				return bad("Use 2 to 1224 characters without white space.", "the external ID is not valid")
			}
			c.ExternalID = v
			return nil
		},
	}
	RoleSessionTags = &Setting{
		Name:   "role-session-tags",
		Plugin: []string{"session_tags", "role_session_tags"},
		Flag:   []string{"session-tags"},
		Doc:    "Session tags for sts:AssumeRole, as Key=Value pairs separated by commas or new lines (at most 50).",
		Kind:   List,
		Modes:  InAll,
		Helper: HelperDerived,
		setList: func(c *Config, list []string) error {
			for _, item := range list {
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
	}
	RoleSourceIdentity = &Setting{
		Name:        "role-source-identity",
		Plugin:      []string{"source_identity"},
		Flag:        []string{"source-identity"},
		Doc:         "Source identity set on sts:AssumeRole sessions (shown in CloudTrail; cannot be changed further down a chain).",
		Kind:        String,
		Modes:       InAll,
		Helper:      HelperInherits,
		helperValue: func(c *Config) string { return c.SourceIdentity },
		setText: func(c *Config, v string) error {
			if !validSourceIdentity(v) {
				return bad("Use 2 to 64 characters from letters, digits and + = , . @ - _.", "%q is not a valid source identity", shorten(v))
			}
			c.SourceIdentity = v
			return nil
		},
	}
	InlineSessionPolicy = &Setting{
		Name:        "inline-session-policy",
		Plugin:      []string{"session_policy"},
		Flag:        []string{"session-policy", "inline-session-policy"},
		Doc:         "Inline IAM policy (JSON) that scopes the final role session down, e.g. to ecr:GetAuthorizationToken and one repository.",
		Kind:        String,
		Modes:       InAll,
		Helper:      HelperInherits,
		helperValue: func(c *Config) string { return c.SessionPolicy },
		setText: func(c *Config, v string) error {
			if !json.Valid([]byte(v)) || !strings.HasPrefix(strings.TrimSpace(v), "{") {
				return bad("Give the policy document as a JSON object, e.g. {\"Version\":\"2012-10-17\",\"Statement\":[...]}.", "the session policy is not a JSON object")
			}
			c.SessionPolicy = v
			return nil
		},
	}
	ManagedSessionPolicies = &Setting{
		Name:        "managed-session-policies",
		Plugin:      []string{"managed_session_policies"},
		Flag:        []string{"managed-session-policies", "managed-session-policy"},
		Doc:         "ARNs of IAM managed policies that scope the final role session down (at most 10), separated by commas or new lines, e.g. arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly.",
		Kind:        List,
		Modes:       InAll,
		Helper:      HelperInherits,
		helperValue: func(c *Config) string { return strings.Join(c.ManagedSessionPolicies, ",") },
		setList: func(c *Config, list []string) error {
			const fix = "Give IAM policy ARNs such as arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly or arn:aws:iam::123456789012:policy/ecr-push."
			for _, item := range list {
				a, err := arn.Parse(item)
				if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "policy/") || len(a.Resource) <= len("policy/") ||
					(a.AccountID != "aws" && !registry.IsAccountID(a.AccountID)) || strings.ContainsAny(item, " \t\r\n") {
					return bad(fix, "%q is not an IAM managed policy ARN", shorten(item))
				}
				c.ManagedSessionPolicies = append(c.ManagedSessionPolicies, item)
			}
			if len(c.ManagedSessionPolicies) > 10 {
				return bad("Give at most 10 managed policies (an STS limit); merge the rest into one policy or use inline-session-policy.", "%d managed policies given", len(c.ManagedSessionPolicies))
			}
			return nil
		},
	}
	AllowedAccountIDs = &Setting{
		Name:        "allowed-account-ids",
		Plugin:      []string{"allowed_account_ids"},
		Flag:        []string{"allowed-account-ids"},
		Doc:         "AWS account IDs the credentials may belong to, separated by commas or new lines: a run whose credentials are of another account stops before asking ECR for anything.",
		Kind:        List,
		Modes:       InAll,
		Helper:      HelperInherits,
		helperValue: func(c *Config) string { return strings.Join(c.AllowedAccountIDs, ",") },
		setList: func(c *Config, list []string) error {
			for _, item := range list {
				if !registry.IsAccountID(item) {
					return bad("Give 12-digit account IDs (quoted in YAML, so that leading zeros stay), e.g. 123456789012.", "%q is not an AWS account ID", shorten(item))
				}
				c.AllowedAccountIDs = append(c.AllowedAccountIDs, item)
			}
			return nil
		},
	}
	RoleSkipSessionTagging = &Setting{
		Name:    "role-skip-session-tagging",
		Default: "false",
		Doc:     "Do not set the session tags configure-aws-credentials sets on sts:AssumeRole (GitHub=Actions, Repository, Workflow, Action, Actor, Commit, Branch, and, dropped first when too large, EventName, BaseRef, HeadRef, RunId, Job, TriggeringActor). A web identity exchange never sends tags (the token's claims are the tags).",
		Kind:    Bool,
		Modes:   InGitHub,
		Helper:  HelperDerived,
		setBool: func(c *Config, b bool) { c.SkipSessionTagging = b },
	}
	RoleSessionName = &Setting{
		Name:        "role-session-name",
		Plugin:      []string{"role_session_name", "session_name"},
		Flag:        []string{"role-session-name"},
		DefaultDoc:  "GitHubActions-<run id>-<run attempt> (Drone-<build>, Woodpecker-<pipeline>, ecr-credentials on the CLI)",
		Doc:         "Session name of the assumed role, shown in CloudTrail. 2 to 64 characters of letters, digits and + = , . @ - _.",
		Kind:        String,
		Modes:       InAll,
		Helper:      HelperInherits,
		helperValue: func(c *Config) string { return c.SessionName },
		setText: func(c *Config, v string) error {
			if !validSessionName(v) {
				return bad("Use 2 to 64 characters from letters, digits and + = , . @ - _.", "%q is not a valid role session name", v)
			}
			c.SessionName = v
			return nil
		},
	}
	RoleDurationSeconds = &Setting{
		Name:        "role-duration-seconds",
		Plugin:      []string{"role_duration_seconds", "duration"},
		Flag:        []string{"role-duration-seconds", "duration"},
		Default:     "3600",
		Doc:         "Lifetime of the assumed role's credentials in seconds, 900 to 43200 (and at most the role's maximum session duration). The ECR token itself is valid for 12 hours regardless.",
		Kind:        Int,
		Modes:       InAll,
		Helper:      HelperInherits,
		helperValue: func(c *Config) string { return strconv.Itoa(int(c.Duration / time.Second)) },
		Min:         900,
		Max:         43200,
		Unit:        "seconds",
		setInt:      func(c *Config, n int) { c.Duration = time.Duration(n) * time.Second },
	}
	DualStack = &Setting{
		Name:        "dual-stack",
		Plugin:      []string{"dual_stack", "ipv6"},
		Flag:        []string{"dual-stack", "ipv6"},
		Env:         []string{"AWS_USE_DUALSTACK_ENDPOINT"},
		Default:     "false",
		Doc:         "Use IPv6: registries given as account IDs (and the credentials' own registry) become dual-stack hosts (123456789012.dkr-ecr.eu-west-1.on.aws), and STS and the ECR API are called at their dual-stack endpoints.",
		Kind:        Bool,
		Modes:       InAll,
		Helper:      HelperInherits,
		helperValue: func(c *Config) string { return strconv.FormatBool(c.DualStack) },
		setBool:     func(c *Config, b bool) { c.DualStack = b },
	}
	HTTPProxy = &Setting{
		Name:        "http-proxy",
		Plugin:      []string{"http_proxy"},
		Flag:        []string{"http-proxy"},
		Doc:         "Proxy for every connection (the OIDC token request, STS, ECR, the registry check), e.g. http://proxy.internal:3128 (http://, https:// or socks5://; a user:password in it is kept secret). Given, it stands for HTTPS_PROXY and HTTP_PROXY; unset, those variables apply as usual. Loopback addresses are never proxied.",
		Kind:        String,
		Secret:      true,
		Modes:       InAll,
		Helper:      HelperInherits,
		helperValue: func(c *Config) string { return urlString(c.HTTPProxy) },
		setText: func(c *Config, v string) error {
			const fix = "Give the proxy as a URL, e.g. http://proxy.internal:3128."
			u, err := url.Parse(strings.TrimSpace(v))
			if err != nil {
				return bad(fix, "the proxy is not a URL")
			}
			if u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5" || u.Host == "" || u.Hostname() == "" {
				return bad(fix, "the proxy URL needs the scheme http, https or socks5 and a host")
			}
			c.HTTPProxy = u
			return nil
		},
	}
	NoProxy = &Setting{
		Name:        "no-proxy",
		Plugin:      []string{"no_proxy"},
		Flag:        []string{"no-proxy"},
		Doc:         "Hosts reached directly, not through the proxy, separated by commas: host names (subdomains included; with a leading . only subdomains), host:port, IP addresses, CIDR blocks, or * for all. Given, it stands for NO_PROXY.",
		Kind:        List,
		Modes:       InAll,
		Helper:      HelperInherits,
		helperValue: func(c *Config) string { return strings.Join(c.NoProxy, ",") },
		setList: func(c *Config, list []string) error {
			for _, item := range list {
				if strings.ContainsAny(item, " \t/") && !isCIDR(item) || strings.Contains(item, "://") {
					return bad("Give host names, host:port, IP addresses or CIDR blocks such as 10.0.0.0/8, without a scheme.", "%q is not a host, address or CIDR block", shorten(item))
				}
				c.NoProxy = append(c.NoProxy, item)
			}
			return nil
		},
	}
	RegistryAliases = &Setting{
		Name:   "registry-aliases",
		Plugin: []string{"registry_aliases"},
		Flag:   []string{"registry-alias"},
		Env:    []string{"ECR_CREDENTIALS_REGISTRY_ALIASES"},
		Doc:    "Other host names that stand for an ECR registry (a pull-through proxy, a mirror, a private DNS name), as alias=registry pairs separated by commas, e.g. ecr.example.internal=123456789012.dkr.ecr.eu-west-1.amazonaws.com. An alias may then appear in registries, and the credential helper answers for it.",
		Kind:   List,
		Modes:  InAll,
		Helper: HelperDerived,
		setList: func(c *Config, list []string) error {
			const fix = "Write each as alias=registry, e.g. ecr.example.internal=123456789012.dkr.ecr.eu-west-1.amazonaws.com."
			c.RegistryAliases = map[string]registry.Registry{}
			for _, item := range list {
				alias, target, ok := strings.Cut(item, "=")
				alias = registry.NormalizeHost(alias)
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
	}
	Registries = &Setting{
		Name:       "registries",
		Plugin:     []string{"registries", "registry"},
		Flag:       []string{"registries", "registry"},
		DefaultDoc: "the registry of the credentials' own account in aws-region",
		Doc:        "Registries to log in to, separated by commas or new lines: AWS account IDs (in aws-region), registry hosts such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com, public.ecr.aws, or registry-aliases. An entry may name its own identity after `=`: a role assumed from the base identity instead of role-to-assume (222222222222.dkr.ecr.us-east-1.amazonaws.com=arn:aws:iam::222222222222:role/pull; on an account ID, 222222222222=arn:..., the role also serves that account's other registries), or an AWS profile (…=profile:dev, for the credential helper on a developer's machine).",
		Kind:       List,
		Modes:      InAll,
		Helper:     HelperDerived,
		setList: func(c *Config, list []string) error {
			const fix = "Use account IDs (123456789012), hosts such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com, or public.ecr.aws, each optionally followed by =<role ARN> or =profile:<name>."
			seen := map[string]bool{}
			accounts := map[string]Identity{}
			for _, item := range list {
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
				r, ok := c.RegistryAliases[registry.NormalizeHost(ref)]
				if ok {
					r = r.WithHost(registry.NormalizeHost(ref))
				} else {
					var err error
					if r, err = registry.Parse(ref, c.Region); err != nil {
						return bad(fix, "%v", err)
					}
					if c.DualStack && registry.IsAccountID(ref) {
						if r, err = registry.ForAccountDualStack(ref, c.Region); err != nil {
							return bad("Give the registry host, or set dual-stack to false.", "%v", err)
						}
					}
				}
				if named && registry.IsAccountID(ref) {
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
	}
	DockerLogin = &Setting{
		Name:        "docker-login",
		Plugin:      []string{"docker_login"},
		Flag:        []string{"docker-login"},
		Default:     "true",
		ModeDefault: map[Mode]string{CLI: "false"},
		Doc:         "Write the login to the docker client configuration (config.json), so that later steps can push and pull.",
		Kind:        Bool,
		Modes:       InAll,
		Helper:      HelperIgnores,
		setBool:     func(c *Config, b bool) { c.DockerLogin = b },
	}
	DockerConfig = &Setting{
		Name:        "docker-config",
		Plugin:      []string{"docker_config"},
		Flag:        []string{"docker-config"},
		ModeDefault: map[Mode]string{Plugin: ".docker"},
		DefaultDoc:  "DOCKER_CONFIG, else ~/.docker (plugin: .docker in the workspace, which later steps share)",
		Doc:         "Directory of the docker client configuration to write the login to (the directory that holds config.json).",
		Kind:        String,
		Modes:       InAll,
		Helper:      HelperIgnores,
		setText: func(c *Config, v string) error {
			c.DockerConfig = v
			return nil
		},
	}
	RegistryAuthFile = &Setting{
		Name:   "registry-auth-file",
		Plugin: []string{"registry_auth_file"},
		Flag:   []string{"registry-auth-file"},
		Doc:    "Also (or, with docker-login false, instead) write the login to this containers auth.json, the file podman, buildah and skopeo read, and export REGISTRY_AUTH_FILE naming it; undone like the docker login (GitHub: in the post step, the file must then be named auth.json). Relative paths are in the workspace (plugin).",
		Kind:   String,
		Modes:  InAll,
		Helper: HelperIgnores,
		setText: func(c *Config, v string) error {
			if strings.ContainsAny(v, "\r\n\x00") || strings.HasSuffix(v, "/") || filepath.Base(v) == "." || filepath.Base(v) == ".." {
				return bad("Give the path of a file, e.g. /tmp/containers/auth.json.", "%q is not a file path", shorten(v))
			}
			c.RegistryAuthFile = v
			return nil
		},
	}
	ExportDockerConfig = &Setting{
		Name:    "export-docker-config",
		Default: "true",
		Doc:     "Export DOCKER_CONFIG so that later steps (on the host and in containers) use this login. In a container action this is the runner's host path of the config directory.",
		Kind:    Bool,
		Modes:   InGitHub,
		Helper:  HelperIgnores,
		setBool: func(c *Config, b bool) { c.ExportDockerConfig = b },
	}
	HostRunnerTemp = &Setting{
		Name:     "host-runner-temp",
		Default:  "${{ runner.temp }}",
		Doc:      "Leave unset: the runner fills it in, so that the login can be exported with its host path.",
		Kind:     String,
		Modes:    InGitHub,
		Helper:   HelperIgnores,
		FromArgs: true,
		setText:  func(c *Config, v string) error { c.HostRunnerTemp = v; return nil },
	}
	HostWorkspace = &Setting{
		Name:     "host-workspace",
		Default:  "${{ github.workspace }}",
		Doc:      "Leave unset: the runner fills it in, so that a docker-config inside the workspace can be exported with its host path.",
		Kind:     String,
		Modes:    InGitHub,
		Helper:   HelperIgnores,
		FromArgs: true,
		setText:  func(c *Config, v string) error { c.HostWorkspace = v; return nil },
	}
	Verify = &Setting{
		Name:    "verify",
		Plugin:  []string{"verify"},
		Flag:    []string{"verify"},
		Default: "true",
		Doc:     "After docker-login, check that the registry accepts the new credentials (an authenticated GET /v2/).",
		Kind:    Bool,
		Modes:   InAll,
		Helper:  HelperIgnores,
		setBool: func(c *Config, b bool) { c.Verify = b },
	}
	SkipLogout = &Setting{
		Name:    "skip-logout",
		Default: "false",
		Doc:     "Keep the docker login after the job instead of removing it in the post step.",
		Kind:    Bool,
		Modes:   InGitHub,
		Helper:  HelperIgnores,
		setBool: func(c *Config, b bool) { c.SkipLogout = b },
	}
	Refresh = &Setting{
		Name:    "refresh",
		Plugin:  []string{"refresh"},
		Default: "false",
		Doc:     "Keep the docker login fresh for the whole job, so docker gets new credentials after the role session or the 12-hour password has expired. A copy of this program is left beside the docker config as the credential helper docker-credential-ecr-credentials (GitHub: on PATH), with the settings it needs, and config.json names it in credHelpers for the registries. Turn it on for jobs that may run docker after the password expires (long builds, many hours of tests). The GitHub post step removes it.",
		Kind:    Bool,
		Modes:   InGitHub | InPlugin,
		Helper:  HelperIgnores,
		setBool: func(c *Config, b bool) { c.Refresh = b },
	}
	ExportEnv = &Setting{
		Name:        "export-env",
		Plugin:      []string{"export_env"},
		Flag:        []string{"export-env"},
		Default:     "true",
		ModeDefault: map[Mode]string{CLI: "false"},
		Doc:         "Export the credentials as environment variables for later steps (GitHub: GITHUB_ENV; plugin: a dotenv file in the workspace).",
		Kind:        Bool,
		Modes:       InGitHub | InPlugin,
		Helper:      HelperIgnores,
		setBool:     func(c *Config, b bool) { c.ExportEnv = b },
	}
	EnvPrefix = &Setting{
		Name:    "env-prefix",
		Plugin:  []string{"env_prefix"},
		Flag:    []string{"env-prefix"},
		Default: "ECR_",
		Doc:     "Prefix of the exported environment variable names (ECR_USERNAME, ECR_PASSWORD, ...). Upper-case letters, digits and underscores.",
		Kind:    String,
		Modes:   InAll,
		Helper:  HelperIgnores,
		setText: func(c *Config, v string) error {
			if !validEnvPrefix(v) {
				return bad("Use upper-case letters, digits and underscores, starting with a letter and not with GITHUB_ or RUNNER_ (GitHub reserves those), e.g. ECR_ or PROD_ECR_.", "%q is not a usable prefix for environment variable names", v)
			}
			c.EnvPrefix = v
			return nil
		},
	}
	MaskPassword = &Setting{
		Name:    "mask-password",
		Default: "true",
		Doc:     "Mask the password, authorization token and JSON outputs in the log. Set to false only to pass the password to a later job's container.credentials (GitHub drops job outputs that contain masked values).",
		Kind:    Bool,
		Modes:   InGitHub,
		Helper:  HelperIgnores,
		setBool: func(c *Config, b bool) { c.MaskPassword = b },
	}
	MaskAWSAccountID = &Setting{
		Name:    "mask-aws-account-id",
		Default: "false",
		Doc:     "Also mask the AWS account IDs (and so the registry hosts) in the log.",
		Kind:    Bool,
		Modes:   InGitHub,
		Helper:  HelperIgnores,
		setBool: func(c *Config, b bool) { c.MaskAccountID = b },
	}
	Formats = &Setting{
		Name:   "formats",
		Plugin: []string{"formats"},
		Flag:   []string{"formats"},
		Doc:    "Extra formats to produce, separated by commas: ecs (ECS repositoryCredentials / Secrets Manager JSON), dockerconfigjson (Kubernetes .dockerconfigjson), k8s-secret (a Secret manifest for imagePullSecrets), dotenv. GitHub: outputs of the same names (ecs-credentials, dockerconfigjson, k8s-secret, dotenv), masked; plugin: files in output-dir.",
		Kind:   List,
		Modes:  InGitHub | InPlugin,
		Helper: HelperIgnores,
		setList: func(c *Config, list []string) error {
			for _, f := range list {
				f = strings.ToLower(f)
				if !slices.Contains(names.Formats, f) {
					return bad("Use any of "+strings.Join(names.Formats, ", ")+", separated by commas.", "%q is not a format", shorten(f))
				}
				c.Formats = append(c.Formats, f)
			}
			return nil
		},
	}
	K8sSecretName = &Setting{
		Name:    "k8s-secret-name",
		Plugin:  []string{"k8s_secret_name"},
		Flag:    []string{"k8s-secret-name"},
		Default: "ecr-credentials",
		Doc:     "metadata.name of the k8s-secret format's Secret.",
		Kind:    String,
		Modes:   InAll,
		Helper:  HelperIgnores,
		setText: func(c *Config, v string) error {
			if !dnsLabel.MatchString(v) || len(v) > 253 {
				return bad("Use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit.", "%q is not a Kubernetes object name", shorten(v))
			}
			c.K8sSecretName = v
			return nil
		},
	}
	K8sNamespace = &Setting{
		Name:   "k8s-namespace",
		Plugin: []string{"k8s_namespace"},
		Flag:   []string{"k8s-namespace"},
		Doc:    "metadata.namespace of the k8s-secret format's Secret (omitted when empty).",
		Kind:   String,
		Modes:  InAll,
		Helper: HelperIgnores,
		setText: func(c *Config, v string) error {
			if !dnsLabel.MatchString(v) || len(v) > 63 || strings.Contains(v, ".") {
				return bad("Use lower-case letters, digits and '-', starting and ending with a letter or digit.", "%q is not a Kubernetes namespace", shorten(v))
			}
			c.K8sNamespace = v
			return nil
		},
	}
	BambooNamespace = &Setting{
		Name:    "bamboo-namespace",
		Plugin:  []string{"bamboo_namespace"},
		Flag:    []string{"bamboo-namespace"},
		Default: "custom.aws.ecr",
		Doc:     "Namespace of the bamboo format's variables (<namespace>.username, <namespace>.password, ...): names separated by dots, of letters, digits, '_' and '-'.",
		Kind:    String,
		Modes:   InAll,
		Helper:  HelperIgnores,
		setText: func(c *Config, v string) error {
			if !bambooNamespace.MatchString(v) || len(v) > 200 {
				return bad("Use names of letters, digits, '_' and '-' separated by dots, e.g. custom.aws.ecr.", "%q is not a Bamboo variable namespace", shorten(v))
			}
			c.BambooNamespace = v
			return nil
		},
	}
	Shell = &Setting{
		Name:    "shell",
		Flag:    []string{"shell"},
		Default: "sh",
		Doc:     "The shell `env` prints for: sh (export NAME='...', also bash and zsh), fish (set -gx NAME '...'), powershell ($Env:NAME = '...') or cmd (set NAME=..., for a batch file you `call`).",
		Kind:    String,
		Modes:   InCLI,
		Helper:  HelperIgnores,
		setText: func(c *Config, v string) error {
			v = strings.ToLower(v)
			if v == "bash" || v == "zsh" {
				v = "sh" // the same export lines
			}
			for _, s := range names.Shells {
				if v == s {
					c.Shell = v
					return nil
				}
			}
			return bad("Use one of "+strings.Join(names.Shells, ", ")+" (bash and zsh are sh).", "%q is not a shell", shorten(v))
		},
	}
	OutputDir = &Setting{
		Name:    "output-dir",
		Plugin:  []string{"output_dir"},
		Default: ".ecr-credentials",
		Doc:     "Directory (relative to the workspace) for the plugin's files: ecr.env with the exported variables, and the files of `formats`. Mode 0700, files 0600.",
		Kind:    String,
		Modes:   InPlugin,
		Helper:  HelperIgnores,
		setText: func(c *Config, v string) error { c.OutputDir = v; return nil },
	}
	ExportAWSCredentials = &Setting{
		Name:    "export-aws-credentials",
		Plugin:  []string{"export_aws_credentials"},
		Flag:    []string{"export-aws-credentials"},
		Default: "false",
		Doc:     "Also hand the temporary AWS credentials to later steps (GitHub: AWS_* environment variables and aws-* outputs, masked; plugin: the dotenv file). Off by default: ECR needs only the registry password.",
		Kind:    Bool,
		Modes:   InAll,
		Helper:  HelperIgnores,
		setBool: func(c *Config, b bool) { c.ExportAWSCredentials = b },
	}
	Debug = &Setting{
		Name:    "debug",
		Plugin:  []string{"debug"},
		Flag:    []string{"debug"},
		Doc:     "Print debug lines (never secrets). In GitHub, use the runner's debug logging (ACTIONS_STEP_DEBUG) instead.",
		Kind:    Bool,
		Modes:   InPlugin | InCLI,
		Helper:  HelperIgnores,
		setBool: func(c *Config, b bool) { c.Debug = b },
	}
	Timeout = &Setting{
		Name:        "timeout",
		Plugin:      []string{"timeout"},
		Flag:        []string{"timeout"},
		Default:     "2m",
		Doc:         "Overall deadline for getting the credentials, retries included, as a Go duration (90s, 2m).",
		Kind:        Duration,
		Modes:       InAll,
		Helper:      HelperInherits,
		helperValue: func(c *Config) string { return c.Timeout.String() },
		setDuration: func(c *Config, d time.Duration) { c.Timeout = d },
	}
)

// Table is the one list of settings. action.yml, docs/settings.md and --help are
// generated from it, and tests keep them in step.
//
// Order matters: settings are applied top to bottom, so a setting whose
// parsing depends on another (registries on aws-region) comes after it.
var Table = []*Setting{
	RoleToAssume,
	AWSRegion,
	Audience,
	CredentialSource,
	WebIdentityTokenFile,
	WebIdentityTokenEnv,
	AWSAccessKeyID,
	AWSSecretAccessKey,
	AWSSessionToken,
	RoleChain,
	RoleExternalID,
	RoleSessionTags,
	RoleSourceIdentity,
	InlineSessionPolicy,
	ManagedSessionPolicies,
	AllowedAccountIDs,
	RoleSkipSessionTagging,
	RoleSessionName,
	RoleDurationSeconds,
	DualStack,
	HTTPProxy,
	NoProxy,
	RegistryAliases,
	Registries,
	DockerLogin,
	DockerConfig,
	RegistryAuthFile,
	ExportDockerConfig,
	HostRunnerTemp,
	HostWorkspace,
	Verify,
	SkipLogout,
	Refresh,
	ExportEnv,
	EnvPrefix,
	MaskPassword,
	MaskAWSAccountID,
	Formats,
	K8sSecretName,
	K8sNamespace,
	BambooNamespace,
	Shell,
	OutputDir,
	ExportAWSCredentials,
	Debug,
	Timeout,
}

func joinRoles(roles []RoleARN) string {
	arns := make([]string, len(roles))
	for i, r := range roles {
		arns[i] = r.ARN
	}
	return strings.Join(arns, ",")
}

func urlString(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.String()
}

func isCIDR(s string) bool {
	_, _, err := net.ParseCIDR(s)
	return err == nil
}

// Peers are the names other actions and plugins give their settings, read
// in the mode they belong to, so that a step moved over from a peer never
// silently ignores one: each is taken with the peer's meaning (Setting,
// Values, Variable) or refused with Fix, which names ours. docs/migrating.md's
// table of peer names is generated from this list.
var Peers = []*PeerName{
	{Name: "registry-type", Mode: GitHub, Peer: "amazon-ecr-login", Setting: Registries,
		Values: map[string]string{"private": "", "public": "public.ecr.aws"},
		Doc:    "`public` adds ECR Public (public.ecr.aws) to registries (alone when registries is empty, as amazon-ecr-login logs in to ECR Public only); `private` is the default.",
		Fix:    "Use private or public (public adds public.ecr.aws to registries)."},
	{Name: "mask-passwords", Mode: GitHub, Peer: "a plural spelling of amazon-ecr-login's mask-password", Setting: MaskPassword,
		Doc: "Read as mask-password."},
	{Name: "role-chaining", Mode: GitHub, Peer: "configure-aws-credentials", Setting: CredentialSource,
		Values: map[string]string{"true": string(SourceDefaultChain), "false": ""},
		Doc:    "`true` is credential-source: default-chain: the AWS credentials already in the environment (an earlier step's) assume role-to-assume.",
		Fix:    "Use true or false; true is credential-source: default-chain."},
	{Name: "output-credentials", Mode: GitHub, Peer: "configure-aws-credentials", Setting: ExportAWSCredentials,
		Values: map[string]string{"true": "true", "false": ""},
		Doc:    "`true` is export-aws-credentials: true (the aws-* outputs, and the AWS_* variables that configure-aws-credentials exports by default too).",
		Fix:    "Use true or false; true is export-aws-credentials: true."},
	{Name: "output-env-credentials", Mode: GitHub, Peer: "configure-aws-credentials", Setting: ExportAWSCredentials,
		Values: map[string]string{"true": "true", "false": ""},
		Doc:    "`true` is export-aws-credentials: true (the AWS_* variables, and the masked aws-* outputs); `false` is the default here.",
		Fix:    "Use true or false; true is export-aws-credentials: true."},
	{Name: "aws-profile", Mode: GitHub, Peer: "configure-aws-credentials",
		Doc: "Refused: this action writes no AWS profile files.",
		Fix: "This action writes no AWS profile files: remove aws-profile, and set export-aws-credentials: true to hand the AWS credentials to later steps as AWS_* variables."},
	{Name: "special-characters-workaround", Mode: GitHub, Peer: "configure-aws-credentials",
		Values: map[string]string{"false": ""},
		Doc:    "`false` is accepted; `true` is refused: not needed, the secret access key is never put through a shell.",
		Fix:    "Not needed: this action never puts the secret access key through a shell (export-aws-credentials writes it to GITHUB_ENV as it is). Remove special-characters-workaround."},
	{Name: "unset-current-credentials", Mode: GitHub, Peer: "configure-aws-credentials",
		Values: map[string]string{"false": ""},
		Doc:    "`false` is accepted; `true` is refused: this action never changes the job's AWS_* variables.",
		Fix:    "This action never changes the job's AWS_* variables. To keep them out of the exchange, set credential-source: github-oidc; then remove unset-current-credentials."},
	{Name: "disable-retry", Mode: GitHub, Peer: "configure-aws-credentials",
		Values: map[string]string{"false": ""},
		Doc:    "`false` is accepted; `true` is refused: retries stop at timeout.",
		Fix:    "Retries of transient failures stop at timeout: set timeout (e.g. 30s) to bound them, and remove disable-retry."},
	{Name: "retry-max-attempts", Mode: GitHub, Peer: "configure-aws-credentials",
		Doc: "Refused: retries stop at timeout.",
		Fix: "Retries of transient failures stop at timeout: set timeout (e.g. 30s) to bound them, and remove retry-max-attempts."},
	{Name: "use-existing-credentials", Mode: GitHub, Peer: "configure-aws-credentials",
		Values: map[string]string{"false": ""},
		Doc:    "`false` is accepted; `true` is refused: use credential-source: default-chain.",
		Fix:    "To log in with the AWS credentials already in the job's environment, set credential-source: default-chain (without role-to-assume), and remove use-existing-credentials."},
	{Name: "transitive-tag-keys", Mode: GitHub, Peer: "configure-aws-credentials",
		Doc: "Refused: session tags are not made transitive.",
		Fix: "Session tags are set with role-session-tags and are not made transitive: remove transitive-tag-keys (and tag each role of role-chain in its own trust)."},
	{Name: "oidc_token_id", Mode: Plugin, Peer: "Harness CI's Drone plugins", Setting: WebIdentityTokenEnv, Variable: true,
		Doc: "The web identity token itself: read as web_identity_token_env naming PLUGIN_OIDC_TOKEN_ID, exchanged for role_arn (or assume_role)."},
}
