package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestCredentialHelperStore (issue 24 item 3): used as credsStore, the
// helper refuses to store a login it cannot keep, so the real docker CLI's
// `docker login` fails instead of saying "Login Succeeded" and losing it
// (before, store accepted everything and kept nothing); with
// AWS_ECR_IGNORE_CREDS_STORAGE=true it drops such logins without an error,
// as amazon-ecr-credential-helper does. A store for an ECR registry it
// answers is accepted (get fetches fresh passwords), and in debug mode a
// get that finds nothing says why.
func TestCredentialHelperStore(t *testing.T) {
	f := newFixture(t)
	docker := testenv.RequireTool(t, "docker")
	env := f.cliEnv(t)
	env["ECR_CREDENTIALS_CACHE_DIR"] = "none"
	host := strings.TrimPrefix(f.reg.URL, "https://")
	helperDir := t.TempDir()
	helper := filepath.Join(helperDir, "docker-credential-ecr-credentials")
	must(t, os.Symlink(f.bin, helper))

	login := func(extra map[string]string) (string, string, error) {
		dockerDir := t.TempDir()
		config := filepath.Join(dockerDir, "config.json")
		must(t, os.WriteFile(config, []byte(`{"credsStore":"ecr-credentials"}`), 0o600))
		cmd := exec.Command(docker, "login", "--username", "AWS", "--password-stdin", host)
		cmd.Stdin = strings.NewReader(f.password)
		// No daemon: the docker CLI logs in client side (and checks the
		// password against the registry) before it stores the login.
		cmd.Env = []string{"DOCKER_CONFIG=" + dockerDir, "DOCKER_HOST=unix://" + filepath.Join(t.TempDir(), "none.sock"),
			"HOME=" + t.TempDir(), "PATH=" + helperDir + ":" + os.Getenv("PATH")}
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		for k, v := range extra {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		b, rerr := os.ReadFile(config)
		must(t, rerr)
		return string(out), string(b), err
	}

	out, config, err := login(nil)
	if err == nil || strings.Contains(out, "Login Succeeded") {
		t.Errorf("docker login through the helper as credsStore succeeded; want it refused:\n%s", out)
	}
	if !strings.Contains(out, "keeps no credentials") || !strings.Contains(out, "AWS_ECR_IGNORE_CREDS_STORAGE") {
		t.Errorf("docker login does not say why:\n%s", out)
	}
	if strings.Contains(out, f.password) || strings.Contains(config, f.password) {
		t.Error("the password appears in docker's output or config.json")
	}

	out, _, err = login(map[string]string{"AWS_ECR_IGNORE_CREDS_STORAGE": "true"})
	if err != nil || !strings.Contains(out, "Login Succeeded") {
		t.Errorf("with AWS_ECR_IGNORE_CREDS_STORAGE=true: %v\n%s", err, out)
	}

	// The protocol directly: store for an ECR registry (an alias of one
	// here) is accepted; for another host refused, exit 1.
	aliased := map[string]string{"ECR_CREDENTIALS_REGISTRY_ALIASES": host + "=" + account + ".dkr.ecr." + region + ".amazonaws.com"}
	store := func(server string, extra map[string]string) testenv.Result {
		e := map[string]string{}
		for k, v := range env {
			e[k] = v
		}
		for k, v := range extra {
			e[k] = v
		}
		return testenv.RunProgram(t, helper, testenv.RunOptions{Env: e, Args: []string{"store"},
			Stdin: `{"ServerURL":"` + server + `","Username":"AWS","Secret":"` + f.password + `"}`})
	}
	if res := store("https://"+host, aliased); res.ExitCode != 0 {
		t.Errorf("store for an ECR registry: exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	res := store("ghcr.io", nil)
	if res.ExitCode != 1 || !strings.Contains(res.Stderr, "keeps no credentials") {
		t.Errorf("store for ghcr.io: exit %d, stderr %q", res.ExitCode, res.Stderr)
	}
	if strings.Contains(res.Stdout+res.Stderr, f.password) {
		t.Error("the refused secret appears in the helper's output")
	}

	// debug: why a get found nothing.
	e := map[string]string{"ECR_CREDENTIALS_DEBUG": "true"}
	for k, v := range env {
		e[k] = v
	}
	res = testenv.RunProgram(t, helper, testenv.RunOptions{Env: e, Args: []string{"get"}, Stdin: "ghcr.io"})
	if res.ExitCode != 1 || !strings.Contains(res.Stdout, "credentials not found") ||
		!strings.Contains(res.Stderr, "ghcr.io is neither an Amazon ECR registry nor one of registry-aliases") {
		t.Errorf("debug get for ghcr.io: exit %d, stdout %q, stderr %q", res.ExitCode, res.Stdout, res.Stderr)
	}
}
