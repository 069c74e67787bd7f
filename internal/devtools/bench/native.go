package main

// The native form of the action (native/action.yml, issue 23) as the runner
// runs a node action: node starts native/main.js, the launcher finds our
// binary in the runner's tool cache (or fetches it), checks its SHA-256
// against native/checksums.json, and runs it with the step's environment.
// The benchmark makes a release of its own for that: the binary it
// measures, packed as GoReleaser packs it, and the checksums written by the
// release workflow's own generator (internal/testing/docs).

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/snapshot"
)

const (
	nativeName      = "ecr-credentials native (node + launcher, cached binary)"
	nativeFirstName = "ecr-credentials native, first run (download + verify)"
	// nativeVersion is the benchmark's release; the launcher keeps its
	// binary under RUNNER_TOOL_CACHE/ecr-credentials/0.0.0-bench/.
	nativeVersion = "v0.0.0-bench"
)

// nativeRelease is the benchmark's release of the binary it measures
// (internal/testing/snapshot): the archives and checksums.txt, a checkout
// of the native action with checksums.json written from them (action),
// and a tool cache that already holds the binary (as a runner that ran the
// action before).
type nativeRelease struct {
	*snapshot.Release
	action, toolCache string
}

// runnerPlatform is this machine as the runner names it; the benchmark
// runs on Linux.
func runnerPlatform(goos, goarch string) (snapshot.Platform, error) {
	if goos != "linux" {
		return snapshot.Platform{}, fmt.Errorf("the benchmark runs on Linux, not %s", goos)
	}
	return snapshot.PlatformOf(goos, goarch)
}

// prepareNative makes the release of bin in dir, the native/ checkout of
// the module at root that holds its checksums.json, and a tool cache
// holding bin, checked against that checksums.json.
func prepareNative(root, bin, dir string) (*nativeRelease, error) {
	if _, err := runnerPlatform(runtime.GOOS, runtime.GOARCH); err != nil {
		return nil, err
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("native release: %w", err)
	}
	dist := filepath.Join(dir, "dist")
	if err := os.MkdirAll(dist, 0o755); err != nil {
		return nil, err
	}
	s, err := snapshot.Make(dist, nativeVersion, binary, runtime.GOOS, runtime.GOARCH)
	if err != nil {
		return nil, fmt.Errorf("native release: %w", err)
	}
	rel := &nativeRelease{Release: s, action: filepath.Join(dir, "action", "native"), toolCache: filepath.Join(dir, "toolcache")}
	if err := rel.WriteAction(root, rel.action); err != nil {
		return nil, err
	}
	if err := os.Mkdir(rel.toolCache, 0o755); err != nil {
		return nil, err
	}
	if _, err := rel.FillToolCache(rel.toolCache); err != nil {
		return nil, err
	}
	return rel, nil
}

// releaseMirror serves the release's archives over plain HTTP on loopback
// (the launcher's ECR_CREDENTIALS_DOWNLOAD_URL allows http to loopback
// only), behind a latency proxy of the lab's network; every download is
// recorded as a call of the lab, so that it counts as served time.
type releaseMirror struct {
	srv   *http.Server
	url   string // http://<proxy>/releases
	hits  atomic.Int64
	proxy *latencyProxy
}

func startReleaseMirror(l *lab, rel *nativeRelease) (*releaseMirror, error) {
	if l.net == nil {
		return nil, errors.New("release mirror: only in the connection-level model")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("release mirror: %w", err)
	}
	m := &releaseMirror{}
	archives := rel.Mirror()
	m.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := call{Service: "release download", Start: time.Now()}
		defer func() { c.End = time.Now(); l.record(c) }()
		m.hits.Add(1)
		archives.ServeHTTP(w, r)
	})}
	go m.srv.Serve(ln) //nolint:errcheck // returns on close
	if m.proxy, err = startLatencyProxy("127.0.0.1:0", ln.Addr().String(), &l.net.rtt); err != nil {
		_ = m.srv.Close()
		return nil, err
	}
	// Its connections count with the lab's (the proxy closes with it).
	l.net.proxies = append(l.net.proxies, m.proxy)
	m.url = "http://" + m.proxy.addr() + "/releases"
	return m, nil
}

