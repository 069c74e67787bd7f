package release

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/docs"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// targets are the platforms the release ships binaries for.
var targets = []string{"darwin/amd64", "darwin/arm64", "linux/amd64", "linux/arm64", "windows/amd64", "windows/arm64"}

// goreleaserEnv is the environment GoReleaser runs with: ours without
// anything that could let it publish or pick another configuration, and with
// no module downloads inside the network namespace.
func goreleaserEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "GITHUB_"), strings.HasPrefix(name, "GITLAB_"), strings.HasPrefix(name, "GITEA_"),
			strings.HasPrefix(name, "GORELEASER_"), strings.HasPrefix(name, "GIT_"), name == "RELEASE_REPOSITORY_NAME":
			continue
		}
		env = append(env, kv)
	}
	// Git must not read the host's configuration (signing, hooks, user).
	env = append(env, "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1")
	if testenv.InNetNS(t) {
		env = append(env, "GOPROXY=off")
	}
	return append(env, extra...)
}

// run runs a command with a deadline short of the test's, and returns its
// combined output.
func run(t *testing.T, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx := context.Background()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-30*time.Second))
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s %s: stopped before the test's deadline (a cold build cache? run with a longer -timeout): %w", name, strings.Join(args, " "), err)
	}
	return string(out), err
}

// TestGoreleaserCheck runs `goreleaser check` on the repository's
// configuration, and on a broken copy to show the check can fail.
func TestGoreleaserCheck(t *testing.T) {
	gr := goreleaser(t)
	r := root(t)
	good := read(t, filepath.Join(r, ".goreleaser.yaml"))
	tests := []struct {
		name     string
		config   []byte
		wantPart string // "" means valid
	}{
		{"repository config", good, ""},
		{"misspelt key", bytes.Replace(good, []byte("\nbuilds:"), []byte("\nbiulds:"), 1), "biulds"},
		{"list given as a string", bytes.Replace(good, []byte("goos: [linux, darwin, windows]"), []byte("goos: linux"), 1), "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantPart != "" && bytes.Equal(tt.config, good) {
				t.Fatal("the broken config is the same as the good one; update the replacement")
			}
			dir := t.TempDir()
			write(t, filepath.Join(dir, ".goreleaser.yaml"), tt.config)
			out, err := run(t, dir, goreleaserEnv(t), gr, "check", ".goreleaser.yaml")
			if tt.wantPart == "" {
				if err != nil {
					t.Fatalf("goreleaser check: %v\n%s", err, tail(out, 30))
				}
				return
			}
			if err == nil || !strings.Contains(out, tt.wantPart) {
				t.Fatalf("goreleaser check = %v, output:\n%s\nwant a failure mentioning %q", err, tail(out, 30), tt.wantPart)
			}
		})
	}
}

// snapshotRepo copies the module's files (tracked, and untracked but not
// ignored: what go test compiles) into a fresh Git repository with one commit
// at a fixed date, tagged v1.2.3. The remote URL is only read by GoReleaser
// (for the release's owner and name); nothing is fetched or pushed.
func snapshotRepo(t *testing.T, git string) (dir, commit string) {
	t.Helper()
	r := root(t)
	env := goreleaserEnv(t)
	// safe.directory: the checkout may belong to another user than the one
	// running the tests (root running a CI runner's checkout).
	out, err := run(t, r, env, git, "-c", "safe.directory="+r, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	if err != nil {
		t.Fatalf("list the repository's files with git ls-files (is %s a Git checkout?): %v\n%s", r, err, tail(out, 10))
	}
	dir = t.TempDir()
	n := 0
	for _, rel := range strings.Split(strings.TrimRight(out, "\x00"), "\x00") {
		src := filepath.Join(r, rel)
		fi, err := os.Lstat(src)
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the work tree, or not a regular file
		}
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		b := read(t, src)
		if err := os.WriteFile(dst, b, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("git ls-files listed no files")
	}
	gitEnv := append(env,
		"GIT_AUTHOR_NAME=release test", "GIT_AUTHOR_EMAIL=release-test@example.invalid", "GIT_AUTHOR_DATE=2024-05-06T07:08:09Z",
		"GIT_COMMITTER_NAME=release test", "GIT_COMMITTER_EMAIL=release-test@example.invalid", "GIT_COMMITTER_DATE=2024-05-06T07:08:09Z")
	for _, args := range [][]string{
		{"init", "--quiet", "--initial-branch=main"},
		{"add", "--all"},
		{"commit", "--quiet", "--no-verify", "--message", "snapshot of the work tree"},
		{"tag", "v1.2.3"},
		{"remote", "add", "origin", "https://github.com/ecr-credentials/ecr-credentials.git"},
	} {
		if out, err := run(t, dir, gitEnv, git, args...); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, tail(out, 10))
		}
	}
	out, err = run(t, dir, gitEnv, git, "rev-parse", "HEAD")
	if err != nil {
		t.Fatalf("git rev-parse HEAD: %v\n%s", err, out)
	}
	return dir, strings.TrimSpace(out)
}

