package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/ecr-credentials/ecr-credentials/internal/awsauth"
	"github.com/ecr-credentials/ecr-credentials/internal/dockerconfig"
	"github.com/ecr-credentials/ecr-credentials/internal/flow"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/output"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
	"github.com/ecr-credentials/ecr-credentials/internal/registry"
	"github.com/ecr-credentials/ecr-credentials/internal/tokencache"
)

// credentialHelper runs one helper action (get, store, erase, list).
func credentialHelper(ctx context.Context, e Env, action string) int {
	debug, _ := inputs.ParseBool(inputs.EnvDebug.Get(e.Getenv))
	// stdout carries the protocol; everything for people goes to stderr.
	con := output.NewConsole(output.StylePlain, e.Stderr, e.Stderr, debug)
	h := &helper{ctx: ctx, e: e, con: con}
	file, err := helperSettingsFile(e)
	if err != nil {
		con.Problem(err)
		fmt.Fprintln(e.Stdout, output.OneLine(con.Redact(problem.As(err).Error()))) // docker quotes it in its own log
		return ExitError
	}
	h.file = file
	switch action {
	case "get", "store", "erase", "list":
	case "version":
		fmt.Fprintln(e.Stdout, VersionString())
		return ExitOK
	default:
		fmt.Fprintf(e.Stderr, "usage: %s get|store|erase|list (docker runs this; see docs/cli.md)\n", filepath.Base(e.Args[0]))
		return ExitUsage
	}
	if err := credentials.HandleCommand(h, action, e.Stdin, e.Stdout); err != nil {
		if credentials.IsErrCredentialsNotFound(err) {
			// docker reads the answer on stdout.
			fmt.Fprintln(e.Stdout, err.Error())
			return ExitError
		}
		con.Problem(err)
		fmt.Fprintln(e.Stdout, output.OneLine(con.Redact(problem.As(err).Error())))
		return ExitError
	}
	return ExitOK
}

// helper implements credentials.Helper.
type helper struct {
	ctx  context.Context
	e    Env
	con  *output.Console
	file *inputs.SettingsFile // nil: none
}

// helperSettingsFile reads ECR_CREDENTIALS_CONFIG, or else the settings
// file a refresh login left for the running binary beside its directory
// (dockerconfig.RefreshHelperFiles) if there is one.
func helperSettingsFile(e Env) (*inputs.SettingsFile, error) {
	path := strings.TrimSpace(inputs.EnvConfig.Get(e.Getenv))
	explicit := path != ""
	if !explicit {
		exe, err := os.Executable()
		if err != nil {
			return nil, nil
		}
		_, path = dockerconfig.RefreshHelperFiles(filepath.Dir(filepath.Dir(exe)), dockerconfig.HelperNameOf(filepath.Base(exe)))
	}
	f, err := inputs.ReadSettingsFile(path)
	if err != nil {
		if !explicit && inputs.IsNotExist(err) {
			return nil, nil
		}
		if inputs.IsNotExist(err) {
			return nil, problem.New(problem.InvalidSetting, "environment variable ECR_CREDENTIALS_CONFIG", "the settings file "+path+" does not exist", "Point ECR_CREDENTIALS_CONFIG at the helper's settings file, or unset it.")
		}
		return nil, err
	}
	return f, nil
}

// settings reads the settings the helper works with: its settings file
// and the environment, since docker starts it without arguments. When the
// file's registries (or ECR_CREDENTIALS_REGISTRIES) list host, that entry
// is used, with its identity; any other host uses the main identity.
func (h *helper) settings(host string) (*inputs.Config, error) {
	flags := inputs.Flags{}
	subject := ""
	if h.file != nil {
		flags = h.file.Flags()
		subject = "the helper's settings file"
	}
	flags.Replace(inputs.DockerLogin, "false")
	if v, _ := flags.Value(inputs.Registries); v == "" {
		if m := strings.TrimSpace(inputs.EnvRegistries.Get(h.e.Getenv)); m != "" {
			flags.Replace(inputs.Registries, m)
			subject = "environment variable ECR_CREDENTIALS_REGISTRIES"
		}
	}
	if v, _ := flags.Value(inputs.Registries); v != "" {
		cfg, _, err := inputs.Load(inputs.Source{Mode: inputs.CLI, Getenv: h.e.Getenv, Environ: h.e.Environ, Flags: flags})
		if err != nil {
			var se *inputs.SettingError
			if errors.As(err, &se) && se.Setting == inputs.Registries {
				q := *se.Problem
				q.Subject = subject + " (registries)"
				return nil, &q
			}
			return nil, err
		}
		for _, r := range cfg.Registries {
			if r.Host == host {
				cfg.Registries = []registry.Registry{r}
				h.applyFile(cfg)
				return cfg, nil
			}
		}
	}
	flags.Replace(inputs.Registries, host)
	cfg, _, err := inputs.Load(inputs.Source{Mode: inputs.CLI, Getenv: h.e.Getenv, Environ: h.e.Environ, Flags: flags})
	if err != nil {
		return nil, err
	}
	h.applyFile(cfg)
	return cfg, nil
}

