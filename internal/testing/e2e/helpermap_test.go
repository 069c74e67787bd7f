package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestHelperRegistryMap (issue 14, part 2): on a developer's machine the
// credential helper takes the registries map, from ECR_CREDENTIALS_REGISTRIES
// or a settings file (ECR_CREDENTIALS_CONFIG): a profile per registry, or a
// role per registry assumed from the default identity, and the main
// identity for hosts the map does not list. Two real registries accept only
// their own account's password; crane, with config.json naming the helper
// in credHelpers, reads both.
func TestHelperRegistryMap(t *testing.T) {
	f := newFixture(t)
	dev, err := f.fake.AddAccessKey(awsfake.AccessKey{UserARN: "arn:aws:iam::123456789012:user/dev", ECR: true})
	must(t, err)
	other, err := f.fake.AddAccessKey(awsfake.AccessKey{UserARN: "arn:aws:iam::222222222222:user/dev", ECR: true})
	must(t, err)
	must(t, f.fake.AddRole(awsfake.Role{ARN: pullRole, TrustedPrincipals: []string{"arn:aws:iam::123456789012:root"}, ECR: true}))
	pw2 := ecrLikePassword(t)
	ca := testenv.NewCA(t)
	reg2 := testenv.StartRegistry(t, testenv.RegistryOptions{Password: pw2, TLS: true, CA: ca})
	f.fake.SetRegistryPassword("222222222222", region, pw2)
	host1, host2 := strings.TrimPrefix(f.reg.URL, "https://"), reg2.Addr

	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		must(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	bundle := f.bundleWith(t, ca)
	creds := write("credentials", fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n[other]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
		dev.ID, dev.Secret, other.ID, other.Secret))
	helperDir := filepath.Join(dir, "bin")
	must(t, os.Mkdir(helperDir, 0o755))
	must(t, os.Symlink(f.bin, filepath.Join(helperDir, "docker-credential-ecr-credentials")))
	dockerDir := filepath.Join(dir, "docker")
	must(t, os.Mkdir(dockerDir, 0o700))
	write("docker/config.json", `{"credHelpers": {"`+host1+`": "ecr-credentials", "`+host2+`": "ecr-credentials"}}`)

	env := func(t *testing.T, extra map[string]string) []string {
		e := map[string]string{
			"PATH":                             helperDir + string(os.PathListSeparator) + os.Getenv("PATH"),
			"HOME":                             t.TempDir(),
			"DOCKER_CONFIG":                    dockerDir,
			"SSL_CERT_FILE":                    bundle,
			"AWS_REGION":                       region,
			"AWS_SHARED_CREDENTIALS_FILE":      creds,
			"AWS_CONFIG_FILE":                  "/nonexistent",
			"AWS_EC2_METADATA_DISABLED":        "true",
			"ECR_CREDENTIALS_CACHE_DIR":        filepath.Join(t.TempDir(), "cache"),
			"ECR_CREDENTIALS_REGISTRY_ALIASES": host1 + "=123456789012.dkr.ecr." + region + ".amazonaws.com," + host2 + "=222222222222.dkr.ecr." + region + ".amazonaws.com",
		}
		for k, v := range f.fake.Env() {
			if strings.HasPrefix(k, "AWS_ENDPOINT_URL") {
				e[k] = v
			}
		}
		for k, v := range extra {
			e[k] = v
		}
		var out []string
		for k, v := range e {
			out = append(out, k+"="+v)
		}
		return out
	}
	get := func(t *testing.T, e []string, host string) (string, string) {
		t.Helper()
		cmd := exec.Command(f.bin, "credential-helper", "get")
		cmd.Env, cmd.Stdin = e, strings.NewReader("https://"+host+"\n")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Sprintf("%v: %s %s", err, out, stderr.String())
		}
		var c struct{ Username, Secret string }
		must(t, json.Unmarshal(out, &c))
		return c.Secret, stderr.String()
	}
	crane := func(t *testing.T, e []string, host string) error {
		cmd := exec.Command(testenv.Crane(t), "catalog", host)
		cmd.Env = e
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, abbreviate(string(out)))
		}
		return nil
	}

	t.Run("profile per registry from ECR_CREDENTIALS_REGISTRIES", func(t *testing.T) {
		e := env(t, map[string]string{"ECR_CREDENTIALS_REGISTRIES": host1 + "=profile:default," + host2 + "=profile:other"})
		for host, want := range map[string]string{host1: f.password, host2: pw2} {
			if got, msg := get(t, e, host); got != want {
				t.Errorf("helper get %s: not that account's password (%s)", host, abbreviate(msg))
			}
			if err := crane(t, e, host); err != nil {
				t.Errorf("crane catalog %s through the helper: %v", host, err)
			}
		}
		// Without the map both hosts use the default profile: the second
		// registry refuses its password.
		plain := env(t, nil)
		if err := crane(t, plain, host2); err == nil {
			t.Errorf("crane catalog %s worked with the default profile's password", host2)
		}
	})

	t.Run("role per registry from a settings file", func(t *testing.T) {
		conf := write("helper.json", `{"settings": {"aws-region": "`+region+`", "registries": "`+host2+`=`+pullRole+`"}}`)
		e := env(t, map[string]string{"ECR_CREDENTIALS_CONFIG": conf})
		mark := len(f.fake.Calls())
		for host, want := range map[string]string{host1: f.password, host2: pw2} {
			if got, msg := get(t, e, host); got != want {
				t.Errorf("helper get %s: not that account's password (%s)", host, abbreviate(msg))
			}
		}
		assumed := 0
		for _, c := range callsSince(f.fake, mark) {
			if c.Operation == "AssumeRole" && c.ErrorCode == "" {
				assumed++
			}
		}
		if assumed != 1 {
			t.Errorf("%d AssumeRole calls, want 1 (for %s only; %s uses the default identity)", assumed, host2, host1)
		}
	})

	t.Run("bad map or settings file", func(t *testing.T) {
		for name, extra := range map[string]map[string]string{
			"role name, not an ARN": {"ECR_CREDENTIALS_REGISTRIES": host2 + "=pull"},
			"missing settings file": {"ECR_CREDENTIALS_CONFIG": filepath.Join(dir, "nonexistent.json")},
			"unknown setting":       {"ECR_CREDENTIALS_CONFIG": write("unknown.json", `{"settings": {"regoin": "eu-west-1"}}`)},
			"not JSON":              {"ECR_CREDENTIALS_CONFIG": write("notjson.json", `region=eu-west-1`)},
		} {
			if got, msg := get(t, env(t, extra), host2); got != "" || msg == "" {
				t.Errorf("%s: the helper answered instead of failing", name)
			} else if !strings.Contains(msg, "exit status 1") || !strings.Contains(msg, "ECR_CREDENTIALS_") && !strings.Contains(msg, "settings file") {
				t.Errorf("%s: the failure does not name the variable or file: %s", name, abbreviate(msg))
			}
		}
	})
}