func (m *releaseMirror) close() {
	if m != nil {
		_ = m.srv.Close()
	}
}

// nativeStep is the native action's main step under node: with the
// release's binary in the tool cache (a runner that ran it before), or, on
// the first run, with an empty tool cache, so that the launcher downloads
// the archive from the mirror, checks it and the binary inside, and keeps
// the binary in the cache before running it.
type nativeStep struct {
	node     string
	rel      *nativeRelease
	mirror   *releaseMirror // first run only
	firstRun bool
}

func (n *nativeStep) Name() string {
	if n.firstRun {
		return nativeFirstName
	}
	return nativeName
}
func (n *nativeStep) ChecksRegistry(scenario) bool { return false }

func (n *nativeStep) Run(ctx context.Context, l *lab, sc scenario, dir string) (sample, error) {
	r, err := newRunDir(dir)
	if err != nil {
		return sample{}, err
	}
	env := githubEnv(l, r)
	maps.Copy(env, (&ours{}).inputs(sc)) // the same inputs as our binary's rows
	env["RUNNER_OS"], env["RUNNER_ARCH"] = n.rel.Platform.RunnerOS, n.rel.Platform.RunnerArch
	env["RUNNER_TOOL_CACHE"] = n.rel.toolCache
	if n.firstRun {
		if n.mirror == nil {
			return sample{}, errors.New("the first-run native step needs the release mirror")
		}
		env["RUNNER_TOOL_CACHE"] = filepath.Join(dir, "toolcache") // empty: a runner that never ran it
		if err := os.Mkdir(env["RUNNER_TOOL_CACHE"], 0o755); err != nil {
			return sample{}, err
		}
		env["ECR_CREDENTIALS_DOWNLOAD_URL"] = n.mirror.url
	}
	var hits int64
	if n.mirror != nil {
		hits = n.mirror.hits.Load()
	}
	m := l.mark()
	_, p, err := l.ln.run(ctx, l, spec{Name: "node native/main.js", Path: n.node, Args: []string{filepath.Join(n.rel.action, "main.js")},
		Env: baseEnv(r.home, env), Dir: r.workdir})
	if err != nil {
		return sample{}, err
	}
	if err := r.checkLogin(l, sc.Registries); err != nil {
		return sample{}, err
	}
	if err := n.checkLauncher(r.state, env["RUNNER_TOOL_CACHE"]); err != nil {
		return sample{}, err
	}
	if n.mirror != nil {
		if got := n.mirror.hits.Load() - hits; (got == 1) != n.firstRun {
			return sample{}, fmt.Errorf("the launcher made %d downloads; want %d", got, map[bool]int{true: 1}[n.firstRun])
		}
	}
	return measure([]proc{p}, 0, l.since(m), l.ideal(false, sc.Latency))
}

// checkLauncher checks that the launcher ran the release's binary from the
// tool cache: the state it hands the post step names that file and the
// release's SHA-256.
func (n *nativeStep) checkLauncher(stateFile, toolCache string) error {
	b, err := os.ReadFile(stateFile)
	if err != nil {
		return fmt.Errorf("launcher state: %w", err)
	}
	state, err := ghrunner.ParseFileCommands(b)
	if err != nil {
		return fmt.Errorf("launcher state: %w", err)
	}
	want := n.rel.BinarySHA256()
	if state["launcher_sha256"] != want {
		return fmt.Errorf("the launcher ran a binary with SHA-256 %q, not the release's %s", state["launcher_sha256"], want)
	}
	if !strings.HasPrefix(state["launcher_binary"], toolCache+string(filepath.Separator)) {
		return fmt.Errorf("the launcher ran %q, not the binary in the tool cache %s", state["launcher_binary"], toolCache)
	}
	return nil
}
