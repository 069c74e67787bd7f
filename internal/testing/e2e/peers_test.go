package e2e

import (
	"encoding/json"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestGitHubPeerSessionOptions: the configure-aws-credentials settings and
// outputs we share with it, against the emulator: default session tags on
// sts:AssumeRole (none on the web identity exchange), managed session
// policies on the final session, allowed-account-ids, and the
// aws-account-id / authenticated-arn outputs.
func TestGitHubPeerSessionOptions(t *testing.T) {
	f := newFixture(t)
	const userARN = "arn:aws:iam::123456789012:user/deployer"
	key, err := f.fake.AddAccessKey(awsfake.AccessKey{UserARN: userARN, ECR: true})
	must(t, err)
	const taggedRole = "arn:aws:iam::123456789012:role/tagged"
	must(t, f.fake.AddRole(awsfake.Role{ARN: taggedRole, TrustedPrincipals: []string{userARN}, ECR: true}))
	const readOnly = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	const own = "arn:aws:iam::123456789012:policy/ci/ecr-push"
	job := map[string]string{
		"GITHUB_WORKFLOW": "Build & push", "GITHUB_ACTION": "__ecr-credentials", "GITHUB_ACTOR": "octocat",
		"GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567", "GITHUB_REF": "refs/heads/feat/#12",
		"GITHUB_EVENT_NAME": "push", "GITHUB_JOB": "build", "GITHUB_TRIGGERING_ACTOR": "octocat",
	}
	defaultTags := "GitHub=Actions,Repository=octo-org/octo-repo,Workflow=Build _ push,Action=__ecr-credentials,Actor=octocat," +
		"Commit=0123456789abcdef0123456789abcdef01234567,Branch=refs/heads/feat/_12,EventName=push,RunId=9001,Job=build,TriggeringActor=octocat"

	long := strings.Repeat("x", 256)
	cases := []struct {
		name       string
		inputs     map[string]string
		job        map[string]string // overrides of the job's variables
		static     bool
		wantOp     string // the STS call that issues the final session
		wantTags   string
		wantARNs   string
		wantOutARN string
		// wantRetried: a first AssumeRole was refused as PackedPolicyTooLarge.
		wantRetried bool
	}{
		{name: "static keys and a role: default and own tags, managed policies",
			inputs: map[string]string{"role-to-assume": taggedRole, "role-session-tags": "Team=infra", "managed-session-policies": readOnly + "\n" + own, "allowed-account-ids": "210987654321, 123456789012"},
			static: true, wantOp: "AssumeRole", wantTags: defaultTags + ",Team=infra", wantARNs: readOnly + "," + own,
			wantOutARN: "arn:aws:sts::123456789012:assumed-role/tagged/GitHubActions-9001-1"},
		{name: "an own tag replaces the default of the same key",
			inputs: map[string]string{"role-to-assume": taggedRole, "role-session-tags": "actor=robot"},
			static: true, wantOp: "AssumeRole", wantTags: strings.Replace(defaultTags, "Actor=octocat,", "", 1) + ",actor=robot",
			wantOutARN: "arn:aws:sts::123456789012:assumed-role/tagged/GitHubActions-9001-1"},
		{name: "role-skip-session-tagging",
			inputs: map[string]string{"role-to-assume": taggedRole, "role-skip-session-tagging": "true", "role-session-tags": "Team=infra"},
			static: true, wantOp: "AssumeRole", wantTags: "Team=infra",
			wantOutARN: "arn:aws:sts::123456789012:assumed-role/tagged/GitHubActions-9001-1"},
		{name: "OIDC: no tags on the web identity exchange, policies on it",
			inputs: map[string]string{"role-to-assume": roleARN, "managed-session-policies": readOnly, "allowed-account-ids": account},
			wantOp: "AssumeRoleWithWebIdentity", wantARNs: readOnly,
			wantOutARN: "arn:aws:sts::123456789012:assumed-role/github-ecr/GitHubActions-9001-1"},
		{name: "tags too large: the convenience ones are dropped and the call made again",
			inputs: map[string]string{"role-to-assume": taggedRole, "role-session-tags": "A=" + long + ",B=" + long + ",C=" + long},
			job:    map[string]string{"GITHUB_EVENT_NAME": long, "GITHUB_BASE_REF": long, "GITHUB_HEAD_REF": long, "GITHUB_JOB": long, "GITHUB_TRIGGERING_ACTOR": long},
			static: true, wantOp: "AssumeRole", wantRetried: true,
			wantTags:   "GitHub=Actions,Repository=octo-org/octo-repo,Workflow=Build _ push,Action=__ecr-credentials,Actor=octocat,Commit=0123456789abcdef0123456789abcdef01234567,Branch=refs/heads/feat/_12,A=" + long + ",B=" + long + ",C=" + long,
			wantOutARN: "arn:aws:sts::123456789012:assumed-role/tagged/GitHubActions-9001-1"},
		{name: "static keys without a role: the caller's identity",
			inputs: map[string]string{"allowed-account-ids": account},
			static: true, wantOp: "GetCallerIdentity", wantOutARN: userARN},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRunner(t)
			in := map[string]string{"aws-region": region}
			for k, v := range tc.inputs {
				in[k] = v
			}
			if tc.static {
				in["aws-access-key-id"], in["aws-secret-access-key"] = key.ID, key.Secret
			}
			env := f.githubEnv(r, in)
			for k, v := range job {
				env[k] = v
			}
			for k, v := range tc.job {
				env[k] = v
			}
			before := len(f.fake.Calls())
			res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env})
			if res.ExitCode != 0 {
				t.Fatalf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
			}
			out := readFileCommands(t, r.output)
			if out["aws-account-id"] != account || out["authenticated-arn"] != tc.wantOutARN {
				t.Errorf("aws-account-id %q, authenticated-arn %q; want %s, %s", out["aws-account-id"], out["authenticated-arn"], account, tc.wantOutARN)
			}
			var final *awsfake.Call
			retried := false
			for _, c := range f.fake.Calls()[before:] {
				if c.Service == "sts" && c.Operation == tc.wantOp {
					final = &c
				}
				retried = retried || c.ErrorCode == "PackedPolicyTooLarge"
			}
			if retried != tc.wantRetried {
				t.Errorf("a call refused as PackedPolicyTooLarge: %v, want %v", retried, tc.wantRetried)
			}
			if final == nil {
				t.Fatalf("no sts %s call", tc.wantOp)
			}
			if got := strings.Join(final.Tags, ","); got != tc.wantTags {
				t.Errorf("tags sent:\n%s\nwant:\n%s", got, tc.wantTags)
			}
			if got := strings.Join(final.PolicyARNs, ","); got != tc.wantARNs {
				t.Errorf("policy ARNs sent %q, want %q", got, tc.wantARNs)
			}
		})
	}
}

