package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestHelperCacheKeysOnTheSession: the credential helper's token cache
// keys on everything that shapes the role session. Two settings files
// that differ only in role-session-name, a session tag or the source
// identity each make their own STS call (principals, ABAC conditions and
// CloudTrail go by these), where the same settings twice make one. Run as
// `credential-helper get` and as docker runs it (docker-credential-*),
// with ECR_CREDENTIALS_CONFIG, and as the helper a refresh login leaves
// (its helper.json beside its bin/).
func TestHelperCacheKeysOnTheSession(t *testing.T) {
	f := newFixture(t)
	const chained = "arn:aws:iam::123456789012:role/chained"
	must(t, f.fake.AddRole(awsfake.Role{ARN: chained, ECR: true, TrustedPrincipals: []string{roleARN}}))
	host := strings.TrimPrefix(f.reg.URL, "https://")
	link := filepath.Join(t.TempDir(), "docker-credential-ecr-credentials")
	must(t, os.Symlink(f.bin, link))

	base := map[string]string{"role-to-assume": roleARN, "aws-region": region, "verify": "false"}
	chain := map[string]string{"role-to-assume": roleARN, "aws-region": region, "verify": "false", "role-chain": chained}
	with := func(m map[string]string, k, v string) map[string]string {
		out := map[string]string{k: v}
		for a, b := range m {
			if a != k {
				out[a] = b
			}
		}
		return out
	}
	for _, tt := range []struct {
		name          string
		first, second map[string]string
		op            string // the STS operation the difference goes into
		ask           bool   // the second get must ask STS (not be served from the cache)
	}{
		{"same settings: the second from the cache", with(base, "role-session-name", "alice"), with(base, "role-session-name", "alice"), "AssumeRoleWithWebIdentity", false},
		{"role-session-name", with(base, "role-session-name", "alice"), with(base, "role-session-name", "bob"), "AssumeRoleWithWebIdentity", true},
		{"role-session-tags", with(chain, "role-session-tags", "Team=blue"), with(chain, "role-session-tags", "Team=red"), "AssumeRole", true},
		{"role-source-identity", with(chain, "role-source-identity", "alice"), with(chain, "role-source-identity", "bob"), "AssumeRole", true},
	} {
		for _, prog := range []string{"credential-helper get", "docker-credential-ecr-credentials get", "refresh helper"} {
			t.Run(tt.name+"/"+prog, func(t *testing.T) {
				env := f.cliEnv(t)
				env["HOME"] = t.TempDir()
				env["ECR_CREDENTIALS_CACHE_DIR"] = filepath.Join(t.TempDir(), "cache")
				env["ECR_CREDENTIALS_REGISTRY_ALIASES"] = host + "=" + account + ".dkr.ecr." + region + ".amazonaws.com"
				bin, args := f.bin, []string{"credential-helper", "get"}
				refreshDir := ""
				switch prog {
				case "docker-credential-ecr-credentials get":
					bin, args = link, []string{"get"}
				case "refresh helper":
					refreshDir = filepath.Join(t.TempDir(), "ecr-credentials-refresh")
					bin, args = filepath.Join(refreshDir, "bin", "docker-credential-ecr-credentials"), []string{"get"}
					must(t, os.MkdirAll(filepath.Dir(bin), 0o700))
					exe, err := os.ReadFile(f.bin)
					must(t, err)
					must(t, os.WriteFile(bin, exe, 0o700))
				}
				var before int
				for i, settings := range []map[string]string{tt.first, tt.second} {
					before = stsCalls(f.fake.Calls(), tt.op) // the second get's calls are counted
					b, err := json.Marshal(map[string]any{"settings": settings})
					must(t, err)
					if refreshDir != "" {
						must(t, os.WriteFile(filepath.Join(refreshDir, "helper.json"), b, 0o600))
					} else {
						file := filepath.Join(t.TempDir(), "helper.json")
						must(t, os.WriteFile(file, b, 0o600))
						env["ECR_CREDENTIALS_CONFIG"] = file
					}
					res := testenv.RunProgram(t, bin, testenv.RunOptions{Env: env, Args: args, Stdin: "https://" + host + "\n", Timeout: runBound})
					if res.ExitCode != 0 || !strings.Contains(res.Stdout, f.password) {
						t.Fatalf("get %d: exit %d\n%s%s", i+1, res.ExitCode, res.Stdout, res.Stderr)
					}
				}
				// A retried attempt may add a call; none at all means the cache answered.
				if asked := stsCalls(f.fake.Calls(), tt.op) > before; asked != tt.ask {
					if tt.ask {
						t.Errorf("the second get made no STS %s call: it was served the first settings' cached password", tt.op)
					} else {
						t.Errorf("the second get with the same settings called STS %s: the cache did not answer", tt.op)
					}
				}
			})
		}
	}
}

// stsCalls counts the successful STS calls of op.
func stsCalls(calls []awsfake.Call, op string) int {
	n := 0
	for _, c := range calls {
		if c.Service == "sts" && c.Operation == op && c.Status == 200 {
			n++
		}
	}
	return n
}
