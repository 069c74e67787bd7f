package imagetest

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// pluginCI is how one CI lays out a pipeline for its steps: the volume it
// mounts into every step container, the working directory inside it (the
// workspace), and the variables every step gets.
type pluginCI struct {
	name string // as the plugin's log names it
	// volume is where the pipeline's volume is mounted, workspace the
	// working directory of every step, inside volume.
	volume, workspace string
	env               map[string]string
}

// droneCI: Drone's docker runner mounts a per-pipeline volume at /drone
// and runs every step in /drone/src (DRONE_WORKSPACE); DRONE=true, CI=true
// and the DRONE_* variables describe the build (docs.drone.io: "Workspace",
// "Environment reference").
var droneCI = pluginCI{
	name:      "Drone",
	volume:    "/drone",
	workspace: "/drone/src",
	env: map[string]string{
		"CI":                 "true",
		"DRONE":              "true",
		"DRONE_WORKSPACE":    "/drone/src",
		"DRONE_REPO":         "octo-org/octo-repo",
		"DRONE_REPO_OWNER":   "octo-org",
		"DRONE_REPO_NAME":    "octo-repo",
		"DRONE_BRANCH":       "main",
		"DRONE_COMMIT_SHA":   "ffac537e6cbbf934b08745a378932722df287a53",
		"DRONE_BUILD_NUMBER": "17",
		"DRONE_BUILD_EVENT":  "push",
		"DRONE_STEP_NAME":    "ecr-login",
	},
}

// woodpeckerCI: Woodpecker mounts the workflow's volume at /woodpecker and
// runs every step in /woodpecker/src/<forge host>/<owner>/<repo>
// (CI_WORKSPACE); CI=woodpecker and the CI_* variables describe the
// pipeline (woodpecker-ci.org: "Workflow syntax", "Environment variables").
var woodpeckerCI = pluginCI{
	name:      "Woodpecker",
	volume:    "/woodpecker",
	workspace: "/woodpecker/src/codeberg.org/octo-org/octo-repo",
	env: map[string]string{
		"CI":                 "woodpecker",
		"CI_WORKSPACE":       "/woodpecker/src/codeberg.org/octo-org/octo-repo",
		"CI_SYSTEM_NAME":     "woodpecker",
		"CI_REPO":            "octo-org/octo-repo",
		"CI_REPO_OWNER":      "octo-org",
		"CI_REPO_NAME":       "octo-repo",
		"CI_COMMIT_BRANCH":   "main",
		"CI_COMMIT_SHA":      "ffac537e6cbbf934b08745a378932722df287a53",
		"CI_PIPELINE_NUMBER": "23",
		"CI_PIPELINE_EVENT":  "push",
		"CI_STEP_NAME":       "ecr-login",
		// Woodpecker 1.x also sets Drone's variables for Drone plugins
		// (pipeline/frontend/metadata/drone_compatibility.go).
		"DRONE_BUILD_NUMBER":  "23",
		"DRONE_BUILD_EVENT":   "push",
		"DRONE_REPO":          "octo-org/octo-repo",
		"DRONE_REPO_OWNER":    "octo-org",
		"DRONE_REPO_NAME":     "octo-repo",
		"DRONE_BRANCH":        "main",
		"DRONE_COMMIT_BRANCH": "main",
		"DRONE_COMMIT":        "ffac537e6cbbf934b08745a378932722df287a53",
		"DRONE_COMMIT_SHA":    "ffac537e6cbbf934b08745a378932722df287a53",
		"DRONE_STEP_NUMBER":   "1",
	},
}

// pipeline is one pipeline's volume on the host, as the CI's agent would
// hold it, and the files the test gives its steps.
type pipeline struct {
	t         *testing.T
	ci        pluginCI
	base      string // host directory for the test's own files (bundle, resolv.conf)
	volume    string // host directory mounted at ci.volume
	workspace string // host path of ci.workspace
	uid, gid  int    // owner of the volume and workspace
	bundle    string // CA bundle for the emulator and the registry
	resolv    string
}