// TestCredentialHelperAmazonVariables: amazon-ecr-credential-helper's
// AWS_ECR_CACHE_DIR places the cache and AWS_ECR_DISABLE_CACHE turns it off
// (each get then asks AWS); ECR_CREDENTIALS_CACHE_DIR, ours, wins.
func TestCredentialHelperAmazonVariables(t *testing.T) {
	f := newFixture(t)
	host := strings.TrimPrefix(f.reg.URL, "https://")
	helper := filepath.Join(t.TempDir(), "docker-credential-ecr-credentials")
	must(t, os.Symlink(f.bin, helper))
	cases := []struct {
		name      string
		vars      map[string]string
		cacheFile string // where the cache must be ("" for none)
	}{
		{name: "AWS_ECR_CACHE_DIR", vars: map[string]string{"AWS_ECR_CACHE_DIR": "amazon"}, cacheFile: "amazon/tokens.json"},
		{name: "AWS_ECR_DISABLE_CACHE", vars: map[string]string{"AWS_ECR_DISABLE_CACHE": "1", "AWS_ECR_CACHE_DIR": "amazon"}},
		{name: "ours wins", vars: map[string]string{"ECR_CREDENTIALS_CACHE_DIR": "ours", "AWS_ECR_CACHE_DIR": "amazon", "AWS_ECR_DISABLE_CACHE": "true"}, cacheFile: "ours/tokens.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			env := f.cliEnv(t)
			env["HOME"] = filepath.Join(dir, "home")
			env["ECR_CREDENTIALS_REGISTRY_ALIASES"] = host + "=" + account + ".dkr.ecr." + region + ".amazonaws.com"
			for k, v := range tc.vars {
				if strings.HasSuffix(k, "_DIR") {
					v = filepath.Join(dir, v)
				}
				env[k] = v
			}
			stsCalls := func() int {
				n := 0
				for _, c := range f.fake.Calls() {
					if c.Service == "sts" {
						n++
					}
				}
				return n
			}
			// Count calls after each get: a loaded machine may make the SDK
			// retry an STS call, so only "none" and "some" are compared.
			var after [2]int
			for i := 0; i < 2; i++ {
				res := testenv.RunProgram(t, helper, testenv.RunOptions{Env: env, Args: []string{"get"}, Stdin: "https://" + host + "\n"})
				if res.ExitCode != 0 || !strings.Contains(res.Stdout, f.password) {
					t.Fatalf("get %d: exit %d\n%s", i+1, res.ExitCode, res.Stderr)
				}
				after[i] = stsCalls()
			}
			if cached := after[1] == after[0]; cached != (tc.cacheFile != "") {
				t.Errorf("the second get made %d STS calls; cache on: %v", after[1]-after[0], tc.cacheFile != "")
			}
			var files []string
			filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(dir, p)
					files = append(files, rel)
				}
				return nil
			})
			want := []string{}
			if tc.cacheFile != "" {
				want = []string{tc.cacheFile}
			}
			var got []string
			for _, fl := range files {
				if strings.HasSuffix(fl, "tokens.json") {
					got = append(got, fl)
				}
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("cache files %v, want %v (all files: %v)", got, want, files)
			}
		})
	}
}

