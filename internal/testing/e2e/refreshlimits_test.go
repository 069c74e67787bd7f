package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// runRefreshHelper runs the credential helper a refresh login left in
// dockerDir under name as docker does (docker-credential-<name> get, the
// server URL on stdin) in env.
func runRefreshHelper(t *testing.T, dockerDir, name, host string, env map[string]string) (stdout, stderr string, err error) {
	t.Helper()
	var list []string
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	cmd := exec.Command(filepath.Join(dockerDir, "ecr-credentials-refresh", "bin", "docker-credential-"+name), "get")
	cmd.Env, cmd.Stdin = list, strings.NewReader("https://"+host+"\n")
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// credHelperFor is the credHelpers name config.json in dockerDir gives host.
func credHelperFor(t *testing.T, dockerDir, host string) string {
	t.Helper()
	var cfg struct{ CredHelpers map[string]string }
	b, err := os.ReadFile(filepath.Join(dockerDir, "config.json"))
	must(t, err)
	must(t, json.Unmarshal(b, &cfg))
	if cfg.CredHelpers[host] == "" {
		t.Fatalf("config.json names no credential helper for %s:\n%s", host, b)
	}
	return cfg.CredHelpers[host]
}

// TestRefreshHelperKeepsTheStepsSession (issue 21, finding 1): the helper a
// GitHub refresh step leaves asks STS for exactly the session the step
// asked for: every parameter of its AssumeRoleWithWebIdentity and
// AssumeRole requests (role, session name, duration, inline and managed
// session policies, session tags with GitHub's default ones as the step
// set them, source identity, external ID) is the step's, and it reaches
// STS and ECR the way the step did, through http-proxy (the emulator has a
// name only the proxy resolves). The helper runs in a later step, whose
// GITHUB_ACTION differs.
func TestRefreshHelperKeepsTheStepsSession(t *testing.T) {
	const name = "aws.proxy.test"
	f := newFixtureWith(t, awsfake.Options{TLS: true, DNSNames: []string{name}})
	const scoped = "arn:aws:iam::123456789012:role/ecr-scoped"
	must(t, f.fake.AddRole(awsfake.Role{ARN: scoped, TrustedPrincipals: []string{roleARN}, ExternalID: "ext-21", ECR: true}))
	u, err := url.Parse(f.fake.URL())
	must(t, err)
	endpoint := "https://" + net.JoinHostPort(name, u.Port())
	host := strings.TrimPrefix(f.reg.URL, "https://")
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}`

	tests := []struct {
		name   string
		inputs map[string]string
		ops    []string // the STS operations both make
	}{
		{name: "web identity with managed and inline policies", ops: []string{"AssumeRoleWithWebIdentity"},
			inputs: map[string]string{"managed-session-policies": "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly", "inline-session-policy": policy,
				"role-duration-seconds": "2700", "role-session-name": "release-21"}},
		{name: "role chain with tags, source identity and external ID", ops: []string{"AssumeRoleWithWebIdentity", "AssumeRole"},
			inputs: map[string]string{"role-chain": scoped, "role-external-id": "ext-21", "role-source-identity": "octocat",
				"role-session-tags": "Team=build", "managed-session-policies": "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly,arn:aws:iam::123456789012:policy/ecr-push",
				"inline-session-policy": policy, "role-duration-seconds": "2700"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := testenv.StartConnectProxy(t, map[string]string{name: "127.0.0.1"})
			in := map[string]string{"role-to-assume": roleARN, "aws-region": region, "refresh": "true", "allowed-account-ids": account,
				"http-proxy": p.URL, "no-proxy": "example.com", "timeout": "30s"}
			for k, v := range tc.inputs {
				in[k] = v
			}
			r := newRunner(t)
			env := f.githubEnv(r, in)
			for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL_ECR_PUBLIC"} {
				env[k] = endpoint
			}
			env["GITHUB_ACTION"], env["GITHUB_WORKFLOW"], env["GITHUB_ACTOR"] = "ecr-login", "release", "octocat"
			env["GITHUB_PATH"] = filepath.Join(r.dir, "path")
			must(t, os.WriteFile(env["GITHUB_PATH"], nil, 0o644))
			n0 := len(f.fake.Calls())
			res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env})
			if res.ExitCode != 0 {
				t.Fatalf("step: exit %d\n%s%s", res.ExitCode, res.Stdout, abbreviate(res.Stderr))
			}
			all := f.fake.Calls()
			stepCalls := all[n0:]
			seen := len(p.Hosts())

			// A later step of the job: no inputs, another GITHUB_ACTION.
			later := map[string]string{}
			for k, v := range env {
				if !strings.HasPrefix(k, "INPUT_") {
					later[k] = v
				}
			}
			later["GITHUB_ACTION"] = "__run_3"
			dockerDir := filepath.Join(r.homeDir, ".docker")
			out, errOut, err := runRefreshHelper(t, dockerDir, credHelperFor(t, dockerDir, host), host, later)
			if err != nil {
				t.Fatalf("the helper failed: %v\n%s%s", err, out, errOut)
			}
			if !strings.Contains(out, `"Secret":"`+f.password+`"`) {
				t.Errorf("the helper did not hand out the registry password:\n%s", errOut)
			}
			helperCalls := f.fake.Calls()[len(all):]
			if len(p.Hosts()) == seen {
				t.Errorf("the helper did not reach AWS through http-proxy")
			}
			for _, op := range tc.ops {
				want, got := stsParams(stepCalls, op), stsParams(helperCalls, op)
				if want == nil || got == nil {
					t.Fatalf("%s: step sent %v, helper sent %v", op, want, got)
				}
				for _, k := range union(want, got) {
					if want[k] != got[k] {
						t.Errorf("%s %s: the step sent %q, the helper %q", op, k, want[k], got[k])
					}
				}
				if op == tc.ops[len(tc.ops)-1] && (want["PolicyArns.member.1.arn"] == "" || want["Policy"] == "" || want["DurationSeconds"] != "2700") {
					t.Errorf("%s of the step lacks the session's scope: %v", op, want)
				}
				if op == "AssumeRole" && (want["SourceIdentity"] != "octocat" || want["ExternalId"] != "ext-21" || !strings.Contains(fmt.Sprint(want), "Actions")) {
					t.Errorf("AssumeRole of the step lacks source identity, external ID or GitHub's tags: %v", want)
				}
			}
		})
	}
}

// stsParams are the parameters of the first successful STS call op in calls.
func stsParams(calls []awsfake.Call, op string) map[string]string {
	for _, c := range calls {
		if c.Service == "sts" && c.Operation == op && c.Status == 200 {
			return c.STSParams
		}
	}
	return nil
}

func union(a, b map[string]string) []string {
	seen := map[string]bool{}
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestRefreshHelperEnforcesAllowedAccounts (issue 21, finding 1): a plugin
// step with allowed_account_ids logs in with the default chain's keys of
// that account; when a later step's environment holds keys of another
// account, the helper refuses (account-not-allowed) before asking ECR for
// anything, as the step would have.
func TestRefreshHelperEnforcesAllowedAccounts(t *testing.T) {
	f := newFixture(t)
	mine, err := f.fake.AddAccessKey(awsfake.AccessKey{UserARN: "arn:aws:iam::123456789012:user/ci", ECR: true})
	must(t, err)
	other, err := f.fake.AddAccessKey(awsfake.AccessKey{UserARN: "arn:aws:iam::222222222222:user/other", ECR: true})
	must(t, err)
	workspace := t.TempDir()
	env := f.pluginEnv("drone", map[string]string{"region": region, "allowed_account_ids": account, "refresh": "true"},
		map[string]string{"AWS_ACCESS_KEY_ID": mine.ID, "AWS_SECRET_ACCESS_KEY": mine.Secret, "HOME": t.TempDir()})
	res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Dir: workspace})
	if res.ExitCode != 0 {
		t.Fatalf("step: exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	dockerDir := filepath.Join(workspace, ".docker")
	host := strings.TrimPrefix(f.reg.URL, "https://")
	name := credHelperFor(t, dockerDir, host)

	later := map[string]string{}
	for k, v := range env {
		if !strings.HasPrefix(k, "PLUGIN_") {
			later[k] = v
		}
	}
	for _, tc := range []struct {
		name   string
		key    awsfake.AccessKey
		wantOK bool
	}{
		{"keys of the allowed account", mine, true},
		{"keys of another account", other, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			later["AWS_ACCESS_KEY_ID"], later["AWS_SECRET_ACCESS_KEY"] = tc.key.ID, tc.key.Secret
			later["ECR_CREDENTIALS_CACHE_DIR"] = "none"
			before := len(f.fake.Calls())
			out, errOut, err := runRefreshHelper(t, dockerDir, name, host, later)
			if tc.wantOK {
				if err != nil {
					t.Fatalf("the helper failed: %v\n%s%s", err, out, errOut)
				}
				return
			}
			if err == nil {
				t.Fatalf("the helper served a login with another account's keys:\n%s", errOut)
			}
			if !strings.Contains(out+errOut, "account-not-allowed") {
				t.Errorf("the helper's refusal is not account-not-allowed:\n%s%s", out, errOut)
			}
			for _, c := range f.fake.Calls()[before:] {
				if c.Service == "ecr" {
					t.Errorf("the helper asked ECR (%s) with another account's keys", c.Operation)
				}
			}
		})
	}
}

// TestRefreshRefusesADirectoryItFinds (issue 21, finding 2): a refresh
// step uses an existing ecr-credentials-refresh directory only when it is a
// real directory of the user the helper is for, writable by no one else and
// holding nothing but refresh helpers. A checkout that ships
// .docker/ecr-credentials-refresh/bin/docker (the plugin's default
// docker_config), a directory of another user (the step runs as root), a
// link, or a group-writable bin fail the step with a docker-config problem
// before anything is written: no config.json, no PATH entry for later
// steps, the planted files untouched.
func TestRefreshRefusesADirectoryItFinds(t *testing.T) {
	testenv.RequireRoot(t) // the ownership case
	f := newFixture(t)
	token, err := f.fake.MintIDToken("sts.amazonaws.com", awsfake.WithSubject(subject))
	must(t, err)
	tokenFile := filepath.Join(t.TempDir(), "token")
	must(t, os.WriteFile(tokenFile, []byte(token), 0o600))
	plant := func(t *testing.T, refresh string) string {
		t.Helper()
		must(t, os.MkdirAll(filepath.Join(refresh, "bin"), 0o700))
		p := filepath.Join(refresh, "bin", "docker")
		must(t, os.WriteFile(p, []byte("#!/bin/sh\necho pwned\n"), 0o755))
		return p
	}
	tests := []struct {
		name  string
		mode  string                                      // github, drone, woodpecker
		setup func(t *testing.T, dockerDir string) string // returns a file that must be left as it is
		why   string
	}{
		{name: "checkout ships bin/docker (drone)", mode: "drone", why: "is not a credential helper",
			setup: func(t *testing.T, d string) string { return plant(t, filepath.Join(d, "ecr-credentials-refresh")) }},
		{name: "checkout ships bin/docker (woodpecker)", mode: "woodpecker", why: "is not a credential helper",
			setup: func(t *testing.T, d string) string { return plant(t, filepath.Join(d, "ecr-credentials-refresh")) }},
		{name: "checkout ships bin/docker (github docker-config in the workspace)", mode: "github", why: "is not a credential helper",
			setup: func(t *testing.T, d string) string { return plant(t, filepath.Join(d, "ecr-credentials-refresh")) }},
		{name: "another user's directory", mode: "github", why: "belongs to uid 1000",
			setup: func(t *testing.T, d string) string {
				refresh := filepath.Join(d, "ecr-credentials-refresh")
				must(t, os.MkdirAll(refresh, 0o700))
				must(t, os.Chown(refresh, 1000, 1000))
				return refresh
			}},
		{name: "a link to another directory", mode: "github", why: "is a symbolic link",
			setup: func(t *testing.T, d string) string {
				elsewhere := t.TempDir()
				p := filepath.Join(elsewhere, "helper.json")
				must(t, os.WriteFile(p, []byte("{}"), 0o600))
				must(t, os.MkdirAll(d, 0o700))
				must(t, os.Symlink(elsewhere, filepath.Join(d, "ecr-credentials-refresh")))
				return p
			}},
		{name: "a bin others may write", mode: "drone", why: "writable by group or others",
			setup: func(t *testing.T, d string) string {
				bin := filepath.Join(d, "ecr-credentials-refresh", "bin")
				must(t, os.MkdirAll(bin, 0o700))
				must(t, os.Chmod(bin, 0o777))
				return bin
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			workspace := t.TempDir()
			dockerDir := filepath.Join(workspace, ".docker")
			planted := tc.setup(t, dockerDir)
			before, err := os.Lstat(planted)
			must(t, err)
			var res testenv.Result
			pathFile := filepath.Join(t.TempDir(), "path")
			must(t, os.WriteFile(pathFile, nil, 0o644))
			if tc.mode == "github" {
				r := newRunner(t)
				env := f.githubEnv(r, map[string]string{"role-to-assume": roleARN, "aws-region": region, "refresh": "true", "docker-config": dockerDir})
				env["GITHUB_PATH"] = pathFile
				res = testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env})
				wantGitHubFailure(t, res, "docker-config", tc.why, "ecr-credentials-refresh")
				assertStepUntouched(t, r)
			} else {
				env := f.pluginEnv(tc.mode, map[string]string{"role_arn": roleARN, "region": region, "web_identity_token_file": tokenFile, "refresh": "true"}, nil)
				res = testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Dir: workspace})
				wantPlainFailure(t, res, res.Stdout, "docker-config", tc.why, "ecr-credentials-refresh")
				if strings.Contains(res.Stdout, "export PATH=") {
					t.Errorf("the log tells later steps to put the directory on PATH:\n%s", res.Stdout)
				}
			}
			if _, err := os.Lstat(filepath.Join(dockerDir, "config.json")); err == nil {
				t.Errorf("config.json was written")
			}
			if b, _ := os.ReadFile(pathFile); len(b) != 0 {
				t.Errorf("GITHUB_PATH was written: %s", b)
			}
			after, err := os.Lstat(planted)
			if err != nil || !os.SameFile(before, after) || after.ModTime() != before.ModTime() || after.Mode() != before.Mode() {
				t.Errorf("%s was changed (%v)", planted, err)
			}
		})
	}
}

// TestRefreshParallelStepsTakeTheirOwnHelpers (issue 21, finding 4):
// several refresh steps of one job (one HOME: parallel steps on one
// workspace) run at the same time. Each takes a helper name of its own,
// reserved under the config lock; config.json names the helper of the
// step that wrote it last, and the post stages of all the others leave
// that helper in place, still serving the registry. Two rounds, as the old
// race needed the steps to overlap.
func TestRefreshParallelStepsTakeTheirOwnHelpers(t *testing.T) {
	f := newFixture(t)
	host := strings.TrimPrefix(f.reg.URL, "https://")
	nameInLog := regexp.MustCompile(`credHelpers name docker-credential-([A-Za-z0-9._-]+) `)
	const steps = 5
	for round := range 2 {
		t.Run(fmt.Sprint("round ", round), func(t *testing.T) {
			home := t.TempDir()
			dockerDir := filepath.Join(home, ".docker")
			runners := make([]*runner, steps)
			envs := make([]map[string]string, steps)
			results := make([]testenv.Result, steps)
			for i := range runners {
				runners[i] = newRunner(t)
				runners[i].homeDir = home
				envs[i] = f.githubEnv(runners[i], map[string]string{"role-to-assume": roleARN, "aws-region": region, "refresh": "true", "verify": "false"})
				envs[i]["GITHUB_PATH"] = filepath.Join(runners[i].dir, "path")
				must(t, os.WriteFile(envs[i]["GITHUB_PATH"], nil, 0o644))
			}
			var wg sync.WaitGroup
			for i := range runners {
				wg.Go(func() { results[i] = testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: envs[i]}) })
			}
			wg.Wait()
			names := make([]string, steps)
			seen := map[string]int{}
			for i, res := range results {
				if res.ExitCode != 0 {
					t.Fatalf("step %d: exit %d\n%s%s", i, res.ExitCode, res.Stdout, abbreviate(res.Stderr))
				}
				m := nameInLog.FindStringSubmatch(res.Stdout)
				if m == nil {
					t.Fatalf("step %d does not say which helper it left:\n%s", i, res.Stdout)
				}
				names[i] = m[1]
				if j, dup := seen[m[1]]; dup {
					t.Errorf("steps %d and %d both left the helper %s", j, i, m[1])
				}
				seen[m[1]] = i
			}
			named := credHelperFor(t, dockerDir, host)
			// Every other step's post stage; the named helper stays.
			for i := range runners {
				if names[i] == named {
					continue
				}
				post := f.githubEnv(runners[i], nil)
				for k, v := range readFileCommands(t, runners[i].state) {
					post["STATE_"+k] = v
				}
				if res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: post, Args: []string{"post"}}); res.ExitCode != 0 {
					t.Fatalf("post of step %d: exit %d\n%s%s", i, res.ExitCode, res.Stdout, res.Stderr)
				}
				if _, err := os.Stat(filepath.Join(dockerDir, "ecr-credentials-refresh", "bin", "docker-credential-"+named)); err != nil {
					t.Fatalf("after the post stage of step %d (helper %s) the helper %s that config.json names is gone: %v", i, names[i], named, err)
				}
			}
			if got := credHelperFor(t, dockerDir, host); got != named {
				t.Errorf("after the other post stages %s names %s, not %s", host, got, named)
			}
			later := f.githubEnv(newRunner(t), nil)
			later["HOME"] = home
			out, errOut, err := runRefreshHelper(t, dockerDir, named, host, later)
			if err != nil || !strings.Contains(out, f.password) {
				t.Errorf("the helper %s does not serve %s: %v\n%s", named, host, err, errOut)
			}
		})
	}
}

// TestRefreshPostStepDoesNotRemoveThroughALink (issue 21, finding 8): a
// later step replaces ecr-credentials-refresh with a link to a directory
// holding files named like ours; the post stage (root, as the container
// action runs) removes the login from config.json but nothing through the
// link, and says why.
func TestRefreshPostStepDoesNotRemoveThroughALink(t *testing.T) {
	f := newFixture(t)
	r := newRunner(t)
	env := f.githubEnv(r, map[string]string{"role-to-assume": roleARN, "aws-region": region, "refresh": "true"})
	env["GITHUB_PATH"] = filepath.Join(r.dir, "path")
	must(t, os.WriteFile(env["GITHUB_PATH"], nil, 0o644))
	if res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env}); res.ExitCode != 0 {
		t.Fatalf("step: exit %d\n%s%s", res.ExitCode, res.Stdout, abbreviate(res.Stderr))
	}
	dockerDir := filepath.Join(r.homeDir, ".docker")
	refresh := filepath.Join(dockerDir, "ecr-credentials-refresh")

	elsewhere := t.TempDir()
	victims := []string{filepath.Join(elsewhere, "helper.json"), filepath.Join(elsewhere, "bin", "docker-credential-ecr-credentials"), filepath.Join(elsewhere, "keep")}
	must(t, os.MkdirAll(filepath.Join(elsewhere, "bin"), 0o700))
	for _, v := range victims {
		must(t, os.WriteFile(v, []byte("not yours"), 0o600))
	}
	must(t, os.RemoveAll(refresh))
	must(t, os.Symlink(elsewhere, refresh))

	post := f.githubEnv(r, nil)
	for k, v := range readFileCommands(t, r.state) {
		post["STATE_"+k] = v
	}
	res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: post, Args: []string{"post"}})
	for _, v := range victims {
		if _, err := os.Stat(v); err != nil {
			t.Errorf("the post stage removed %s through the link: %v", v, err)
		}
	}
	if fi, err := os.Lstat(refresh); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link itself was changed (%v)", err)
	}
	if !strings.Contains(res.Stdout+res.Stderr, "symbolic link") {
		t.Errorf("the post stage does not say it left the link alone (exit %d):\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	if b, err := os.ReadFile(filepath.Join(dockerDir, "config.json")); err == nil && strings.Contains(string(b), "ecr-credentials") {
		t.Errorf("config.json still names the helper after the post stage:\n%s", b)
	}
}

// TestRefreshRefusesADockerConfigThatIsTwoPathEntries (issue 21, also
// seen): the helper's bin goes on PATH for later steps (GITHUB_PATH, the
// plugin's `export PATH=`), so a docker config directory holding the path
// list separator would become two entries, one of them a directory nobody
// checked. Such a directory is refused with invalid-setting before
// anything is written.
func TestRefreshRefusesADockerConfigThatIsTwoPathEntries(t *testing.T) {
	f := newFixture(t)
	token, err := f.fake.MintIDToken("sts.amazonaws.com", awsfake.WithSubject(subject))
	must(t, err)
	tokenFile := filepath.Join(t.TempDir(), "token")
	must(t, os.WriteFile(tokenFile, []byte(token), 0o600))
	for _, mode := range []string{"github", "drone", "woodpecker"} {
		t.Run(mode, func(t *testing.T) {
			workspace := t.TempDir()
			dockerDir := filepath.Join(workspace, "evil:bin", ".docker")
			if mode == "github" {
				r := newRunner(t)
				env := f.githubEnv(r, map[string]string{"role-to-assume": roleARN, "aws-region": region, "refresh": "true", "docker-config": dockerDir})
				env["GITHUB_PATH"] = filepath.Join(r.dir, "path")
				must(t, os.WriteFile(env["GITHUB_PATH"], nil, 0o644))
				res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env})
				wantGitHubFailure(t, res, "invalid-setting", `input "docker-config"`, "PATH")
				assertStepUntouched(t, r)
				if b, _ := os.ReadFile(env["GITHUB_PATH"]); len(b) != 0 {
					t.Errorf("GITHUB_PATH was written: %s", b)
				}
			} else {
				env := f.pluginEnv(mode, map[string]string{"role_arn": roleARN, "region": region, "web_identity_token_file": tokenFile,
					"refresh": "true", "docker_config": "evil:bin/.docker"}, nil)
				res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Dir: workspace})
				wantPlainFailure(t, res, res.Stdout, "invalid-setting", `setting "docker_config"`, "PATH")
			}
			if _, err := os.Stat(filepath.Join(workspace, "evil:bin")); err == nil {
				t.Errorf("the docker config directory was created")
			}
		})
	}
}

// TestRefreshAsRootUsesTheHomeOwnersDirectory: the container action runs
// as root in a home of the runner's user (uid 1001). The refresh directory
// the first step makes goes to that user, so a second step accepts it (and
// takes a second helper name), and the helper and its settings are that
// user's too.
func TestRefreshAsRootUsesTheHomeOwnersDirectory(t *testing.T) {
	testenv.RequireRoot(t)
	const uid, gid = 1001, 1002
	f := newFixture(t)
	home := t.TempDir()
	must(t, os.Chown(home, uid, gid))
	for i, want := range []string{"ecr-credentials", "ecr-credentials-2"} {
		r := newRunner(t)
		r.homeDir = home
		env := f.githubEnv(r, map[string]string{"role-to-assume": roleARN, "aws-region": region, "refresh": "true"})
		env["GITHUB_PATH"] = filepath.Join(r.dir, "path")
		must(t, os.WriteFile(env["GITHUB_PATH"], nil, 0o644))
		res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env})
		if res.ExitCode != 0 {
			t.Fatalf("step %d: exit %d\n%s%s", i, res.ExitCode, res.Stdout, abbreviate(res.Stderr))
		}
		refresh := filepath.Join(home, ".docker", "ecr-credentials-refresh")
		settings := "helper.json"
		if i > 0 {
			settings = "helper-2.json"
		}
		for _, p := range []string{refresh, filepath.Join(refresh, "bin"), filepath.Join(refresh, "bin", "docker-credential-"+want), filepath.Join(refresh, settings)} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Errorf("%v", err)
				continue
			}
			if st := fi.Sys().(*syscall.Stat_t); st.Uid != uid || st.Gid != gid {
				t.Errorf("%s is owned by %d:%d, want %d:%d", p, st.Uid, st.Gid, uid, gid)
			}
		}
	}
}