// TestHelperServesCachedPasswordWhenAWSFails: a password due for refresh
// (less than a quarter of its one-minute lifetime left) but still valid is served,
// with a warning on stderr, when STS fails; once it is no longer usable
// the failure is reported.
func TestHelperServesCachedPasswordWhenAWSFails(t *testing.T) {
	f := newFixture(t)
	f.fake.SetTokenTTL(time.Minute)
	host := strings.TrimPrefix(f.reg.URL, "https://")
	env := f.cliEnv(t)
	env["ECR_CREDENTIALS_CACHE_DIR"] = filepath.Join(t.TempDir(), "cache")
	env["ECR_CREDENTIALS_REGISTRY_ALIASES"] = host + "=" + account + ".dkr.ecr." + region + ".amazonaws.com"
	env["HOME"] = t.TempDir()
	get := func() testenv.Result {
		return testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Args: []string{"credential-helper", "get"}, Stdin: "https://" + host + "\n", Timeout: runBound})
	}
	if res := get(); res.ExitCode != 0 || !strings.Contains(res.Stdout, f.password) {
		t.Fatalf("first get: exit %d\n%s", res.ExitCode, res.Stderr)
	}
	// The password expires a minute after ECR answered (at the latest
	// expires): due for refresh once a quarter of it is left (15 s),
	// usable until a twelfth (5 s).
	var expires time.Time
	for _, c := range f.fake.Calls() {
		if c.Operation == "GetAuthorizationToken" {
			expires = c.End.Add(time.Minute)
		}
	}
	time.Sleep(time.Until(expires.Add(-13 * time.Second)))
	f.fake.Inject(awsfake.Fault{Service: "sts", Kind: awsfake.FaultError, Code: "AccessDenied", Status: 403, Message: "Not authorized to perform sts:AssumeRoleWithWebIdentity", Count: 100})
	res := get()
	if res.ExitCode != 0 || !strings.Contains(res.Stdout, f.password) {
		t.Fatalf("get with STS failing and a usable cached password: exit %d\n%s", res.ExitCode, res.Stderr)
	}
	if !strings.Contains(res.Stderr, "could not refresh the password for "+host) || !strings.Contains(res.Stderr, "using the cached one") {
		t.Errorf("no warning on stderr:\n%s", res.Stderr)
	}
	time.Sleep(time.Until(expires.Add(-3 * time.Second)))
	if res := get(); res.ExitCode == 0 {
		t.Errorf("get succeeded with STS failing and only an unusable cached password")
	}
}
