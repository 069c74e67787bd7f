package e2e

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestGitHubActionEndToEnd runs the binary as the GitHub runner runs a
// container action and checks everything a later step sees.
func TestGitHubActionEndToEnd(t *testing.T) {
	f := newFixture(t)
	r := newRunner(t)
	env := f.githubEnv(r, map[string]string{"role-to-assume": roleARN, "aws-region": region})
	res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	host := strings.TrimPrefix(f.reg.URL, "https://")

	// Outputs, as the runner parses them.
	out := readFileCommands(t, r.output)
	wantToken := base64.StdEncoding.EncodeToString([]byte("AWS:" + f.password))
	for name, want := range map[string]string{
		"username":              "AWS",
		"password":              f.password,
		"authorization-token":   wantToken,
		"proxy-endpoint":        "https://" + host,
		"proxy-endpoint-domain": host,
		"registry":              host,
		"registries":            host,
		"docker_username_" + strings.NewReplacer(".", "_", ":", "_").Replace(host): "AWS",
		"docker_password_" + strings.NewReplacer(".", "_", ":", "_").Replace(host): f.password,
	} {
		if got := out[name]; got != want {
			t.Errorf("output %s = %q, want %q", name, abbreviate(got), abbreviate(want))
		}
	}
	exp, err := time.Parse(time.RFC3339, out["expiration-date"])
	if err != nil {
		t.Fatalf("expiration-date %q: %v", out["expiration-date"], err)
	}
	if d := time.Until(exp); d < 11*time.Hour || d > 12*time.Hour+time.Minute {
		t.Errorf("expiration-date %s is not about 12 hours ahead", exp)
	}
	var blob struct {
		Username, Password, AuthorizationToken, ProxyEndpoint, ProxyEndpointDomain, ExpirationDate, Registry string
		Registries                                                                                           map[string]struct{ Password string }
	}
	if err := json.Unmarshal([]byte(out["json"]), &blob); err != nil {
		t.Fatalf("json output: %v", err)
	}
	if blob.Password != f.password || blob.AuthorizationToken != wantToken || blob.ExpirationDate != out["expiration-date"] ||
		blob.ProxyEndpoint != "https://"+host || blob.Registries[host].Password != f.password {
		t.Errorf("json output does not match the other outputs")
	}

	// Environment for later steps.
	envs := readFileCommands(t, r.env)
	for name, output := range map[string]string{
		"ECR_USERNAME": "username", "ECR_PASSWORD": "password", "ECR_AUTHORIZATION_TOKEN": "authorization-token",
		"ECR_PROXY_ENDPOINT": "proxy-endpoint", "ECR_PROXY_ENDPOINT_DOMAIN": "proxy-endpoint-domain",
		"ECR_EXPIRATION_DATE": "expiration-date", "ECR_REGISTRY": "registry", "ECR_JSON": "json",
	} {
		if envs[name] != out[output] {
			t.Errorf("env %s does not equal output %s", name, output)
		}
	}

	// Masking: every secret the emulator issued is announced with
	// ::add-mask:: before it could appear anywhere, and appears nowhere else.
	assertNoLeaks(t, f.fake, res)
	masked := ghrunner.MaskedValues(res.Stdout)
	for _, secret := range []string{f.password, wantToken, out["json"]} {
		if !contains(masked, secret) {
			t.Errorf("a registry secret was not masked with ::add-mask::")
		}
	}

	// The human log line.
	if !strings.Contains(res.Stdout, "password expires "+out["expiration-date"]+" (in 11h") &&
		!strings.Contains(res.Stdout, "password expires "+out["expiration-date"]+" (in 12h") {
		t.Errorf("log lacks the expiry line:\n%s", res.Stdout)
	}
	summary, _ := os.ReadFile(r.summary)
	if !strings.Contains(string(summary), host) || strings.Contains(string(summary), f.password) {
		t.Errorf("step summary:\n%s", summary)
	}

	// The docker login works for an independent client, and only with the
	// right password.
	dockerDir := filepath.Join(r.homeDir, ".docker")
	crane := testenv.Crane(t)
	ls := exec.Command(crane, "catalog", host)
	ls.Env = []string{"DOCKER_CONFIG=" + dockerDir, "SSL_CERT_FILE=" + f.bundle, "HOME=" + r.homeDir}
	if b, err := ls.CombinedOutput(); err != nil {
		t.Fatalf("crane catalog with the written login: %v\n%s", err, b)
	}
	st, err := os.Stat(filepath.Join(dockerDir, "config.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("config.json mode: %v %v", st.Mode(), err)
	}

	// Post stage: the login is removed.
	state := readFileCommands(t, r.state)
	if state["receipt"] == "" {
		t.Fatal("no logout receipt in GITHUB_STATE")
	}
	if strings.Contains(state["receipt"], f.password) {
		t.Fatal("the receipt holds the password")
	}
	postEnv := f.githubEnv(r, map[string]string{"role-to-assume": roleARN, "aws-region": region})
	postEnv["STATE_receipt"] = state["receipt"]
	post := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: postEnv, Args: []string{"post"}})
	if post.ExitCode != 0 {
		t.Fatalf("post: exit %d\n%s%s", post.ExitCode, post.Stdout, post.Stderr)
	}
	cfg, err := os.ReadFile(filepath.Join(dockerDir, "config.json"))
	if err == nil && strings.Contains(string(cfg), host) {
		t.Errorf("config.json still has %s after the post step:\n%s", host, cfg)
	}
	ls = exec.Command(crane, "catalog", host)
	ls.Env = []string{"DOCKER_CONFIG=" + dockerDir, "SSL_CERT_FILE=" + f.bundle, "HOME=" + r.homeDir}
	if b, err := ls.CombinedOutput(); err == nil {
		t.Errorf("crane catalog still works after logout:\n%s", b)
	}
}

