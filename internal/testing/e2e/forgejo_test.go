package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestForgejoOIDC: a Forgejo Actions runner injects
// ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN like GitHub's, but its tokens'
// issuer is the instance's <instance>/api/actions. The GitHub-mode flow
// must work there unchanged: the emulator issues as such an instance (its
// tokens' iss, discovery and JWKS below /api/actions, which STS checks),
// the step sets the variables Forgejo's runner sets (a host step here:
// container steps are TestAct's), and the login is usable.
func TestForgejoOIDC(t *testing.T) {
	f := newFixtureWith(t, awsfake.Options{TLS: true, IssuerPath: "/api/actions"})
	if !strings.HasSuffix(f.fake.IssuerURL(), "/api/actions") || !strings.Contains(f.fake.IDTokenRequestURL(), "/api/actions/") {
		t.Fatalf("the emulator does not issue as a Forgejo instance: iss %s, request URL %s", f.fake.IssuerURL(), f.fake.IDTokenRequestURL())
	}
	r := newRunner(t)
	env := f.githubEnv(r, map[string]string{"role-to-assume": roleARN, "aws-region": region})
	env["FORGEJO_ACTIONS"] = "true"
	env["GITEA_ACTIONS"] = "true" // Forgejo's runner keeps Gitea's variables
	env["GITHUB_SERVER_URL"] = strings.TrimSuffix(f.fake.IssuerURL(), "/api/actions")
	res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	// STS accepted the Forgejo-issued token, and refused none: on a loaded
	// machine the SDK may retry an attempt that was answered (see
	// abandonedSessions), so a second success is no fault.
	ok, refused := 0, 0
	for _, c := range f.fake.Calls() {
		if c.Operation != "AssumeRoleWithWebIdentity" {
			continue
		}
		switch {
		case c.Status == 200:
			ok++
		case c.Status >= 400:
			refused++
		}
	}
	if ok == 0 || refused != 0 {
		t.Errorf("AssumeRoleWithWebIdentity with the Forgejo-issued token: %d accepted, %d refused; want it accepted and never refused", ok, refused)
	}
	host := strings.TrimPrefix(f.reg.URL, "https://")
	ls := exec.Command(testenv.Crane(t), "catalog", host)
	ls.Env = []string{"DOCKER_CONFIG=" + filepath.Join(r.homeDir, ".docker"), "SSL_CERT_FILE=" + f.bundle, "HOME=" + r.homeDir}
	if b, err := ls.CombinedOutput(); err != nil {
		t.Fatalf("crane catalog with the written login: %v\n%s", err, b)
	}
}
