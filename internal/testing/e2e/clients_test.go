package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// ociLayout makes an OCI image layout with one small random image tagged
// v1, so that the clients below have an image without pulling from outside.
func ociLayout(t *testing.T) string {
	t.Helper()
	img, err := random.Image(2048, 2)
	must(t, err)
	dir := filepath.Join(shortTempDir(t), "layout") // lower case: buildah names the image after the path
	p, err := layout.Write(dir, empty.Index)
	must(t, err)
	must(t, p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "v1"})))
	return dir
}

// clientEnv is a clean environment for podman, buildah and skopeo: no
// other auth file or configuration than ours can be found.
func clientEnv(t *testing.T) []string {
	home := t.TempDir()
	return []string{"HOME=" + home, "XDG_RUNTIME_DIR=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TMPDIR=" + home}
}

func runClient(t *testing.T, env []string, bin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestRegistryAuthFileClients: the containers auth.json we write
// (registry-auth-file) is all podman, buildah and skopeo need to push to
// and inspect the local TLS registry; with a wrong password from ECR, each
// fails; the file's other entries stay byte for byte.
func TestRegistryAuthFileClients(t *testing.T) {
	skopeo := testenv.RequireTool(t, "skopeo")
	podman := testenv.RequireTool(t, "podman")
	buildah := testenv.RequireTool(t, "buildah")
	f := newFixture(t)
	host := strings.TrimPrefix(f.reg.URL, "https://")
	src := "oci:" + ociLayout(t) // its one image

	// The registry's CA, as the clients' --cert-dir wants it.
	certDir := t.TempDir()
	bundle, err := os.ReadFile(f.bundle)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(certDir, "ca.crt"), bundle, 0o644))

	authFile := filepath.Join(t.TempDir(), "containers", "auth.json")
	must(t, os.MkdirAll(filepath.Dir(authFile), 0o700))
	const other = "{\n    \"auths\": {\n        \"quay.io\": { \"auth\": \"cXVheTpzZWNyZXQ=\" }\n    }\n}\n"
	must(t, os.WriteFile(authFile, []byte(other), 0o600))
	login := func(t *testing.T) {
		t.Helper()
		env := f.cliEnv(t)
		env["HOME"] = t.TempDir()
		res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Args: []string{"login", "--docker-login=false", "--verify=false", "--registry-auth-file", authFile, account}})
		if res.ExitCode != 0 {
			t.Fatalf("login: exit %d\n%s", res.ExitCode, res.Stderr)
		}
		if _, err := os.Stat(filepath.Join(env["HOME"], ".docker", "config.json")); err == nil {
			t.Errorf("docker-login false still wrote config.json")
		}
	}
	login(t)
	if b, _ := os.ReadFile(authFile); !strings.Contains(string(b), "\"quay.io\": { \"auth\": \"cXVheTpzZWNyZXQ=\" }") || !strings.Contains(string(b), host) {
		t.Fatalf("auth.json after login:\n%s", b)
	}

	storage := func(t *testing.T) []string {
		root := shortTempDir(t) // podman wants a run root of at most 50 characters
		return []string{"--root", filepath.Join(root, "root"), "--runroot", filepath.Join(root, "run"), "--storage-driver", "vfs"}
	}
	pushes := []struct {
		name string
		push func(t *testing.T, env []string, repo string) (string, error)
	}{
		{"skopeo", func(t *testing.T, env []string, repo string) (string, error) {
			return runClient(t, env, skopeo, "--insecure-policy", "copy", "--dest-authfile", authFile, "--dest-cert-dir", certDir, src, "docker://"+host+"/"+repo+":v1")
		}},
		{"podman", func(t *testing.T, env []string, repo string) (string, error) {
			global := append(storage(t), "--cgroup-manager", "cgroupfs", "--events-backend", "none")
			out, err := runClient(t, env, podman, append(global, "pull", "-q", src)...)
			if err != nil {
				t.Fatalf("podman pull from the OCI layout: %v\n%s", err, out)
			}
			id := strings.TrimSpace(out[strings.LastIndexByte(strings.TrimSpace(out), '\n')+1:])
			return runClient(t, env, podman, append(global, "push", "--authfile", authFile, "--cert-dir", certDir, id, "docker://"+host+"/"+repo+":v1")...)
		}},
		{"buildah", func(t *testing.T, env []string, repo string) (string, error) {
			global := storage(t)
			out, err := runClient(t, env, buildah, append(global, "pull", "-q", src)...)
			if err != nil {
				t.Fatalf("buildah pull from the OCI layout: %v\n%s", err, out)
			}
			id := strings.TrimSpace(out[strings.LastIndexByte(strings.TrimSpace(out), '\n')+1:])
			return runClient(t, env, buildah, append(global, "push", "--authfile", authFile, "--cert-dir", certDir, id, "docker://"+host+"/"+repo+":v1")...)
		}},
	}
	for _, p := range pushes {
		t.Run(p.name, func(t *testing.T) {
			env := clientEnv(t)
			if out, err := p.push(t, env, p.name+"/app"); err != nil {
				t.Fatalf("%s push with our auth.json: %v\n%s", p.name, err, out)
			}
			// skopeo reads it back with the same file.
			if out, err := runClient(t, env, skopeo, "--insecure-policy", "inspect", "--authfile", authFile, "--cert-dir", certDir, "docker://"+host+"/"+p.name+"/app:v1"); err != nil || !strings.Contains(out, "Digest") {
				t.Errorf("skopeo inspect of the %s push: %v\n%s", p.name, err, out)
			}
		})
	}

	// ECR hands out a password the registry does not take: every client
	// fails with the file we write.
	f.fake.SetRegistryPassword(account, region, "not-the-registry-password")
	login(t)
	for _, p := range pushes {
		t.Run(p.name+" wrong password", func(t *testing.T) {
			out, err := p.push(t, clientEnv(t), p.name+"/refused")
			if err == nil {
				t.Fatalf("%s pushed with a wrong password:\n%s", p.name, out)
			}
			if low := strings.ToLower(out); !strings.Contains(low, "unauthorized") && !strings.Contains(low, "authentication required") {
				t.Errorf("%s failed, but not for the credentials:\n%s", p.name, out)
			}
		})
	}
}