// TestDualStackRegistries: with dual-stack (or AWS_USE_DUALSTACK_ENDPOINT)
// an account ID names the account's dual-stack registry host.
func TestDualStackRegistries(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"flag", []string{"json", "--dual-stack", account}, nil, account + ".dkr-ecr." + region + ".on.aws"},
		{"AWS_USE_DUALSTACK_ENDPOINT", []string{"json", account}, map[string]string{"AWS_USE_DUALSTACK_ENDPOINT": "true"}, account + ".dkr-ecr." + region + ".on.aws"},
		// Off, the own account's registry is the proxyEndpoint ECR names
		// (here the local registry).
		{"off", []string{"json", account}, nil, strings.TrimPrefix(f.reg.URL, "https://")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := f.cliEnv(t)
			for k, v := range tc.env {
				env[k] = v
			}
			res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Args: tc.args})
			if res.ExitCode != 0 {
				t.Fatalf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
			}
			var blob struct{ Registry, ProxyEndpoint, Password string }
			must(t, json.Unmarshal([]byte(res.Stdout), &blob))
			if blob.Registry != tc.want || blob.ProxyEndpoint != "https://"+tc.want || blob.Password != f.password {
				t.Errorf("registry %s, proxy endpoint %s; want %s", blob.Registry, blob.ProxyEndpoint, tc.want)
			}
		})
	}
}

