package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/awsauth"
	"github.com/ecr-credentials/ecr-credentials/internal/dockerconfig"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/oidc"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
	"github.com/ecr-credentials/ecr-credentials/internal/registry"
	"github.com/ecr-credentials/ecr-credentials/internal/securefile"
)

// A login that stays fresh (the refresh setting) is the usual docker
// login plus, for every registry, a credHelpers entry naming a
// docker-credential-ecr-credentials helper; the helper is a copy of this
// binary in the docker config directory (dockerconfig.RefreshDirName/bin),
// beside the settings it needs to log in again as this run did and the
// token cache. Each run of a job takes a helper name of its own
// (dockerconfig.RefreshHelperName, then -2, -3, ...) with its own settings
// file, so a second step with other roles adds or replaces only its own
// hosts' entries, and its logout (the post step) restores the entries it
// replaced and removes only its helper; the last one removes the directory.

// refreshBinDir is where the helper binaries live, below the refresh dir.
const refreshBinDir = "bin"

// refreshLogin writes the docker login with credHelpers entries and then
// the helper beside it. On error nothing is left.
func refreshLogin(ctx context.Context, cfg *inputs.Config, e Env, res *Result) (*dockerconfig.Receipt, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, problem.Wrap(problem.Internal, err, "cannot find this program's binary to leave it as the credential helper", "")
	}
	bin, err := os.ReadFile(self)
	if err != nil {
		return nil, problem.Wrap(problem.Internal, err, "cannot read this program's binary to leave it as the credential helper", "")
	}
	settings := refreshSettings(cfg, res)
	if f := settings.Settings["web-identity-token-file"]; f != "" && !filepath.IsAbs(f) && e.Dir != "" {
		// The helper runs from wherever docker runs.
		settings.Settings["web-identity-token-file"] = filepath.Join(e.Dir, f)
	}
	dockerDir, err := dockerConfigDir(cfg, e)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(dockerDir, dockerconfig.RefreshDirName)
	name := freeRefreshHelperName(dir)
	r, err := loginWith(ctx, cfg, e, res.Logins, name)
	if err != nil {
		return nil, err
	}
	r.RefreshDir = filepath.Join(filepath.Dir(r.ConfigFile), dockerconfig.RefreshDirName)
	if err := writeRefreshHelper(r.RefreshDir, name, bin, settings); err != nil {
		_ = dockerconfig.Logout(ctx, r) // removes this helper's files too
		return nil, problem.Wrap(problem.DockerConfig, err, "leaving the credential helper beside the docker config failed (the docker login was undone)", "Check that the docker config directory is writable.")
	}
	return r, nil
}

