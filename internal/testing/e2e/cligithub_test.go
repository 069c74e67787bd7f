package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestCLIInGitHubJob (issue 23 item 3): the CLI in a `run:` step of a
// GitHub job, with only the role given and the job's token request
// variables set, logs in with the job's OIDC token (before, credential
// source auto used it only in the container action's mode, and the run
// failed with no-credentials); every secret it prints is announced to the
// runner with ::add-mask:: on stderr before it is printed, and stdout
// stays the result alone, so `get-login-password | docker login
// --password-stdin` works with the real docker CLI.
func TestCLIInGitHubJob(t *testing.T) {
	f := newFixture(t)
	r := newRunner(t)
	env := ghrunner.Step{Files: ghrunner.StepFiles{Output: r.output, Env: r.env, State: r.state, Summary: r.summary},
		Temp: r.dir, Home: r.homeDir}.Env()
	for k, v := range f.fake.Env() {
		env[k] = v
	}
	env["SSL_CERT_FILE"] = f.bundle
	if env["ACTIONS_ID_TOKEN_REQUEST_URL"] == "" || env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] == "" {
		t.Fatal("the emulated job has no token request variables")
	}
	host := strings.TrimPrefix(f.reg.URL, "https://")
	run := func(args ...string) testenv.Result {
		t.Helper()
		res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Args: args})
		if res.ExitCode != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, res.ExitCode, res.Stdout, res.Stderr)
		}
		return res
	}
	// maskedFirst checks that stderr announces secret with ::add-mask::
	// and that no other line holds it (but masks of larger secrets, such
	// as the JSON blob).
	maskedFirst := func(t *testing.T, stderr, what, secret string) {
		t.Helper()
		announced := false
		for _, l := range strings.Split(stderr, "\n") {
			if l == "::add-mask::"+secret {
				announced = true
				continue
			}
			if strings.Contains(l, secret) && !strings.HasPrefix(l, "::add-mask::") {
				t.Errorf("%s appears in a log line (announced before: %v)", what, announced)
			}
		}
		if !announced {
			t.Errorf("%s is not announced with ::add-mask:: on stderr:\n%s", what, stderr)
		}
	}

	// login with only the role: the job's token, the docker login written.
	res := run("login", "--role-arn", roleARN, "--region", region)
	if !strings.Contains(res.Stderr, "GitHub Actions OIDC token -> sts:AssumeRoleWithWebIdentity") || !strings.Contains(res.Stderr, "Login Succeeded: "+host) {
		t.Errorf("login log:\n%s", res.Stderr)
	}
	if res.Stdout != "" {
		t.Errorf("login printed on stdout: %q", abbreviate(res.Stdout))
	}
	maskedFirst(t, res.Stderr, "the registry password", f.password)
	if b, err := os.ReadFile(filepath.Join(r.homeDir, ".docker", "config.json")); err != nil || !strings.Contains(string(b), host) {
		t.Errorf("no docker login in ~/.docker/config.json: %v", err)
	}

	// get-login-password: stdout is exactly the password; stderr masks it.
	res = run("get-login-password", "--role-arn", roleARN, "--region", region)
	if res.Stdout != f.password+"\n" {
		t.Fatalf("get-login-password printed %d bytes, want exactly the password and a new line", len(res.Stdout))
	}
	maskedFirst(t, res.Stderr, "the registry password", f.password)
	if !strings.Contains(res.Stderr, "::add-mask::ey") {
		t.Errorf("the OIDC token is not announced:\n%s", res.Stderr)
	}

	// ... piped to the real docker CLI.
	docker := testenv.RequireTool(t, "docker")
	dockerDir := t.TempDir()
	cmd := exec.Command(docker, "login", "--username", "AWS", "--password-stdin", host)
	cmd.Stdin = strings.NewReader(res.Stdout)
	// No daemon: the docker CLI logs in client side, checking the password
	// against the registry.
	cmd.Env = []string{"DOCKER_CONFIG=" + dockerDir, "DOCKER_HOST=unix://" + filepath.Join(t.TempDir(), "none.sock"),
		"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "SSL_CERT_FILE=" + f.bundle}
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Login Succeeded") {
		t.Errorf("get-login-password | docker login --password-stdin: %v\n%s", err, out)
	}

	// env and print: what they print is announced first too.
	res = run("env", "--role-arn", roleARN, "--region", region, "--export-aws-credentials")
	maskedFirst(t, res.Stderr, "the registry password", f.password)
	found := 0
	for _, l := range strings.Split(res.Stdout, "\n") {
		if v, ok := strings.CutPrefix(l, "export AWS_SECRET_ACCESS_KEY='"); ok {
			maskedFirst(t, res.Stderr, "the AWS secret access key", strings.TrimSuffix(v, "'"))
			found++
		}
	}
	res = run("print", "k8s-secret", "--role-arn", roleARN, "--region", region)
	for _, l := range strings.Split(res.Stdout, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), ".dockerconfigjson: "); ok {
			maskedFirst(t, res.Stderr, "the k8s-secret's encoded config", strings.Trim(v, `"`))
			found++
		}
	}
	if found != 2 {
		t.Errorf("found %d of the 2 secrets env and print k8s-secret print:\n%s", found, res.Stdout)
	}
}
