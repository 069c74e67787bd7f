// Package native tests the native form of the action (native/action.yml):
// its node launcher, run with the machine's node the way the GitHub runner
// runs a node action (INPUT_* from the step's inputs and action.yml's
// defaults, the file-command files, STATE_* into the post step), against a
// loopback server that serves a snapshot release made here the way
// GoReleaser makes one, the AWS emulator and a real registry, inside a
// network namespace of its own (testenv.IsolateNetwork).
package native

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/docs"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/snapshot"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

func TestMain(m *testing.M) {
	if testenv.Short() {
		return
	}
	os.Exit(testenv.IsolateNetwork(m))
}

const (
	modulePath = "github.com/ecr-credentials/ecr-credentials"
	account    = "123456789012"
	region     = "eu-west-1"
	roleARN    = "arn:aws:iam::123456789012:role/github-ecr"
	// version is the snapshot release's, in GoReleaser's snapshot form.
	version = "v1.2.3-snapshot-0a1b2c3"
)

// node returns the node command; a missing node fails under CI=true. The
// runner runs the launcher with node 24; it must also run on node 20.
func node(t *testing.T) string {
	t.Helper()
	n := testenv.RequireTool(t, "node")
	out, err := exec.Command(n, "--version").Output()
	if err != nil {
		t.Fatalf("node --version: %v", err)
	}
	m := regexp.MustCompile(`^v([0-9]+)\.`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("node --version printed %q", out)
	}
	if major, _ := strconv.Atoi(m[1]); major < 20 {
		t.Fatalf("node %s: the launcher needs node 20 or later (install Debian's nodejs)", strings.TrimSpace(string(out)))
	}
	return n
}

// release is a snapshot release of the binary built here (linux/amd64
// holds it), served over loopback HTTP.
type release struct {
	*snapshot.Release // of the linux/amd64 binary
	mirror            *snapshot.Mirror
	srv               *httptest.Server
}

