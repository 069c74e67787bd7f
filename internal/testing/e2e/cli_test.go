package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// cliEnv is a shell where a person has a web identity token in a file and
// AWS_ROLE_ARN set, like an EKS pod or a CI with OIDC.
func (f *fixture) cliEnv(t *testing.T) map[string]string {
	t.Helper()
	token, err := f.fake.MintIDToken("sts.amazonaws.com", awsfake.WithSubject(subject))
	must(t, err)
	tokenFile := filepath.Join(t.TempDir(), "token")
	must(t, os.WriteFile(tokenFile, []byte(token), 0o600))
	env := map[string]string{"SSL_CERT_FILE": f.bundle, "AWS_ROLE_ARN": roleARN, "AWS_REGION": region, "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile}
	for k, v := range f.fake.Env() {
		if k != "SSL_CERT_FILE" && !strings.HasPrefix(k, "ACTIONS_") {
			env[k] = v
		}
	}
	return env
}

func TestCLICommands(t *testing.T) {
	f := newFixture(t)
	env := f.cliEnv(t)
	host := strings.TrimPrefix(f.reg.URL, "https://")
	run := func(args ...string) testenv.Result {
		t.Helper()
		res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Args: args})
		if res.ExitCode != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, res.ExitCode, res.Stdout, res.Stderr)
		}
		if strings.Contains(res.Stderr, f.password) {
			t.Errorf("%v: the password appears in the log", args)
		}
		return res
	}

	// get-login-password: exactly the password and a new line, like the AWS CLI.
	if res := run("get-login-password"); res.Stdout != f.password+"\n" {
		t.Errorf("get-login-password printed %d bytes, want the password", len(res.Stdout))
	}

	// env: eval-able exports.
	res := run("env")
	sh := exec.Command("sh", "-c", `eval "$0"; printf '%s %s' "$ECR_REGISTRY" "$ECR_PASSWORD"`, res.Stdout)
	out, err := sh.Output()
	must(t, err)
	if string(out) != host+" "+f.password {
		t.Errorf("eval of `env` gives %q...", abbreviate(string(out)))
	}

	// env --shell fish: sourced by a real fish.
	res = run("env", "--shell", "fish")
	fish := exec.Command(testenv.RequireTool(t, "fish"), "--no-config", "-c", `printf '%s' $argv[1] | source; printf '%s %s' "$ECR_REGISTRY" "$ECR_PASSWORD"`, res.Stdout)
	fish.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	out, err = fish.Output()
	must(t, err)
	if string(out) != host+" "+f.password {
		t.Errorf("fish source of `env --shell fish` gives %q...", abbreviate(string(out)))
	}
	// env --shell bash and zsh (issue 24 item 8): sh's lines, evaluated by
	// a real bash and zsh.
	for _, shell := range []string{"bash", "zsh"} {
		res := run("env", "--shell", shell)
		cmd := exec.Command(testenv.RequireTool(t, shell), "-c", `eval "$1"; printf '%s %s' "$ECR_REGISTRY" "$ECR_PASSWORD"`, shell, res.Stdout)
		cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
		out, err := cmd.Output()
		must(t, err)
		if string(out) != host+" "+f.password {
			t.Errorf("%s eval of `env --shell %s` gives %q...", shell, shell, abbreviate(string(out)))
		}
	}
	for shell, want := range map[string]string{"powershell": "$Env:ECR_PASSWORD = '" + f.password + "'\n", "cmd": "set ECR_PASSWORD=" + f.password + "\r\n"} {
		if res := run("env", "--shell", shell); !strings.Contains(res.Stdout, want) {
			t.Errorf("env --shell %s lacks the password line", shell)
		}
	}

	// print bamboo: the Bamboo task's variable names in the namespace given.
	bamboo := run("print", "bamboo", "--bamboo-namespace", "custom.aws.ecr").Stdout
	propHost := strings.ReplaceAll(host, ":", `\:`) // a properties file escapes ':'
	for _, line := range []string{
		"custom.aws.ecr.username=AWS\n",
		"custom.aws.ecr.password=" + f.password + "\n",
		"custom.aws.ecr.proxyEndpointDomain=" + propHost + "\n",
		"custom.aws.ecr.authorizationToken.password=",
		"custom.aws.ecr.proxyEndpoint=https\\://" + propHost + "\n",
		"custom.aws.ecr.expirationDate=",
	} {
		if !strings.Contains(bamboo, line) {
			t.Errorf("print bamboo lacks %q", line)
		}
	}

	// json, and print of another format.
	var blob struct{ Registry, Password string }
	must(t, json.Unmarshal([]byte(run("json").Stdout), &blob))
	if blob.Registry != host || blob.Password != f.password {
		t.Errorf("json = %s", abbreviate(res.Stdout))
	}
	var ecs map[string]string
	must(t, json.Unmarshal([]byte(run("print", "ecs").Stdout), &ecs))
	if ecs["password"] != f.password {
		t.Errorf("print ecs gives a wrong password")
	}

	// login writes config.json for the registry given as an argument, verified.
	home := t.TempDir()
	env["HOME"] = home
	res = run("login", account)
	if !strings.Contains(res.Stderr, "Login Succeeded: "+host) {
		t.Errorf("login log:\n%s", res.Stderr)
	}
	crane := exec.Command(testenv.Crane(t), "catalog", host)
	crane.Env = []string{"HOME=" + home, "SSL_CERT_FILE=" + f.bundle}
	if b, err := crane.CombinedOutput(); err != nil {
		t.Errorf("crane with the CLI login: %v\n%s", err, b)
	}

	// --help is generated from the settings table.
	help := run("login", "--help")
	for _, flag := range []string{"--role-arn", "--region", "--registries", "--web-identity-token-file", "--role-chain", "--docker-config"} {
		if !strings.Contains(help.Stdout, flag) {
			t.Errorf("login --help lacks %s", flag)
		}
	}
}

