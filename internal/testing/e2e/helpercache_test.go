package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestHelperCacheKeepsIdentitiesApart: two profiles, one whose user may
// call ECR and one whose user may not. After the first identity's password
// is cached, every way of selecting the second one (AWS_PROFILE,
// AWS_DEFAULT_PROFILE, another credentials or config file, an edited
// file) must ask AWS again, and so be refused, never be served the cached
// password.
func TestHelperCacheKeepsIdentitiesApart(t *testing.T) {
	f := newFixture(t)
	allowed, err := f.fake.AddAccessKey(awsfake.AccessKey{UserARN: "arn:aws:iam::123456789012:user/pusher", ECR: true})
	must(t, err)
	denied, err := f.fake.AddAccessKey(awsfake.AccessKey{UserARN: "arn:aws:iam::123456789012:user/reader"})
	must(t, err)
	host := strings.TrimPrefix(f.reg.URL, "https://")
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		must(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	keys := func(profile string, k awsfake.AccessKey) string {
		return fmt.Sprintf("[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", profile, k.ID, k.Secret)
	}
	twoProfiles := file("credentials", keys("default", allowed)+keys("pusher", allowed)+keys("reader", denied))
	readerOnly := file("credentials-reader", keys("default", denied))
	configAllowed := file("config-allowed", keys("default", allowed))
	configDenied := file("config-denied", keys("default", denied))

	base := func(t *testing.T) map[string]string {
		env := f.cliEnv(t)
		for _, k := range []string{"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"} {
			delete(env, k)
		}
		env["ECR_CREDENTIALS_CACHE_DIR"] = filepath.Join(t.TempDir(), "cache")
		env["ECR_CREDENTIALS_REGISTRY_ALIASES"] = host + "=" + account + ".dkr.ecr." + region + ".amazonaws.com"
		env["HOME"] = t.TempDir()
		env["AWS_SHARED_CREDENTIALS_FILE"] = twoProfiles
		return env
	}
	for _, tt := range []struct {
		name          string
		first, second map[string]string
		edit          func()
	}{
		{"AWS_PROFILE", map[string]string{"AWS_PROFILE": "pusher"}, map[string]string{"AWS_PROFILE": "reader"}, nil},
		{"AWS_DEFAULT_PROFILE", map[string]string{"AWS_DEFAULT_PROFILE": "pusher"}, map[string]string{"AWS_DEFAULT_PROFILE": "reader"}, nil},
		{"AWS_SHARED_CREDENTIALS_FILE", nil, map[string]string{"AWS_SHARED_CREDENTIALS_FILE": readerOnly}, nil},
		{"AWS_CONFIG_FILE", map[string]string{"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": configAllowed},
			map[string]string{"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": configDenied}, nil},
		{"edited credentials file", map[string]string{"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "edited")}, map[string]string{"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "edited")},
			func() { file("edited", keys("default", denied)) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := base(t)
			if tt.edit != nil {
				file("edited", keys("default", allowed))
			}
			get := func(extra map[string]string) testenv.Result {
				e := map[string]string{}
				for k, v := range env {
					e[k] = v
				}
				for k, v := range extra {
					e[k] = v
				}
				return testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: e, Args: []string{"credential-helper", "get"}, Stdin: "https://" + host + "\n", Timeout: runBound})
			}
			res := get(tt.first)
			if res.ExitCode != 0 || !strings.Contains(res.Stdout, f.password) {
				t.Fatalf("first identity: exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
			}
			if tt.edit != nil {
				tt.edit()
			}
			res = get(tt.second)
			if res.ExitCode == 0 || strings.Contains(res.Stdout, f.password) {
				t.Errorf("the second identity (no ECR permission) was served the first one's cached password (exit %d)", res.ExitCode)
			}
			if res.ExitCode != 0 && !strings.Contains(res.Stdout+res.Stderr, "ecr-denied") {
				t.Errorf("second identity: want ECR's refusal, got exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
			}
		})
	}
}