func newRelease(t *testing.T) *release {
	t.Helper()
	b, err := os.ReadFile(testenv.BuildBinary(t, modulePath, "release"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.Make(t.TempDir(), version, b, "linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	r := &release{Release: s, mirror: s.Mirror()}
	r.srv = httptest.NewServer(r.mirror)
	t.Cleanup(r.srv.Close)
	return r
}

// serveTLS serves the release over HTTPS too, with ca's certificate (give
// NewCA the names it is to be reached by); it returns the port.
func (r *release) serveTLS(t *testing.T, ca *testenv.CA) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(r.mirror)
	srv.TLS = ca.ServerTLSConfig()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func (r *release) URL() string { return r.srv.URL + "/releases" }

func (r *release) requests() []string { return r.mirror.Requests() }

// action writes a checkout of native/ (action.yml and the launcher) to a
// new directory, as the runner checks an action out, with data as its
// checksums.json.
func action(t *testing.T, data docs.NativeData) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "native")
	if err := snapshot.WriteAction(testenv.ModuleRoot(t), dir, data); err != nil {
		t.Fatal(err)
	}
	return dir
}

// actionDefaults reads the inputs' defaults from native/action.yml, which
// the runner fills in for inputs the workflow does not set. Expressions
// (none today) would be left to the runner and are refused here.
func actionDefaults(t *testing.T, dir string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a struct {
		Inputs map[string]struct {
			Default *string `yaml:"default"`
		} `yaml:"inputs"`
		Runs struct{ Using, Main, Post string } `yaml:"runs"`
	}
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	if a.Runs.Main != "main.js" || a.Runs.Post != "post.js" {
		t.Fatalf("native/action.yml runs %+v, want main.js and post.js", a.Runs)
	}
	out := map[string]string{}
	for name, in := range a.Inputs {
		if in.Default != nil {
			if strings.Contains(*in.Default, "${{") {
				t.Fatalf("input %s has an expression default %q; the test does not evaluate expressions", name, *in.Default)
			}
			out[name] = *in.Default
		}
	}
	return out
}

// job is a runner's job on one host: its home, temp and tool cache, shared
// by the steps; and the AWS account and registry it logs in to.
type job struct {
	t                       *testing.T
	node, action            string
	home, temp, toolCache   string
	fake                    *awsfake.Server
	reg                     *testenv.Registry
	password, bundle, host  string
	platformOS, platformArc string
	extraEnv                map[string]string
	timeout                 time.Duration // of a step; 0: testenv's default
}

func newJob(t *testing.T, actionDir string) *job {
	t.Helper()
	d := t.TempDir()
	j := &job{t: t, node: node(t), action: actionDir, home: filepath.Join(d, "home"), temp: filepath.Join(d, "temp"),
		toolCache: filepath.Join(d, "toolcache"), platformOS: "Linux", platformArc: "X64", extraEnv: map[string]string{}}
	for _, p := range []string{j.home, j.temp, j.toolCache} {
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return j
}

// withAWS adds the AWS emulator and a TLS registry that checks the
// password ECR hands out.
func (j *job) withAWS() {
	t := j.t
	pw := make([]byte, 900)
	rand.Read(pw)
	j.password = base64.StdEncoding.EncodeToString(pw)
	j.fake = awsfake.New(awsfake.Options{TLS: true})
	if err := j.fake.AddRole(awsfake.Role{ARN: roleARN, Subjects: []string{"repo:octo-org/octo-repo:*"}, ECR: true}); err != nil {
		t.Fatal(err)
	}
	if err := j.fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(j.fake.Close)
	ca := testenv.NewCA(t)
	j.reg = testenv.StartRegistry(t, testenv.RegistryOptions{Password: j.password, TLS: true, CA: ca})
	j.fake.MapRegistry(account, region, j.reg.URL)
	j.fake.SetRegistryPassword(account, region, j.password)
	j.host = strings.TrimPrefix(j.reg.URL, "https://")
	a, err := os.ReadFile(j.fake.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(ca.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	j.bundle = filepath.Join(t.TempDir(), "bundle.pem")
	if err := os.WriteFile(j.bundle, append(append(a, '\n'), b...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// step is one run of the action's main or post step.
type step struct {
	files ghrunner.StepFiles
	res   testenv.Result
}

// env is the environment the runner gives a node action's step.
func (j *job) env(files ghrunner.StepFiles, inputs, state map[string]string) map[string]string {
	s := ghrunner.Step{Files: files, Temp: j.temp, Home: j.home}
	env := s.Env()
	for name, v := range actionDefaults(j.t, j.action) {
		env[ghrunner.InputVar(name)] = v
	}
	for name, v := range inputs {
		env[ghrunner.InputVar(name)] = v
	}
	env["RUNNER_OS"], env["RUNNER_ARCH"], env["RUNNER_TOOL_CACHE"] = j.platformOS, j.platformArc, j.toolCache
	env["GITHUB_WORKSPACE"] = filepath.Join(j.temp, "workspace")
	if j.fake != nil {
		for k, v := range j.fake.Env() {
			env[k] = v
		}
		env["SSL_CERT_FILE"] = j.bundle
	}
	for k, v := range state {
		env["STATE_"+k] = v
	}
	for k, v := range j.extraEnv {
		env[k] = v
	}
	return env
}

// run runs native/<script> under node as the runner runs a node action.
func (j *job) run(script string, inputs, state map[string]string) step {
	j.t.Helper()
	files, err := ghrunner.NewStepFiles(j.t.TempDir())
	if err != nil {
		j.t.Fatal(err)
	}
	res := testenv.RunProgram(j.t, j.node, testenv.RunOptions{Args: []string{filepath.Join(j.action, script)}, Env: j.env(files, inputs, state), Timeout: j.timeout})
	return step{files: files, res: res}
}

func (s step) commands(t *testing.T, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := ghrunner.ParseFileCommands(b)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(file), err)
	}
	return kv
}

func (s step) log() string { return s.res.Stdout + s.res.Stderr }

func sha256Hex(b []byte) string { return docsSHA(b) }

// existingConfig is a docker config.json that an earlier step left: another
// registry's login, in its own formatting, which the post step must give
// back byte for byte.
const existingConfig = "{\n\t\"auths\": {\n\t\t\"ghcr.io\": {\n\t\t\t\"auth\": \"b2N0bzpnaHBfZWFybGllcg==\"\n\t\t}\n\t}\n}\n"

// earlierDockerConfig writes existingConfig as the runner user's
// ~/.docker/config.json and returns its path.
func (j *job) earlierDockerConfig() string {
	j.t.Helper()
	dir := filepath.Join(j.home, ".docker")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		j.t.Fatal(err)
	}
	p := filepath.Join(dir, "config.json")
	if err := os.WriteFile(p, []byte(existingConfig), 0o600); err != nil {
		j.t.Fatal(err)
	}
	return p
}

// wantBinaryRan checks a step given no AWS credentials whose launcher got
// the binary: file holds the release's binary, and the binary ran and
// stopped with its own ::error:: for want of credentials.
func wantBinaryRan(t *testing.T, s step, file string, binary []byte) {
	t.Helper()
	if b, err := os.ReadFile(file); err != nil || !bytes.Equal(b, binary) {
		t.Fatalf("%s does not hold the release's binary (%v)\n%s", file, err, s.log())
	}
	if s.res.ExitCode != 1 || !strings.Contains(s.res.Stdout, "::error title=ecr-credentials") {
		t.Fatalf("exit %d, want the binary's own ::error:: (it ran)\n%s", s.res.ExitCode, s.log())
	}
}

// wantNoBinary checks a step whose launcher could not get the binary:
// exit 1, an ::error:: line starting with prefix, want in the log, and no
// binary at cached.
func wantNoBinary(t *testing.T, s step, cached, prefix, want string) {
	t.Helper()
	if s.res.ExitCode != 1 || !strings.Contains(s.res.Stdout, prefix) || !strings.Contains(s.log(), want) {
		t.Fatalf("exit %d, want 1 and an ::error:: (%q) with %q\n%s", s.res.ExitCode, prefix, want, s.log())
	}
	if _, err := os.Stat(cached); !os.IsNotExist(err) {
		t.Errorf("the tool cache holds a binary after the download failed (%v)", err)
	}
}

// TestNativeActionEndToEnd: the first run fetches the release archive,
// checks it and runs the binary, which logs in to the registry in the
// runner's own ~/.docker/config.json; a second run takes the binary from the
// tool cache without a request; the post step, given STATE_* as the runner
// gives it, restores config.json byte for byte.
func TestNativeActionEndToEnd(t *testing.T) {
	rel := newRelease(t)
	j := newJob(t, action(t, rel.Data))
	j.withAWS()
	j.extraEnv["ECR_CREDENTIALS_DOWNLOAD_URL"] = rel.URL()
	cfgPath := j.earlierDockerConfig()
	inputs := map[string]string{"role-to-assume": roleARN, "aws-region": region}

	first := j.run("main.js", inputs, nil)
	if first.res.ExitCode != 0 {
		t.Fatalf("main step: exit %d\n%s", first.res.ExitCode, first.log())
	}
	if got := rel.requests(); len(got) != 1 || got[0] != "/releases/"+rel.Archive {
		t.Fatalf("first run requested %v, want only /releases/%s", got, rel.Archive)
	}
	cachedBin := rel.CachedPath(j.toolCache)
	if b, err := os.ReadFile(cachedBin); err != nil || !bytes.Equal(b, rel.Binary) {
		t.Fatalf("tool cache %s does not hold the release's binary (%v)", cachedBin, err)
	}
	if !strings.Contains(first.log(), "verified (SHA-256 "+sha256Hex(rel.Binary)+")") {
		t.Errorf("the log does not say the binary was verified:\n%s", first.log())
	}

	out := first.commands(t, first.files.Output)
	for name, want := range map[string]string{"username": "AWS", "password": j.password, "registry": j.host} {
		if out[name] != want {
			t.Errorf("output %s = %.20q..., want %.20q...", name, out[name], want)
		}
	}
	if env := first.commands(t, first.files.Env); env["ECR_PASSWORD"] != j.password || env["DOCKER_CONFIG"] != "" {
		t.Errorf("GITHUB_ENV: ECR_PASSWORD set %v, DOCKER_CONFIG %q (the native form edits ~/.docker in place, exports no DOCKER_CONFIG)",
			env["ECR_PASSWORD"] == j.password, env["DOCKER_CONFIG"])
	}
	if masked := ghrunner.MaskedValues(first.res.Stdout); !contains(masked, j.password) {
		t.Errorf("the password was not announced with ::add-mask::")
	}
	for _, l := range strings.Split(first.log(), "\n") {
		if strings.Contains(l, j.password) && !strings.HasPrefix(l, "::add-mask::") {
			t.Errorf("the password appears in the log other than in ::add-mask:: (%d bytes line)", len(l))
		}
	}

	// The login is in the runner user's own docker config, beside the
	// earlier login, and works for an independent client.
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), j.host) || !strings.Contains(string(cfg), "ghcr.io") {
		t.Errorf("config.json lacks our registry or the earlier login:\n%s", cfg)
	}
	crane := testenv.Crane(t)
	catalog := func() error {
		c := exec.Command(crane, "catalog", j.host)
		c.Env = []string{"HOME=" + j.home, "SSL_CERT_FILE=" + j.bundle}
		b, err := c.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, b)
		}
		return nil
	}
	if err := catalog(); err != nil {
		t.Fatalf("crane catalog with the login in ~/.docker: %v", err)
	}

	// Second run on the same host: the tool cache, no download.
	second := j.run("main.js", inputs, nil)
	if second.res.ExitCode != 0 {
		t.Fatalf("second main step: exit %d\n%s", second.res.ExitCode, second.log())
	}
	if got := rel.requests(); len(got) != 1 {
		t.Errorf("the second run made requests %v, want none (tool cache)", got[1:])
	}
	if !strings.Contains(second.log(), "from the tool cache") {
		t.Errorf("the second run does not say it used the tool cache:\n%s", second.log())
	}

	// The binary's failure is the step's: its exit code and its ::error::
	// line come through the launcher (which ends node as soon as the
	// binary has ended).
	bad := j.run("main.js", map[string]string{"role-to-assume": "not-an-arn", "aws-region": region}, nil)
	if bad.res.ExitCode != 1 || !strings.Contains(bad.log(), "::error") || !strings.Contains(bad.log(), "role-to-assume") {
		t.Errorf("main step with a bad role-to-assume: exit %d, want 1 with an ::error:: naming the input\n%s", bad.res.ExitCode, bad.log())
	}
	if !strings.Contains(bad.log(), "from the tool cache") {
		t.Errorf("the launcher's own line is missing before the binary's error:\n%s", bad.log())
	}

	// Post steps, last step first, as the runner runs them, each with the
	// STATE_* its main step wrote.
	for _, s := range []step{second, first} {
		state := s.commands(t, s.files.State)
		if state["launcher_binary"] != cachedBin || state["receipt"] == "" {
			t.Fatalf("GITHUB_STATE = %v keys, want launcher_binary=%s and the binary's receipt", keys(state), cachedBin)
		}
		post := j.run("post.js", inputs, state)
		if post.res.ExitCode != 0 {
			t.Fatalf("post step: exit %d\n%s", post.res.ExitCode, post.log())
		}
	}
	after, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != existingConfig {
		t.Errorf("config.json after the post steps:\n%s\nwant, byte for byte:\n%s", after, existingConfig)
	}
	if err := catalog(); err == nil {
		t.Errorf("crane catalog still works after the post steps")
	}
}

