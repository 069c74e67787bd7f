package imagetest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

const (
	account       = "123456789012"
	region        = "eu-west-1"
	roleARN       = "arn:aws:iam::123456789012:role/github-ecr"
	otherRepoRole = "arn:aws:iam::123456789012:role/other-repo"
)

// fixture is one emulated AWS account (TLS) whose ECR registry is a real
// registry (TLS) that checks the whole ECR-length password it hands out.
type fixture struct {
	fake     *awsfake.Server
	reg      *testenv.Registry
	host     string // the registry as image references name it
	password string
	bundle   []byte // PEM: the emulator's CA and the registry's CA
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pw := make([]byte, 1200)
	if _, err := rand.Read(pw); err != nil {
		t.Fatal(err)
	}
	f := &fixture{password: base64.StdEncoding.EncodeToString(pw)} // 1600 characters, like ECR's
	f.fake = awsfake.New(awsfake.Options{TLS: true})
	for _, role := range []awsfake.Role{
		{ARN: roleARN, Subjects: []string{"repo:octo-org/octo-repo:*"}, ECR: true},
		{ARN: otherRepoRole, Subjects: []string{"repo:someone-else/*"}, ECR: true},
	} {
		if err := f.fake.AddRole(role); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.fake.Close)
	ca := testenv.NewCA(t)
	f.reg = testenv.StartRegistry(t, testenv.RegistryOptions{Password: f.password, TLS: true, CA: ca})
	f.host = f.reg.Addr
	f.fake.MapRegistry(account, region, f.reg.URL)
	f.fake.SetRegistryPassword(account, region, f.password)
	regCA, err := os.ReadFile(ca.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	f.bundle = append(append(f.fake.CertPEM(), '\n'), regCA...)
	return f
}

// jobEnv is what the job gives every step: the OIDC token request
// variables (the job has `permissions: id-token: write`) and, in place of
// AWS's endpoints, the emulator's.
func (f *fixture) jobEnv() map[string]string {
	env := map[string]string{}
	for k, v := range f.fake.Env() {
		if strings.HasPrefix(k, "ACTIONS_ID_TOKEN_REQUEST_") || strings.HasPrefix(k, "AWS_ENDPOINT_URL") {
			env[k] = v
		}
	}
	return env
}

// secrets are the values no log may show: the registry password and every
// secret the emulator issued.
func (f *fixture) secrets(extra ...string) []string {
	return append(append([]string{f.password}, f.fake.Issued()...), extra...)
}

// redact blanks the secrets (and the masked values) in a result, for
// failure messages.
func (f *fixture) redact(res cmdResult) cmdResult {
	secrets := append(f.secrets(), ghrunner.MaskedValues(res.stdout)...)
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, s := range secrets {
		if len(s) >= 6 {
			res.stdout = strings.ReplaceAll(res.stdout, s, "***")
			res.stderr = strings.ReplaceAll(res.stderr, s, "***")
		}
	}
	return res
}

// assertNoLeaks checks that no secret appears in what the step printed,
// except in the ::add-mask:: commands that mask it.
func (f *fixture) assertNoLeaks(t *testing.T, res cmdResult) {
	t.Helper()
	var lines []string
	for _, line := range strings.Split(res.stdout+"\n"+res.stderr, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "::add-mask::") {
			lines = append(lines, line)
		}
	}
	text := strings.Join(lines, "\n")
	for _, s := range f.secrets() {
		if len(s) >= 8 && strings.Contains(text, s) {
			t.Errorf("the step's log shows a secret (%d characters) unmasked", len(s))
		}
	}
}

// A docker config.json as a user might have it before the action runs:
// another registry's login, a credential helper for yet another host, and
// keys the action knows nothing about, formatted by hand. The post stage
// must put back exactly these bytes.
var existingConfig = []byte("{\n" +
	"\t\"auths\": {\n" +
	"\t\t\"ghcr.io\": {\n" +
	"\t\t\t\"auth\": \"" + base64.StdEncoding.EncodeToString([]byte("octocat:not-a-real-token")) + "\"\n" +
	"\t\t}\n" +
	"\t},\n" +
	"\t\"credHelpers\": {\"registry.example.com\": \"imagetest-absent-helper\"},\n" +
	"\t\"psFormat\": \"table {{.ID}}\\t{{.Names}}\",\n" +
	"\t\"x-imagetest\": {\"kept\": [1, 2.50, \"three\"], \"order\": \"z before a\"}\n" +
	"}\n")

