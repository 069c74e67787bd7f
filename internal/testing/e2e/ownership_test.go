package e2e

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestRootHandsCreatedDirectoriesToTheTreeOwner: a GitHub container step
// runs as root, the workspace belongs to the runner's user. A docker-config
// a few levels below the workspace makes us create several directories;
// each must belong to the workspace's owner (so later non-root steps can
// read the exported DOCKER_CONFIG and the runner can clean up), the files
// too.
func TestRootHandsCreatedDirectoriesToTheTreeOwner(t *testing.T) {
	testenv.RequireRoot(t)
	const uid, gid = 1001, 1002
	f := newFixture(t)
	r := newRunner(t)
	workspace := filepath.Join(t.TempDir(), "workspace")
	must(t, os.Mkdir(workspace, 0o755))
	must(t, os.Chown(workspace, uid, gid))
	dockerDir := filepath.Join(workspace, "a", "b", "docker")
	env := f.githubEnv(r, map[string]string{"role-to-assume": roleARN, "aws-region": region, "docker-config": dockerDir})
	res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Timeout: runBound})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d\n%s", res.ExitCode, withoutMaskCommands(res.Stdout))
	}
	for _, p := range []string{filepath.Join(workspace, "a"), filepath.Join(workspace, "a", "b"), dockerDir, filepath.Join(dockerDir, "config.json")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != uid || st.Gid != gid {
			t.Errorf("%s is owned by %d:%d; want the workspace owner %d:%d", p, st.Uid, st.Gid, uid, gid)
		}
	}
}