type artifact struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	Goos   string `json:"goos"`
	Goarch string `json:"goarch"`
	Type   string `json:"type"`
}

// TestGoreleaserSnapshot is the release's dry run: `goreleaser release
// --snapshot --clean --skip=publish,sign,docker` on a copy of the
// repository, then checks of what it produced: a binary for each target,
// of that target's format and architecture; an archive of each with the
// README; checksums that match; and version information stamped into the
// binary that runs here.
func TestGoreleaserSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the dry run cross-compiles six binaries")
	}
	gr := goreleaser(t)
	git := testenv.RequireTool(t, "git")
	dir, commit := snapshotRepo(t, git)

	start := time.Now()
	out, err := run(t, dir, goreleaserEnv(t), gr, "release", "--snapshot", "--clean", "--skip=publish,sign,docker")
	if err != nil {
		t.Fatalf("goreleaser release --snapshot: %v\n%s", err, tail(out, 40))
	}
	t.Logf("goreleaser release --snapshot took %s", time.Since(start).Round(time.Second))
	dist := filepath.Join(dir, "dist")

	var arts []artifact
	if err := json.Unmarshal(read(t, filepath.Join(dist, "artifacts.json")), &arts); err != nil {
		t.Fatalf("dist/artifacts.json: %v", err)
	}
	byType := map[string][]artifact{}
	for _, a := range arts {
		byType[a.Type] = append(byType[a.Type], a)
	}

	// One binary per target, really built for it.
	var got []string
	binaries := map[string]string{}
	for _, a := range byType["Binary"] {
		target := a.Goos + "/" + a.Goarch
		got = append(got, target)
		binaries[target] = filepath.Join(dir, a.Path)
		if err := checkExecutable(binaries[target], a.Goos, a.Goarch); err != nil {
			t.Errorf("%s: %v", a.Path, err)
		}
	}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(targets, " ") {
		t.Errorf("binaries for %v, want %v", got, targets)
	}

	// One archive per target, with the binary and the README.
	archives := map[string]bool{}
	for _, a := range byType["Archive"] {
		archives[a.Name] = true
		exe := "ecr-credentials"
		if a.Goos == "windows" {
			exe += ".exe"
		}
		names, err := archiveNames(filepath.Join(dir, a.Path))
		if err != nil {
			t.Errorf("%s: %v", a.Name, err)
			continue
		}
		if !names[exe] || !names["README.md"] {
			t.Errorf("%s holds %v, want %s and README.md", a.Name, names, exe)
		}
	}
	if len(archives) != len(targets) {
		t.Errorf("%d archives, want %d", len(archives), len(targets))
	}

	// checksums.txt covers exactly the archives, with the right sums.
	sums := readChecksums(t, filepath.Join(dist, "checksums.txt"))
	for name, sum := range sums {
		if !archives[name] {
			t.Errorf("checksums.txt lists %s, which is not an archive of the release", name)
			continue
		}
		b := read(t, filepath.Join(dist, name))
		if h := sha256.Sum256(b); hex.EncodeToString(h[:]) != sum {
			t.Errorf("checksums.txt: %s has sha256 %x, the file says %s", name, h, sum)
		}
	}
	for name := range archives {
		if _, ok := sums[name]; !ok {
			t.Errorf("checksums.txt does not list %s", name)
		}
	}

	// The release workflow writes the native action's data from this dist
	// directory: every archive's sum, and the sum of the binary inside,
	// which must be the binary GoReleaser built.
	short, err := run(t, dir, goreleaserEnv(t), git, "rev-parse", "--short", "HEAD")
	if err != nil {
		t.Fatalf("git rev-parse --short: %v", err)
	}
	wantVersion := "v1.2.3-snapshot-" + strings.TrimSpace(short)
	native, err := docs.NativeDataFromDist(dist, wantVersion, "ecr-credentials/ecr-credentials")
	if err != nil {
		t.Fatalf("native/checksums.json from the snapshot: %v", err)
	}
	for target, path := range binaries {
		a := native.Archives[strings.ReplaceAll(target, "/", "_")]
		if h := sha256.Sum256(read(t, path)); a.BinarySHA256 != hex.EncodeToString(h[:]) || a.SHA256 != sums[a.Name] {
			t.Errorf("native data for %s = %+v; want the sums of %s and of its archive", target, a, path)
		}
	}

	// The binary for this machine runs and says what it is.
	bin := binaries[runtime.GOOS+"/"+runtime.GOARCH]
	if bin == "" {
		t.Skipf("no release binary runs on %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, err := run(t, dir, []string{}, bin, args...)
		if err != nil {
			t.Errorf("ecr-credentials %s: %v\n%s", args[0], err, out)
			continue
		}
		for _, want := range []string{wantVersion + " ", "commit " + commit, "built 2024-05-06T07:08:09Z"} {
			if !strings.Contains(out, want) {
				t.Errorf("ecr-credentials %s printed %q, want it to contain %q", args[0], strings.TrimSpace(out), want)
			}
		}
	}
	// -tags release leaves out the development commands.
	if out, err := run(t, dir, []string{}, bin, "demo"); err == nil || !strings.Contains(out, "unknown command") {
		t.Errorf("ecr-credentials demo in a release build = %v, %q; want it unknown (built without -tags release?)", err, out)
	}
}