// TestContainerActionLikeTheRunner runs the built image through a whole
// job as actions/runner would (issue 4): the main stage exports outputs,
// environment and DOCKER_CONFIG; later host steps push and pull with the
// docker CLI and read with skopeo and crane; later container steps (a
// container action and a job container's run step) use the login through
// the runner's path translation; the post stage removes the login and puts
// the user's config.json back byte for byte.
func TestContainerActionLikeTheRunner(t *testing.T) {
	ref := builtImage(t)
	act := loadAction(t)
	f := newFixture(t)
	r := newFakeRunner(t, f.bundle)
	dockerDir := filepath.Join(r.home, ".docker")
	configFile := filepath.Join(dockerDir, "config.json")
	r.writeFile(configFile, existingConfig, 0o600)
	inputs := map[string]string{"role-to-assume": roleARN, "aws-region": region}

	// 1. Main stage.
	main := r.newStep()
	res := r.runAction(ref, act, stage{inputs: inputs, env: f.jobEnv(), step: main})
	if res.code != 0 {
		t.Fatalf("main stage: %s", f.redact(res))
	}
	f.assertNoLeaks(t, res)
	token := base64.StdEncoding.EncodeToString([]byte("AWS:" + f.password))
	masked := ghrunner.MaskedValues(res.stdout)
	if !slices.Contains(masked, f.password) || !slices.Contains(masked, token) {
		t.Error("the password and the authorization token are not both masked with ::add-mask::")
	}
	for _, c := range ghrunner.ParseWorkflowCommands(res.stdout) {
		if c.Name == "error" || c.Name == "warning" {
			t.Errorf("main stage printed ::%s:: %s", c.Name, c.Data)
		}
	}
	outputs := main.read(t, main.output)
	for name, want := range map[string]string{
		"username":              "AWS",
		"password":              f.password,
		"authorization-token":   token,
		"registry":              f.host,
		"proxy-endpoint":        "https://" + f.host,
		"proxy-endpoint-domain": f.host,
	} {
		if got := outputs[name]; got != want {
			t.Errorf("output %s is wrong (%d characters, want %d)", name, len(got), len(want))
		}
	}
	env := main.read(t, main.env)
	if env["ECR_PASSWORD"] != f.password || env["ECR_REGISTRY"] != f.host {
		t.Errorf("ECR_PASSWORD / ECR_REGISTRY not exported as expected (registry %q)", env["ECR_REGISTRY"])
	}
	// Later steps get GITHUB_ENV values verbatim on the host: the value
	// must be the host path of the container's /github/home/.docker.
	if env["DOCKER_CONFIG"] != dockerDir {
		t.Fatalf("exported DOCKER_CONFIG = %q, want the host path %q", env["DOCKER_CONFIG"], dockerDir)
	}
	if !strings.Contains(res.stdout, "DOCKER_CONFIG="+dockerDir) {
		t.Errorf("the log does not say which DOCKER_CONFIG was exported:\n%s", f.redact(res).stdout)
	}
	state := main.read(t, main.state)
	if state["receipt"] == "" || strings.Contains(state["receipt"], f.password) {
		t.Fatalf("GITHUB_STATE has no receipt, or one that holds the password")
	}

	// The login sits in the runner's files, owned by the runner user
	// (the container ran as root) and readable by it alone.
	for _, p := range []string{dockerDir, configFile} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != runnerUID || st.Gid != runnerGID {
			t.Errorf("%s belongs to %d:%d, want the runner user %d:%d", p, st.Uid, st.Gid, runnerUID, runnerGID)
		}
		if p == configFile && fi.Mode().Perm() != 0o600 {
			t.Errorf("config.json mode %v, want 0600", fi.Mode().Perm())
		}
	}
	assertConfigKeeps(t, configFile, f.host, token)

	// 2. Later host steps, as the runner user, with the exported
	// DOCKER_CONFIG and nothing else.
	image := f.host + "/imagetest/hello:" + randomName("t")
	var digest string
	if !t.Run("later host step", func(t *testing.T) {
		digest = hostStepUsesLogin(t, f, r, env["DOCKER_CONFIG"], image)
	}) {
		t.Fatal("later host steps could not use the login; not going on")
	}

	// 3. Later container steps.
	t.Run("later container step", func(t *testing.T) {
		containerStepUsesLogin(t, f, r, env["DOCKER_CONFIG"], image, digest)
	})

	// 4. Post stage.
	post := r.newStep()
	postEnv := f.jobEnv()
	for k, v := range state {
		postEnv["STATE_"+k] = v
	}
	res = r.runAction(ref, act, stage{entrypoint: act.Runs.PostEntrypoint, inputs: inputs, env: postEnv, step: post})
	if res.code != 0 {
		t.Fatalf("post stage: %s", f.redact(res))
	}
	f.assertNoLeaks(t, res)
	got, err := os.ReadFile(configFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, existingConfig) {
		t.Errorf("after the post stage config.json is not the user's file byte for byte:\n%s\nwant:\n%s", redactAuths(got), existingConfig)
	}
	if fi, err := os.Stat(configFile); err == nil {
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != runnerUID || fi.Mode().Perm() != 0o600 {
			t.Errorf("after the post stage config.json is %v owned by %d", fi.Mode().Perm(), st.Uid)
		}
	}
	entries, err := os.ReadDir(dockerDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		// The empty lock file may stay; a backup of the login may not.
		if e.Name() != "config.json" && e.Name() != "config.json.lock" {
			t.Errorf("the post stage left %s in %s", e.Name(), dockerDir)
		}
	}
	if res := hostStep(t, r, env["DOCKER_CONFIG"], runnerBinary(t, r, testenv.Crane(t)), "digest", image); res.code == 0 {
		t.Errorf("crane still reads %s with the login after the post stage", image)
	}
}

