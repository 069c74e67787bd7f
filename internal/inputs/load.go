package inputs

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/problem"
	"github.com/ecr-credentials/ecr-credentials/internal/registry"
)

// RoleARN is a parsed IAM role ARN.
type RoleARN struct {
	ARN       string // as given
	Partition string // aws, aws-cn, aws-us-gov, ...
	AccountID string
	Name      string // last path element
}

// Config is every setting, parsed and checked. It is the only thing the rest
// of the program learns about how it was configured.
type Config struct {
	Mode Mode

	Role        RoleARN // zero if not given
	Region      string
	Audience    string
	SessionName string
	Duration    time.Duration
	Registries  []registry.Registry // empty: the credentials' own registry in Region
	// DualStack: IPv6 registry hosts and API endpoints.
	DualStack bool
	// HTTPProxy (nil: the environment's) and NoProxy (none: the
	// environment's) for every connection.
	HTTPProxy *url.URL
	NoProxy   []string
	// RegistryAliases maps other host names to the registry they stand for.
	RegistryAliases map[string]registry.Registry
	// RegistryIdentities maps the host of a registry that names its own
	// identity (registries entry host=<role ARN> or =profile:<name>) to
	// it; the other registries use Role.
	RegistryIdentities map[string]Identity

	DockerLogin  bool
	DockerConfig string // "" means DOCKER_CONFIG, else ~/.docker
	// RegistryAuthFile, if set, is a containers auth.json to write too.
	RegistryAuthFile   string
	ExportDockerConfig bool
	Verify             bool
	SkipLogout         bool
	// Refresh leaves a credential helper that keeps the login fresh.
	Refresh bool
	// Host paths of the runner's temp directory and workspace, for
	// translating container paths (GitHub container action only).
	HostRunnerTemp string
	HostWorkspace  string

	ExportEnv     bool
	EnvPrefix     string
	MaskPassword  bool
	MaskAccountID bool

	// Credential sources.
	CredentialSource     BaseSource
	WebIdentityTokenFile string
	WebIdentityTokenEnv  string
	Static               StaticKeys

	// Role chaining and session options.
	RoleChain      []RoleARN
	ExternalID     string
	SessionTags    []Tag
	SourceIdentity string
	SessionPolicy  string
	// ManagedSessionPolicies are policy ARNs scoping the final session.
	ManagedSessionPolicies []string
	// AllowedAccountIDs, if any, are the only accounts the credentials may be of.
	AllowedAccountIDs []string
	// SkipSessionTagging turns off the default GitHub session tags.
	SkipSessionTagging bool
	// DroppableTags (no setting: a refresh helper's settings file gives
	// them) are keys of SessionTags that may be dropped when STS finds the
	// tags too large, as GitHub mode's convenience tags are for the step.
	DroppableTags map[string]bool

	ExportAWSCredentials bool

	// Extra formats and where the plugin writes files.
	Formats       []string
	K8sSecretName string
	K8sNamespace  string
	OutputDir     string
	// BambooNamespace prefixes the bamboo format's variables.
	BambooNamespace string
	// Shell is the shell the CLI's env command prints for.
	Shell string

	Debug   bool
	Timeout time.Duration

	// Notes say how names of other actions' settings were read (see
	// Peers), for the log.
	Notes []string
	// Origin records where every setting with a value came from:
	// explicit (Origin.Explicit), an environment fallback or the default,
	// for messages about it.
	Origin map[*Setting]Origin
}

// Identity is the AWS identity a registries entry names for itself:
// either a role assumed from the base identity (in place of
// role-to-assume), or an AWS shared config profile. The zero Identity is
// the main one.
type Identity struct {
	Role    RoleARN
	Profile string
}

// IsMain reports whether this is the main identity.
func (i Identity) IsMain() bool { return i == Identity{} }

// String is how the identity is written in a registries entry ("" for the
// main one).
func (i Identity) String() string {
	if i.Profile != "" {
		return "profile:" + i.Profile
	}
	return i.Role.ARN
}

// IdentityFor returns the identity that logs in to the registry with host.
func (c *Config) IdentityFor(host string) Identity { return c.RegistryIdentities[host] }

