// Package snapshot makes a release of the native action (native/) from a
// binary, as the release workflow makes one, for the tests and the
// benchmark that run the launcher: GoReleaser's dist layout (one archive
// per platform of docs.NativePlatforms, checksums.txt), the launcher's
// checksums.json written from them by the release workflow's own generator
// (docs.NativeDataFromDist), a checkout of native/ holding that file, a
// runner's tool cache that already holds the binary, and a mirror that
// serves the archives as ECR_CREDENTIALS_DOWNLOAD_URL expects.
//
// Only the platform the binary was built for holds it; the other archives
// hold a placeholder (their sums are real, so the launcher's data is
// complete), which is all a run on this machine can use.
package snapshot

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/docs"
)

// Repository is the repository a snapshot's checksums.json names.
const Repository = "ecr-credentials/ecr-credentials"

// Release is a release of one binary in GoReleaser's dist layout.
type Release struct {
	Version     string          // vMAJOR.MINOR.PATCH[-pre]
	Dist        string          // the archives and checksums.txt
	Data        docs.NativeData // the launcher's checksums.json
	Platform    Platform        // the one the binary is for
	Archive     string          // that platform's archive (a name in Dist)
	ArchiveSize int64
	Binary      []byte
}

// Platform is a runner platform as the launcher and the runner name it.
type Platform struct {
	Key        string // GoReleaser's goos_goarch
	RunnerOS   string // RUNNER_OS
	RunnerArch string // RUNNER_ARCH
	CacheArch  string // the tool cache's directory for the architecture (node's os.arch())
	Exe        string // the binary's name in the archive
	Format     string // tar.gz or zip
}

// PlatformOf is the runner platform of a Go target; an error for one the
// native action has no build for.
func PlatformOf(goos, goarch string) (Platform, error) {
	oses := map[string]string{"linux": "Linux", "darwin": "macOS", "windows": "Windows"}
	arches := map[string][2]string{"amd64": {"X64", "x64"}, "arm64": {"ARM64", "arm64"}}
	o, ok1 := oses[goos]
	a, ok2 := arches[goarch]
	if !ok1 || !ok2 {
		return Platform{}, fmt.Errorf("the native action has no build for %s/%s", goos, goarch)
	}
	p := Platform{Key: goos + "_" + goarch, RunnerOS: o, RunnerArch: a[0], CacheArch: a[1], Exe: "ecr-credentials", Format: "tar.gz"}
	if goos == "windows" {
		p.Exe, p.Format = "ecr-credentials.exe", "zip"
	}
	return p, nil
}

// Make writes a release of binary, built for goos/goarch, as version into
// dir (which must exist).
func Make(dir, version string, binary []byte, goos, goarch string) (*Release, error) {
	host, err := PlatformOf(goos, goarch)
	if err != nil {
		return nil, err
	}
	r := &Release{Version: version, Dist: dir, Platform: host, Binary: binary}
	var sums strings.Builder
	for _, key := range docs.NativePlatforms {
		goos, goarch, _ := strings.Cut(key, "_")
		p, err := PlatformOf(goos, goarch)
		if err != nil {
			return nil, err
		}
		content := []byte("placeholder: this snapshot holds the binary for " + host.Key + " only\n")
		if key == host.Key {
			content = binary
		}
		archive, err := Pack(p, content)
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("ecr-credentials_%s_%s.%s", strings.TrimPrefix(version, "v"), key, p.Format)
		if err := os.WriteFile(filepath.Join(dir, name), archive, 0o644); err != nil {
			return nil, err
		}
		fmt.Fprintf(&sums, "%s  %s\n", SHA256(archive), name)
		if key == host.Key {
			r.Archive, r.ArchiveSize = name, int64(len(archive))
		}
	}
	if r.Archive == "" {
		return nil, fmt.Errorf("snapshot: docs.NativePlatforms has no %s", host.Key)
	}
	if err := os.WriteFile(filepath.Join(dir, "checksums.txt"), []byte(sums.String()), 0o644); err != nil {
		return nil, err
	}
	if r.Data, err = docs.NativeDataFromDist(dir, version, Repository); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	return r, nil
}