func newPipeline(t *testing.T, ci pluginCI, uid, gid int, bundle []byte) *pipeline {
	t.Helper()
	base, err := os.MkdirTemp("", "imagetest-pipeline-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(ci.volume, ci.workspace)
	if err != nil || strings.HasPrefix(rel, "..") {
		t.Fatalf("workspace %s is not inside the volume %s", ci.workspace, ci.volume)
	}
	p := &pipeline{t: t, ci: ci, base: base, volume: filepath.Join(base, "volume"), uid: uid, gid: gid}
	p.workspace = filepath.Join(p.volume, rel)
	if err := os.MkdirAll(p.workspace, 0o755); err != nil {
		t.Fatal(err)
	}
	// What the clone step left: a checked-out file.
	p.writeFile("README.md", []byte("checked out\n"), 0o644)
	p.bundle = filepath.Join(base, "ca-bundle.pem")
	if err := os.WriteFile(p.bundle, bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	p.resolv = loopbackResolvConf(t, base)
	return p
}

// writeFile writes a file into the workspace as an earlier step running as
// the workspace's owner would have.
func (p *pipeline) writeFile(rel string, data []byte, mode fs.FileMode) {
	p.t.Helper()
	name := filepath.Join(p.workspace, rel)
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(name, data, mode); err != nil {
		p.t.Fatal(err)
	}
	if err := os.Chmod(name, mode); err != nil {
		p.t.Fatal(err)
	}
	p.chown()
}

// chown gives the whole volume to the workspace's owner.
func (p *pipeline) chown() {
	p.t.Helper()
	err := filepath.WalkDir(p.volume, func(name string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(name, p.uid, p.gid)
	})
	if err != nil {
		p.t.Fatalf("chown the pipeline volume: %v", err)
	}
}

// inWorkspace is the container path of a file in the workspace.
func (p *pipeline) inWorkspace(rel string) string { return path.Join(p.ci.workspace, rel) }

// pipelineStep is one step container.
type pipelineStep struct {
	image      string
	entrypoint string
	user       string // --user; "" for the image's (root)
	env        map[string]string
	args       []string
}

// run starts a step the way the CI's agent does: the pipeline volume
// mounted, the workspace as working directory, the CI's variables plus the
// step's own, the image's entrypoint with no command for a plugin.
//
// Test-only differences: --network host instead of the pipeline's network,
// because the emulator and the registry listen on the host's loopback
// (127.0.0.1 inside a container on a bridge network is the container
// itself); /etc/resolv.conf naming only 127.0.0.1, so any DNS lookup fails
// at once; the test CA bundle mounted and named by SSL_CERT_FILE.
// Values reach the container as `-e NAME` from the docker CLI's
// environment, never on its command line.
func (p *pipeline) run(st pipelineStep) cmdResult {
	t := p.t
	t.Helper()
	env := map[string]string{}
	for k, v := range p.ci.env {
		env[k] = v
	}
	for k, v := range st.env {
		env[k] = v
	}
	env["SSL_CERT_FILE"] = containerBundle
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	name := randomName("imagetest-pipeline-")
	t.Cleanup(func() { dockerQuiet("rm", "--force", name) })
	args := []string{"run", "--rm", "--name", name, "--label", containerLabel,
		"--network", "host",
		"-v", p.resolv + ":/etc/resolv.conf:ro",
		"-v", p.bundle + ":" + containerBundle + ":ro",
		"-v", p.volume + ":" + p.ci.volume,
		"--workdir", p.ci.workspace}
	if st.user != "" {
		args = append(args, "--user", st.user)
	}
	if st.entrypoint != "" {
		args = append(args, "--entrypoint", st.entrypoint)
	}
	cliEnv := []string{"PATH=" + os.Getenv("PATH")}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		cliEnv = append(cliEnv, "DOCKER_HOST="+h)
	}
	for _, k := range keys {
		args = append(args, "-e", k)
		cliEnv = append(cliEnv, k+"="+env[k])
	}
	args = append(append(args, st.image), st.args...)
	return run(t, requireDocker(t), args, cmdOpts{env: cliEnv, timeout: 2 * time.Minute, secret: true,
		onTimeout: func() { dockerQuiet("rm", "--force", name) }})
}

// stepImage imports a scratch image for later steps: a static crane as
// /crane (the entrypoint) and, with shell, a static busybox as /bin/sh and
// /bin/sha256sum. It is removed when the test ends.
func stepImage(t *testing.T, shell bool) string {
	t.Helper()
	tw := newTarStream(t)
	tw.file("crane", testenv.Crane(t), 0o755)
	tw.dir("tmp", 0o1777)
	if shell {
		tw.dir("bin", 0o755)
		tw.file("bin/busybox", staticBusybox(t), 0o755)
		for _, l := range []string{"sh", "sha256sum"} {
			tw.symlink("bin/"+l, "busybox")
		}
	}
	ref := imageRepo + "-step:" + randomName("t")
	if res := tw.pipeTo(t, requireDocker(t), []string{"import", "--change", `ENTRYPOINT ["/crane"]`, "-", ref}); res.code != 0 {
		t.Fatalf("docker import of the step image: %s", res)
	}
	t.Cleanup(func() { dockerQuiet("rmi", ref) })
	return ref
}

// pluginTestEnv is what every plugin step of these tests gets besides its
// settings: the emulator's endpoints in place of AWS's, the test CAs, and
// no way to the host's AWS files or to the instance metadata service
// (--network host would reach a real one on an EC2 machine).
func (f *fixture) pluginTestEnv() map[string]string { return ContainerAWSEnv(f.fake, containerBundle) }

// assertNoSecretAtAll checks that no secret appears anywhere in what a
// step printed: nothing masks a plugin's log, so even ::add-mask:: lines
// would show the secret.
func (f *fixture) assertNoSecretAtAll(t *testing.T, what string, res cmdResult, extra ...string) {
	t.Helper()
	text := res.stdout + "\n" + res.stderr
	for _, s := range f.secrets(extra...) {
		if len(s) >= 8 && strings.Contains(text, s) {
			t.Errorf("%s printed a secret (%d characters)", what, len(s))
		}
	}
	if strings.Contains(text, "::add-mask::") || strings.Contains(text, "::error") {
		t.Errorf("%s printed GitHub workflow commands, which nothing reads in a plugin step", what)
	}
}

var (
	dockerConfigAdvice = regexp.MustCompile(`DOCKER_CONFIG=(\S+) \(environment of the step\)`)
	dotenvAdvice       = regexp.MustCompile("`(set -a; [^`]*)`")
)

// TestPluginStepsThroughTheImage runs the built image as a Drone or
// Woodpecker plugin step (issue 6): `docker run` with the PLUGIN_*
// settings and the CI's variables, secrets as plain environment, the
// pipeline volume mounted and the workspace as working directory. Then
// later steps in other containers use what it left in the workspace, as
// its log tells them to: a crane step pushes and reads an image with
// DOCKER_CONFIG=<workspace>/.docker (and is refused with a password one
// byte off), and a shell step loads .ecr-credentials/ecr.env. The files
// belong to the workspace's owner (the plugin runs as root) and are
// readable by it alone; the step's log holds no secret.
func TestPluginStepsThroughTheImage(t *testing.T) {
	ref := builtImage(t)
	f := newFixture(t)
	key, err := f.fake.AddAccessKey(awsfake.AccessKey{UserARN: "arn:aws:iam::" + account + ":user/ci", ECR: true})
	if err != nil {
		t.Fatal(err)
	}
	idToken, err := f.fake.MintIDToken("sts.amazonaws.com", awsfake.WithSubject("repo:octo-org/octo-repo:ref:refs/heads/main"),
		awsfake.WithLifetime(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	steps := stepImage(t, true)

	const tokenRel = ".ci/web-identity-token" // written by an earlier step
	tests := []struct {
		name     string
		ci       pluginCI
		uid, gid int // owner of the workspace; later steps run as this user
		settings map[string]string
		secrets  map[string]string // from_secret: as a setting (PLUGIN_*) or a plain variable
		source   string            // how the log names the credential source
	}{
		{
			name: "drone static keys from secrets", ci: droneCI, uid: 0, gid: 0,
			settings: map[string]string{"region": region},
			secrets:  map[string]string{"PLUGIN_ACCESS_KEY": key.ID, "PLUGIN_SECRET_KEY": key.Secret},
			source:   "AWS credentials: static access keys",
		},
		{
			name: "drone web identity token file", ci: droneCI, uid: 0, gid: 0,
			settings: map[string]string{"region": region, "role_arn": roleARN, "web_identity_token_file": droneCI.workspace + "/" + tokenRel},
			source:   "AWS credentials: web identity token file",
		},
		{
			name: "woodpecker static keys as AWS variables", ci: woodpeckerCI, uid: 1000, gid: 1000,
			settings: map[string]string{"region": region},
			secrets:  map[string]string{"AWS_ACCESS_KEY_ID": key.ID, "AWS_SECRET_ACCESS_KEY": key.Secret},
			source:   "AWS credentials: AWS SDK default chain (environment variables)",
		},
		{
			name: "woodpecker web identity token file", ci: woodpeckerCI, uid: 1000, gid: 1000,
			// Relative to the workspace, the step's working directory.
			settings: map[string]string{"region": region, "role_arn": roleARN, "token_file": tokenRel},
			source:   "AWS credentials: web identity token file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPipeline(t, tt.ci, tt.uid, tt.gid, f.bundle)
			p.writeFile(tokenRel, []byte(idToken+"\n"), 0o600)
			p.writeFile("layer.tar", layerTar(t, randomName("pushed by a later step ")+"\n"), 0o644)
			before := snapshot(t, p.workspace)

			// 1. The plugin step.
			env := f.pluginTestEnv()
			for k, v := range tt.settings {
				env["PLUGIN_"+strings.ToUpper(k)] = v
			}
			for k, v := range tt.secrets {
				env[k] = v
			}
			res := p.run(pipelineStep{image: ref, env: env})
			if res.code != 0 {
				t.Fatalf("plugin step: %s", f.redact(res))
			}
			f.assertNoSecretAtAll(t, "the plugin step", res, idToken, key.ID)
			log := res.stdout + res.stderr
			for _, want := range []string{"as a " + tt.ci.name + " plugin", tt.source, "; session " + tt.ci.name + "-", "Registry " + f.host + " (" + region + ")"} {
				if !strings.Contains(log, want) {
					t.Errorf("the log does not say %q:\n%s", want, f.redact(res).stdout)
				}
			}

			// The plugin wrote .docker and .ecr-credentials, nothing else.
			assertOnlyAdded(t, before, snapshot(t, p.workspace), "/.docker", "/.ecr-credentials")
			assertOwnedPrivate(t, p, map[string]fs.FileMode{
				".docker":                  fs.ModeDir | 0o700,
				".docker/config.json":      0o600,
				".ecr-credentials":         fs.ModeDir | 0o700,
				".ecr-credentials/ecr.env": 0o600,
			})

			// The log tells later steps where the login is: a container path.
			m := dockerConfigAdvice.FindStringSubmatch(log)
			if m == nil {
				t.Fatalf("the log does not say which DOCKER_CONFIG later steps use:\n%s", f.redact(res).stdout)
			}
			dockerConfig := m[1]
			if want := p.inWorkspace(".docker"); dockerConfig != want {
				t.Errorf("the log tells later steps DOCKER_CONFIG=%s, want %s", dockerConfig, want)
			}
			laterUser := ""
			if tt.uid != 0 {
				laterUser = fmt.Sprintf("%d:%d", tt.uid, tt.gid)
			}

			// 2. A later step pushes and reads an image with the login.
			image := f.host + "/imagetest/plugin:" + randomName("t")
			push := p.run(pipelineStep{image: steps, user: laterUser, env: map[string]string{"DOCKER_CONFIG": dockerConfig},
				args: []string{"append", "-f", p.inWorkspace("layer.tar"), "-t", image}})
			if push.code != 0 {
				t.Fatalf("crane append (push) in a later step with DOCKER_CONFIG=%s: %s", dockerConfig, f.redact(push))
			}
			_, digest, _ := strings.Cut(strings.TrimSpace(push.stdout), "@")
			if !strings.HasPrefix(digest, "sha256:") {
				t.Fatalf("crane append printed %q, want the pushed image's reference with its digest", push.stdout)
			}
			read := func(dir string) cmdResult {
				return p.run(pipelineStep{image: steps, user: laterUser, env: map[string]string{"DOCKER_CONFIG": dir},
					args: []string{"digest", image}})
			}
			if res := read(dockerConfig); res.code != 0 || strings.TrimSpace(res.stdout) != digest {
				t.Errorf("crane digest in a later step = %q, want %s: %s", strings.TrimSpace(res.stdout), digest, f.redact(res))
			}
			// The same step with a password one byte off is refused.
			data, err := os.ReadFile(filepath.Join(p.workspace, ".docker", "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			p.writeFile(".docker-tampered/config.json", tamperPassword(t, data, f.host), 0o600)
			if res := read(p.inWorkspace(".docker-tampered")); res.code == 0 || !strings.Contains(strings.ToLower(res.stderr), "unauthorized") {
				t.Errorf("crane digest with a tampered password: want a refusal (unauthorized), got %s", f.redact(res))
			}

			// 3. A later shell step loads ecr.env as the log says.
			m = dotenvAdvice.FindStringSubmatch(log)
			if m == nil {
				t.Fatalf("the log does not say how to load the variables:\n%s", f.redact(res).stdout)
			}
			script := m[1] + `; printf '%s\n' "$ECR_USERNAME" "$ECR_REGISTRY" "$ECR_PROXY_ENDPOINT" "$ECR_EXPIRATION_DATE"` +
				`; printf %s "$ECR_PASSWORD" | sha256sum; printf %s "$ECR_AUTHORIZATION_TOKEN" | sha256sum`
			sh := p.run(pipelineStep{image: steps, user: laterUser, entrypoint: "/bin/sh", args: []string{"-c", script}})
			if sh.code != 0 {
				t.Fatalf("a shell step loading ecr.env with %q: %s", m[1], f.redact(sh))
			}
			token := base64.StdEncoding.EncodeToString([]byte("AWS:" + f.password))
			assertDotenvLoaded(t, sh.stdout, f.host, f.password, token)
		})
	}
}

// assertDotenvLoaded checks what the shell step printed after loading
// ecr.env: user name, registry, endpoint, expiry, and the SHA-256 of the
// password and of the authorization token (never the secrets themselves).
func assertDotenvLoaded(t *testing.T, out, host, password, token string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 {
		t.Fatalf("the shell step printed %d lines, want 6", len(lines))
	}
	for i, want := range []string{"AWS", host, "https://" + host} {
		if lines[i] != want {
			t.Errorf("line %d after loading ecr.env = %q, want %q", i+1, lines[i], want)
		}
	}
	if exp, err := time.Parse(time.RFC3339, lines[3]); err != nil || !exp.After(time.Now()) {
		t.Errorf("ECR_EXPIRATION_DATE = %q, want a future RFC 3339 time (%v)", lines[3], err)
	}
	for i, secret := range map[int]string{4: password, 5: token} {
		got, _, _ := strings.Cut(lines[i], " ")
		if want := fmt.Sprintf("%x", sha256.Sum256([]byte(secret))); got != want {
			t.Errorf("ecr.env's %s is not the registry's (SHA-256 %s, want %s)", map[int]string{4: "ECR_PASSWORD", 5: "ECR_AUTHORIZATION_TOKEN"}[i], got, want)
		}
	}
}

// assertOnlyAdded checks that after differs from before (snapshot lines)
// only by entries under the given workspace paths.
func assertOnlyAdded(t *testing.T, before, after string, added ...string) {
	t.Helper()
	under := func(line string) bool {
		for _, a := range added {
			if strings.HasPrefix(line, a+" ") || strings.HasPrefix(line, a+"/") {
				return true
			}
		}
		return false
	}
	var kept []string
	for _, line := range strings.Split(after, "\n") {
		if !under(line) {
			kept = append(kept, line)
		}
	}
	for _, line := range strings.Split(before, "\n") {
		if under(line) {
			t.Errorf("the workspace had %q before the step", line)
		}
	}
	if got := strings.Join(kept, "\n"); got != before {
		t.Errorf("the plugin changed the workspace beyond %v:\nbefore:\n%s\nafter:\n%s", added, before, after)
	}
}

// assertOwnedPrivate checks the given workspace entries' modes, and that
// every entry below the directories among them belongs to the workspace's
// owner and gives nothing to group or others (empty lock files aside).
func assertOwnedPrivate(t *testing.T, p *pipeline, want map[string]fs.FileMode) {
	t.Helper()
	for rel, mode := range want {
		fi, err := os.Lstat(filepath.Join(p.workspace, rel))
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		if fi.Mode() != mode {
			t.Errorf("%s has mode %v, want %v", rel, fi.Mode(), mode)
		}
		if !fi.IsDir() {
			continue
		}
		err = filepath.WalkDir(filepath.Join(p.workspace, rel), func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			st := fi.Sys().(*syscall.Stat_t)
			r, _ := filepath.Rel(p.workspace, name)
			if int(st.Uid) != p.uid || int(st.Gid) != p.gid {
				t.Errorf("%s belongs to %d:%d, want the workspace's owner %d:%d (the plugin runs as root)", r, st.Uid, st.Gid, p.uid, p.gid)
			}
			switch {
			case strings.HasSuffix(name, ".lock"):
				// Lock files are readable by everyone on purpose (any
				// user must be able to lock), so they must stay empty.
				if fi.Size() != 0 {
					t.Errorf("lock file %s holds %d bytes", r, fi.Size())
				}
			case fi.Mode().Perm()&0o077 != 0:
				t.Errorf("%s has mode %v: group or others may use it", r, fi.Mode())
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	}
}

// layerTar returns an image layer: a tar of one file with content.
func layerTar(t *testing.T, content string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	h := header("hello.txt", tar.TypeReg, 0o644)
	h.Size = int64(len(content))
	if err := w.WriteHeader(h); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, content); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