// AccountIDs lists every AWS account ID the settings name: of
// role-to-assume, each role-chain hop, the roles registries entries name,
// the registries and allowed-account-ids (mask-aws-account-id masks them
// all before the first line is written).
func (c *Config) AccountIDs() []string {
	ids := []string{c.Role.AccountID}
	for _, r := range c.RoleChain {
		ids = append(ids, r.AccountID)
	}
	for _, id := range c.RegistryIdentities {
		ids = append(ids, id.Role.AccountID)
	}
	for _, r := range c.Registries {
		ids = append(ids, r.AccountID)
	}
	return append(ids, c.AllowedAccountIDs...)
}

// BaseSource names where the base AWS identity comes from (the
// credential-source setting).
type BaseSource string

// The credential sources.
const (
	SourceAuto            BaseSource = "auto"
	SourceGitHubOIDC      BaseSource = "github-oidc"
	SourceWebIdentityFile BaseSource = "web-identity-file"
	SourceWebIdentityEnv  BaseSource = "web-identity-env"
	SourceStatic          BaseSource = "static"
	SourceDefaultChain    BaseSource = "default-chain"
)

// StaticKeys are access keys given as settings.
type StaticKeys struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

// Given reports whether any key was given.
func (k StaticKeys) Given() bool {
	return k.AccessKeyID != "" || k.SecretAccessKey != "" || k.SessionToken != ""
}

// Tag is an STS session tag.
type Tag struct{ Key, Value string }

// Source says where settings come from.
type Source struct {
	Mode Mode
	// Getenv reads the environment (INPUT_*, PLUGIN_* and fallbacks).
	Getenv func(string) string
	// Environ lists the environment as KEY=VALUE, to find unknown PLUGIN_*
	// settings. May be nil.
	Environ []string
	// Flags holds the CLI flags the user set. In GitHub mode it holds
	// the --<name>=<value> program arguments of FromArgs settings.
	Flags Flags
}

// SettingError is a problem with one setting (a value that cannot be
// used, or a required one missing). errors.As finds it, and through it the
// setting; errors.As finds the *problem.Problem it wraps too.
type SettingError struct {
	Setting *Setting
	Problem *problem.Problem
}

// Error is the problem's message.
func (e *SettingError) Error() string { return e.Problem.Error() }

// Unwrap returns the problem.
func (e *SettingError) Unwrap() error { return e.Problem }

// Load reads, defaults and parses every setting for src.Mode. Problems are
// returned as *problem.Problem naming the setting as the user spelled it;
// warnings are for the log.
func Load(src Source) (*Config, []string, error) {
	if src.Getenv == nil {
		return nil, nil, errors.New("inputs: Source.Getenv is nil")
	}
	c := &Config{Mode: src.Mode, Origin: map[*Setting]Origin{}}
	var warnings []string

	if src.Mode == Plugin || src.Mode == GitHub {
		w, err := checkVars(src.Mode, src.Environ)
		if err != nil {
			return nil, nil, err
		}
		warnings = append(warnings, w...)
	}
	peers, notes, err := resolvePeers(src)
	if err != nil {
		return nil, nil, err
	}
	c.Notes = notes

	for _, s := range Table {
		if !s.Modes.Has(src.Mode) {
			continue
		}
		v, origin := lookup(s, src)
		if p, ok := peers[s]; ok {
			v, origin = p.value, Origin{Kind: FromPeer, Name: p.subject}
		}
		if v == "" {
			continue
		}
		c.Origin[s] = origin
		subject := origin.String()
		if err := s.apply(c, v); err != nil {
			p := problem.Wrap(problem.InvalidSetting, err, subject, "")
			var inv *invalid
			if errors.As(err, &inv) {
				p = &problem.Problem{Code: problem.InvalidSetting, Subject: subject, What: inv.what, Fix: inv.fix}
			}
			return nil, nil, &SettingError{Setting: s, Problem: p}
		}
	}

	if err := finish(c, src); err != nil {
		return nil, nil, err
	}
	if src.Mode == GitHub && !c.MaskPassword {
		warnings = append(warnings, "mask-password is false: the password and authorization token will appear unmasked wherever a later step prints them. Use it only to hand the password to a later job's container.credentials.")
	}
	return c, warnings, nil
}