// TestCLIHelpAndFlags (issue 24 items 1 and 8): `<command> --help` and
// `ecr-credentials --help` print on stdout and exit 0, each command lists
// only its own flags (before, every command listed every flag: --shell,
// --bamboo-namespace, ... under get-login-password); an unknown or
// misplaced flag names the nearest flag or the commands that take it;
// get-login-password refuses two registries.
func TestCLIHelpAndFlags(t *testing.T) {
	bin := testenv.BuildBinary(t, modulePk)
	help := []struct {
		args          []string
		want, notWant []string
	}{
		{[]string{"--help"}, []string{"Commands", "get-login-password", "credential-helper"}, nil},
		{[]string{"-h"}, []string{"Commands"}, nil},
		{[]string{"get-login-password", "--help"}, []string{"--role-arn", "--region", "--registries", "--timeout"},
			[]string{"--bamboo-namespace", "--shell", "--docker-config", "--env-prefix", "--k8s-namespace", "--verify"}},
		{[]string{"env", "--help"}, []string{"--shell", "--env-prefix", "--export-aws-credentials", "--role-arn"},
			[]string{"--bamboo-namespace", "--docker-config", "--k8s-secret-name"}},
		{[]string{"print", "--help"}, []string{"--bamboo-namespace", "--k8s-namespace", "--env-prefix"}, []string{"--shell", "--docker-config"}},
		{[]string{"login", "--help"}, []string{"--docker-config", "--verify", "--registry-auth-file", "--docker-login"}, []string{"--shell", "--bamboo-namespace"}},
		{[]string{"json", "-h"}, []string{"--role-arn"}, []string{"--shell", "--docker-config"}},
	}
	for _, tc := range help {
		res := testenv.RunProgram(t, bin, testenv.RunOptions{Args: tc.args})
		if res.ExitCode != 0 || res.Stderr != "" {
			t.Errorf("%v: exit %d, stderr %q; want 0 and nothing on stderr", tc.args, res.ExitCode, res.Stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(res.Stdout, w) {
				t.Errorf("%v lacks %s", tc.args, w)
			}
		}
		for _, w := range tc.notWant {
			if strings.Contains(res.Stdout, w+" ") || strings.Contains(res.Stdout, w+",") {
				t.Errorf("%v lists %s, a flag of another command", tc.args, w)
			}
		}
	}
	usage := []struct {
		args []string
		want string
	}{
		{[]string{"login", "--regoin", "eu-west-1"}, "Did you mean --region?"},
		{[]string{"json", "--role-to-asume", roleARN}, "Did you mean --role-to-assume?"},
		{[]string{"get-login-password", "--shell", "fish"}, "--shell is a flag of env, not of get-login-password"},
		{[]string{"get-login-password", "--docker-config", "/tmp/x"}, "--docker-config is a flag of login, not of get-login-password"},
		{[]string{"get-login-password", account, "210987654321"}, "2 registries given, but it prints one password"},
		{[]string{"get-login-password", "--registries", account + ",public.ecr.aws"}, "it prints one password"},
	}
	for _, tc := range usage {
		res := testenv.RunProgram(t, bin, testenv.RunOptions{Args: tc.args})
		if res.ExitCode != 2 || !strings.Contains(res.Stderr, tc.want) || res.Stdout != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 2 and %q", tc.args, res.ExitCode, res.Stderr, res.Stdout, tc.want)
		}
	}
}

