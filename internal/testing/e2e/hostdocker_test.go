package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	nativerelease "github.com/ecr-credentials/ecr-credentials/internal/testing/snapshot"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// dockerEngine is a Docker Engine of the test's own, started inside the
// test's network namespace so that `docker push` reaches the loopback
// registries (the machine's dockerd lives in the host's namespace, where
// they do not exist). It runs no container: it loads, tags, pushes and
// pulls images.
type dockerEngine struct {
	docker string // the docker CLI
	host   string // DOCKER_HOST for the CLI
}

func startDockerEngine(t *testing.T) *dockerEngine {
	t.Helper()
	docker := testenv.RequireTool(t, "docker")
	dockerd := testenv.RequireTool(t, "dockerd")
	if !testenv.InNetNS(t) {
		t.Skip("needs the private network namespace (an engine of its own beside the machine's)")
	}
	dir := shortTempDir(t) // unix socket paths below it must stay short
	conf := filepath.Join(dir, "daemon.json")
	must(t, os.WriteFile(conf, []byte("{}"), 0o600)) // not the machine's /etc/docker/daemon.json
	sock := filepath.Join(dir, "docker.sock")
	var log bytes.Buffer
	cmd := exec.Command(dockerd, "--config-file", conf, "--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "pid"), "--host", "unix://"+sock, "--storage-driver", "vfs",
		"--bridge", "none", "--iptables=false", "--ip6tables=false", "--ip-masq=false",
		"--containerd-namespace", "ecrc-e2e", "--containerd-plugins-namespace", "ecrc-e2e-plugins")
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	must(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("dockerd log:\n%s", log.String())
		}
	})
	e := &dockerEngine{docker: docker, host: "unix://" + sock}
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := exec.Command(docker, "--host", e.host, "version", "--format", "{{.Server.Version}}").CombinedOutput()
		if err == nil {
			break
		}
		select {
		case <-exited:
			t.Fatalf("dockerd exited: %s\n%s", out, log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dockerd does not answer: %v %s\n%s", err, out, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return e
}

// cli runs the docker CLI as a later step runs it: env is the whole
// environment (HOME decides which config.json it reads).
func (e *dockerEngine) cli(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(e.docker, args...)
	cmd.Env = []string{"DOCKER_HOST=" + e.host}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// loadImage puts a small random image into the engine as ref.
func (e *dockerEngine) loadImage(t *testing.T, ref string) {
	t.Helper()
	img, err := random.Image(1024, 1)
	must(t, err)
	tag, err := name.NewTag(ref)
	must(t, err)
	file := filepath.Join(t.TempDir(), "image.tar")
	must(t, tarball.WriteToFile(file, tag, img))
	if out, err := e.cli(t, map[string]string{"HOME": t.TempDir()}, "load", "-i", file); err != nil {
		t.Fatalf("docker load: %v\n%s", err, out)
	}
}

// treeHash is a digest of every name, mode and content below dir.
func treeHash(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	var n int
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "%s\x00%v\x00", rel, fi.Mode())
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%d\x00%s\x00", len(b), b)
			n++
		}
		return nil
	})
	must(t, err)
	if n == 0 {
		t.Fatalf("%s holds no file to compare", dir)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fakeDesktopStore writes docker-credential-desktop, a credential store
// speaking the helper protocol that keeps credentials as files in a
// directory and records each call (the action and the server, never the
// secret). It returns the directory to put on PATH and the store
// directory.
func fakeDesktopStore(t *testing.T) (binDir, store string) {
	t.Helper()
	binDir, store = t.TempDir(), t.TempDir()
	script := `#!/bin/sh
set -e
store='` + store + `'
key() { printf %s "$1" | tr -c 'A-Za-z0-9.-' _; }
case "$1" in
store)
	in=$(cat)
	url=$(printf %s "$in" | sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p')
	echo "store $url" >> "$store/calls"
	printf %s "$in" > "$store/$(key "$url").json" ;;
get)
	url=$(cat)
	echo "get $url" >> "$store/calls"
	if [ -f "$store/$(key "$url").json" ]; then cat "$store/$(key "$url").json"; else echo "credentials not found in native keychain"; exit 1; fi ;;
erase)
	url=$(cat)
	echo "erase $url" >> "$store/calls"
	rm -f "$store/$(key "$url").json" ;;
list)
	echo '{}' ;;
*)
	exit 1 ;;
esac
`
	must(t, os.WriteFile(filepath.Join(binDir, "docker-credential-desktop"), []byte(script), 0o755))
	return binDir, store
}

// TestHostDockerLogin (issue 23 item 2): the program run as a GitHub step
// on the runner's host (a native action: GITHUB_ACTIONS=true, the runner
// user's HOME, host paths), with a ~/.docker that earlier steps filled: a
// login to another registry, a credHelpers entry, buildx builders,
// contexts and cli-plugins. The real docker CLI, with an engine of its
// own, then pushes to our registry with the new login and still pushes to
// and pulls from the other registry with the earlier one; buildx/,
// contexts/ and cli-plugins/ are untouched, no DOCKER_CONFIG is exported,
// and after the post step (fed the main step's GITHUB_STATE as STATE_*)
// config.json and the registry auth file are byte for byte what they
// were. With credsStore: desktop the login goes through that store (as
// docker's would: docker reads every host from it) and the post step
// erases it there; with refresh, docker gets the login from our helper on
// the PATH the step exported, and the post step removes it. One case runs
// the steps as the native action does: node and its launcher, with the
// binary from the runner's tool cache.
func TestHostDockerLogin(t *testing.T) {
	eng := startDockerEngine(t)
	f := newFixture(t)
	host := strings.TrimPrefix(f.reg.URL, "https://")
	const otherUser, otherPassword = "octo", "an-earlier-login-password"
	other := testenv.StartRegistry(t, testenv.RegistryOptions{Username: otherUser, Password: otherPassword, TLS: true, CA: f.ca})
	otherAuth := base64.StdEncoding.EncodeToString([]byte(otherUser + ":" + otherPassword))
	eng.loadImage(t, "ecrc-e2e/app:v1")

	tests := []struct {
		name   string
		config string // ~/.docker/config.json before the job's step; %s is the other registry
		// otherInStore: the earlier login is in the credsStore, not in auths.
		otherInStore bool
		inputs       map[string]string
		authFile     bool // also registry-auth-file, with an earlier login in it
		// native: the step is the native action, node and its launcher
		// (native/main.js, post.js) running the binary from the tool
		// cache; else the binary run as a GitHub step by itself.
		native bool
	}{
		{name: "auths", config: "{\n\t\"auths\": {\n\t\t\"%s\": {\n\t\t\t\"auth\": \"" + otherAuth + "\"\n\t\t}\n\t},\n\t\"credHelpers\": {\n\t\t\"third.registry.example\": \"gcloud\"\n\t},\n\t\"currentContext\": \"default\",\n\t\"features\": {\n\t\t\"buildkit\": \"true\"\n\t}\n}",
			authFile: true},
		{name: "native action", config: "{\n\t\"auths\": {\n\t\t\"%s\": {\n\t\t\t\"auth\": \"" + otherAuth + "\"\n\t\t}\n\t},\n\t\"credHelpers\": {\n\t\t\"third.registry.example\": \"gcloud\"\n\t}\n}\n",
			authFile: true, native: true},
		{name: "credsStore desktop", config: "{\r\n  \"auths\": {\r\n    \"%s\": {}\r\n  },\r\n  \"credsStore\": \"desktop\",\r\n  \"credHelpers\": {\r\n    \"third.registry.example\": \"gcloud\"\r\n  }\r\n}\r\n",
			otherInStore: true},
		{name: "refresh", config: "{\"auths\":{\"%s\":{\"auth\":\"" + otherAuth + "\"}},\"credHelpers\":{\"third.registry.example\":\"gcloud\"}}",
			inputs: map[string]string{"refresh": "true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRunner(t)
			dockerDir := filepath.Join(r.homeDir, ".docker")
			config := filepath.Join(dockerDir, "config.json")
			before := []byte(fmt.Sprintf(tt.config, other.Addr))
			must(t, os.MkdirAll(dockerDir, 0o700))
			must(t, os.WriteFile(config, before, 0o600))
			trees := map[string]string{}
			for dir, file := range map[string]string{"buildx": "instances/builder-1234", "contexts": "meta/0123abcd/meta.json", "cli-plugins": "docker-buildx-note"} {
				p := filepath.Join(dockerDir, dir, file)
				must(t, os.MkdirAll(filepath.Dir(p), 0o700))
				must(t, os.WriteFile(p, []byte(dir+" state of an earlier step\n"), 0o600))
				trees[dir] = treeHash(t, filepath.Join(dockerDir, dir))
			}
			var authFile string
			var authBefore []byte
			inputs := map[string]string{"role-to-assume": roleARN, "aws-region": region}
			for k, v := range tt.inputs {
				inputs[k] = v
			}
			if tt.authFile {
				authFile = filepath.Join(r.homeDir, ".config", "containers", "auth.json")
				authBefore = []byte("{\r\n\t\"auths\": {\r\n\t\t\"quay.io\": {\"auth\": \"cXVheTpzZWNyZXQ=\"}\r\n\t}\r\n}\r\n")
				must(t, os.MkdirAll(filepath.Dir(authFile), 0o700))
				must(t, os.WriteFile(authFile, authBefore, 0o600))
				inputs["registry-auth-file"] = authFile
			}
			path := "/usr/sbin:/usr/bin:/sbin:/bin"
			var store string
			if tt.otherInStore {
				var bin string
				bin, store = fakeDesktopStore(t)
				path = bin + ":" + path
				cred := fmt.Sprintf(`{"ServerURL":%q,"Username":%q,"Secret":%q}`, other.Addr, otherUser, otherPassword)
				must(t, os.WriteFile(filepath.Join(store, strings.NewReplacer(":", "_").Replace(other.Addr)+".json"), []byte(cred), 0o600))
			}

			// The step, on the host: the runner user's HOME and host paths.
			env := f.githubEnv(r, inputs)
			env["GITHUB_WORKSPACE"] = filepath.Join(r.dir, "work", "repo", "repo")
			env["RUNNER_OS"], env["RUNNER_ARCH"] = "Linux", "X64"
			env["GITHUB_PATH"] = filepath.Join(r.dir, "path")
			env["PATH"] = path
			must(t, os.MkdirAll(env["GITHUB_WORKSPACE"], 0o755))
			must(t, os.WriteFile(env["GITHUB_PATH"], nil, 0o644))
			step := func(env map[string]string, post bool) testenv.Result {
				var args []string
				if post {
					args = []string{"post"}
				}
				return testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Args: args, Dir: env["GITHUB_WORKSPACE"]})
			}
			if tt.native {
				step = nativeStep(t, f.bin)
			}
			res := step(env, false)
			if res.ExitCode != 0 {
				t.Fatalf("step: exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
			}
			assertNoLeaks(t, f.fake, res)
			exported := readFileCommands(t, r.env)
			if d, ok := exported["DOCKER_CONFIG"]; ok {
				t.Errorf("the step exported DOCKER_CONFIG=%s; on the host later steps read ~/.docker already", d)
			}
			if tt.authFile && exported["REGISTRY_AUTH_FILE"] != authFile {
				t.Errorf("REGISTRY_AUTH_FILE exported as %q, want %s", exported["REGISTRY_AUTH_FILE"], authFile)
			}
			after, err := os.ReadFile(config)
			must(t, err)
			if tt.otherInStore {
				if strings.Contains(string(after), f.password) || strings.Contains(string(after), base64.StdEncoding.EncodeToString([]byte("AWS:"+f.password))) {
					t.Errorf("with credsStore the password went to config.json")
				}
				calls, _ := os.ReadFile(filepath.Join(store, "calls"))
				if !strings.Contains(string(calls), "store "+host+"\n") {
					t.Errorf("no store of %s through docker-credential-desktop; calls:\n%s", host, calls)
				}
			}

			// A later step: the docker CLI with the runner user's HOME,
			// the step's exported PATH, and the job's variables (a refresh
			// helper needs them, as docker starts it from that step).
			later := map[string]string{"HOME": r.homeDir, "SSL_CERT_FILE": f.bundle}
			for k, v := range env {
				if !strings.HasPrefix(k, "INPUT_") && !strings.HasPrefix(k, "GITHUB_") {
					later[k] = v
				}
			}
			if p, _ := os.ReadFile(env["GITHUB_PATH"]); len(bytes.TrimSpace(p)) > 0 {
				later["PATH"] = strings.Join(strings.Fields(string(p)), ":") + ":" + later["PATH"]
			}
			push := func(registry, repo string) {
				t.Helper()
				ref := registry + "/" + repo + ":v1"
				if out, err := eng.cli(t, later, "tag", "ecrc-e2e/app:v1", ref); err != nil {
					t.Fatalf("docker tag: %v\n%s", err, out)
				}
				if out, err := eng.cli(t, later, "push", ref); err != nil {
					t.Fatalf("docker push %s: %v\n%s", ref, err, out)
				}
			}
			repo := strings.ToLower(strings.ReplaceAll(tt.name, " ", "-"))
			push(host, repo)
			push(other.Addr, repo)
			ref := other.Addr + "/" + repo + ":v1"
			if out, err := eng.cli(t, later, "rmi", ref); err != nil {
				t.Fatalf("docker rmi: %v\n%s", err, out)
			}
			if out, err := eng.cli(t, later, "pull", ref); err != nil {
				t.Errorf("docker pull from the other registry with the earlier login: %v\n%s", err, out)
			}
			for dir, sum := range trees {
				if got := treeHash(t, filepath.Join(dockerDir, dir)); got != sum {
					t.Errorf("~/.docker/%s changed", dir)
				}
			}

			// The post step gets the main step's state as STATE_*.
			postEnv := f.githubEnv(r, inputs)
			postEnv["PATH"] = path
			for k, v := range readFileCommands(t, r.state) {
				postEnv["STATE_"+k] = v
			}
			postEnv["GITHUB_WORKSPACE"] = env["GITHUB_WORKSPACE"]
			post := step(postEnv, true)
			if post.ExitCode != 0 {
				t.Fatalf("post: exit %d\n%s%s", post.ExitCode, post.Stdout, post.Stderr)
			}
			if got, err := os.ReadFile(config); err != nil || !bytes.Equal(got, before) {
				t.Errorf("config.json after the post step (%v):\n%q\nwant:\n%q", err, got, before)
			}
			if tt.authFile {
				if got, err := os.ReadFile(authFile); err != nil || !bytes.Equal(got, authBefore) {
					t.Errorf("auth.json after the post step (%v):\n%q\nwant:\n%q", err, got, authBefore)
				}
			}
			for dir, sum := range trees {
				if got := treeHash(t, filepath.Join(dockerDir, dir)); got != sum {
					t.Errorf("~/.docker/%s changed by the post step", dir)
				}
			}
			var left []string
			entries, err := os.ReadDir(dockerDir)
			must(t, err)
			for _, e := range entries {
				switch e.Name() {
				case "config.json", "buildx", "contexts", "cli-plugins", "config.json.lock":
				default:
					left = append(left, e.Name())
				}
			}
			sort.Strings(left)
			if len(left) > 0 {
				t.Errorf("left in ~/.docker after the post step: %v", left)
			}
			if tt.otherInStore {
				if _, err := os.Stat(filepath.Join(store, strings.NewReplacer(":", "_").Replace(host)+".json")); err == nil {
					t.Errorf("our login is still in the credsStore after the post step")
				}
				if b, err := os.ReadFile(filepath.Join(store, strings.NewReplacer(":", "_").Replace(other.Addr)+".json")); err != nil || !strings.Contains(string(b), otherPassword) {
					t.Errorf("the earlier login is gone from the credsStore (%v)", err)
				}
			}
			// And the new login is really gone: a push is refused.
			if out, err := eng.cli(t, later, "push", host+"/"+repo+":v1"); err == nil {
				t.Errorf("docker push to %s still works after the post step:\n%s", host, out)
			}
		})
	}
}