// TestNativeLauncherRefuses: whatever is wrong with the binary or the
// platform, the step fails with an ::error:: before anything runs, and
// writes nothing: no output, env or state, and no binary in the tool cache.
func TestNativeLauncherRefuses(t *testing.T) {
	rel := newRelease(t)
	tests := []struct {
		name   string
		setup  func(t *testing.T, j *job, data *docs.NativeData)
		errMsg string
		// fetch: the launcher may ask the server (it refuses after).
		fetch bool
	}{
		{name: "tampered archive", fetch: true, errMsg: "the download is not the release's archive",
			setup: func(t *testing.T, j *job, data *docs.NativeData) {
				rel.mirror.Tamper(true)
				t.Cleanup(func() { rel.mirror.Tamper(false) })
			}},
		{name: "wrong archive checksum", fetch: true, errMsg: "the download is not the release's archive",
			setup: func(t *testing.T, j *job, data *docs.NativeData) {
				a := data.Archives["linux_amd64"]
				a.SHA256 = strings.Repeat("0", 64)
				data.Archives["linux_amd64"] = a
			}},
		{name: "wrong binary checksum", fetch: true, errMsg: "ecr-credentials inside has SHA-256",
			setup: func(t *testing.T, j *job, data *docs.NativeData) {
				a := data.Archives["linux_amd64"]
				a.BinarySHA256 = strings.Repeat("1", 64)
				data.Archives["linux_amd64"] = a
			}},
		{name: "tampered binary in the tool cache", errMsg: "it was changed after it was cached",
			setup: func(t *testing.T, j *job, data *docs.NativeData) {
				p := filepath.Dir(rel.CachedPath(j.toolCache))
				os.MkdirAll(p, 0o755)
				if err := os.WriteFile(filepath.Join(p, "ecr-credentials"), append(append([]byte(nil), rel.Binary...), 0), 0o755); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "link in the tool cache", errMsg: "not a regular file",
			setup: func(t *testing.T, j *job, data *docs.NativeData) {
				p := filepath.Dir(rel.CachedPath(j.toolCache))
				os.MkdirAll(p, 0o755)
				real := filepath.Join(t.TempDir(), "ecr-credentials")
				os.WriteFile(real, rel.Binary, 0o755)
				if err := os.Symlink(real, filepath.Join(p, "ecr-credentials")); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "tool cache writable by others", errMsg: "may be written by other users",
			setup: func(t *testing.T, j *job, data *docs.NativeData) {
				p := filepath.Dir(rel.CachedPath(j.toolCache))
				os.MkdirAll(p, 0o755)
				os.WriteFile(filepath.Join(p, "ecr-credentials"), rel.Binary, 0o755)
				if err := os.Chmod(p, 0o777); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "no checksum for the platform", errMsg: "has no checksum for linux_amd64: refusing an unverified binary",
			setup: func(t *testing.T, j *job, data *docs.NativeData) { delete(data.Archives, "linux_amd64") }},
		{name: "unsupported OS", errMsg: "has no build for this runner (RUNNER_OS=FreeBSD, RUNNER_ARCH=X64)",
			setup: func(t *testing.T, j *job, data *docs.NativeData) { j.platformOS = "FreeBSD" }},
		{name: "unsupported architecture", errMsg: "has no build for this runner (RUNNER_OS=Linux, RUNNER_ARCH=ARM)",
			setup: func(t *testing.T, j *job, data *docs.NativeData) { j.platformArc = "ARM" }},
		{name: "platform with a line break", errMsg: `RUNNER_OS=Linux\u000a::warning::x`,
			setup: func(t *testing.T, j *job, data *docs.NativeData) { j.platformOS = "Linux\n::warning::x" }},
		{name: "mirror over plain http", errMsg: "must be an https:// URL (http:// only to this machine)",
			setup: func(t *testing.T, j *job, data *docs.NativeData) {
				j.extraEnv["ECR_CREDENTIALS_DOWNLOAD_URL"] = "http://mirror.example/releases"
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := rel.Data
			data.Archives = map[string]docs.NativeArchive{}
			for k, a := range rel.Data.Archives {
				data.Archives[k] = a
			}
			j := newJob(t, "")
			j.extraEnv["ECR_CREDENTIALS_DOWNLOAD_URL"] = rel.URL()
			tt.setup(t, j, &data)
			j.action = action(t, data)
			before := len(rel.requests())
			cacheBefore := listTree(t, j.toolCache)

			s := j.run("main.js", map[string]string{"role-to-assume": roleARN, "aws-region": region}, nil)
			if s.res.ExitCode != 1 {
				t.Fatalf("exit %d, want 1\n%s", s.res.ExitCode, s.log())
			}
			errs := errorLines(s.res.Stdout)
			if len(errs) != 1 || !strings.Contains(errs[0], tt.errMsg) {
				t.Fatalf("::error:: lines %q, want one containing %q\nlog:\n%s", errs, tt.errMsg, s.log())
			}
			for _, f := range []string{s.files.Output, s.files.Env, s.files.State, s.files.Summary} {
				if b, _ := os.ReadFile(f); len(b) != 0 {
					t.Errorf("%s was written:\n%s", filepath.Base(f), b)
				}
			}
			if got := listTree(t, j.toolCache); got != cacheBefore {
				t.Errorf("the tool cache changed:\nbefore:\n%s\nafter:\n%s", cacheBefore, got)
			}
			if n := len(rel.requests()) - before; n > 0 && !tt.fetch {
				t.Errorf("the launcher made %d requests; it should refuse before any", n)
			}
			// The post step after a refused main step has nothing to undo.
			post := j.run("post.js", nil, nil)
			if post.res.ExitCode != 0 || !strings.Contains(post.log(), "Nothing to undo") {
				t.Errorf("post step after a refusal: exit %d\n%s", post.res.ExitCode, post.log())
			}
		})
	}
}

// TestNativePostRefusesAChangedBinary: the post step runs the binary the
// main step ran, and nothing else.
func TestNativePostRefusesAChangedBinary(t *testing.T) {
	j := newJob(t, action(t, docs.NativeDataMain()))
	bin := filepath.Join(j.temp, "ecr-credentials")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho ran\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := j.run("post.js", nil, map[string]string{"launcher_binary": bin, "launcher_sha256": strings.Repeat("a", 64)})
	if s.res.ExitCode != 1 || !strings.Contains(s.res.Stdout, "::error::") || strings.Contains(s.log(), "\nran\n") || strings.HasPrefix(s.log(), "ran") {
		t.Fatalf("exit %d, want 1 with an ::error:: and the binary not run\n%s", s.res.ExitCode, s.log())
	}
}

// TestNativeWithoutRelease: on a ref without release data (native/
// checksums.json of main) the launcher builds from the checkout when Go is
// on PATH, and otherwise refuses with the fix.
func TestNativeWithoutRelease(t *testing.T) {
	root := testenv.ModuleRoot(t)
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go: %v", err)
	}
	t.Run("no go on PATH", func(t *testing.T) {
		j := newJob(t, filepath.Join(root, "native"))
		j.extraEnv["PATH"] = "/nonexistent"
		s := j.run("main.js", nil, nil)
		errs := errorLines(s.res.Stdout)
		if s.res.ExitCode != 1 || len(errs) != 1 || !strings.Contains(errs[0], "no release binaries") || !strings.Contains(errs[0], "actions/setup-go") {
			t.Fatalf("exit %d, ::error:: %q\n%s", s.res.ExitCode, errs, s.log())
		}
	})
	t.Run("go on PATH builds", func(t *testing.T) {
		if testing.Short() {
			t.Skip("builds the program (-short)")
		}
		j := newJob(t, filepath.Join(root, "native"))
		// Offline, from the module cache, as a job with Go set up would be
		// online; the build cache keeps it quick.
		j.extraEnv["PATH"] = filepath.Dir(goCmd) + string(os.PathListSeparator) + os.Getenv("PATH")
		for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
			out, err := exec.Command(goCmd, "env", k).Output()
			if err != nil {
				t.Fatal(err)
			}
			j.extraEnv[k] = strings.TrimSpace(string(out))
		}
		j.extraEnv["GOPROXY"] = "off"
		j.extraEnv["GOTOOLCHAIN"] = "local"
		// The launcher builds as testenv.BuildBinary(..., "release") does,
		// so the build cache has the packages already; a cold cache on this
		// shared machine can take minutes.
		testenv.BuildBinary(t, modulePath, "release")
		j.timeout = 10 * time.Minute
		s := j.run("main.js", map[string]string{"registries": "not a registry!"}, nil)
		if !strings.Contains(s.log(), "building ecr-credentials from source") {
			t.Fatalf("the launcher did not build from source:\n%s", s.log())
		}
		// The built binary ran: it refused the bad input with its own
		// problem code, exit 1, after the launcher handed it the state.
		if s.res.ExitCode != 1 || !strings.Contains(s.res.Stdout, "::error") || !strings.Contains(s.log(), "registries") {
			t.Fatalf("exit %d, want the binary's refusal of the registries input\n%s", s.res.ExitCode, s.log())
		}
		state := s.commands(t, s.files.State)
		if b, err := os.ReadFile(state["launcher_binary"]); err != nil || sha256Hex(b) != state["launcher_sha256"] {
			t.Errorf("state names %q with SHA-256 %s: %v", state["launcher_binary"], state["launcher_sha256"], err)
		}
	})
}

// errorLines are the ::error:: commands in a log.
func errorLines(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.HasPrefix(l, "::error") {
			out = append(out, l)
		}
	}
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// listTree lists the files under dir with their sizes.
func listTree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(&b, "%s %v %d\n", rel, info.Mode(), info.Size())
		return nil
	})
	return b.String()
}

