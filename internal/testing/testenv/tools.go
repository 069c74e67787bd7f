package testenv

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// CraneModule is the package path of the crane command, registered in
// go.mod as a tool dependency (`go get -tool ...`).
const CraneModule = "github.com/google/go-containerregistry/cmd/crane"

// toolPackages maps a command to the Debian package that ships it, for the
// message shown when the command is missing.
var toolPackages = map[string]string{
	"docker-registry": "docker-registry",
	"skopeo":          "skopeo",
	"unshare":         "util-linux",
	"ip":              "iproute2",
	"curl":            "curl",
	"docker":          "docker.io",
	"dockerd":         "docker.io",
	"git":             "git",
	"openssl":         "openssl",
	"fish":            "fish",
	"zsh":             "zsh",
	"podman":          "podman",
	"buildah":         "buildah",
	"node":            "nodejs",
	"ldd":             "libc-bin",
}

// extraToolDirs are searched when PATH does not find a command, because
// sbin directories are often missing from a non-login PATH.
var extraToolDirs = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// isCI reports whether the environment variable CI is "true", as on the
// project's CI and on GitHub-hosted runners.
func isCI() bool { return os.Getenv("CI") == "true" }

// missing stops the test because something external is missing: a failure
// when ci is true, a skip otherwise.
func missing(tb testing.TB, ci bool, what, pkg string) {
	tb.Helper()
	msg := fmt.Sprintf("testenv: %s is missing; install it with `apt-get install -y %s`", what, pkg)
	if ci {
		tb.Fatalf("%s (CI=true, so this is a failure rather than a skip)", msg)
	}
	tb.Skipf("%s (skipping; with CI=true this fails)", msg)
}

// lookTool finds a command on PATH or in the usual system directories.
func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range extraToolDirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH or in %s", name, strings.Join(extraToolDirs, ", "))
}

// RequireTool returns the absolute path of the command name. When it is
// missing the test fails if CI=true and is skipped otherwise; the message
// names the Debian package to install.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	return requireTool(t, name, isCI())
}

func requireTool(tb testing.TB, name string, ci bool) string {
	tb.Helper()
	p, err := lookTool(name)
	if err != nil {
		pkg := toolPackages[name]
		if pkg == "" {
			pkg = name
		}
		missing(tb, ci, fmt.Sprintf("command %q", name), pkg)
		return ""
	}
	return p
}

// Skopeo returns the path of the skopeo command (Debian package skopeo).
func Skopeo(t testing.TB) string {
	t.Helper()
	return RequireTool(t, "skopeo")
}

// Crane returns the path of a crane binary built from the module's tool
// dependency. It is built at most once per test process, into the shared
// build cache directory (see BuildBinary), so later processes only relink
// when the sources changed. The build needs no network once the modules are
// in the module cache; inside the isolated namespace it runs with
// GOPROXY=off and says so when a module is missing.
func Crane(t testing.TB) string {
	t.Helper()
	return BuildBinary(t, CraneModule)
}

type buildResult struct {
	once sync.Once
	path string
	err  error
}

var builds sync.Map // key string -> *buildResult

// BuildBinary builds the main package pkg (an import path, or a path
// relative to the module root such as "." or "./cmd/x") with CGO_ENABLED=0
// and the given build tags, once per test process, and returns the binary's
// path. Binaries go to $ECR_TESTENV_BIN_DIR if set, else to
// <user cache dir>/ecr-credentials-testenv/bin; `go build` leaves an
// up-to-date binary alone, and a file lock keeps concurrently running test
// processes from writing the same file at once. A build failure fails the
// test with the compiler's output.
func BuildBinary(t testing.TB, pkg string, tags ...string) string {
	t.Helper()
	key := pkg + "\x00" + strings.Join(tags, ",")
	v, _ := builds.LoadOrStore(key, &buildResult{})
	br := v.(*buildResult)
	br.once.Do(func() { br.path, br.err = buildBinary(pkg, tags) })
	if br.err != nil {
		t.Fatalf("testenv: %v", br.err)
	}
	return br.path
}

