package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestRoleChaining: the job's role assumes a role in the registry's
// account (with an external ID, tags and a source identity), and the
// registry answers to that second role.
func TestRoleChaining(t *testing.T) {
	f := newFixture(t)
	const registryRole = "arn:aws:iam::210987654321:role/ecr-pull"
	must(t, f.fake.AddRole(awsfake.Role{ARN: "arn:aws:iam::123456789012:role/ci-base", Subjects: []string{"repo:octo-org/*"}}))
	must(t, f.fake.AddRole(awsfake.Role{ARN: "arn:aws:iam::123456789012:role/ci-long", Subjects: []string{"repo:octo-org/*"}, MaxSessionDuration: 2 * time.Hour}))
	must(t, f.fake.AddRole(awsfake.Role{ARN: registryRole, ExternalID: "octo-ext-1", ECR: true,
		TrustedPrincipals: []string{"arn:aws:iam::123456789012:role/ci-base", "arn:aws:iam::123456789012:role/ci-long"}}))
	f.fake.MapRegistry("210987654321", region, f.reg.URL)
	f.fake.SetRegistryPassword("210987654321", region, f.password)

	tests := []struct {
		name     string
		inputs   map[string]string
		exitCode int
		inOut    string
	}{
		{"chain with external ID", map[string]string{"role-chain": registryRole, "role-external-id": "octo-ext-1",
			"role-session-tags": "team=platform, pipeline=release", "role-source-identity": "octocat"}, 0,
			"sts:AssumeRoleWithWebIdentity arn:aws:iam::123456789012:role/ci-base -> sts:AssumeRole " + registryRole},
		{"wrong external ID", map[string]string{"role-chain": registryRole, "role-external-id": "guess"}, 1, "title=ecr-credentials%3A assume-role-denied"},
		{"duration over the base role's maximum", map[string]string{"role-chain": registryRole, "role-external-id": "octo-ext-1", "role-duration-seconds": "7200"}, 1,
			"role-duration-seconds"}, // ci-base allows 1h only, so STS refuses 2h for the first hop
		{"chained hop capped to an hour", map[string]string{"role-to-assume": "arn:aws:iam::123456789012:role/ci-long", "role-chain": registryRole,
			"role-external-id": "octo-ext-1", "role-duration-seconds": "7200"}, 0, "sts:AssumeRole " + registryRole}, // 2h for the first hop, 1h for the chained one
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRunner(t)
			in := map[string]string{"role-to-assume": "arn:aws:iam::123456789012:role/ci-base", "aws-region": region}
			for k, v := range tt.inputs {
				in[k] = v
			}
			res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: f.githubEnv(r, in)})
			if res.ExitCode != tt.exitCode {
				t.Fatalf("exit %d, want %d\n%s", res.ExitCode, tt.exitCode, res.Stdout)
			}
			if !strings.Contains(res.Stdout, tt.inOut) {
				t.Errorf("output lacks %q:\n%s", tt.inOut, res.Stdout)
			}
			assertNoLeaks(t, f.fake, res)
			if tt.exitCode == 0 {
				out := readFileCommands(t, r.output)
				if out["password"] != f.password || out["registry"] != strings.TrimPrefix(f.reg.URL, "https://") {
					t.Errorf("the chained role's registry was not logged in to")
				}
			}
		})
	}
}

// TestWebIdentityFromOtherCIs: tokens in variables (GitLab id_tokens by
// name; CircleCI and Bitbucket found by themselves).
func TestWebIdentityFromOtherCIs(t *testing.T) {
	f := newFixture(t)
	token, err := f.fake.MintIDToken("sts.amazonaws.com", awsfake.WithSubject(subject))
	must(t, err)
	base := func() map[string]string {
		env := f.cliEnv(t)
		delete(env, "AWS_WEB_IDENTITY_TOKEN_FILE")
		return env
	}
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		where string
	}{
		{"GitLab id_tokens by name", map[string]string{"GITLAB_ECR_TOKEN": token}, []string{"--web-identity-token-env", "GITLAB_ECR_TOKEN"}, "$GITLAB_ECR_TOKEN"},
		{"CircleCI", map[string]string{"CIRCLE_OIDC_TOKEN_V2": token}, nil, "$CIRCLE_OIDC_TOKEN_V2"},
		{"Bitbucket", map[string]string{"BITBUCKET_STEP_OIDC_TOKEN": token}, nil, "$BITBUCKET_STEP_OIDC_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := base()
			for k, v := range tt.env {
				env[k] = v
			}
			res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Args: append([]string{"get-login-password"}, tt.args...)})
			if res.ExitCode != 0 || res.Stdout != f.password+"\n" {
				t.Fatalf("exit %d\n%s", res.ExitCode, res.Stderr)
			}
			if !strings.Contains(res.Stderr, "web identity token in "+tt.where) {
				t.Errorf("the log does not name the source:\n%s", res.Stderr)
			}
			assertNoLeaksAtAll(t, f.fake, testenv.Result{Stderr: res.Stderr}, token)
		})
	}
}