// shortTempDir is a temporary directory with a short, lower-case path.
func shortTempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "ecrc")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// TestGitHubRegistryAuthFileLogout: in GitHub, the auth.json login (beside
// config.json) is exported as REGISTRY_AUTH_FILE, skopeo reads it, and the
// post step restores both files byte for byte.
func TestGitHubRegistryAuthFileLogout(t *testing.T) {
	skopeo := testenv.RequireTool(t, "skopeo")
	f := newFixture(t)
	host := strings.TrimPrefix(f.reg.URL, "https://")
	r := newRunner(t)
	authFile := filepath.Join(r.dir, "containers", "auth.json")
	must(t, os.MkdirAll(filepath.Dir(authFile), 0o700))
	// Spelled as a person would: tabs, no final new line, another login.
	const before = "{\n\t\"auths\": {\n\t\t\"quay.io\": {\"auth\": \"cXVheTpzZWNyZXQ=\"}\n\t}\n}"
	must(t, os.WriteFile(authFile, []byte(before), 0o600))
	dockerDir := filepath.Join(r.homeDir, ".docker")

	inputs := map[string]string{"role-to-assume": roleARN, "aws-region": region, "registry-auth-file": authFile}
	res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: f.githubEnv(r, inputs)})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	if env := readFileCommands(t, r.env); env["REGISTRY_AUTH_FILE"] != authFile {
		t.Errorf("REGISTRY_AUTH_FILE exported as %q, want %s", env["REGISTRY_AUTH_FILE"], authFile)
	}
	certDir := t.TempDir()
	bundle, err := os.ReadFile(f.bundle)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(certDir, "ca.crt"), bundle, 0o644))
	env := append(clientEnv(t), "REGISTRY_AUTH_FILE="+authFile) // as a later step has it
	src := "oci:" + ociLayout(t)
	if out, err := runClient(t, env, skopeo, "--insecure-policy", "copy", "--dest-cert-dir", certDir, src, "docker://"+host+"/gh/app:v1"); err != nil {
		t.Fatalf("skopeo with REGISTRY_AUTH_FILE: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dockerDir, "config.json")); err != nil {
		t.Errorf("no docker login beside the auth file: %v", err)
	}

	state := readFileCommands(t, r.state)
	if state["receipt_auth_file"] == "" || state["receipt"] == "" {
		t.Fatalf("logout receipts in GITHUB_STATE: %v", state)
	}
	postEnv := f.githubEnv(r, inputs)
	postEnv["STATE_receipt"], postEnv["STATE_receipt_auth_file"] = state["receipt"], state["receipt_auth_file"]
	post := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: postEnv, Args: []string{"post"}})
	if post.ExitCode != 0 {
		t.Fatalf("post: exit %d\n%s%s", post.ExitCode, post.Stdout, post.Stderr)
	}
	if after, err := os.ReadFile(authFile); err != nil || string(after) != before {
		t.Errorf("auth.json after the post step (%v):\n%q\nwant:\n%q", err, after, before)
	}
	if _, err := os.Stat(filepath.Join(dockerDir, "config.json")); err == nil {
		t.Errorf("config.json (absent before) is still there after the post step")
	}
	if entries, _ := os.ReadDir(filepath.Dir(authFile)); len(entries) != 2 { // auth.json and its lock file
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("left beside auth.json: %v", names)
	}
}

