package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestConcurrentLogins starts many processes at once that all write to one
// docker config.json (CLI logins to different registries) and one token
// cache (credential helpers asked for different registries). Afterwards
// both files must be valid JSON holding every entry, with the right
// passwords, and no temporary file may be left behind.
func TestConcurrentLogins(t *testing.T) {
	t.Parallel()
	f := newEmulatorFixture(t, awsfake.Options{})
	const perKind = 8
	regions := []string{"eu-west-1", "us-east-1", "ap-southeast-2", "eu-central-1"}
	host := func(kind, i int) string {
		return fmt.Sprintf("%012d.dkr.ecr.%s.amazonaws.com", 100000000000+kind*100+i, regions[i%len(regions)])
	}
	shared := t.TempDir()
	dockerDir := filepath.Join(shared, "docker")
	cacheDir := filepath.Join(shared, "cache")
	must(t, os.MkdirAll(dockerDir, 0o700))
	must(t, os.WriteFile(filepath.Join(dockerDir, "config.json"), []byte(existingConfig), 0o600))

	type result struct {
		host string
		res  testenv.Result
	}
	results := make([]result, 2*perKind)
	var wg sync.WaitGroup
	for i := range perKind {
		wg.Add(2)
		go func() { // docker login through the CLI
			defer wg.Done()
			env := f.cliEnv(t)
			env["DOCKER_CONFIG"] = dockerDir
			h := host(0, i)
			results[i] = result{h, testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Timeout: runBound,
				Args: []string{"login", "--verify=false", h}})}
		}()
		go func() { // docker asking the credential helper
			defer wg.Done()
			env := f.cliEnv(t)
			env["ECR_CREDENTIALS_CACHE_DIR"] = cacheDir
			h := host(1, i)
			results[perKind+i] = result{h, testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Timeout: runBound,
				Args: []string{"credential-helper", "get"}, Stdin: "https://" + h + "\n"})}
		}()
	}
	wg.Wait()

	issued := f.fake.Issued()
	helperPasswords := map[string]string{}
	for i, r := range results {
		if r.res.ExitCode != 0 {
			t.Fatalf("%s: exit %d\n%s%s", r.host, r.res.ExitCode, r.res.Stdout, r.res.Stderr)
		}
		assertNoLeaksAtAll(t, f.fake, testenv.Result{Stderr: r.res.Stderr})
		if i >= perKind {
			var c struct{ Username, Secret string }
			must(t, json.Unmarshal([]byte(r.res.Stdout), &c))
			if c.Username != "AWS" || !contains(issued, c.Secret) {
				t.Errorf("helper answer for %s is not an issued ECR password", r.host)
			}
			helperPasswords[r.host] = c.Secret
		}
	}

	// config.json: every login, the earlier content kept.
	b, err := os.ReadFile(filepath.Join(dockerDir, "config.json"))
	must(t, err)
	var cfg struct {
		Auths    map[string]struct{ Auth string } `json:"auths"`
		PsFormat string                           `json:"psFormat"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("config.json is not valid JSON after concurrent logins: %v", err)
	}
	if cfg.PsFormat != "table {{.ID}}" || cfg.Auths["ghcr.io"].Auth == "" {
		t.Errorf("concurrent logins lost the existing content of config.json")
	}
	for i := range perKind {
		a := cfg.Auths[host(0, i)].Auth
		dec, err := base64.StdEncoding.DecodeString(a)
		pw, ok := strings.CutPrefix(string(dec), "AWS:")
		if err != nil || !ok || !contains(issued, pw) {
			t.Errorf("config.json has no valid login for %s", host(0, i))
		}
	}
	if len(cfg.Auths) != perKind+1 {
		t.Errorf("config.json has %d auths, want %d", len(cfg.Auths), perKind+1)
	}

	// tokens.json: every helper answer cached.
	b, err = os.ReadFile(filepath.Join(cacheDir, "tokens.json"))
	must(t, err)
	var cache struct {
		Entries map[string]struct{ Host, Password string } `json:"entries"`
	}
	if err := json.Unmarshal(b, &cache); err != nil {
		t.Fatalf("tokens.json is not valid JSON after concurrent helpers: %v", err)
	}
	cached := map[string]string{}
	for _, e := range cache.Entries {
		cached[e.Host] = e.Password
	}
	for h, pw := range helperPasswords {
		if cached[h] != pw {
			t.Errorf("the token cache lost the entry for %s", h)
		}
	}
	if len(cache.Entries) != perKind {
		t.Errorf("tokens.json has %d entries, want %d", len(cache.Entries), perKind)
	}

	// Nothing half-written is left behind.
	for _, dir := range []string{dockerDir, cacheDir} {
		entries, err := os.ReadDir(dir)
		must(t, err)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp") {
				t.Errorf("temporary file %s left in %s", e.Name(), dir)
			}
		}
	}
}
