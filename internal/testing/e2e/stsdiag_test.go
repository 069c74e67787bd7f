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

// providerPath is what IAM names the emulator's OIDC provider by: its
// issuer URL without the scheme.
func providerPath(f *fixture) string { return strings.TrimPrefix(f.fake.IssuerURL(), "https://") }

// TestTrustFailureShowsClaims (issue 24, item 4): when STS refuses the web
// identity token, the one error shows the token's iss (and which CI
// issued it), sub, aud and job_workflow_ref, decoded but never the token,
// next to what the trust policy must match: the provider ARN in the
// role's partition and the <issuer>:aud / <issuer>:sub conditions with the
// token's values. A claim value cannot start a line or a workflow command.
func TestTrustFailureShowsClaims(t *testing.T) {
	const untrusted = "arn:aws:iam::123456789012:role/other-repo"
	tests := []struct {
		name       string
		issuerPath string
		role       string
		region     string
		claims     awsfake.Claims
		code       string
		want       func(f *fixture) []string
	}{
		{name: "github.com subject not trusted", role: untrusted, code: "assume-role-denied",
			want: func(f *fixture) []string {
				p := providerPath(f)
				return []string{`iss "` + f.fake.IssuerURL() + `"`, `sub "` + subject + `"`, `aud "sts.amazonaws.com"`,
					`job_workflow_ref "octo-org/octo-repo/.github/workflows/ci.yml@refs/heads/main"`,
					`{"Federated": "arn:aws:iam::123456789012:oidc-provider/` + p + `"}`,
					`"` + p + `:aud" equal to "sts.amazonaws.com"`, `"` + p + `:sub" equal to "` + subject + `"`,
					`"repo:octo-org/octo-repo:*"`}
			}},
		{name: "audience not in the provider", role: "arn:aws:iam::123456789012:role/other-aud", code: "invalid-identity-token",
			want: func(f *fixture) []string {
				p := providerPath(f)
				return []string{`aud "sts.amazonaws.com"`, "Incorrect token audience",
					"IAM OIDC identity provider arn:aws:iam::123456789012:oidc-provider/" + p, `"https://` + p + `"`}
			}},
		{name: "GitHub Enterprise Server issuer", issuerPath: "/_services/token", role: untrusted, code: "assume-role-denied",
			want: func(f *fixture) []string {
				return []string{"(GitHub Enterprise Server)", "oidc-provider/" + providerPath(f), providerPath(f) + `:sub"`}
			}},
		{name: "Forgejo issuer with ids in sub", issuerPath: "/api/actions", role: untrusted, code: "assume-role-denied",
			claims: awsfake.Claims{Sub: "repo:octo-org-71000001/octo-repo-710000002:ref:refs/heads/main"},
			want: func(f *fixture) []string {
				return []string{"(Forgejo Actions)", `sub "repo:octo-org-71000001/octo-repo-710000002:ref:refs/heads/main"`,
					"oidc-provider/" + providerPath(f), "immutable identifiers"}
			}},
		{name: "aws-us-gov role", role: "arn:aws-us-gov:iam::123456789012:role/gov", region: "us-gov-west-1", code: "assume-role-denied",
			want: func(f *fixture) []string {
				return []string{`{"Federated": "arn:aws-us-gov:iam::123456789012:oidc-provider/` + providerPath(f) + `"}`}
			}},
		{name: "a hostile sub stays on its line", role: untrusted, code: "assume-role-denied",
			claims: awsfake.Claims{Sub: "repo:x/y:ref:main\n::error title=forged::pwned\r\n::add-mask::x"},
			want: func(f *fixture) []string {
				return []string{`sub "repo:x/y:ref:main\n::error title=forged::pwned\r\n::add-mask::x"`}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newEmulatorFixture(t, awsfake.Options{IssuerPath: tt.issuerPath})
			must(t, f.fake.AddRole(awsfake.Role{ARN: "arn:aws:iam::123456789012:role/other-aud", Subjects: []string{"repo:octo-org/*"}, Audience: "my-audience", ECR: true}))
			must(t, f.fake.AddRole(awsfake.Role{ARN: untrusted, Subjects: []string{"repo:someone-else/*"}, ECR: true}))
			f.fake.SetClaims(tt.claims)
			r := newRunner(t)
			reg := region
			if tt.region != "" {
				reg = tt.region
			}
			env := f.githubEnv(r, map[string]string{"role-to-assume": tt.role, "aws-region": reg, "verify": "false"})
			res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Timeout: runBound})
			wantGitHubFailure(t, res, tt.code, tt.want(f)...)
			assertStepUntouched(t, r)
			assertNoLeaks(t, f.fake, res)
			// Every line is ours: no claim started a line or a command.
			for _, l := range strings.Split(res.Stdout, "\n") {
				if strings.Contains(l, "pwned") && !strings.HasPrefix(l, "::error title=ecr-credentials") {
					t.Errorf("a claim value reached a line of its own: %q", l)
				}
			}
			for _, c := range ghrunner.Errors(res.Stdout) {
				if title, _ := c.Property("title"); title == "forged" {
					t.Errorf("a claim value forged an error annotation")
				}
			}
		})
	}
}