// nativeStep returns a function that runs a step as the native action:
// node runs native/main.js (post.js for the post step) of a snapshot
// release of bin, whose launcher finds bin in the runner's tool cache,
// checks it and runs it with the step's environment.
func nativeStep(t *testing.T, bin string) func(env map[string]string, post bool) testenv.Result {
	t.Helper()
	node := testenv.RequireTool(t, "node")
	binary, err := os.ReadFile(bin)
	must(t, err)
	rel, err := nativerelease.Make(t.TempDir(), "v1.0.0-e2e", binary, "linux", runtime.GOARCH)
	must(t, err)
	action := filepath.Join(t.TempDir(), "native")
	must(t, rel.WriteAction(testenv.ModuleRoot(t), action))
	toolCache := filepath.Join(t.TempDir(), "toolcache")
	must(t, os.Mkdir(toolCache, 0o755))
	cached, err := rel.FillToolCache(toolCache)
	must(t, err)
	return func(env map[string]string, post bool) testenv.Result {
		t.Helper()
		script := "main.js"
		if post {
			script = "post.js"
			if env["STATE_launcher_binary"] != cached {
				t.Fatalf("the main step handed the post step STATE_launcher_binary=%q, want %s", env["STATE_launcher_binary"], cached)
			}
		}
		e := maps.Clone(env)
		e["RUNNER_OS"], e["RUNNER_ARCH"], e["RUNNER_TOOL_CACHE"] = rel.Platform.RunnerOS, rel.Platform.RunnerArch, toolCache
		res := testenv.RunProgram(t, node, testenv.RunOptions{Env: e, Args: []string{filepath.Join(action, script)}, Dir: env["GITHUB_WORKSPACE"]})
		if !post && !strings.Contains(res.Stdout, "from the tool cache: "+cached) {
			t.Errorf("the launcher did not run the binary from the tool cache:\n%s%s", res.Stdout, res.Stderr)
		}
		return res
	}
}
