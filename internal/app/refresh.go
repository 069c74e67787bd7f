package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ecr-credentials/ecr-credentials/internal/awsauth"
	"github.com/ecr-credentials/ecr-credentials/internal/dockerconfig"
	"github.com/ecr-credentials/ecr-credentials/internal/flow"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/oidc"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
	"github.com/ecr-credentials/ecr-credentials/internal/registry"
	"github.com/ecr-credentials/ecr-credentials/internal/runner"
)

// A login that stays fresh (the refresh setting) is the usual docker
// login plus, for every registry, a credHelpers entry naming a
// docker-credential-ecr-credentials helper; the helper is a copy of this
// binary in the docker config directory (dockerconfig.RefreshDirName/bin),
// beside the settings it needs to log in again as this run did and the
// token cache. Each run of a job takes a helper name of its own
// (dockerconfig.RefreshHelperName, then -2, -3, ..., reserved under the
// config lock) with its own settings file, so a second step with other
// roles adds or replaces only its own hosts' entries, and its logout (the
// post step) restores the entries it replaced and removes only its helper;
// the last one removes the directory.

// refreshBinDir is where the helper binaries live, below the refresh dir.
const refreshBinDir = "bin"

// refreshLogin writes the docker login with credHelpers entries and the
// helper beside it (dockerconfig.Options.Refresh: the directory is checked
// or made, the helper's name reserved under the config lock). On error
// nothing is left; loginSink.loginFailed tells the login's own errors.
func refreshLogin(ctx context.Context, cfg *inputs.Config, e Env, res *flow.Result) (*dockerconfig.Handle, error) {
	dockerDir, err := dockerConfigDir(cfg, e)
	if err != nil {
		return nil, err
	}
	if err := checkPathEntry(cfg, dockerDir); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, problem.Wrap(problem.Internal, err, "cannot find this program's binary to leave it as the credential helper", "")
	}
	bin, err := os.ReadFile(self)
	if err != nil {
		return nil, problem.Wrap(problem.Internal, err, "cannot read this program's binary to leave it as the credential helper", "")
	}
	settings := refreshSettings(cfg, e, res)
	if f := settings.Settings[inputs.WebIdentityTokenFile]; f != "" && !filepath.IsAbs(f) && e.Dir != "" {
		// The helper runs from wherever docker runs.
		settings.Settings[inputs.WebIdentityTokenFile] = filepath.Join(e.Dir, f)
	}
	data, err := settings.Encode()
	if err != nil {
		return nil, problem.Wrap(problem.Internal, err, "encoding the credential helper's settings failed", "")
	}
	return writeLogin(ctx, dockerconfig.Options{Dir: dockerDir, Refresh: &dockerconfig.RefreshHelper{Program: bin, Settings: data}}, res.ECRLogins())
}

// checkPathEntry refuses a docker config directory whose refresh bin would
// not be one PATH entry for later steps (GITHUB_PATH, the plugin's `export
// PATH=`): a path list separator in it would make two, one of them a
// directory nobody checked.
func checkPathEntry(cfg *inputs.Config, dir string) error {
	if !strings.ContainsAny(dir, string(os.PathListSeparator)+"\r\n") {
		return nil
	}
	return &problem.Problem{Code: problem.InvalidSetting, Subject: cfg.Describe(inputs.DockerConfig),
		What: fmt.Sprintf("the docker config directory %q holds %q or a line break, so the credential helper's directory would not be one PATH entry for later steps", dir, string(os.PathListSeparator)),
		Fix:  fmt.Sprintf("Use a docker config directory without %q in its path, or drop refresh.", string(os.PathListSeparator))}
}

