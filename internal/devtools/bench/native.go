package main

// The native form of the action (native/action.yml, issue 23) as the runner
// runs a node action: node starts native/main.js, the launcher finds our
// binary in the runner's tool cache (or fetches it), checks its SHA-256
// against native/checksums.json, and runs it with the step's environment.
// The benchmark makes a release of its own for that: the binary it
// measures, packed as GoReleaser packs it, and the checksums written by the
// release workflow's own generator (internal/testing/docs).

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
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

	"github.com/ecr-credentials/ecr-credentials/internal/testing/docs"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
)

const (
	nativeName      = "ecr-credentials native (node + launcher, cached binary)"
	nativeFirstName = "ecr-credentials native, first run (download + verify)"
	// nativeVersion is the benchmark's release; the launcher keeps its
	// binary under RUNNER_TOOL_CACHE/ecr-credentials/0.0.0-bench/.
	nativeVersion = "v0.0.0-bench"
	nativeRepo    = "ecr-credentials/ecr-credentials"
)

// nativeRelease is the benchmark's release of the binary it measures: the
// archives and checksums.txt (dist), a checkout of the native action with
// checksums.json written from them (action), and a tool cache that already
// holds the binary (as a runner that ran the action before).
type nativeRelease struct {
	dist, action, toolCache string
	data                    docs.NativeData
	key                     string // goos_goarch of this machine
	runnerOS, runnerArch    string
	archive                 string // this platform's archive name
	archiveSize             int64
}

// runnerPlatform maps this machine to the runner's RUNNER_OS and
// RUNNER_ARCH, the tool cache's architecture name and GoReleaser's key.
func runnerPlatform(goos, goarch string) (runnerOS, runnerArch, cacheArch, key string, err error) {
	if goos != "linux" {
		return "", "", "", "", fmt.Errorf("the benchmark runs on Linux, not %s", goos)
	}
	switch goarch {
	case "amd64":
		return "Linux", "X64", "x64", "linux_amd64", nil
	case "arm64":
		return "Linux", "ARM64", "arm64", "linux_arm64", nil
	}
	return "", "", "", "", fmt.Errorf("the native action has no build for linux/%s", goarch)
}