// freeRefreshHelperName is the first helper name no earlier refresh login
// left in dir.
func freeRefreshHelperName(dir string) string {
	name := dockerconfig.RefreshHelperName
	for n := 2; ; n++ {
		bin, settings := dockerconfig.RefreshHelperFiles(dir, name)
		if !exists(bin) && !exists(settings) {
			return name
		}
		name = dockerconfig.RefreshHelperName + "-" + strconv.Itoa(n)
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// writeRefreshHelper writes the helper binary called name and its settings
// into dir, owned like the docker config directory (the container action
// runs as root, later steps as the runner user). Other helpers in dir are
// left as they are.
func writeRefreshHelper(dir, name string, bin []byte, settings *inputs.SettingsFile) error {
	binDir := filepath.Join(dir, refreshBinDir)
	if err := securefile.EnsureDir(binDir); err != nil {
		return err
	}
	uid, gid, ok := securefile.Owner(filepath.Dir(dir))
	if !ok {
		uid, gid = -1, -1
	}
	securefile.ChownIfRoot(dir, uid, gid)
	securefile.ChownIfRoot(binDir, uid, gid)
	helper, settingsFile := dockerconfig.RefreshHelperFiles(dir, name)
	if err := securefile.WriteAtomic(helper, bin, 0o700, uid, gid, ok); err != nil {
		return err
	}
	if err := inputs.WriteSettingsFile(settingsFile, settings); err != nil {
		return err
	}
	securefile.ChownIfRoot(settingsFile, uid, gid)
	return nil
}

// refreshSettings are the settings that let the helper log in again the
// way this run did: the same base identity (the GitHub OIDC token, a token
// file or variable, the static keys, the default chain), roles, session
// options and registries with their identities. Registry hosts that are
// not ECR hosts (a proxy endpoint, an alias) become aliases.
func refreshSettings(cfg *inputs.Config, res *Result) *inputs.SettingsFile {
	set := map[string]string{
		"aws-region":            cfg.Region,
		"role-session-name":     cfg.SessionName,
		"role-duration-seconds": strconv.Itoa(int(cfg.Duration / time.Second)),
		"timeout":               cfg.Timeout.String(),
	}
	put := func(name, v string) {
		if v != "" {
			set[name] = v
		}
	}
	put("role-to-assume", cfg.Role.ARN)
	put("audience", cfg.Audience)
	switch res.Base.Kind {
	case awsauth.WebIdentity:
		src := res.Base.WebIdentity
		if o, ok := src.(*onceSource); ok {
			src = o.Source
		}
		switch s := src.(type) {
		case *oidc.GitHub:
			set["credential-source"] = string(inputs.SourceGitHubOIDC)
		case *oidc.File:
			set["credential-source"] = string(inputs.SourceWebIdentityFile)
			put("web-identity-token-file", s.Path)
		case *oidc.Env:
			set["credential-source"] = string(inputs.SourceWebIdentityEnv)
			put("web-identity-token-env", s.Name)
		}
	case awsauth.Static:
		set["credential-source"] = string(inputs.SourceStatic)
		put("aws-access-key-id", cfg.Static.AccessKeyID)
		put("aws-secret-access-key", cfg.Static.SecretAccessKey)
		put("aws-session-token", cfg.Static.SessionToken)
	case awsauth.DefaultChain:
		set["credential-source"] = string(inputs.SourceDefaultChain)
	}
	var chain []string
	for _, r := range cfg.RoleChain {
		chain = append(chain, r.ARN)
	}
	put("role-chain", strings.Join(chain, ","))
	put("role-external-id", cfg.ExternalID)
	var tags []string
	for _, t := range cfg.SessionTags {
		tags = append(tags, t.Key+"="+t.Value)
	}
	put("role-session-tags", strings.Join(tags, ","))
	put("role-source-identity", cfg.SourceIdentity)
	put("inline-session-policy", cfg.SessionPolicy)

	var regs, aliases []string
	for alias, r := range cfg.RegistryAliases {
		aliases = append(aliases, alias+"="+r.Host)
	}
	for i, l := range res.Logins {
		entry := l.Registry.Host
		if id := res.Identities[i]; !id.IsMain() {
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
			account = res.Sessions[i].AccountID
		}
		if std, err := registry.ForAccount(account, l.Registry.Region); err == nil {
			aliases = append(aliases, l.Registry.Host+"="+std.Host)
		}
	}
	put("registries", strings.Join(regs, "\n"))
	put("registry-aliases", strings.Join(aliases, ","))
	return &inputs.SettingsFile{Settings: set, CacheDir: "cache"}
}

// hostRefreshBin is the directory later GitHub steps find the helper in:
// the host path of the refresh directory's bin (see hostDockerConfig).
func hostRefreshBin(r *dockerconfig.Receipt, cfg *inputs.Config, e Env) (string, error) {
	dir := filepath.Dir(r.ConfigFile)
	host, note := hostDockerConfig(dir, cfg, e)
	if host == "" {
		if inGitHubContainer(e) {
			return "", &problem.Problem{Code: problem.DockerConfig, Subject: cfg.Describe(inputs.Refresh),
				What: "later steps could not run the credential helper: " + note,
				Fix:  "Leave docker-config unset (the login then goes to /github/home/.docker), use the action as owner/repo@ref, or drop refresh."}
		}
		host = dir
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