// refreshSettings are the settings that let the helper log in again the
// way this run did. Every setting the table marks inherited
// (inputs.HelperInherits: the role, the session's name, lifetime, policies
// and tags, the allowed accounts, the proxy, dual-stack, ...) goes with the
// value this run used; the others the helper needs are derived here: the
// base identity the run started from (the GitHub OIDC token, a token file
// or variable, the static keys, the default chain), the session tags with
// GitHub's default ones, and the registries with their identities.
// Registry hosts that are not ECR hosts (a proxy endpoint, an alias)
// become aliases.
func refreshSettings(cfg *inputs.Config, e Env, res *flow.Result) *inputs.SettingsFile {
	set := map[*inputs.Setting]string{}
	for _, s := range inputs.Table {
		if s.Helper != inputs.HelperInherits {
			continue
		}
		if v := s.HelperValue(cfg); v != "" {
			set[s] = v
		}
	}
	put := func(s *inputs.Setting, v string) {
		if v != "" {
			set[s] = v
		}
	}
	switch res.Base.Kind {
	case awsauth.WebIdentity:
		src := res.Base.WebIdentity
		if o, ok := src.(*flow.OnceSource); ok {
			src = o.Source
		}
		switch s := src.(type) {
		case *oidc.GitHub:
			put(inputs.CredentialSource, string(inputs.SourceGitHubOIDC))
		case *oidc.File:
			put(inputs.CredentialSource, string(inputs.SourceWebIdentityFile))
			put(inputs.WebIdentityTokenFile, s.Path)
		case *oidc.Env:
			put(inputs.CredentialSource, string(inputs.SourceWebIdentityEnv))
			put(inputs.WebIdentityTokenEnv, s.Name)
		}
	case awsauth.Static:
		put(inputs.CredentialSource, string(inputs.SourceStatic))
		put(inputs.AWSAccessKeyID, cfg.Static.AccessKeyID)
		put(inputs.AWSSecretAccessKey, cfg.Static.SecretAccessKey)
		put(inputs.AWSSessionToken, cfg.Static.SessionToken)
	case awsauth.DefaultChain:
		put(inputs.CredentialSource, string(inputs.SourceDefaultChain))
	}
	// The tags the step sends, GitHub's default ones included (they name
	// the step's job, which a later step's environment no longer does),
	// and which of them may be dropped.
	st := flow.DefaultSessionTags(cfg, e.flowEnv())
	var tags, droppable []string
	for _, t := range st.Tags {
		tags = append(tags, t.Key+"="+t.Value)
		if st.Droppable[t.Key] {
			droppable = append(droppable, t.Key)
		}
	}
	put(inputs.RoleSessionTags, strings.Join(tags, ","))

	var regs, aliases []string
	for alias, r := range cfg.RegistryAliases {
		aliases = append(aliases, alias+"="+r.Host)
	}
	for _, l := range res.Logins {
		entry := l.Registry.Host
		if id := l.Identity; !id.IsMain() {
			entry += "=" + id.String()
		}
		regs = append(regs, entry)
		if _, known := cfg.RegistryAliases[l.Registry.Host]; known || l.Registry.Public {
			continue
		}
		if _, err := registry.ParseHost(l.Registry.Host); err == nil {
			continue
		}
		account := l.Registry.AccountID
		if account == "" {
			account = l.Session.AccountID
		}
		if std, err := registry.ForAccount(account, l.Registry.Region); err == nil {
			aliases = append(aliases, l.Registry.Host+"="+std.Host)
		}
	}
	put(inputs.Registries, strings.Join(regs, "\n"))
	put(inputs.RegistryAliases, strings.Join(aliases, ","))
	return &inputs.SettingsFile{Settings: set, CacheDir: "cache", DroppableTags: droppable}
}

// hostRefreshBin is the directory later GitHub steps find the helper in:
// the host path of the refresh directory's bin (see runner.HostPath).
func hostRefreshBin(r *dockerconfig.Receipt, cfg *inputs.Config, where *runner.Runner) (string, error) {
	dir := filepath.Dir(r.ConfigFile)
	host, note := where.HostPath(dir)
	if host == "" {
		if where.InGitHubContainer() {
			return "", &problem.Problem{Code: problem.DockerConfig, Subject: cfg.Describe(inputs.Refresh),
				What: "later steps could not run the credential helper: " + note,
				Fix:  "Leave docker-config unset (the login then goes to /github/home/.docker), use the action as owner/repo@ref, or drop refresh."}
		}
		host = dir
	}
	if err := checkPathEntry(cfg, host); err != nil {
		return "", err
	}
	return filepath.Join(host, dockerconfig.RefreshDirName, refreshBinDir), nil
}

// refreshNote tells where the helper is, for the log.
func refreshNote(r *dockerconfig.Receipt) string {
	name := dockerconfig.RefreshHelperName
	for _, e := range r.Entries {
		if e.RefreshHelper != "" {
			name = e.RefreshHelper
			break
		}
	}
	return fmt.Sprintf("credHelpers name %s%s (%s) for these registries: docker gets fresh credentials from it when these expire.", dockerconfig.HelperPrefix,
		name, filepath.Join(r.RefreshDir, refreshBinDir))
}
