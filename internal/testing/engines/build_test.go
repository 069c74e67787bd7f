package engines

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// engine is one CI engine built from the Go module proxy.
type engine struct {
	name    string // binary name
	module  string
	version string
	// pkg is the main package inside the module; "" means `go install
	// module@version` (act), otherwise the module is downloaded at that
	// exact version and pkg built in its directory (Woodpecker's and
	// Drone's modules are served by exact version only).
	pkg string
}

var (
	act        = engine{name: "act", module: "github.com/nektos/act", version: "v0.2.89"}
	woodpecker = engine{name: "woodpecker-cli", module: "github.com/woodpecker-ci/woodpecker", version: "v1.0.5", pkg: "./cmd/cli"}
	drone      = engine{name: "drone-runner-docker", module: "github.com/drone-runners/drone-runner-docker", version: "v1.8.3", pkg: "."}
)

var engines struct {
	dir   string
	built map[string]string
	err   map[string]error
	took  map[string]time.Duration
}

// buildEngines builds every engine, all at once, into a temporary
// directory. TestMain calls it before m.Run, so a cold build (minutes on a
// fresh machine; the Go build cache makes later runs take seconds) does not
// count against the test binary's timeout. Without the docker CLI nothing
// is built: the tests skip (or fail under CI=true) before asking.
func buildEngines() {
	engines.built, engines.err, engines.took = map[string]string{}, map[string]error{}, map[string]time.Duration{}
	if _, err := exec.LookPath("docker"); err != nil && os.Getenv("CI") != "true" {
		return
	}
	d, err := os.MkdirTemp("", "engines-bin-")
	if err != nil {
		for _, e := range allEngines {
			engines.err[e.name] = err
		}
		return
	}
	engines.dir = d
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, e := range allEngines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			p, err := e.build(d)
			mu.Lock()
			defer mu.Unlock()
			engines.took[e.name] = time.Since(start)
			if err != nil {
				engines.err[e.name] = err
			} else {
				engines.built[e.name] = p
			}
		}()
	}
	wg.Wait()
}

var allEngines = []engine{act, woodpecker, drone}

// binary returns the path of e's binary (see buildEngines). A build that
// failed fails the test when CI=true and skips it otherwise.
func (e engine) binary(t *testing.T) string {
	t.Helper()
	if err, ok := engines.err[e.name]; ok {
		failOrSkip(t, err)
	}
	p, ok := engines.built[e.name]
	if !ok {
		failOrSkip(t, fmt.Errorf("%s was not built (no docker CLI on PATH)", e.name))
	}
	t.Logf("%s %s built in %s (all engines were built at once, before the tests)", e.module, e.version, engines.took[e.name].Round(100*time.Millisecond))
	return p
}

func failOrSkip(t *testing.T, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%v (CI=true, so this is a failure rather than a skip)", err)
	}
	t.Skipf("%v (skipping; with CI=true this fails)", err)
}

func (e engine) build(dir string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("building %s needs the go command: %w", e.name, err)
	}
	out := filepath.Join(dir, e.name)
	// The engines are other modules: build them outside this module's
	// settings (no workspace, no -mod flags), from the module proxy.
	env := append(withoutEnv(os.Environ(), "GOFLAGS", "GOWORK", "GOBIN"), "GOWORK=off", "GOFLAGS=", "CGO_ENABLED=0")
	if e.pkg == "" {
		_, err := goCmd(goBin, dir, append(env, "GOBIN="+dir), "install", e.module+"@"+e.version)
		if err != nil {
			return "", fmt.Errorf("go install %s@%s: %w", e.module, e.version, err)
		}
		return out, nil
	}
	js, err := goCmd(goBin, dir, env, "mod", "download", "-json", e.module+"@"+e.version)
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w", e.module, e.version, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal([]byte(js), &mod); err != nil || mod.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s printed no module directory: %v", e.module, e.version, err)
	}
	if _, err := goCmd(goBin, mod.Dir, env, "build", "-trimpath", "-o", out, e.pkg); err != nil {
		return "", fmt.Errorf("go build %s in %s@%s: %w", e.pkg, e.module, e.version, err)
	}
	return out, nil
}

func goCmd(goBin, dir string, env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%v\n%s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

func withoutEnv(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		keep := true
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

func removeEngines() {
	if engines.dir != "" {
		_ = os.RemoveAll(engines.dir)
	}
}

// isolated runs bin inside a network namespace of its own (loopback up,
// nothing else), so that an engine can reach nothing but the Docker
// Engine's unix socket. dir is the working directory, env the whole
// environment.
func isolated(t *testing.T, dir string, env []string, timeout time.Duration, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	unshare := testenv.RequireTool(t, "unshare")
	ip := testenv.RequireTool(t, "ip")
	ns := []string{"-n"}
	if os.Geteuid() != 0 {
		ns = append(ns, "-r") // a user namespace lets a non-root user make the network one
	}
	// The script's $0 is ip(8), "$@" the engine and its arguments.
	argv := append(append(ns, "--", "sh", "-c", `"$0" link set lo up || exit 97; exec "$@"`, ip, bin), args...)
	return run(t, dir, env, timeout, unshare, argv...)
}

// run runs bin and returns what it printed and its exit code; a command
// that cannot start or outlives timeout fails the test. The environment
// is never printed (it may hold secrets).
func run(t *testing.T, dir string, env []string, timeout time.Duration, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir, cmd.Env = dir, env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s still running after %s, killed\nstdout:\n%s\nstderr:\n%s", filepath.Base(bin), timeout, o.String(), e.String())
	}
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", filepath.Base(bin), err)
	}
	return o.String(), e.String(), code
}