// applyFile gives cfg what the settings file says beyond settings.
func (h *helper) applyFile(cfg *inputs.Config) {
	if h.file != nil {
		h.file.Apply(cfg)
	}
}

// Add is docker login storing credentials. For a registry the helper
// answers, there is nothing to keep: get fetches a fresh ECR password.
// Anything else it cannot keep, so it refuses (as
// amazon-ecr-credential-helper does) rather than throw the login away
// while docker reports "Login Succeeded"; AWS_ECR_IGNORE_CREDS_STORAGE=true
// makes it drop such logins without an error, as that helper's does.
func (h *helper) Add(c *credentials.Credentials) error {
	h.con.Mask(c.Secret)
	if ignore, _ := inputs.ParseBool(inputs.EnvAWSECRIgnoreCredsStorage.Get(h.e.Getenv)); ignore {
		h.con.Debugf("store for %s: dropped, as AWS_ECR_IGNORE_CREDS_STORAGE is true", c.ServerURL)
		return nil
	}
	host, _, why, err := h.answers(c.ServerURL)
	if err != nil {
		return err
	}
	if why == "" {
		h.con.Debugf("store for %s: nothing to keep, get fetches a fresh ECR password", host)
		return nil
	}
	return &problem.Problem{Code: problem.CredentialHelper, Subject: "docker login " + c.ServerURL,
		What: "this credential helper keeps no credentials, and does not answer for this registry (" + why + "), so the login would be lost",
		Fix: "Name ecr-credentials for the ECR registries only, in credHelpers of config.json, and leave credsStore to a helper that keeps logins (or none); " +
			"or set AWS_ECR_IGNORE_CREDS_STORAGE=true to have such logins dropped without an error."}
}

// answers reports whether Get answers serverURL: its host and settings,
// or why not ("" when it does); err is a problem with the settings.
func (h *helper) answers(serverURL string) (string, *inputs.Config, string, error) {
	host, ok := helperHost(serverURL)
	if !ok {
		return "", nil, "the server URL names no single registry host", nil
	}
	cfg, err := h.settings(host)
	if err != nil {
		var se *inputs.SettingError
		if errors.As(err, &se) && se.Setting == inputs.Registries {
			if _, perr := registry.ParseHost(host); perr != nil {
				return host, nil, host + " is neither an Amazon ECR registry nor one of registry-aliases", nil
			}
		}
		return host, nil, "", err
	}
	if len(cfg.Registries) != 1 {
		return host, nil, host + " names no single registry", nil
	}
	return host, cfg, "", nil
}

// Delete is docker logout: forget cached passwords for the host.
func (h *helper) Delete(serverURL string) error {
	cache, err := h.cache()
	if err != nil || cache == nil {
		return err
	}
	return cache.Delete(h.ctx, registry.NormalizeHost(serverURL))
}

// List shows the hosts with cached passwords.
func (h *helper) List() (map[string]string, error) {
	cache, err := h.cache()
	if err != nil || cache == nil {
		return map[string]string{}, err
	}
	hosts, err := cache.List(h.ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for host, user := range hosts {
		out["https://"+host] = user
	}
	return out, nil
}

// Get returns the user name and password for an ECR registry (or an alias
// of one); other registries are "not found", so docker goes on without
// credentials as it would without the helper.
func (h *helper) Get(serverURL string) (string, string, error) {
	host, cfg, why, err := h.answers(serverURL)
	if err != nil {
		return "", "", err
	}
	if why != "" {
		// docker goes on without credentials; say why (debug only:
		// docker asks for every registry it meets).
		h.con.Debugf("get for %s: no credentials: %s", serverURL, why)
		return "", "", credentials.NewErrCredentialsNotFound()
	}
	cache, err := h.cache()
	if err != nil {
		h.con.Warnf("token cache unusable, going without it: %v", err)
		cache = nil
	}
	key := tokencache.Key(cacheIdentity(cfg, h.e)...)
	if cache != nil {
		entry, ok, err := cache.Get(h.ctx, key)
		switch {
		case err != nil:
			h.con.Warnf("token cache unusable, going without it: %v", err)
			cache = nil
		case ok:
			h.con.Mask(entry.Password)
			h.con.Debugf("cached password for %s (expires %s)", host, output.FormatTime(entry.ExpiresAt))
			return entry.Username, entry.Password, nil
		}
	}
	issued := time.Now()
	// The helper writes no login, so the flow verifies none (it checks the
	// logins a docker login or registry auth file will hold), whatever a
	// settings file says of registry-auth-file.
	cfg.RegistryAuthFile = ""
	res, err := flow.Run(h.ctx, cfg, h.e.flowEnv(), h.con)
	if err != nil {
		// AWS failed: a cached password that is due for refresh but still
		// valid for a while serves better than a failed push.
		if cache != nil {
			if entry, ok, cerr := cache.GetUsable(h.ctx, key); cerr == nil && ok {
				h.con.Mask(entry.Password)
				h.con.Warnf("could not refresh the password for %s (%s); using the cached one, valid until %s",
					host, problem.As(err).Code, output.FormatTime(entry.ExpiresAt))
				return entry.Username, entry.Password, nil
			}
		}
		return "", "", err
	}
	l := res.Logins[0]
	if cache != nil {
		if err := cache.Put(h.ctx, key, tokencache.Entry{Host: l.Registry.Host, Username: l.Username, Password: l.Password, IssuedAt: issued, ExpiresAt: l.ExpiresAt}); err != nil {
			h.con.Warnf("could not cache the password: %v", err)
		}
	}
	return l.Username, l.Password, nil
}

// helperHost is the host of a server URL docker asks about, or false when
// the URL cannot name one registry (empty, a list, spaces, odd characters):
// such a URL gets "credentials not found", never a login for the default
// registry.
func helperHost(serverURL string) (string, bool) {
	host := registry.NormalizeHost(serverURL)
	if host == "" {
		return "", false
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(".-:[]", r)) {
			return "", false
		}
	}
	return host, true
}