type tarEntry struct {
	name     string
	body     []byte
	mode     int64
	typeflag byte
	pax      bool // force a PAX header (as for long names)
}

func tarGz(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Size: int64(len(e.body)), Typeflag: e.typeflag, Format: tar.FormatUSTAR}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeSymlink {
			h.Linkname, h.Size = "/etc/passwd", 0
		}
		if e.pax || len(e.name) > 100 {
			h.Format = tar.FormatPAX
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write(e.body)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	gz.Close()
	return buf.Bytes()
}

// TestNativeWithoutToolCache: without a usable tool cache (none set, or
// one that cannot be written) the checked binary goes to a directory of
// the job's RUNNER_TEMP, and runs from there.
func TestNativeWithoutToolCache(t *testing.T) {
	rel := newRelease(t)
	for _, tc := range []struct {
		name  string
		cache func(t *testing.T, j *job) string
	}{
		{name: "unset", cache: func(t *testing.T, j *job) string { return "" }},
		{name: "not a directory", cache: func(t *testing.T, j *job) string {
			f := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(f, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return f
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := newJob(t, action(t, rel.Data))
			j.extraEnv["ECR_CREDENTIALS_DOWNLOAD_URL"] = rel.URL()
			j.extraEnv["RUNNER_TOOL_CACHE"] = tc.cache(t, j)
			// No AWS here: the binary runs and refuses for want of credentials.
			s := j.run("main.js", nil, nil)
			state := s.commands(t, s.files.State)
			bin := state["launcher_binary"]
			if !strings.HasPrefix(bin, j.temp+string(filepath.Separator)) {
				t.Fatalf("the binary ran from %q, want a directory under RUNNER_TEMP %s\n%s", bin, j.temp, s.log())
			}
			wantBinaryRan(t, s, bin, rel.Binary)
		})
	}
}

// TestNativeDownloadThroughProxy: behind a proxy (https_proxy, as the
// runner sets it), the first run fetches the release through a CONNECT
// tunnel, with the proxy's credentials from the URL, and checks the
// server's certificate for the release host's name (NODE_EXTRA_CA_CERTS
// trusts the test CA; the name resolves only at the proxy, so nothing is
// looked up here). A proxy that refuses the tunnel stops the step with an
// ::error:: naming the proxy, and nothing is run or kept.
func TestNativeDownloadThroughProxy(t *testing.T) {
	const host = "releases.proxy.test"
	rel := newRelease(t)
	ca := testenv.NewCA(t, host)
	port := rel.serveTLS(t, ca)
	proxy := testenv.StartConnectProxy(t, map[string]string{host: "127.0.0.1", "other.proxy.test": "127.0.0.1"})
	withCreds := strings.Replace(proxy.URL, "http://", "http://ci:s%40cret@", 1)

	for _, tc := range []struct {
		name     string
		env      map[string]string
		target   string // the release host asked for
		wantAuth string // the Proxy-Authorization header
		wantErr  string // "" for a good run
	}{
		{name: "https_proxy with credentials", env: map[string]string{"https_proxy": withCreds, "no_proxy": "example.com,.internal"}, target: host,
			wantAuth: "Basic " + base64.StdEncoding.EncodeToString([]byte("ci:s@cret"))},
		{name: "HTTPS_PROXY without a scheme", env: map[string]string{"HTTPS_PROXY": strings.TrimPrefix(proxy.URL, "http://")}, target: host},
		{name: "a proxy that does not know the host", env: map[string]string{"https_proxy": proxy.URL}, target: "unknown.proxy.test",
			wantErr: "refused a tunnel to unknown.proxy.test:" + port + ": HTTP 502"},
		{name: "a certificate for another name", env: map[string]string{"https_proxy": proxy.URL}, target: "other.proxy.test",
			wantErr: "does not match certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := newJob(t, action(t, rel.Data))
			target := tc.target
			j.extraEnv["ECR_CREDENTIALS_DOWNLOAD_URL"] = "https://" + target + ":" + port + "/releases"
			j.extraEnv["NODE_EXTRA_CA_CERTS"] = ca.CertFile
			for k, v := range tc.env {
				j.extraEnv[k] = v
			}
			before := len(proxy.Hosts())
			// No AWS here: a good run ends in the binary's own refusal.
			s := j.run("main.js", nil, nil)
			hosts, auth := proxy.Hosts()[before:], proxy.Auth()[before:]
			if len(hosts) != 1 || hosts[0] != target+":"+port {
				t.Fatalf("the proxy was asked for %v, want one tunnel to %s:%s\n%s", hosts, target, port, s.log())
			}
			cached := rel.CachedPath(j.toolCache)
			if tc.wantErr != "" {
				wantNoBinary(t, s, cached, "::error::", tc.wantErr)
				return
			}
			if auth[0] != tc.wantAuth {
				t.Errorf("Proxy-Authorization %q, want %q", auth[0], tc.wantAuth)
			}
			if strings.Contains(s.log(), "s%40cret") || strings.Contains(s.log(), "s@cret") {
				t.Errorf("the proxy's password is in the log:\n%s", s.log())
			}
			wantBinaryRan(t, s, cached, rel.Binary)
		})
	}
}

