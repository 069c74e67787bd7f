package release

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// GoReleaser is built (or found in the build cache) by the parent process,
// which still has network access to download modules, and handed to the
// test process in the network namespace through these variables.
const (
	goreleaserPathEnv = "ECR_RELEASE_TEST_GORELEASER"
	goreleaserErrEnv  = "ECR_RELEASE_TEST_GORELEASER_ERROR"
)

// goreleaserModFile is the module file that pins GoReleaser, relative to the
// module root.
const goreleaserModFile = "internal/testing/release/goreleaser.mod"

func TestMain(m *testing.M) {
	if testenv.Short() {
		return
	}
	if os.Getenv(testenv.NetNSEnv) == "" {
		path, err := buildGoreleaser()
		if err != nil {
			os.Setenv(goreleaserErrEnv, err.Error())
		} else {
			os.Setenv(goreleaserPathEnv, path)
		}
	}
	os.Exit(testenv.IsolateNetwork(m))
}

// buildGoreleaser builds the GoReleaser pinned in goreleaser.mod, or finds
// it in the build cache, and returns the binary's path.
func buildGoreleaser() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	goBin, err := testenv.GoCommand()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(goBin, "tool", "-modfile="+filepath.Join(root, goreleaserModFile), "-n", "goreleaser")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("build GoReleaser with `go tool -modfile=%s -n goreleaser`: %w\n%s\n"+
			"(it needs its modules in the module cache: run `go mod download -modfile=%s` once with network access)",
			goreleaserModFile, err, tail(stderr.String(), 20), goreleaserModFile)
	}
	path := strings.TrimSpace(string(out))
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("`go tool -n goreleaser` printed %q, which is not a file: %w", path, err)
	}
	return path, nil
}

// moduleRoot is the directory of go.mod, found from the package directory
// (go test runs tests there) without the go command.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the module root: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("find the module root: no go.mod above %s", dir)
		}
	}
}

// goreleaser returns the GoReleaser binary TestMain prepared. When there is
// none the test fails if CI=true and is skipped otherwise.
func goreleaser(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(goreleaserPathEnv); p != "" {
		return p
	}
	msg := os.Getenv(goreleaserErrEnv)
	if msg == "" {
		msg = "GoReleaser was not built (TestMain did not run in the parent process)"
	}
	missingTool(t, msg)
	return ""
}

// missingTool stops a test that cannot get a tool: a failure with CI=true,
// a skip otherwise.
func missingTool(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s\n(CI=true, so this is a failure rather than a skip)", msg)
	}
	t.Skipf("%s\n(skipping; with CI=true this fails)", msg)
}

func root(t *testing.T) string {
	t.Helper()
	r, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