// checkExecutable checks that path is an executable for goos/goarch.
func checkExecutable(path, goos, goarch string) error {
	switch goos {
	case "linux":
		f, err := elf.Open(path)
		if err != nil {
			return fmt.Errorf("not an ELF executable: %w", err)
		}
		defer f.Close()
		want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[goarch]
		if f.Machine != want {
			return fmt.Errorf("ELF machine %v, want %v", f.Machine, want)
		}
		if f.Type != elf.ET_EXEC {
			return fmt.Errorf("ELF type %v, want a static executable (ET_EXEC)", f.Type)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				return fmt.Errorf("dynamically linked (has an interpreter); the release builds with CGO_ENABLED=0")
			}
		}
	case "darwin":
		f, err := macho.Open(path)
		if err != nil {
			return fmt.Errorf("not a Mach-O executable: %w", err)
		}
		defer f.Close()
		want := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[goarch]
		if f.Cpu != want {
			return fmt.Errorf("Mach-O CPU %v, want %v", f.Cpu, want)
		}
	case "windows":
		f, err := pe.Open(path)
		if err != nil {
			return fmt.Errorf("not a PE executable: %w", err)
		}
		defer f.Close()
		want := map[string]uint16{"amd64": pe.IMAGE_FILE_MACHINE_AMD64, "arm64": pe.IMAGE_FILE_MACHINE_ARM64}[goarch]
		if f.Machine != want {
			return fmt.Errorf("PE machine %#x, want %#x", f.Machine, want)
		}
	default:
		return fmt.Errorf("unexpected target OS %q", goos)
	}
	return nil
}

// archiveNames lists the file names in a .tar.gz or .zip archive.
func archiveNames(path string) (map[string]bool, error) {
	names := map[string]bool{}
	if strings.HasSuffix(path, ".zip") {
		z, err := zip.OpenReader(path)
		if err != nil {
			return nil, err
		}
		defer z.Close()
		for _, f := range z.File {
			names[f.Name] = true
		}
		return names, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names, nil
		}
		if err != nil {
			return nil, err
		}
		names[h.Name] = true
	}
}

// readChecksums parses a `sha256sum` style file: "<hex>  <name>" lines.
func readChecksums(t *testing.T, path string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(read(t, path)))
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			t.Fatalf("%s: malformed line %q", filepath.Base(path), sc.Text())
		}
		sums[name] = sum
	}
	return sums
}