func TestCLIUsageErrors(t *testing.T) {
	bin := testenv.BuildBinary(t, modulePk)
	for _, args := range [][]string{
		{"print"},
		{"print", "yaml"},
		{"login", "--no-such-flag"},
		{"frobnicate"},
		{"json", "--registries", "123456789012", "210987654321"},
	} {
		res := testenv.RunProgram(t, bin, testenv.RunOptions{Args: args})
		if res.ExitCode != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)\n%s", args, res.ExitCode, res.Stderr)
		}
		if res.Stdout != "" && args[0] != "frobnicate" {
			t.Errorf("%v wrote to stdout: %q", args, res.Stdout)
		}
	}
}

// TestCredentialHelper: docker's credential helper protocol, with the
// token cache, and crane using the helper through credHelpers.
func TestCredentialHelper(t *testing.T) {
	f := newFixture(t)
	env := f.cliEnv(t)
	env["ECR_CREDENTIALS_CACHE_DIR"] = filepath.Join(t.TempDir(), "cache")
	host := strings.TrimPrefix(f.reg.URL, "https://")
	// The local registry stands for the role's registry: an alias.
	env["ECR_CREDENTIALS_REGISTRY_ALIASES"] = host + "=" + account + ".dkr.ecr." + region + ".amazonaws.com"

	helperDir := t.TempDir()
	helper := filepath.Join(helperDir, "docker-credential-ecr-credentials")
	must(t, os.Symlink(f.bin, helper))

	get := func() testenv.Result {
		return testenv.RunProgram(t, helper, testenv.RunOptions{Env: env, Args: []string{"get"}, Stdin: "https://" + host + "\n"})
	}
	res := get()
	if res.ExitCode != 0 {
		t.Fatalf("get: exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	var creds struct{ ServerURL, Username, Secret string }
	must(t, json.Unmarshal([]byte(res.Stdout), &creds))
	if creds.Username != "AWS" || creds.Secret != f.password {
		t.Errorf("get answered user %q and a wrong secret", creds.Username)
	}
	if strings.Contains(res.Stderr, f.password) {
		t.Errorf("the helper logged the password")
	}
	callsAfterFirst := len(f.fake.Calls())

	// A second get is served from the cache: no new AWS calls.
	res = get()
	must(t, json.Unmarshal([]byte(res.Stdout), &creds))
	if res.ExitCode != 0 || creds.Secret != f.password {
		t.Fatalf("second get failed: %d", res.ExitCode)
	}
	if n := len(f.fake.Calls()); n != callsAfterFirst {
		t.Errorf("second get made %d AWS calls; the cache should have answered", n-callsAfterFirst)
	}
	st, err := os.Stat(filepath.Join(env["ECR_CREDENTIALS_CACHE_DIR"], "tokens.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("cache file: %v %v", st, err)
	}

	// list shows it; erase forgets it.
	res = testenv.RunProgram(t, helper, testenv.RunOptions{Env: env, Args: []string{"list"}})
	if !strings.Contains(res.Stdout, host) {
		t.Errorf("list = %s", res.Stdout)
	}
	res = testenv.RunProgram(t, helper, testenv.RunOptions{Env: env, Args: []string{"erase"}, Stdin: "https://" + host})
	if res.ExitCode != 0 {
		t.Errorf("erase: %d %s", res.ExitCode, res.Stdout)
	}

	// Not an ECR registry: "not found", so docker goes on anonymously.
	res = testenv.RunProgram(t, helper, testenv.RunOptions{Env: env, Args: []string{"get"}, Stdin: "https://ghcr.io"})
	if res.ExitCode == 0 || !strings.Contains(res.Stdout, "credentials not found") {
		t.Errorf("get for ghcr.io: exit %d, %q", res.ExitCode, res.Stdout)
	}

	// crane (docker's config semantics) runs the helper through credHelpers.
	dockerDir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dockerDir, "config.json"), []byte(`{"credHelpers":{"`+host+`":"ecr-credentials"}}`), 0o600))
	crane := exec.Command(testenv.Crane(t), "catalog", host)
	crane.Env = []string{"DOCKER_CONFIG=" + dockerDir, "SSL_CERT_FILE=" + f.bundle, "HOME=" + t.TempDir(), "PATH=" + helperDir + ":" + os.Getenv("PATH")}
	for k, v := range env {
		crane.Env = append(crane.Env, k+"="+v)
	}
	if b, err := crane.CombinedOutput(); err != nil {
		t.Errorf("crane through the credential helper: %v\n%s", err, b)
	}
}