// Pack is a release archive as .goreleaser.yaml packs one: README.md and
// the binary, in a tar.gz, or a zip for Windows.
func Pack(p Platform, binary []byte) ([]byte, error) {
	files := []struct {
		name string
		mode int64
		body []byte
	}{{"README.md", 0o644, []byte("ecr-credentials (snapshot release)\n")}, {p.Exe, 0o755, binary}}
	var buf bytes.Buffer
	if p.Format == "zip" {
		zw := zip.NewWriter(&buf)
		for _, f := range files {
			w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate})
			if err != nil {
				return nil, err
			}
			if _, err := w.Write(f.body); err != nil {
				return nil, err
			}
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body)), Typeflag: tar.TypeReg, ModTime: time.Unix(946684800, 0)}
		if err := tw.WriteHeader(h); err != nil {
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

// SHA256 is the lower-case hex SHA-256 of b, as checksums.txt writes it.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// BinarySHA256 is the SHA-256 the launcher checks the binary against.
func (r *Release) BinarySHA256() string { return r.Data.Archives[r.Platform.Key].BinarySHA256 }

// ActionFiles are the files of native/ the runner runs.
var ActionFiles = []string{"action.yml", "launcher.js", "main.js", "post.js"}

// WriteAction writes a checkout of the native action into dir: the
// module's native/ files (moduleRoot is the module's directory) with the
// release's checksums.json, as the release commit ships them.
func (r *Release) WriteAction(moduleRoot, dir string) error {
	return WriteAction(moduleRoot, dir, r.Data)
}

// WriteAction writes a checkout of the native action with data as its
// checksums.json (a test may give it data of its own making).
func WriteAction(moduleRoot, dir string, data docs.NativeData) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range ActionFiles {
		b, err := os.ReadFile(filepath.Join(moduleRoot, "native", f))
		if err != nil {
			return fmt.Errorf("native action: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			return err
		}
	}
	b, err := data.Render()
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "checksums.json"), b, 0o644)
}

// CachedPath is where the launcher keeps the binary in a tool cache.
func (r *Release) CachedPath(toolCache string) string {
	return filepath.Join(toolCache, "ecr-credentials", strings.TrimPrefix(r.Version, "v"), r.Platform.CacheArch, r.Platform.Exe)
}

// FillToolCache puts the binary into toolCache where the launcher looks,
// as on a runner that ran the release before, in directories only their
// owner may write (the launcher refuses others), and returns its path.
func (r *Release) FillToolCache(toolCache string) (string, error) {
	cached := r.CachedPath(toolCache)
	if err := os.MkdirAll(filepath.Dir(cached), 0o755); err != nil {
		return "", err
	}
	for d := filepath.Dir(cached); d != filepath.Dir(toolCache); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			return "", err
		}
	}
	if err := os.WriteFile(cached, r.Binary, 0o755); err != nil {
		return "", err
	}
	got, err := os.ReadFile(cached)
	if err != nil {
		return "", err
	}
	if sum := SHA256(got); sum != r.BinarySHA256() {
		return "", fmt.Errorf("snapshot: the tool cache's binary has SHA-256 %s, checksums.json says %s", sum, r.BinarySHA256())
	}
	return cached, nil
}

// Mirror serves the release's archives at /releases/<name> (the directory
// ECR_CREDENTIALS_DOWNLOAD_URL names), whole, as a release download
// answers: no Range handling, and nothing outside Dist. It records every
// request's path.
type Mirror struct {
	rel *Release

	mu       sync.Mutex
	hits     []string
	tamper   bool
	failures []int // statuses to answer the next requests with
}

// Mirror is a handler for the release's archives.
func (r *Release) Mirror() *Mirror { return &Mirror{rel: r} }

// Tamper makes the mirror serve every archive with one byte changed.
func (m *Mirror) Tamper(on bool) {
	m.mu.Lock()
	m.tamper = on
	m.mu.Unlock()
}

// Fail makes the mirror answer the next requests with these HTTP statuses,
// one each, before it serves again.
func (m *Mirror) Fail(statuses ...int) {
	m.mu.Lock()
	m.failures = append(m.failures, statuses...)
	m.mu.Unlock()
}

// Requests lists the paths asked for, in order.
func (m *Mirror) Requests() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.hits...)
}

func (m *Mirror) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	m.mu.Lock()
	m.hits = append(m.hits, req.URL.Path)
	tamper := m.tamper
	fail := 0
	if len(m.failures) > 0 {
		fail, m.failures = m.failures[0], m.failures[1:]
	}
	m.mu.Unlock()
	if fail != 0 {
		http.Error(w, http.StatusText(fail), fail)
		return
	}
	name, ok := strings.CutPrefix(req.URL.Path, "/releases/")
	if !ok || name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		http.NotFound(w, req)
		return
	}
	body, err := os.ReadFile(filepath.Join(m.rel.Dist, name))
	if err != nil {
		http.NotFound(w, req)
		return
	}
	if tamper {
		body = append([]byte(nil), body...)
		body[len(body)/2] ^= 0x55
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(body)
}