func (h *helper) cache() (*tokencache.Cache, error) {
	dir := strings.TrimSpace(inputs.EnvCacheDir.Get(h.e.Getenv))
	if dir == "" {
		// amazon-ecr-credential-helper's variables, for a drop-in
		// replacement: any AWS_ECR_DISABLE_CACHE value turns the cache off.
		if inputs.EnvAWSECRDisableCache.Get(h.e.Getenv) != "" {
			return nil, nil
		}
		dir = strings.TrimSpace(inputs.EnvAWSECRCacheDir.Get(h.e.Getenv))
	}
	if dir == "none" {
		return nil, nil
	}
	if dir == "" && h.file != nil {
		dir = h.file.CacheDir
	}
	if dir == "" {
		d, err := tokencache.DefaultDir(h.e.Getenv)
		if err != nil {
			return nil, err
		}
		dir = d
	}
	return tokencache.Open(dir), nil
}

// cacheIdentity lists what decides which credentials a Get would use, so
// a change of role, source, profile, config file, account or session
// never serves another's password: the settings that choose the identity,
// the identity the registry entry names, what the SDK's default chain
// selects by (awsauth.SelectionInputs), and the session the STS requests
// would ask for (sessionShape).
func cacheIdentity(cfg *inputs.Config, e Env) []string {
	r := cfg.Registries[0]
	id := cfg.IdentityFor(r.Host)
	parts := []string{r.Host, r.Region, id.String(), cfg.Role.ARN, string(cfg.CredentialSource),
		cfg.WebIdentityTokenFile, cfg.WebIdentityTokenEnv, cfg.Static.AccessKeyID, cfg.ExternalID, cfg.SessionPolicy}
	for _, r := range cfg.RoleChain {
		parts = append(parts, r.ARN)
	}
	parts = append(parts, "policies", strings.Join(cfg.ManagedSessionPolicies, ","), "accounts", strings.Join(cfg.AllowedAccountIDs, ","))
	session := flow.SessionParams(cfg, e.flowEnv(), id)
	session.Proxy = awsauth.NewProxy(cfg.HTTPProxy, cfg.NoProxy, e.Getenv) // as the flow decides
	parts = append(parts, "session", sessionShape(session))
	return append(parts, awsauth.SelectionInputs(e.Environ, e.Getenv)...)
}

// sessionShape is a canonical encoding of everything in p that shapes the
// role sessions STS would issue, or the network path to it: each field of
// awsauth.Params but the base identity (which cacheIdentity keys on by the
// settings that choose it) and the run's callbacks. It is keyed whole, so
// that two settings differing only in role-session-name, a session tag or
// the source identity make two STS calls: principals, ABAC conditions and
// CloudTrail go by these. TestSessionShapeCoversParams fails when a field
// is added to awsauth.Params without a decision here.
func sessionShape(p awsauth.Params) string {
	chain := make([]string, len(p.Chain))
	for i, r := range p.Chain {
		chain[i] = r.ARN
	}
	b, err := json.Marshal(struct {
		Region, Role    string
		Chain           []string
		SessionName     string
		Duration        time.Duration
		ExternalID      string
		SourceIdentity  string
		Tags            []inputs.Tag
		DroppableTags   map[string]bool
		Policy          string
		PolicyARNs      []string
		AllowedAccounts []string
		DualStack       bool
		Proxy           string
	}{p.Region, p.Role.ARN, chain, p.SessionName, p.Duration, p.ExternalID, p.SourceIdentity, p.Tags, p.DroppableTags,
		p.Policy, p.PolicyARNs, p.AllowedAccounts, p.DualStack, p.Proxy.Key()})
	if err != nil {
		panic("sessionShape: " + err.Error()) // strings, lists and a map of strings always encode
	}
	return string(b)
}