// assertConfigKeeps checks that config.json holds the login for host and
// still every member of the user's file.
func assertConfigKeeps(t *testing.T, configFile, host, token string) {
	t.Helper()
	data, err := os.ReadFile(configFile)
	if err != nil {
		t.Fatal(err)
	}
	var got, before map[string]json.RawMessage
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("config.json after the main stage is not JSON: %v", err)
	}
	if err := json.Unmarshal(existingConfig, &before); err != nil {
		t.Fatal(err)
	}
	var auths map[string]struct{ Auth string }
	if err := json.Unmarshal(got["auths"], &auths); err != nil {
		t.Fatalf("config.json auths: %v", err)
	}
	if auths[host].Auth != token {
		t.Errorf("config.json has no auths entry for %s with the ECR token", host)
	}
	var beforeAuths map[string]json.RawMessage
	_ = json.Unmarshal(before["auths"], &beforeAuths)
	var gotAuths map[string]json.RawMessage
	_ = json.Unmarshal(got["auths"], &gotAuths)
	if !bytes.Equal(gotAuths["ghcr.io"], beforeAuths["ghcr.io"]) {
		t.Error("the user's ghcr.io login changed")
	}
	for k, v := range before {
		if k != "auths" && !bytes.Equal(got[k], v) {
			t.Errorf("config.json member %q changed: %s, was %s", k, got[k], v)
		}
	}
}

var authValue = regexp.MustCompile(`"auth"\s*:\s*"[^"]*"`)

// redactAuths blanks the auth values of a config.json for messages.
func redactAuths(b []byte) []byte { return authValue.ReplaceAll(b, []byte(`"auth": "***"`)) }

// hostStep runs bin as a later `run:` step on the host runs it: as the
// runner user, whose own ~/.docker holds nothing, with DOCKER_CONFIG from
// GITHUB_ENV (none when dockerConfig is empty). SSL_CERT_FILE makes crane
// and skopeo trust the test registry; the docker daemon trusts any
// registry on 127.0.0.0/8 (insecure by default), so the CLI needs nothing.
func hostStep(t *testing.T, r *fakeRunner, dockerConfig, bin string, args ...string) cmdResult {
	t.Helper()
	runtimeDir := filepath.Join(r.userHome, "run")
	if _, err := os.Stat(runtimeDir); err != nil {
		if err := os.Mkdir(runtimeDir, 0o700); err != nil {
			t.Fatal(err)
		}
		r.chownTree(runtimeDir)
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + r.userHome,
		"XDG_RUNTIME_DIR=" + runtimeDir,
		"SSL_CERT_FILE=" + r.bundle,
	}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		env = append(env, "DOCKER_HOST="+h)
	}
	if dockerConfig != "" {
		env = append(env, "DOCKER_CONFIG="+dockerConfig)
	}
	return run(t, bin, args, cmdOpts{env: env, dir: r.workspace, cred: runnerUser(t), secret: true})
}