// TestHTTPProxy: with http-proxy the AWS calls go through the proxy (the
// emulator is addressed by a name only the proxy knows); no-proxy sends
// them direct, and then the name does not resolve.
func TestHTTPProxy(t *testing.T) {
	const name = "aws.proxy.test"
	f := newEmulatorFixture(t, awsfake.Options{DNSNames: []string{name}})
	u, err := url.Parse(f.fake.URL())
	must(t, err)
	endpoint := "https://" + net.JoinHostPort(name, u.Port())
	token, err := f.fake.MintIDToken("sts.amazonaws.com", awsfake.WithSubject(subject))
	must(t, err)
	tokenFile := filepath.Join(t.TempDir(), "token")
	must(t, os.WriteFile(tokenFile, []byte(token), 0o600))

	for _, tc := range []struct {
		name      string
		args      []string
		env       map[string]string
		wantOK    bool
		wantSeen  bool
		wantInErr string
	}{
		{name: "flag", args: []string{"--http-proxy", "PROXY"}, wantOK: true, wantSeen: true},
		{name: "plugin setting", env: map[string]string{"PLUGIN_HTTP_PROXY": "PROXY", "PLUGIN_NO_PROXY": "example.com,10.0.0.0/8"}, wantOK: true, wantSeen: true},
		{name: "no-proxy names the host", args: []string{"--http-proxy", "PROXY", "--no-proxy", "example.com, proxy.test"}, wantInErr: "STS AssumeRoleWithWebIdentity"},
		{name: "no proxy at all", wantInErr: "STS AssumeRoleWithWebIdentity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testenv.StartConnectProxy(t, map[string]string{name: "127.0.0.1"})
			env := map[string]string{
				"SSL_CERT_FILE": f.bundle, "AWS_ROLE_ARN": roleARN, "AWS_REGION": region, "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile,
				"AWS_ENDPOINT_URL": endpoint, "AWS_EC2_METADATA_DISABLED": "true", "HOME": t.TempDir(),
			}
			timeout := "10s"
			if !tc.wantOK {
				timeout = "3s" // an unresolvable name is retried until the deadline
			}
			args := []string{"get-login-password", "--timeout", timeout}
			for _, a := range tc.args {
				args = append(args, strings.ReplaceAll(a, "PROXY", p.URL))
			}
			if len(tc.env) > 0 {
				// plugin mode: settings as PLUGIN_* variables, results in files
				args = nil
				env["PLUGIN_DOCKER_LOGIN"], env["PLUGIN_VERIFY"], env["PLUGIN_TIMEOUT"] = "false", "false", "10s"
				env["ECR_CREDENTIALS_MODE"] = "plugin"
				for k, v := range tc.env {
					env[k] = strings.ReplaceAll(v, "PROXY", p.URL)
				}
			}
			res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Args: args, Dir: t.TempDir()})
			if tc.wantOK != (res.ExitCode == 0) {
				t.Fatalf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
			}
			if !tc.wantOK && !strings.Contains(res.Stdout+res.Stderr, tc.wantInErr) {
				t.Errorf("the failure does not say %s:\n%s%s", tc.wantInErr, res.Stdout, res.Stderr)
			}
			seen := p.Hosts()
			if tc.wantSeen != (len(seen) > 0) {
				t.Errorf("proxy asked for %v; want it used: %v", seen, tc.wantSeen)
			}
			for _, h := range seen {
				if h != net.JoinHostPort(name, u.Port()) {
					t.Errorf("proxy asked for %s", h)
				}
			}
		})
	}
}

// TestDroneECRPluginSettings: a plugins/ecr step's login settings (its
// names) work unchanged with our image; its build settings are refused
// with a fix that says to build in a later step.
func TestDroneECRPluginSettings(t *testing.T) {
	f := newFixture(t)
	const userARN = "arn:aws:iam::123456789012:user/drone"
	key, err := f.fake.AddAccessKey(awsfake.AccessKey{UserARN: userARN})
	must(t, err)
	const pushRole = "arn:aws:iam::123456789012:role/drone-push"
	must(t, f.fake.AddRole(awsfake.Role{ARN: pushRole, TrustedPrincipals: []string{userARN}, ExternalID: "drone-ext-1", ECR: true}))
	host := strings.TrimPrefix(f.reg.URL, "https://")
	settings := map[string]string{
		"access_key": key.ID, "secret_key": key.Secret, "region": region,
		"registry": account + ".dkr.ecr." + region + ".amazonaws.com", "assume_role": pushRole, "external_id": "drone-ext-1",
	}

	workspace := t.TempDir()
	res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: f.pluginEnv("drone", settings, nil), Dir: workspace})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	cfg, err := os.ReadFile(filepath.Join(workspace, ".docker", "config.json"))
	if err != nil || !strings.Contains(string(cfg), host) {
		t.Errorf("no docker login for %s in the workspace: %v\n%s", host, err, cfg)
	}
	assumed := false
	for _, c := range f.fake.Calls() {
		assumed = assumed || c.Operation == "AssumeRole" && c.Status == 200
	}
	if !assumed {
		t.Error("assume_role with external_id was not used")
	}

	settings["repo"], settings["tags"] = "my-app", "latest"
	workspace = t.TempDir()
	res = testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: f.pluginEnv("drone", settings, nil), Dir: workspace})
	if res.ExitCode != 1 || !strings.Contains(res.Stdout, "[unknown-setting]") || !strings.Contains(res.Stdout, "PLUGIN_REPO") || !strings.Contains(res.Stdout, "build and push in a later step") {
		t.Errorf("build settings: exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	if entries, _ := os.ReadDir(workspace); len(entries) != 0 {
		t.Errorf("a refused step wrote %d entries into the workspace", len(entries))
	}
}