// TestTrustFailureShowsClaimsPluginAndCLI: the same explanation in a
// Drone plugin step (token file) and a CLI run (AWS_WEB_IDENTITY_TOKEN_FILE
// and AWS_ROLE_ARN), where the token comes from a file the user made.
func TestTrustFailureShowsClaimsPluginAndCLI(t *testing.T) {
	t.Parallel()
	f := newEmulatorFixture(t, awsfake.Options{})
	otherSub := "repo:someone-else/their-repo:environment:prod"
	token, err := f.fake.MintIDToken("sts.amazonaws.com", awsfake.WithSubject(otherSub))
	must(t, err)
	tokenFile := filepath.Join(t.TempDir(), "token")
	must(t, os.WriteFile(tokenFile, []byte(token), 0o600))
	p := providerPath(f)
	want := []string{`sub "` + otherSub + `"`, `iss "` + f.fake.IssuerURL() + `"`, "arn:aws:iam::123456789012:oidc-provider/" + p,
		`"` + p + `:sub" equal to "` + otherSub + `"`}

	t.Run("plugin", func(t *testing.T) {
		env := f.pluginEnv("drone", map[string]string{"role_arn": roleARN, "region": region, "web_identity_token_file": tokenFile, "verify": "false"}, nil)
		res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Dir: t.TempDir(), Timeout: runBound})
		wantPlainFailure(t, res, res.Stdout, "assume-role-denied", want...)
		assertNoLeaksAtAll(t, f.fake, res, token)
	})
	t.Run("CLI", func(t *testing.T) {
		env := f.cliEnv(t)
		env["AWS_WEB_IDENTITY_TOKEN_FILE"] = tokenFile
		env["HOME"] = t.TempDir()
		res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Args: []string{"login", "--verify=false"}, Timeout: runBound})
		wantPlainFailure(t, res, res.Stderr, "assume-role-denied", want...)
		assertNoLeaksAtAll(t, f.fake, res, token)
	})
}

// TestCredentialErrorAdvice (issue 24, item 5): keys AWS refuses get the
// advice for that error, never "re-run": in GitHub mode STS answers the
// unknown key (InvalidClientTokenId, via GetCallerIdentity) and the wrong
// secret (SignatureDoesNotMatch); in the CLI, ECR answers the unknown key
// itself (UnrecognizedClientException).
func TestCredentialErrorAdvice(t *testing.T) {
	t.Parallel()
	f := newEmulatorFixture(t, awsfake.Options{})
	key, err := f.fake.AddAccessKey(awsfake.AccessKey{UserARN: "arn:aws:iam::123456789012:user/deployer", ECR: true})
	must(t, err)
	unknown := "AKIAIOSFODNN7EXAMPLE"
	for _, tt := range []struct {
		name, id, secret string
		inMsg            []string
	}{
		{"unknown access key", unknown, key.Secret, []string{"InvalidClientTokenId", "AWS does not know the access key ID", "Check the access key ID"}},
		{"wrong secret", key.ID, strings.Repeat("x", 40), []string{"SignatureDoesNotMatch", "Check the secret access key"}},
	} {
		t.Run("GitHub: "+tt.name, func(t *testing.T) {
			r := newRunner(t)
			env := f.githubEnv(r, map[string]string{"aws-access-key-id": tt.id, "aws-secret-access-key": tt.secret, "aws-region": region, "verify": "false"})
			res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Timeout: runBound})
			wantGitHubFailure(t, res, "credentials-rejected", tt.inMsg...)
			if e := ghrunner.Errors(res.Stdout); len(e) == 1 && strings.Contains(strings.ToLower(e[0].Data), "re-run") {
				t.Errorf("credential error says re-run: %s", e[0].Data)
			}
			assertStepUntouched(t, r)
		})
	}
	t.Run("CLI: unknown access key at ECR", func(t *testing.T) {
		env := f.cliEnv(t)
		delete(env, "AWS_WEB_IDENTITY_TOKEN_FILE")
		delete(env, "AWS_ROLE_ARN")
		env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = unknown, key.Secret
		env["HOME"] = t.TempDir()
		res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Args: []string{"get-login-password"}, Timeout: runBound})
		wantPlainFailure(t, res, res.Stderr, "credentials-rejected", "UnrecognizedClientException", "Check the access key ID")
		if strings.Contains(strings.ToLower(res.Stderr), "re-run") {
			t.Errorf("credential error says re-run:\n%s", res.Stderr)
		}
	})
}