// lookup finds a setting's raw value: explicit (input, plugin setting or
// flag), then environment fallbacks, then the default. It returns the value,
// and where it came from.
func lookup(s *Setting, src Source) (string, Origin) {
	if src.Mode == GitHub && s.FromArgs {
		// Unexpanded when the program was not started from action.yml.
		v, _ := src.Flags.Value(s)
		if v := strings.TrimSpace(v); v != "" && !strings.HasPrefix(v, "${{") {
			return v, Origin{Kind: FromInput, Name: s.Name}
		}
		return "", Origin{}
	}
	if v, origin, ok := explicitValue(s, src); ok {
		return v, origin
	}
	for _, env := range s.Env {
		if v := strings.TrimSpace(src.Getenv(env)); v != "" {
			return v, Origin{Kind: FromEnv, Name: env}
		}
	}
	return s.DefaultFor(src.Mode), Origin{Kind: FromDefault, Name: s.Spell(src.Mode)}
}

// Describe names a setting for a message: where its value came from if it
// has one, else how a user of this mode would set it.
func (c *Config) Describe(s *Setting) string {
	if o, ok := c.Origin[s]; ok && o.Kind != FromDefault {
		return o.String()
	}
	return s.Spell(c.Mode)
}

// finish fills derived defaults and checks settings against each other.
func finish(c *Config, src Source) error {
	if c.Region == "" {
		// A registry host names its region: use it for STS too.
		for _, r := range c.Registries {
			if !r.Public {
				c.Region = r.Region
				break
			}
		}
	}
	if c.Region == "" {
		for _, r := range c.Registries {
			c.Region = r.Region // ECR Public only: us-east-1
			break
		}
	}
	if c.Region == "" {
		name := AWSRegion.Spell(src.Mode)
		return &SettingError{Setting: AWSRegion, Problem: &problem.Problem{
			Code:    problem.MissingSetting,
			Subject: name,
			What:    "no AWS region is set",
			Fix:     fmt.Sprintf("Set %s (e.g. us-east-1) or the AWS_REGION environment variable.", name),
		}}
	}
	if c.SessionName == "" {
		c.SessionName = defaultSessionName(src)
	}
	if c.Refresh && !c.DockerLogin {
		return &SettingError{Setting: Refresh, Problem: &problem.Problem{Code: problem.ConflictingSettings, Subject: c.Describe(Refresh),
			What: "refresh keeps a docker login fresh, but docker-login is false",
			Fix:  fmt.Sprintf("Set %s to true, or drop %s.", DockerLogin.Spell(src.Mode), Refresh.Spell(src.Mode))}}
	}
	return nil
}

func defaultSessionName(src Source) string {
	env := src.Getenv
	switch {
	case src.Mode == GitHub && env("GITHUB_RUN_ID") != "":
		name := "GitHubActions-" + env("GITHUB_RUN_ID")
		if a := env("GITHUB_RUN_ATTEMPT"); a != "" {
			name += "-" + a
		}
		return SanitizeSessionName(name)
	case src.Mode == GitHub:
		return "GitHubActions"
	case PluginCI(env) == Woodpecker && env("CI_PIPELINE_NUMBER") != "":
		return SanitizeSessionName("Woodpecker-" + env("CI_PIPELINE_NUMBER"))
	case env("DRONE_BUILD_NUMBER") != "":
		return SanitizeSessionName("Drone-" + env("DRONE_BUILD_NUMBER"))
	}
	return "ecr-credentials"
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// dockerPluginSettings are the build-and-push settings of Drone's
// plugins/ecr (and plugins/docker), which this program does not take.
var dockerPluginSettings = map[string]bool{
	"REPO": true, "TAGS": true, "TAG": true, "DOCKERFILE": true, "CONTEXT": true, "BUILD_ARGS": true, "BUILD_ARGS_FROM_ENV": true,
	"TARGET": true, "AUTO_TAG": true, "AUTO_TAG_SUFFIX": true, "CACHE_FROM": true, "CREATE_REPOSITORY": true, "LIFECYCLE_POLICY": true,
	"REPOSITORY_POLICY": true, "SCAN_ON_PUSH": true, "DRY_RUN": true, "PURGE": true, "SQUASH": true, "LABELS": true, "PLATFORM": true,
}