// prepareNative makes the release of bin in dir: this platform's archive
// (ecr-credentials and README.md in a tar.gz, as .goreleaser.yaml packs
// it), placeholder archives for the other platforms, checksums.txt,
// native/ of the module at root with checksums.json made from them by the
// release workflow's generator, and a tool cache holding bin, checked
// against that checksums.json.
func prepareNative(root, bin, dir string) (*nativeRelease, error) {
	rOS, rArch, cacheArch, key, err := runnerPlatform(runtime.GOOS, runtime.GOARCH)
	if err != nil {
		return nil, err
	}
	rel := &nativeRelease{dist: filepath.Join(dir, "dist"), action: filepath.Join(dir, "action", "native"),
		toolCache: filepath.Join(dir, "toolcache"), key: key, runnerOS: rOS, runnerArch: rArch}
	for _, d := range []string{rel.dist, rel.action} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("native release: %w", err)
	}
	v := strings.TrimPrefix(nativeVersion, "v")
	var sums strings.Builder
	for _, p := range docs.NativePlatforms {
		content := []byte("not built by the benchmark: " + p + "\n")
		if p == key {
			content = binary
		}
		exe := "ecr-credentials"
		ext := "tar.gz"
		if strings.HasPrefix(p, "windows") {
			exe, ext = "ecr-credentials.exe", "zip"
		}
		var archive []byte
		if ext == "zip" {
			archive, err = zipArchive(exe, content)
		} else {
			archive, err = tarGzArchive(exe, content)
		}
		if err != nil {
			return nil, fmt.Errorf("native release: %w", err)
		}
		name := fmt.Sprintf("ecr-credentials_%s_%s.%s", v, p, ext)
		if err := os.WriteFile(filepath.Join(rel.dist, name), archive, 0o644); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(archive)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), name)
		if p == key {
			rel.archive, rel.archiveSize = name, int64(len(archive))
		}
	}
	if err := os.WriteFile(filepath.Join(rel.dist, "checksums.txt"), []byte(sums.String()), 0o644); err != nil {
		return nil, err
	}
	if rel.data, err = docs.NativeDataFromDist(rel.dist, nativeVersion, nativeRepo); err != nil {
		return nil, fmt.Errorf("native release: %w", err)
	}
	for _, f := range []string{"action.yml", "launcher.js", "main.js", "post.js"} {
		b, err := os.ReadFile(filepath.Join(root, "native", f))
		if err != nil {
			return nil, fmt.Errorf("native action: %w", err)
		}
		if err := os.WriteFile(filepath.Join(rel.action, f), b, 0o644); err != nil {
			return nil, err
		}
	}
	b, err := rel.data.Render()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(rel.action, "checksums.json"), b, 0o644); err != nil {
		return nil, err
	}
	// The tool cache of a runner that ran this release before: the
	// binary where the launcher keeps it, checked against checksums.json.
	cached := filepath.Join(rel.toolCache, "ecr-credentials", v, cacheArch, "ecr-credentials")
	if err := os.MkdirAll(filepath.Dir(cached), 0o755); err != nil {
		return nil, err
	}
	for d := filepath.Dir(cached); d != filepath.Dir(rel.toolCache); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil { // the launcher refuses directories others may write
			return nil, err
		}
	}
	if err := os.WriteFile(cached, binary, 0o755); err != nil {
		return nil, err
	}
	got, err := os.ReadFile(cached)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(got)
	if want := rel.data.Archives[key].BinarySHA256; hex.EncodeToString(sum[:]) != want {
		return nil, fmt.Errorf("native release: the tool cache's binary has SHA-256 %x, checksums.json says %s", sum, want)
	}
	return rel, nil
}

func tarGzArchive(exe string, binary []byte) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range []struct {
		name string
		mode int64
		body []byte
	}{{"README.md", 0o644, []byte("ecr-credentials (benchmark release)\n")}, {exe, 0o755, binary}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func zipArchive(exe string, binary []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string][]byte{"README.md": []byte("ecr-credentials (benchmark release)\n"), exe: binary} {
		w, err := zw.Create(name)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(body); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
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

func startReleaseMirror(l *lab, dist string) (*releaseMirror, error) {
	if l.net == nil {
		return nil, errors.New("release mirror: only in the connection-level model")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("release mirror: %w", err)
	}
	m := &releaseMirror{}
	m.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := call{Service: "release download", Start: time.Now()}
		defer func() { c.End = time.Now(); l.record(c) }()
		m.hits.Add(1)
		name, ok := strings.CutPrefix(r.URL.Path, "/releases/")
		if !ok || name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
			http.NotFound(w, r)
			return
		}
		// The whole archive, as a release download answers: no Range
		// handling (net/http's, in ServeFile, has GO-2026-6609 in go1.26.8).
		body, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(body)
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
	env["RUNNER_OS"], env["RUNNER_ARCH"] = n.rel.runnerOS, n.rel.runnerArch
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
	if err := checkDockerConfig(l, r.docker, sc.Registries); err != nil {
		return sample{}, err
	}
	if err := checkOutputs(l, r.output, sc.Registries); err != nil {
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
	want := n.rel.data.Archives[n.rel.key].BinarySHA256
	if state["launcher_sha256"] != want {
		return fmt.Errorf("the launcher ran a binary with SHA-256 %q, not the release's %s", state["launcher_sha256"], want)
	}
	if !strings.HasPrefix(state["launcher_binary"], toolCache+string(filepath.Separator)) {
		return fmt.Errorf("the launcher ran %q, not the binary in the tool cache %s", state["launcher_binary"], toolCache)
	}
	return nil
}
