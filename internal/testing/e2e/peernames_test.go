package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestPeerNames (issue 24 item 2): the names amazon-ecr-login,
// configure-aws-credentials and Harness's Drone plugins give settings are
// taken with the peer's meaning, against the emulator: before, each was
// silently ignored (registry-type: public logged in to the private
// registry, role-chaining used the OIDC token, ...). The refused ones are
// cases of TestBadInput.
func TestPeerNames(t *testing.T) {
	f := newFixture(t)
	local := strings.TrimPrefix(f.reg.URL, "https://")
	const userARN = "arn:aws:iam::123456789012:user/earlier-step"
	key, err := f.fake.AddAccessKey(awsfake.AccessKey{UserARN: userARN})
	must(t, err)
	const chained = "arn:aws:iam::123456789012:role/chained"
	must(t, f.fake.AddRole(awsfake.Role{ARN: chained, TrustedPrincipals: []string{userARN}, ECR: true}))
	// An earlier configure-aws-credentials step left these in the job.
	earlier := map[string]string{"AWS_ACCESS_KEY_ID": key.ID, "AWS_SECRET_ACCESS_KEY": key.Secret}

	cases := []struct {
		name   string
		inputs map[string]string
		env    map[string]string
		// wantRegistries is the registries output; wantOp the STS call
		// that issued the session.
		wantRegistries, wantOp string
		check                  func(t *testing.T, r *runner, res testenv.Result)
	}{
		{name: "registry-type public alone: ECR Public only",
			inputs:         map[string]string{"registry-type": "public"},
			wantRegistries: "public.ecr.aws", wantOp: "AssumeRoleWithWebIdentity"},
		{name: "registry-type public with registries: ECR Public added",
			inputs:         map[string]string{"registry-type": "Public", "registries": account},
			wantRegistries: local + ",public.ecr.aws", wantOp: "AssumeRoleWithWebIdentity"},
		{name: "registry-type private: the default",
			inputs:         map[string]string{"registry-type": "private"},
			wantRegistries: local, wantOp: "AssumeRoleWithWebIdentity"},
		{name: "role-chaining: the job's AWS credentials assume the role, not the OIDC token",
			inputs: map[string]string{"role-chaining": "true", "role-to-assume": chained}, env: earlier,
			wantRegistries: local, wantOp: "AssumeRole",
			check: func(t *testing.T, r *runner, _ testenv.Result) {
				if arn := readFileCommands(t, r.output)["authenticated-arn"]; !strings.Contains(arn, "assumed-role/chained/") {
					t.Errorf("authenticated-arn = %q, want the chained role's session", arn)
				}
			}},
		{name: "output-credentials: the aws-* outputs",
			inputs:         map[string]string{"output-credentials": "true"},
			wantRegistries: local, wantOp: "AssumeRoleWithWebIdentity",
			check: func(t *testing.T, r *runner, _ testenv.Result) {
				if out := readFileCommands(t, r.output); !strings.HasPrefix(out["aws-access-key-id"], "ASIA") || out["aws-secret-access-key"] == "" {
					t.Errorf("no aws-* outputs: aws-access-key-id = %q", out["aws-access-key-id"])
				}
			}},
		{name: "output-env-credentials: the AWS_* variables",
			inputs:         map[string]string{"output-env-credentials": "true"},
			wantRegistries: local, wantOp: "AssumeRoleWithWebIdentity",
			check: func(t *testing.T, r *runner, _ testenv.Result) {
				if env := readFileCommands(t, r.env); !strings.HasPrefix(env["AWS_ACCESS_KEY_ID"], "ASIA") || env["AWS_SESSION_TOKEN"] == "" {
					t.Errorf("no AWS_* variables exported: AWS_ACCESS_KEY_ID = %q", env["AWS_ACCESS_KEY_ID"])
				}
			}},
		{name: "output-env-credentials false: nothing exported, as by default here",
			inputs:         map[string]string{"output-env-credentials": "false", "disable-retry": "false"},
			wantRegistries: local, wantOp: "AssumeRoleWithWebIdentity",
			check: func(t *testing.T, r *runner, _ testenv.Result) {
				if env := readFileCommands(t, r.env); env["AWS_ACCESS_KEY_ID"] != "" {
					t.Errorf("AWS_ACCESS_KEY_ID exported")
				}
			}},
		{name: "mask-passwords false: read as mask-password",
			inputs:         map[string]string{"mask-passwords": "false"},
			wantRegistries: local, wantOp: "AssumeRoleWithWebIdentity",
			check: func(t *testing.T, _ *runner, res testenv.Result) {
				if !strings.Contains(res.Stdout, "mask-password is false") {
					t.Errorf("mask-passwords: false was not read as mask-password: false:\n%s", res.Stdout)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRunner(t)
			in := map[string]string{"role-to-assume": roleARN, "aws-region": region, "verify": "false"}
			for k, v := range tc.inputs {
				in[k] = v
			}
			env := f.githubEnv(r, in)
			for k, v := range tc.env {
				env[k] = v
			}
			before := len(f.fake.Calls())
			res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env})
			if res.ExitCode != 0 {
				t.Fatalf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
			}
			if got := readFileCommands(t, r.output)["registries"]; got != tc.wantRegistries {
				t.Errorf("registries = %q, want %q", got, tc.wantRegistries)
			}
			op := ""
			for _, c := range f.fake.Calls()[before:] {
				if c.Service == "sts" && strings.HasPrefix(c.Operation, "AssumeRole") {
					op = c.Operation
				}
			}
			if op != tc.wantOp {
				t.Errorf("the session came from %q, want %s", op, tc.wantOp)
			}
			for _, c := range ghrunner.ParseWorkflowCommands(res.Stdout) {
				if c.Name == "warning" && strings.Contains(c.Data, "INPUT_") {
					t.Errorf("warning about an input: %s", c.Data)
				}
			}
			if tc.check != nil {
				tc.check(t, r, res)
			}
		})
	}

	// Harness's Drone plugins pass the job's OIDC token itself in
	// oidc_token_id, with the role in assume_role.
	t.Run("plugin oidc_token_id", func(t *testing.T) {
		token, err := f.fake.MintIDToken("sts.amazonaws.com", awsfake.WithSubject(subject))
		must(t, err)
		ws := t.TempDir()
		env := f.pluginEnv("drone", map[string]string{"assume_role": roleARN, "region": region, "oidc_token_id": token, "verify": "false"},
			map[string]string{"HOME": t.TempDir()})
		res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Dir: ws})
		if res.ExitCode != 0 {
			t.Fatalf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
		}
		if strings.Contains(res.Stdout+res.Stderr, token) {
			t.Error("the token appears in the log")
		}
		if _, err := os.Stat(filepath.Join(ws, ".docker", "config.json")); err != nil {
			t.Errorf("no docker login in the workspace: %v", err)
		}
		if !strings.Contains(res.Stdout, "web identity") && !strings.Contains(res.Stdout, "AssumeRoleWithWebIdentity") {
			t.Errorf("the log does not say the token was exchanged:\n%s", res.Stdout)
		}
	})
}
