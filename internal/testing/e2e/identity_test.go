package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

const pullRole = "arn:aws:iam::222222222222:role/pull"

// TestRegistryWithItsOwnRole (issue 14, part 2): a registries entry that
// names its own role is logged in to with that role, assumed from the
// job's token like role-to-assume; the rest use role-to-assume. One
// AssumeRoleWithWebIdentity per distinct role and one
// GetAuthorizationToken per (role, region). Two real registries, each
// accepting only its own account's password, are read with crane through
// the written docker login; without the entry's role the second refuses.
func TestRegistryWithItsOwnRole(t *testing.T) {
	f := newFixture(t)
	must(t, f.fake.AddRole(awsfake.Role{ARN: pullRole, Subjects: []string{"repo:octo-org/octo-repo:*"}, ECR: true}))
	pw2 := ecrLikePassword(t)
	ca := testenv.NewCA(t)
	reg2 := testenv.StartRegistry(t, testenv.RegistryOptions{Password: pw2, TLS: true, CA: ca})
	f.fake.SetRegistryPassword("222222222222", region, pw2)
	bundle := f.bundleWith(t, ca)
	local := strings.TrimPrefix(f.reg.URL, "https://")

	login := func(t *testing.T, entry string) (*runner, testenv.Result, int) {
		r := newRunner(t)
		env := f.githubEnv(r, map[string]string{
			"role-to-assume":   roleARN,
			"aws-region":       region,
			"registry-aliases": reg2.Addr + "=222222222222.dkr.ecr." + region + ".amazonaws.com",
			"registries": strings.Join([]string{
				"123456789012.dkr.ecr.eu-west-1.amazonaws.com", // role-to-assume, eu-west-1
				entry, // the second local registry, maybe with its own role
				"222222222222.dkr.ecr.us-east-1.amazonaws.com=" + pullRole,
				"210987654321.dkr.ecr.us-east-1.amazonaws.com", // role-to-assume, us-east-1
			}, "\n"),
			"verify": "false", // the hosts in us-east-1 do not exist here
		})
		env["SSL_CERT_FILE"] = bundle
		mark := len(f.fake.Calls())
		return r, testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env}), mark
	}
	crane := func(r *runner, host string) error {
		cmd := exec.Command(testenv.Crane(t), "catalog", host)
		cmd.Env = []string{"DOCKER_CONFIG=" + filepath.Join(r.homeDir, ".docker"), "SSL_CERT_FILE=" + bundle, "HOME=" + r.homeDir}
		out, err := cmd.CombinedOutput()
		if err != nil {
			return &cmdError{err: err, out: abbreviate(string(out))}
		}
		return nil
	}

	r, res, mark := login(t, reg2.Addr+"="+pullRole)
	if res.ExitCode != 0 {
		t.Fatalf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	assertNoLeaks(t, f.fake, res)
	var calls []string
	for _, c := range callsSince(f.fake, mark) {
		if c.Status != 200 {
			continue // a throttled or abandoned attempt the client retried
		}
		switch c.Operation {
		case "AssumeRoleWithWebIdentity":
			calls = append(calls, "sts")
		case "GetAuthorizationToken":
			calls = append(calls, "ecr/"+c.Region)
		case "IDToken":
			calls = append(calls, "oidc")
		}
	}
	sort.Strings(calls)
	want := "ecr/eu-west-1 ecr/eu-west-1 ecr/us-east-1 ecr/us-east-1 oidc sts sts"
	if got := strings.Join(calls, " "); got != want {
		t.Errorf("calls = %s, want %s (one token, one STS call per role, one ECR call per role and region)", got, want)
	}
	for _, line := range []string{"AWS credentials for " + reg2.Addr + ", 222222222222.dkr.ecr.us-east-1.amazonaws.com: ", "sts:AssumeRoleWithWebIdentity " + pullRole} {
		if !strings.Contains(res.Stdout, line) {
			t.Errorf("the log lacks %q:\n%s", line, res.Stdout)
		}
	}
	out := readFileCommands(t, r.output)
	wantHosts := local + "," + reg2.Addr + ",222222222222.dkr.ecr.us-east-1.amazonaws.com,210987654321.dkr.ecr.us-east-1.amazonaws.com"
	if out["registries"] != wantHosts {
		t.Errorf("registries output = %q, want %q (the order given)", out["registries"], wantHosts)
	}
	for _, host := range []string{local, reg2.Addr} {
		if err := crane(r, host); err != nil {
			t.Errorf("crane catalog %s with the written login: %v", host, err)
		}
	}

	// Without its own role the second registry gets the main role's
	// account password, which it refuses: the check above can fail.
	r, res, _ = login(t, reg2.Addr)
	if res.ExitCode != 0 {
		t.Fatalf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	if err := crane(r, reg2.Addr); err == nil {
		t.Errorf("crane catalog %s worked with role-to-assume's password", reg2.Addr)
	}
	if err := crane(r, local); err != nil {
		t.Errorf("crane catalog %s: %v", local, err)
	}
}

// TestRegistryRoleRefusedNothingWritten: when the role of one entry does
// not trust the token, the run fails naming that role, and nothing is
// written, not even the logins that worked.
func TestRegistryRoleRefusedNothingWritten(t *testing.T) {
	f := newFixture(t)
	must(t, f.fake.AddRole(awsfake.Role{ARN: pullRole, Subjects: []string{"repo:someone-else/*"}, ECR: true}))
	r := newRunner(t)
	env := f.githubEnv(r, map[string]string{
		"role-to-assume": roleARN,
		"aws-region":     region,
		"registries":     "123456789012, 222222222222=" + pullRole,
	})
	res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env})
	wantGitHubFailure(t, res, "assume-role-denied", "identity "+pullRole, pullRole)
	assertStepUntouched(t, r)
}

// bundleWith is a CA bundle file trusting what f.bundle trusts and ca
// (a second registry's).
func (f *fixture) bundleWith(t *testing.T, ca *testenv.CA) string {
	a, err := os.ReadFile(f.bundle)
	must(t, err)
	b, err := os.ReadFile(ca.CertFile)
	must(t, err)
	bundle := filepath.Join(t.TempDir(), "bundle.pem")
	must(t, os.WriteFile(bundle, append(append(a, '\n'), b...), 0o644))
	return bundle
}

type cmdError struct {
	err error
	out string
}

func (e *cmdError) Error() string { return e.err.Error() + ": " + e.out }
