package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestRefreshTwoStepsTwoRoles (issue 14 follow-up): two steps of one job use
// the action with refresh, each with its own role and registry (accounts
// 123456789012 and 222222222222, each registry taking only its own
// account's password). Each host's credHelpers entry names a helper that
// logs in again with the identity of the step that logged that host in;
// the second step's post stage restores config.json and the refresh
// directory exactly as the first left them, the first's removes the rest.
func TestRefreshTwoStepsTwoRoles(t *testing.T) {
	f := newFixture(t)
	const account2, role2 = "222222222222", "arn:aws:iam::222222222222:role/github-ecr-other"
	must(t, f.fake.AddRole(awsfake.Role{ARN: role2, Subjects: []string{"repo:octo-org/octo-repo:*"}, ECR: true}))
	pw2 := ecrLikePassword(t)
	ca := testenv.NewCA(t)
	reg2 := testenv.StartRegistry(t, testenv.RegistryOptions{Password: pw2, TLS: true, CA: ca})
	f.fake.MapRegistry(account2, region, "https://"+reg2.Addr)
	f.fake.SetRegistryPassword(account2, region, pw2)
	f.bundle = f.bundleWith(t, ca)
	host1, host2 := strings.TrimPrefix(f.reg.URL, "https://"), reg2.Addr

	first := newRunner(t)
	second := newRunner(t)
	second.homeDir = first.homeDir // one job: one HOME
	dockerDir := filepath.Join(first.homeDir, ".docker")
	refreshDir := filepath.Join(dockerDir, "ecr-credentials-refresh")

	step := func(r *runner, role string) map[string]string {
		t.Helper()
		env := f.githubEnv(r, map[string]string{"role-to-assume": role, "aws-region": region, "refresh": "true"})
		env["GITHUB_PATH"] = filepath.Join(r.dir, "path")
		must(t, os.WriteFile(env["GITHUB_PATH"], nil, 0o644))
		res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env})
		if res.ExitCode != 0 {
			t.Fatalf("step with %s: exit %d\n%s", role, res.ExitCode, abbreviate(res.Stderr))
		}
		return readFileCommands(t, r.state)
	}
	post := func(r *runner, state map[string]string) {
		t.Helper()
		env := f.githubEnv(r, nil)
		for k, v := range state {
			env["STATE_"+k] = v
		}
		res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Args: []string{"post"}})
		if res.ExitCode != 0 {
			t.Fatalf("post: exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
		}
	}
	// snapshot is config.json and every file of the refresh directory but
	// the token cache (the helpers' shared cache, filled as they are used).
	snapshot := func() map[string]string {
		t.Helper()
		files := map[string]string{}
		b, err := os.ReadFile(filepath.Join(dockerDir, "config.json"))
		if err == nil {
			files["config.json"] = string(b)
		}
		_ = filepath.Walk(refreshDir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.IsDir() && fi.Name() == "cache" {
				return filepath.SkipDir
			}
			if err == nil && !fi.IsDir() {
				b, _ := os.ReadFile(p)
				rel, _ := filepath.Rel(dockerDir, p)
				files[rel] = string(b)
			}
			return nil
		})
		return files
	}
	// helperFor runs the helper config.json names for host as docker would
	// (docker-credential-<name> get, from PATH) and returns its password.
	laterStep := f.githubEnv(newRunner(t), nil)
	laterStep["HOME"] = first.homeDir
	laterStep["PATH"] = filepath.Join(refreshDir, "bin") + string(os.PathListSeparator) + os.Getenv("PATH")
	var envList []string
	for k, v := range laterStep {
		envList = append(envList, k+"="+v)
	}
	helperFor := func(host string) string {
		t.Helper()
		var cfg struct{ CredHelpers map[string]string }
		b, err := os.ReadFile(filepath.Join(dockerDir, "config.json"))
		must(t, err)
		must(t, json.Unmarshal(b, &cfg))
		name := cfg.CredHelpers[host]
		if name == "" {
			t.Fatalf("config.json names no credential helper for %s:\n%s", host, b)
		}
		cmd := exec.Command(filepath.Join(refreshDir, "bin", "docker-credential-"+name), "get")
		cmd.Env, cmd.Stdin = envList, strings.NewReader("https://"+host+"\n")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("docker-credential-%s get %s: %v\n%s", name, host, err, stderr.String())
			return ""
		}
		var c struct{ Secret string }
		must(t, json.Unmarshal(out, &c))
		return c.Secret
	}
	crane := func(host string) error {
		cmd := exec.Command(testenv.Crane(t), "catalog", host)
		cmd.Env = append(append([]string{}, envList...), "DOCKER_CONFIG="+dockerDir)
		if out, err := cmd.CombinedOutput(); err != nil {
			return &exec.ExitError{Stderr: out}
		}
		return nil
	}

	state1 := step(first, roleARN)
	afterFirst := snapshot()
	state2 := step(second, role2)

	for host, want := range map[string]string{host1: f.password, host2: pw2} {
		if got := helperFor(host); got != want {
			t.Errorf("the helper config.json names for %s did not log in with the identity of the step that logged that host in", host)
		}
		if err := crane(host); err != nil {
			t.Errorf("crane catalog %s through the helper: %s", host, abbreviate(string(err.(*exec.ExitError).Stderr)))
		}
	}

	post(second, state2)
	if got := snapshot(); !equalFiles(got, afterFirst) {
		t.Errorf("after the second step's post stage the docker config and refresh directory are not as the first step left them:\nhave %v\nwant %v", keys(got), keys(afterFirst))
	}
	if got := helperFor(host1); got != f.password {
		t.Errorf("after the second step's post stage the first step's helper does not serve %s", host1)
	}
	post(first, state1)
	if _, err := os.Stat(refreshDir); err == nil {
		t.Errorf("the refresh directory %s is left after both post stages", refreshDir)
	}
	if b, err := os.ReadFile(filepath.Join(dockerDir, "config.json")); err == nil && (strings.Contains(string(b), host1) || strings.Contains(string(b), host2)) {
		t.Errorf("config.json still names a registry after both post stages:\n%s", b)
	}
}

func equalFiles(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