// proxyScript prints, for each case of a JSON list of {env, url}, the
// proxy the launcher would use ("direct" for none), or REFUSED.
const proxyScript = `
const l = require(process.argv[1]);
for (const c of JSON.parse(process.argv[2])) {
  try {
    const p = l.proxyFor(c.env, new URL(c.url));
    console.log(p ? p.name + ' ' + p.url.host : 'direct');
  } catch (e) {
    if (!(e instanceof l.Refusal)) { console.log('CRASH: ' + e.stack); process.exit(2); }
    console.log('REFUSED: ' + e.message);
  }
}
`

// TestLauncherProxyChoice: which downloads go through which proxy, as the
// runner's proxy variables and no_proxy lists say.
func TestLauncherProxyChoice(t *testing.T) {
	p := map[string]string{"https_proxy": "http://proxy.corp:3128"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"https_proxy": "http://proxy.corp:3128"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		url  string
		want string
	}{
		{"no proxy set", map[string]string{}, "https://github.com/x", "direct"},
		{"https_proxy", p, "https://github.com/x", "https_proxy proxy.corp:3128"},
		{"HTTPS_PROXY", map[string]string{"HTTPS_PROXY": "proxy.corp:8080"}, "https://github.com/x", "HTTPS_PROXY proxy.corp:8080"},
		{"lower case first", map[string]string{"https_proxy": "http://a.corp:1", "HTTPS_PROXY": "http://b.corp:2"}, "https://github.com/x", "https_proxy a.corp:1"},
		{"loopback is direct", p, "https://127.0.0.1:8443/x", "direct"},
		{"plain http (loopback only) is direct", p, "http://127.0.0.1:8080/x", "direct"},
		{"no_proxy names the host", with("no_proxy", "github.com"), "https://github.com/x", "direct"},
		{"no_proxy names the domain", with("no_proxy", "githubusercontent.com"), "https://objects.githubusercontent.com/x", "direct"},
		{"no_proxy with a leading dot", with("no_proxy", ".githubusercontent.com"), "https://objects.githubusercontent.com/x", "direct"},
		{"no_proxy with *.", with("no_proxy", "*.githubusercontent.com"), "https://objects.githubusercontent.com/x", "direct"},
		{"no_proxy is not a substring match", with("no_proxy", "hub.com"), "https://github.com/x", "https_proxy proxy.corp:3128"},
		{"NO_PROXY, spaces and case", with("NO_PROXY", " example.org , GitHub.COM "), "https://github.com/x", "direct"},
		{"no_proxy *", with("no_proxy", "*"), "https://github.com/x", "direct"},
		{"no_proxy port matches", with("no_proxy", "mirror.corp:8443"), "https://mirror.corp:8443/x", "direct"},
		{"no_proxy port differs", with("no_proxy", "mirror.corp:8443"), "https://mirror.corp/x", "https_proxy proxy.corp:3128"},
		{"no_proxy IP", with("no_proxy", "10.1.2.3"), "https://10.1.2.3/x", "direct"},
		{"no_proxy CIDR", with("no_proxy", "10.0.0.0/8"), "https://10.1.2.3/x", "direct"},
		{"no_proxy CIDR, other address", with("no_proxy", "10.0.0.0/8"), "https://192.168.1.1/x", "https_proxy proxy.corp:3128"},
		{"no_proxy IPv6", with("no_proxy", "[fd00::1]"), "https://[fd00::1]/x", "direct"},
		{"an https proxy is refused", map[string]string{"https_proxy": "https://proxy.corp:3129"}, "https://github.com/x", "REFUSED: https_proxy names a https: proxy"},
		{"a socks proxy is refused", map[string]string{"HTTPS_PROXY": "socks5://proxy.corp:1080"}, "https://github.com/x", "REFUSED: HTTPS_PROXY names a socks5: proxy"},
		{"not a URL", map[string]string{"https_proxy": "http://[bad"}, "https://github.com/x", "REFUSED: https_proxy is not a proxy address"},
	}
	type tcase struct {
		Env map[string]string `json:"env"`
		URL string            `json:"url"`
	}
	var cases []tcase
	for _, tc := range tests {
		cases = append(cases, tcase{tc.env, tc.url})
	}
	js, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	launcher, err := filepath.Abs(filepath.Join("..", "..", "..", "native", "launcher.js"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node(t), "-e", proxyScript, launcher, string(js)).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != len(tests) {
		t.Fatalf("%d answers for %d cases:\n%s", len(lines), len(tests), out)
	}
	for i, tc := range tests {
		if !strings.HasPrefix(lines[i], tc.want) {
			t.Errorf("%s: %s for %s with %v, want %s", tc.name, lines[i], tc.url, tc.env, tc.want)
		}
	}
}

// TestNativeDownloadRetries: a download that fails for a reason that may
// pass (HTTP 5xx or 429) is tried again, up to three attempts, saying so;
// one that cannot pass (404) fails at once. Either failure stops the step
// with an ::error:: and keeps nothing.
func TestNativeDownloadRetries(t *testing.T) {
	rel := newRelease(t)
	for _, tc := range []struct {
		name     string
		statuses []int // the mirror's answers before it serves the archive
		requests int
		retries  int    // lines saying it tries again
		wantErr  string // "" for a good run
	}{
		{name: "503, then the archive", statuses: []int{503}, requests: 2, retries: 1},
		{name: "429, then the archive", statuses: []int{429}, requests: 2, retries: 1},
		{name: "502 three times", statuses: []int{502, 502, 502}, requests: 3, retries: 2, wantErr: "HTTP 502"},
		{name: "404", statuses: []int{404}, requests: 1, wantErr: "HTTP 404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := newJob(t, action(t, rel.Data))
			j.extraEnv["ECR_CREDENTIALS_DOWNLOAD_URL"] = rel.URL()
			before := len(rel.requests())
			rel.mirror.Fail(tc.statuses...)
			// No AWS here: a good run ends in the binary's own refusal.
			s := j.run("main.js", nil, nil)
			if n := len(rel.requests()) - before; n != tc.requests {
				t.Errorf("%d requests, want %d\n%s", n, tc.requests, s.log())
			}
			if n := strings.Count(s.log(), "trying again in"); n != tc.retries {
				t.Errorf("%d lines say it tries again, want %d\n%s", n, tc.retries, s.log())
			}
			cached := rel.CachedPath(j.toolCache)
			if tc.wantErr != "" {
				wantNoBinary(t, s, cached, "::error::download of ", tc.wantErr)
				return
			}
			wantBinaryRan(t, s, cached, rel.Binary)
		})
	}
}