// TestGitHubActionBadInput: each failure gives a ::error:: naming the code
// and the fix, exit 1, and writes nothing at all.
func TestGitHubActionBadInput(t *testing.T) {
	f := newFixture(t)
	// A role that may assume but not call ECR, and one with another audience.
	must(t, f.fake.AddRole(awsfake.Role{ARN: "arn:aws:iam::123456789012:role/no-ecr", Subjects: []string{"repo:octo-org/*"}}))
	must(t, f.fake.AddRole(awsfake.Role{ARN: "arn:aws:iam::123456789012:role/other-aud", Subjects: []string{"repo:octo-org/*"}, Audience: "my-audience", ECR: true}))
	must(t, f.fake.AddRole(awsfake.Role{ARN: "arn:aws:iam::123456789012:role/other-repo", Subjects: []string{"repo:someone-else/*"}, ECR: true}))

	tests := []struct {
		name   string
		inputs map[string]string
		env    map[string]string // extra or, with "", removed variables
		code   string
		inMsg  string
	}{
		{"missing role", map[string]string{"aws-region": region}, nil, "no-credentials", "role-to-assume"},
		{"malformed role", map[string]string{"role-to-assume": "github-ecr", "aws-region": region}, nil, "invalid-setting", `input "role-to-assume"`},
		{"unknown region", map[string]string{"role-to-assume": roleARN, "aws-region": "eu-wset-1"}, nil, "invalid-setting", `input "aws-region"`},
		{"no id-token permission", map[string]string{"role-to-assume": roleARN, "aws-region": region},
			map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": "", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": ""}, "no-id-token-permission", "id-token: write"},
		{"token endpoint down", map[string]string{"role-to-assume": roleARN, "aws-region": region, "timeout": "2s"},
			map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:1/token"}, "id-token-request-failed", "GitHub OIDC token"},
		{"audience rejected", map[string]string{"role-to-assume": "arn:aws:iam::123456789012:role/other-aud", "aws-region": region}, nil, "invalid-identity-token", "audience"},
		{"subject not trusted", map[string]string{"role-to-assume": "arn:aws:iam::123456789012:role/other-repo", "aws-region": region}, nil, "assume-role-denied", "sub"},
		{"ecr denied", map[string]string{"role-to-assume": "arn:aws:iam::123456789012:role/no-ecr", "aws-region": region}, nil, "ecr-denied", "ecr:GetAuthorizationToken"},
		{"duration over role maximum", map[string]string{"role-to-assume": roleARN, "aws-region": region, "role-duration-seconds": "7200"}, nil, "invalid-setting", "role-duration-seconds"},
		{"bad env prefix", map[string]string{"role-to-assume": roleARN, "aws-region": region, "env-prefix": "x-"}, nil, "invalid-setting", `input "env-prefix"`},
		{"registry not ECR", map[string]string{"role-to-assume": roleARN, "aws-region": region, "registries": "ghcr.io"}, nil, "invalid-setting", `input "registries"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRunner(t)
			env := f.githubEnv(r, tt.inputs)
			for k, v := range tt.env {
				if v == "" {
					delete(env, k)
				} else {
					env[k] = v
				}
			}
			res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env})
			wantGitHubFailure(t, res, tt.code, tt.inMsg)
			for _, p := range []string{r.output, r.env, r.state, r.summary} {
				if b, _ := os.ReadFile(p); len(b) != 0 {
					t.Errorf("%s was written by a failed run:\n%s", filepath.Base(p), b)
				}
			}
			if _, err := os.Stat(filepath.Join(r.homeDir, ".docker")); !os.IsNotExist(err) {
				t.Errorf("a failed run created the docker config directory (%v)", err)
			}
			assertNoLeaks(t, f.fake, res)
		})
	}
}

// assertNoLeaks checks that no secret the emulator ever issued appears in
// the program's output, other than in the ::add-mask:: commands that mask it.
func assertNoLeaks(t *testing.T, fake *awsfake.Server, res testenv.Result) {
	t.Helper()
	var lines []string
	for _, line := range strings.Split(res.Stdout+"\n"+res.Stderr, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "::add-mask::") {
			continue
		}
		lines = append(lines, line)
	}
	text := strings.Join(lines, "\n")
	for _, secret := range fake.Issued() {
		if len(secret) >= 8 && strings.Contains(text, secret) {
			t.Errorf("output contains an issued secret (%d chars) unmasked", len(secret))
		}
	}
	// Masks must come before any other use: each ::add-mask:: line precedes
	// the first line that mentions the masked value in masked form would.
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func abbreviate(s string) string {
	if len(s) > 40 {
		return s[:20] + "..." + s[len(s)-10:]
	}
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
