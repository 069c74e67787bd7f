package e2e

import (
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestMaskAWSAccountIDBeforeFirstUse: with mask-aws-account-id, every
// account ID the run prints (a role chain hop's, the caller's own with
// static keys or the default chain and no registries) is announced with
// ::add-mask:: before the first line that holds it.
func TestMaskAWSAccountIDBeforeFirstUse(t *testing.T) {
	f := newFixture(t)
	const other = "210987654321"
	key, err := f.fake.AddAccessKey(awsfake.AccessKey{UserARN: "arn:aws:iam::123456789012:user/ci", ECR: true})
	must(t, err)
	must(t, f.fake.AddRole(awsfake.Role{ARN: "arn:aws:iam::" + other + ":role/chained", ECR: true, TrustedPrincipals: []string{roleARN}}))
	f.fake.MapRegistry(other, region, f.reg.URL)
	f.fake.SetRegistryPassword(other, region, f.password)

	for _, tt := range []struct {
		name     string
		inputs   map[string]string
		env      map[string]string
		accounts []string
	}{
		{"role chain hop", map[string]string{"role-to-assume": roleARN, "role-chain": "arn:aws:iam::" + other + ":role/chained"}, nil, []string{account, other}},
		{"static keys, no registries", map[string]string{"aws-access-key-id": key.ID, "aws-secret-access-key": key.Secret}, nil, []string{account}},
		{"default chain, no registries", nil, map[string]string{"AWS_ACCESS_KEY_ID": key.ID, "AWS_SECRET_ACCESS_KEY": key.Secret}, []string{account}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRunner(t)
			in := map[string]string{"aws-region": region, "mask-aws-account-id": "true"}
			for k, v := range tt.inputs {
				in[k] = v
			}
			env := f.githubEnv(r, in)
			for k, v := range tt.env {
				env[k] = v
			}
			res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Timeout: runBound})
			if res.ExitCode != 0 {
				t.Fatalf("exit %d\n%s", res.ExitCode, withoutMaskCommands(res.Stdout))
			}
			lines := strings.Split(res.Stdout, "\n")
			for _, acct := range tt.accounts {
				masked, used := -1, -1
				for i, line := range lines {
					if v, ok := strings.CutPrefix(strings.TrimSpace(line), "::add-mask::"); ok {
						if v == acct && masked < 0 {
							masked = i
						}
						continue
					}
					if used < 0 && strings.Contains(line, acct) {
						used = i
					}
				}
				switch {
				case masked < 0:
					t.Errorf("account %s was never masked", acct)
				case used >= 0 && used < masked:
					t.Errorf("account %s is printed on line %d, before its mask on line %d: %q", acct, used+1, masked+1, lines[used])
				}
			}
		})
	}
}