var moduleRootOnce struct {
	sync.Once
	dir string
	err error
}

// ModuleRoot returns the directory holding the main module's go.mod.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := moduleRoot()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return dir
}

func moduleRoot() (string, error) {
	moduleRootOnce.Do(func() {
		goBin, err := GoCommand()
		if err != nil {
			moduleRootOnce.err = err
			return
		}
		out, err := exec.Command(goBin, "env", "GOMOD").Output()
		if err != nil {
			moduleRootOnce.err = fmt.Errorf("find module root with `go env GOMOD`: %w", err)
			return
		}
		gomod := strings.TrimSpace(string(out))
		if gomod == "" || gomod == os.DevNull {
			moduleRootOnce.err = errors.New("find module root: not inside a Go module (run the tests from the repository)")
			return
		}
		moduleRootOnce.dir = filepath.Dir(gomod)
	})
	return moduleRootOnce.dir, moduleRootOnce.err
}

// GoCommand finds the go command on PATH (go test puts GOROOT/bin first on
// the PATH of the tests it runs).
func GoCommand() (string, error) {
	p, err := exec.LookPath("go")
	if err != nil {
		return "", errors.New("the go command is not on PATH; put Go's bin directory on PATH")
	}
	return p, nil
}

func binDir() (string, error) {
	if d := os.Getenv("ECR_TESTENV_BIN_DIR"); d != "" {
		return d, os.MkdirAll(d, 0o755)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	d := filepath.Join(base, "ecr-credentials-testenv", "bin")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", fmt.Errorf("create binary cache directory %s: %w", d, err)
	}
	return d, nil
}

func buildBinary(pkg string, tags []string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	goBin, err := GoCommand()
	if err != nil {
		return "", err
	}
	dir, err := binDir()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(root + "\x00" + pkg + "\x00" + strings.Join(tags, ",")))
	base := filepath.Base(strings.TrimSuffix(pkg, "/"))
	if base == "." || base == "/" || base == "" {
		base = filepath.Base(root)
	}
	out := filepath.Join(dir, base+"-"+hex.EncodeToString(sum[:6]))

	// Serialise with other test processes building the same binary.
	lock, err := os.OpenFile(out+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("build %s: open lock file: %w", pkg, err)
	}
	defer lock.Close()
	if err := lockExclusive(lock); err != nil {
		return "", fmt.Errorf("build %s: lock %s: %w", pkg, lock.Name(), err)
	}
	// Closing the file (deferred above) releases the lock.

	args := []string{"build", "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	args = append(args, pkg)
	cmd := exec.Command(goBin, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if inNetNS() {
		// No network in here: fail at once and clearly if a module is missing.
		cmd.Env = append(cmd.Env, "GOPROXY=off", "GOSUMDB=off")
	}
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output
	if err := cmd.Run(); err != nil {
		hint := ""
		if inNetNS() && strings.Contains(output.String(), "GOPROXY=off") {
			hint = "\n(the test runs in a network namespace without network: run `go mod download` before the tests)"
		}
		return "", fmt.Errorf("go build %s (in %s): %w\n%s%s", strings.Join(args[1:], " "), root, err, output.String(), hint)
	}
	return out, nil
}

// RequireRoot stops a test that needs to run as root (to create files for
// another user, as a CI step running as root does): a failure when CI=true
// (CI runs the suite as root), a skip otherwise.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if isCI() {
		t.Fatalf("testenv: this test must run as root (CI=true, so this is a failure rather than a skip)")
	}
	t.Skipf("testenv: this test must run as root (skipping; with CI=true this fails)")
}

// Short reports whether `go test -short` asked for the unit tests alone.
// The packages of slow tests (end-to-end, image, engine, release, fuzz)
// call it first in TestMain and then run nothing, so that
// `go test -short ./...` gives a contributor the unit tests in about a
// minute; CI runs everything.
func Short() bool {
	if !flag.Parsed() {
		flag.Parse()
	}
	if testing.Short() {
		fmt.Println("testenv: -short: this package's slow tests are skipped")
		return true
	}
	return false
}