// TestStrayAWSProfile (issue 24, item 6): AWS_PROFILE naming a profile no
// shared config file has does not break a run whose identity needs no
// profile (the OIDC token, a token file, static keys): it logs in, with a
// warning naming the profile, in GitHub, plugin and CLI mode. Where the
// default chain would use the profile, the error names it.
func TestStrayAWSProfile(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const stray = "no-such-profile"
	key, err := f.fake.AddAccessKey(awsfake.AccessKey{UserARN: "arn:aws:iam::123456789012:user/deployer", ECR: true})
	must(t, err)
	token, err := f.fake.MintIDToken("sts.amazonaws.com", awsfake.WithSubject(subject))
	must(t, err)
	tokenFile := filepath.Join(t.TempDir(), "token")
	must(t, os.WriteFile(tokenFile, []byte(token), 0o600))

	t.Run("GitHub OIDC", func(t *testing.T) {
		r := newRunner(t)
		env := f.githubEnv(r, map[string]string{"role-to-assume": roleARN, "aws-region": region})
		env["AWS_PROFILE"] = stray
		res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Timeout: runBound})
		if res.ExitCode != 0 {
			t.Fatalf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
		}
		if out := readFileCommands(t, r.output); out["password"] != f.password {
			t.Errorf("no password from the emulator in the outputs")
		}
		if !strings.Contains(res.Stdout, "::warning::AWS_PROFILE names the profile \""+stray+"\"") {
			t.Errorf("no warning naming the profile:\n%s", res.Stdout)
		}
	})
	t.Run("GitHub static keys", func(t *testing.T) {
		r := newRunner(t)
		env := f.githubEnv(r, map[string]string{"aws-access-key-id": key.ID, "aws-secret-access-key": key.Secret, "aws-region": region})
		env["AWS_PROFILE"] = stray
		res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Timeout: runBound})
		if res.ExitCode != 0 {
			t.Fatalf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
		}
		if out := readFileCommands(t, r.output); out["password"] != f.password {
			t.Errorf("no password from the emulator in the outputs")
		}
	})
	t.Run("plugin token file", func(t *testing.T) {
		env := f.pluginEnv("woodpecker", map[string]string{"role_arn": roleARN, "region": region, "web_identity_token_file": tokenFile}, map[string]string{"AWS_PROFILE": stray})
		res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Dir: t.TempDir(), Timeout: runBound})
		if res.ExitCode != 0 {
			t.Fatalf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
		}
		if !strings.Contains(res.Stdout, "WARNING: AWS_PROFILE names the profile \""+stray+"\"") {
			t.Errorf("no warning naming the profile:\n%s", res.Stdout)
		}
	})
	t.Run("CLI token file", func(t *testing.T) {
		env := f.cliEnv(t)
		env["AWS_PROFILE"] = stray
		env["HOME"] = t.TempDir()
		res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Args: []string{"get-login-password"}, Timeout: runBound})
		if res.ExitCode != 0 || res.Stdout != f.password+"\n" {
			t.Fatalf("exit %d, %d bytes on stdout\n%s", res.ExitCode, len(res.Stdout), res.Stderr)
		}
	})
	t.Run("CLI default chain names the profile", func(t *testing.T) {
		env := f.cliEnv(t)
		delete(env, "AWS_WEB_IDENTITY_TOKEN_FILE")
		delete(env, "AWS_ROLE_ARN")
		env["AWS_PROFILE"] = stray + "\n::error::x"
		env["HOME"] = t.TempDir()
		res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Args: []string{"get-login-password"}, Timeout: runBound})
		wantPlainFailure(t, res, res.Stderr, "invalid-setting", "environment variable AWS_PROFILE", `the AWS profile "`+stray+`\n::error::x" is defined in none of the shared config files`)
	})
	t.Run("GitHub default chain names the profile", func(t *testing.T) {
		r := newRunner(t)
		env := f.githubEnv(r, map[string]string{"aws-region": region, "credential-source": "default-chain"})
		env["AWS_PROFILE"] = stray
		res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Timeout: runBound})
		wantGitHubFailure(t, res, "invalid-setting", "AWS_PROFILE", `"`+stray+`"`)
		assertStepUntouched(t, r)
	})
}