// runnerBinary copies a binary where the runner user can run it (the
// build cache under root's home is not reachable for it).
func runnerBinary(t *testing.T, r *fakeRunner, src string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(r.base, "bin", filepath.Base(src))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

// wrongPasswordConfig writes a copy of the config directory whose login
// for host has the last byte of the password changed.
func wrongPasswordConfig(t *testing.T, r *fakeRunner, dockerConfig, host string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dockerConfig, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(r.base, "home", "wrong-docker-config")
	r.writeFile(filepath.Join(dir, "config.json"), tamperPassword(t, data, host), 0o600)
	return dir
}

// tamperPassword returns the docker config.json data with the last byte of
// host's password changed, everything else as it was.
func tamperPassword(t *testing.T, data []byte, host string) []byte {
	t.Helper()
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("config.json is not JSON: %v", err)
	}
	auths, _ := cfg["auths"].(map[string]any)
	entry, ok := auths[host].(map[string]any)
	if !ok {
		t.Fatalf("config.json has no auths entry for %s", host)
	}
	auth, _ := entry["auth"].(string)
	raw, err := base64.StdEncoding.DecodeString(auth)
	if err != nil || len(raw) == 0 {
		t.Fatalf("the auths entry for %s has no base64 auth (%v)", host, err)
	}
	if raw[len(raw)-1] == 'X' {
		raw[len(raw)-1] = 'Y'
	} else {
		raw[len(raw)-1] = 'X'
	}
	entry["auth"] = base64.StdEncoding.EncodeToString(raw)
	out, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// hostStepUsesLogin: with the exported DOCKER_CONFIG the docker CLI pushes
// an image and pulls it back, and skopeo and crane read it; with a config
// whose password is one byte off, or without DOCKER_CONFIG, all of them
// are refused. It returns the pushed image's digest.
func hostStepUsesLogin(t *testing.T, f *fixture, r *fakeRunner, dockerConfig, image string) string {
	dockerBin := requireDocker(t)
	crane := runnerBinary(t, r, testenv.Crane(t))
	skopeo := testenv.Skopeo(t)

	// An image of one file, unique to this run.
	content := filepath.Join(r.base, "hello.txt")
	if err := os.WriteFile(content, []byte(randomName("hello from imagetest ")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tw := newTarStream(t)
	tw.file("hello.txt", content, 0o644)
	if res := tw.pipeTo(t, dockerBin, []string{"import", "-", image}); res.code != 0 {
		t.Fatalf("docker import: %s", res)
	}
	t.Cleanup(func() { dockerQuiet("rmi", image) })

	if res := hostStep(t, r, dockerConfig, dockerBin, "push", image); res.code != 0 {
		t.Fatalf("docker push with the exported DOCKER_CONFIG: %s", f.redact(res))
	}
	docker(t, "rmi", image)
	if res := hostStep(t, r, dockerConfig, dockerBin, "pull", image); res.code != 0 {
		t.Fatalf("docker pull with the exported DOCKER_CONFIG: %s", f.redact(res))
	}
	repoDigest := strings.TrimSpace(docker(t, "image", "inspect", "--format", "{{index .RepoDigests 0}}", image))
	_, digest, _ := strings.Cut(repoDigest, "@")
	if !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("pulled image has no repo digest: %q", repoDigest)
	}
	res := hostStep(t, r, dockerConfig, crane, "digest", image)
	if res.code != 0 || strings.TrimSpace(res.stdout) != digest {
		t.Errorf("crane digest with the exported DOCKER_CONFIG = %q, want %s: %s", strings.TrimSpace(res.stdout), digest, f.redact(res))
	}
	res = hostStep(t, r, dockerConfig, skopeo, "inspect", "--format", "{{.Digest}}", "docker://"+image)
	if res.code != 0 || strings.TrimSpace(res.stdout) != digest {
		t.Errorf("skopeo inspect with the exported DOCKER_CONFIG = %q, want %s: %s", strings.TrimSpace(res.stdout), digest, f.redact(res))
	}

	// The same clients are refused without the right login: the checks
	// above can fail.
	wrong := wrongPasswordConfig(t, r, dockerConfig, f.host)
	docker(t, "rmi", image)
	for _, c := range []struct{ name, dir string }{{"a password one byte off", wrong}, {"no DOCKER_CONFIG", ""}} {
		if res := hostStep(t, r, c.dir, dockerBin, "pull", image); res.code == 0 {
			t.Errorf("docker pull worked with %s", c.name)
		}
		if res := hostStep(t, r, c.dir, crane, "digest", image); res.code == 0 {
			t.Errorf("crane digest worked with %s", c.name)
		}
		if res := hostStep(t, r, c.dir, skopeo, "inspect", "--format", "{{.Digest}}", "docker://"+image); res.code == 0 {
			t.Errorf("skopeo inspect worked with %s", c.name)
		}
	}
	return digest
}

// containerStepUsesLogin starts later container steps the way the runner
// does: the environment (DOCKER_CONFIG from GITHUB_ENV among it) is
// translated to container paths with the step's mounts, HOME is
// /github/home. crane, built statically into a scratch image, stands in for
// any docker-compatible client in the step's container.
func containerStepUsesLogin(t *testing.T, f *fixture, r *fakeRunner, dockerConfig, image, digest string) {
	craneImage := stepImage(t, false)

	tests := []struct {
		name      string
		mounts    []pathMapping
		translate bool
		wantPath  string
		wantOK    bool
	}{
		{"container action", r.containerActionMounts(), true, "/github/home/.docker", true},
		{"run step in a job container", r.jobContainerMounts(), true, "/github/home/.docker", true},
		// What a step would see if the value were not translated: the
		// host path does not exist in the container.
		{"host path not translated", r.containerActionMounts(), false, dockerConfig, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			value := dockerConfig
			if tt.translate {
				value = translate(dockerConfig, tt.mounts)
			}
			if value != tt.wantPath {
				t.Fatalf("DOCKER_CONFIG in the step = %q, want %q", value, tt.wantPath)
			}
			name := randomName("imagetest-step-")
			t.Cleanup(func() { dockerQuiet("rm", "--force", name) })
			args := []string{"run", "--rm", "--name", name, "--label", containerLabel, "--network", "host",
				"-e", "DOCKER_CONFIG", "-e", "HOME", "-e", "SSL_CERT_FILE"}
			for i := len(tt.mounts) - 1; i >= 0; i-- {
				args = append(args, "-v", tt.mounts[i].host+":"+tt.mounts[i].container)
			}
			args = append(args, "-v", r.bundle+":"+containerBundle+":ro", craneImage, "digest", image)
			// The docker CLI passes these -e NAME values from its environment.
			cliEnv := []string{"PATH=" + os.Getenv("PATH"), "DOCKER_CONFIG=" + value, "HOME=/github/home", "SSL_CERT_FILE=" + containerBundle}
			if h := os.Getenv("DOCKER_HOST"); h != "" {
				cliEnv = append(cliEnv, "DOCKER_HOST="+h)
			}
			res := run(t, requireDocker(t), args, cmdOpts{env: cliEnv, onTimeout: func() { dockerQuiet("rm", "--force", name) }})
			ok := res.code == 0 && strings.TrimSpace(res.stdout) == digest
			if ok != tt.wantOK {
				t.Errorf("crane digest in the step: success %v, want %v: %s", ok, tt.wantOK, f.redact(res))
			}
		})
	}
}

// TestContainerActionFailureWritesNothing: a run that cannot get
// credentials (the role does not trust this repository) exits 1 with one
// ::error:: naming the problem, and leaves every runner file as it was: no
// outputs, no environment, no state, no summary, no docker config.
func TestContainerActionFailureWritesNothing(t *testing.T) {
	ref := builtImage(t)
	act := loadAction(t)
	f := newFixture(t)
	r := newFakeRunner(t, f.bundle)
	st := r.newStep()
	before := snapshot(t, r.work)
	res := r.runAction(ref, act, stage{inputs: map[string]string{"role-to-assume": otherRepoRole, "aws-region": region}, env: f.jobEnv(), step: st})
	if res.code != 1 {
		t.Fatalf("exit %d, want 1: %s", res.code, f.redact(res))
	}
	f.assertNoLeaks(t, res)
	errs := ghrunner.Errors(res.stdout)
	if len(errs) != 1 {
		t.Fatalf("want one ::error:: line, got %d: %s", len(errs), f.redact(res))
	}
	if title, _ := errs[0].Property("title"); title != "ecr-credentials: assume-role-denied" {
		t.Errorf("error title %q, want the code assume-role-denied; message: %s", title, errs[0].Data)
	}
	if after := snapshot(t, r.work); after != before {
		t.Errorf("a failed run changed the runner's files:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if _, err := os.Stat(filepath.Join(r.home, ".docker")); !os.IsNotExist(err) {
		t.Errorf("a failed run created %s/.docker (%v)", r.home, err)
	}
}