// TestEnvironmentKeysThroughDefaultChain: AWS_ACCESS_KEY_ID and friends in
// the environment (an earlier configure-aws-credentials step, say) are
// used through the SDK default chain; with role-to-assume they assume it.
func TestEnvironmentKeysThroughDefaultChain(t *testing.T) {
	f := newFixture(t)
	key, err := f.fake.AddAccessKey(awsfake.AccessKey{UserARN: "arn:aws:iam::123456789012:user/deployer", ECR: true})
	must(t, err)
	must(t, f.fake.AddRole(awsfake.Role{ARN: "arn:aws:iam::123456789012:role/from-keys", TrustedPrincipals: []string{"arn:aws:iam::123456789012:user/deployer"}, ECR: true}))
	env := f.cliEnv(t)
	for _, k := range []string{"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"} {
		delete(env, k)
	}
	env["AWS_ACCESS_KEY_ID"] = key.ID
	env["AWS_SECRET_ACCESS_KEY"] = key.Secret

	res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Args: []string{"get-login-password"}})
	if res.ExitCode != 0 || res.Stdout != f.password+"\n" {
		t.Fatalf("keys alone: exit %d\n%s", res.ExitCode, res.Stderr)
	}
	if !strings.Contains(res.Stderr, "AWS SDK default chain (environment variables)") {
		t.Errorf("log does not name the default chain:\n%s", res.Stderr)
	}
	res = testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Args: []string{"get-login-password", "--role-arn", "arn:aws:iam::123456789012:role/from-keys"}})
	if res.ExitCode != 0 || !strings.Contains(res.Stderr, "sts:AssumeRole arn:aws:iam::123456789012:role/from-keys") {
		t.Fatalf("keys + role: exit %d\n%s", res.ExitCode, res.Stderr)
	}
	assertNoLeaksAtAll(t, f.fake, testenv.Result{Stderr: res.Stderr}, key.Secret)

}

// TestInstanceAndContainerRoles: on an EC2 runner (IMDSv2) or in an ECS/EKS
// task, the role comes from the metadata endpoints through the default chain.
func TestInstanceAndContainerRoles(t *testing.T) {
	f := newFixture(t)
	const instanceRole = "arn:aws:iam::123456789012:role/runner-instance"
	const taskRole = "arn:aws:iam::123456789012:role/runner-task"
	must(t, f.fake.AddRole(awsfake.Role{ARN: instanceRole, ECR: true}))
	must(t, f.fake.AddRole(awsfake.Role{ARN: taskRole, ECR: true}))
	base := func() map[string]string {
		env := f.cliEnv(t)
		for _, k := range []string{"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"} {
			delete(env, k)
		}
		return env
	}

	t.Run("EC2 instance role", func(t *testing.T) {
		must(t, f.fake.SetInstanceRole(instanceRole, region))
		env := base()
		for k, v := range f.fake.IMDSEnv() {
			env[k] = v
		}
		res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Args: []string{"get-login-password"}})
		if res.ExitCode != 0 || res.Stdout != f.password+"\n" {
			t.Fatalf("exit %d\n%s", res.ExitCode, res.Stderr)
		}
		if !strings.Contains(res.Stderr, "AWS SDK default chain (EC2 instance role)") {
			t.Errorf("log does not name the instance role:\n%s", res.Stderr)
		}
		assertNoLeaksAtAll(t, f.fake, testenv.Result{Stderr: res.Stderr})
	})
	t.Run("container credentials", func(t *testing.T) {
		if _, _, err := f.fake.SetContainerRole(taskRole); err != nil {
			t.Fatal(err)
		}
		env := base()
		for k, v := range f.fake.ContainerEnv() {
			env[k] = v
		}
		res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Args: []string{"get-login-password"}})
		if res.ExitCode != 0 || res.Stdout != f.password+"\n" {
			t.Fatalf("exit %d\n%s", res.ExitCode, res.Stderr)
		}
		if !strings.Contains(res.Stderr, "AWS SDK default chain (ECS container credentials)") {
			t.Errorf("log does not name the container credentials:\n%s", res.Stderr)
		}
		assertNoLeaksAtAll(t, f.fake, testenv.Result{Stderr: res.Stderr})
	})
}