// TestNativeDownloadRetriesARefusedConnection: a mirror that refuses
// connections (ECONNREFUSED: a network error, not an answer) is tried three
// times, then the step stops with an ::error:: that says so.
func TestNativeDownloadRetriesARefusedConnection(t *testing.T) {
	rel := newRelease(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	j := newJob(t, action(t, rel.Data))
	j.extraEnv["ECR_CREDENTIALS_DOWNLOAD_URL"] = "http://" + addr + "/releases"
	s := j.run("main.js", nil, nil)
	if n := strings.Count(s.log(), "trying again in"); n != 2 {
		t.Errorf("%d lines say it tries again, want 2\n%s", n, s.log())
	}
	if s.res.ExitCode != 1 || !strings.Contains(s.res.Stdout, "::error::download of ") || !strings.Contains(s.log(), "ECONNREFUSED") {
		t.Fatalf("exit %d, want 1 and an ::error:: naming ECONNREFUSED\n%s", s.res.ExitCode, s.log())
	}
}

// TestNativePostFindsAGoneBinaryAgain: when the binary the main step ran
// is gone by the post step (a step removed the tool cache), the post step
// fetches the release's again, checks it is the one the main step ran,
// and undoes the login with it: config.json is as it was. A state naming
// another binary than the release's is refused, and nothing runs.
func TestNativePostFindsAGoneBinaryAgain(t *testing.T) {
	rel := newRelease(t)
	j := newJob(t, action(t, rel.Data))
	j.withAWS()
	j.extraEnv["ECR_CREDENTIALS_DOWNLOAD_URL"] = rel.URL()
	cfgPath := j.earlierDockerConfig()
	inputs := map[string]string{"role-to-assume": roleARN, "aws-region": region}
	main := j.run("main.js", inputs, nil)
	if main.res.ExitCode != 0 {
		t.Fatalf("main step: exit %d\n%s", main.res.ExitCode, main.log())
	}
	state := main.commands(t, main.files.State)
	if err := os.RemoveAll(filepath.Join(j.toolCache, "ecr-credentials")); err != nil {
		t.Fatal(err)
	}

	wrong := maps.Clone(state)
	wrong["launcher_sha256"] = strings.Repeat("b", 64)
	refused := j.run("post.js", inputs, wrong)
	if refused.res.ExitCode != 1 || !strings.Contains(refused.res.Stdout, "::error::the binary found again has SHA-256") {
		t.Fatalf("post step with another binary's sum: exit %d, want 1 and an ::error::\n%s", refused.res.ExitCode, refused.log())
	}
	if b, _ := os.ReadFile(cfgPath); string(b) == existingConfig {
		t.Fatalf("config.json was restored by a binary the main step did not run")
	}

	// The refused step kept the release's binary in the tool cache again.
	if err := os.RemoveAll(filepath.Join(j.toolCache, "ecr-credentials")); err != nil {
		t.Fatal(err)
	}
	before := len(rel.requests())
	post := j.run("post.js", inputs, state)
	if post.res.ExitCode != 0 || !strings.Contains(post.log(), "is gone: finding the binary the main step ran again") {
		t.Fatalf("post step: exit %d\n%s", post.res.ExitCode, post.log())
	}
	if n := len(rel.requests()) - before; n != 1 {
		t.Errorf("the post step made %d downloads, want 1", n)
	}
	if b, err := os.ReadFile(cfgPath); err != nil || string(b) != existingConfig {
		t.Errorf("config.json after the post step (%v):\n%s\nwant, byte for byte:\n%s", err, b, existingConfig)
	}
}

// TestNativeLogsNoURLQuery: a download URL's query (a mirror's token, the
// signature of GitHub's redirect to its storage) is never in the log: the
// launcher shows URLs without it, in the download line and in errors.
func TestNativeLogsNoURLQuery(t *testing.T) {
	rel := newRelease(t)
	const token = "t0ken-Of-The-Mirror"
	j := newJob(t, action(t, rel.Data))
	j.extraEnv["ECR_CREDENTIALS_DOWNLOAD_URL"] = rel.URL() + "?token=" + token
	s := j.run("main.js", nil, nil)
	if s.res.ExitCode != 1 || !strings.Contains(s.res.Stdout, "::error::download of "+rel.srv.URL+"/releases: HTTP 404") {
		t.Fatalf("exit %d, want 1 and an ::error:: for the 404 naming the URL without its query\n%s", s.res.ExitCode, s.log())
	}
	if strings.Contains(s.log(), token) {
		t.Errorf("the mirror's token is in the log:\n%s", s.log())
	}
}