// TestPluginRegistryAuthFile: a plugin step writes the auth file in the
// workspace (relative path) beside .docker, names it in ecr.env, and skopeo
// in a later step inspects the pushed image with it.
func TestPluginRegistryAuthFile(t *testing.T) {
	skopeo := testenv.RequireTool(t, "skopeo")
	f := newFixture(t)
	host := strings.TrimPrefix(f.reg.URL, "https://")
	workspace := t.TempDir()
	token, err := f.fake.MintIDToken("sts.amazonaws.com", awsfake.WithSubject(subject))
	must(t, err)
	settings := map[string]string{"role_arn": roleARN, "region": region, "web_identity_token_file": filepath.Join(workspace, "token"),
		"registry_auth_file": ".containers/auth.json"}
	must(t, os.WriteFile(settings["web_identity_token_file"], []byte(token), 0o600))
	res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: f.pluginEnv("woodpecker", settings, nil), Dir: workspace})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	dotenv, err := os.ReadFile(filepath.Join(workspace, ".ecr-credentials", "ecr.env"))
	if err != nil || !strings.Contains(string(dotenv), "REGISTRY_AUTH_FILE='.containers/auth.json'\n") {
		t.Errorf("ecr.env does not name the auth file (%v):\n%s", err, dotenv)
	}
	authFile := filepath.Join(workspace, ".containers", "auth.json")
	if st, err := os.Stat(authFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("auth file: %v %v", st, err)
	}
	certDir := t.TempDir()
	bundle, err := os.ReadFile(f.bundle)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(certDir, "ca.crt"), bundle, 0o644))
	env := append(clientEnv(t), "REGISTRY_AUTH_FILE="+authFile)
	if out, err := runClient(t, env, skopeo, "--insecure-policy", "copy", "--dest-cert-dir", certDir, "oci:"+ociLayout(t), "docker://"+host+"/plugin/app:v1"); err != nil {
		t.Fatalf("skopeo with the plugin's auth file: %v\n%s", err, out)
	}
}
