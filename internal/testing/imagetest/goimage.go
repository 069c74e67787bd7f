package imagetest

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// goImageRepo is the repository of the Go base images these tests make;
// each tag is one Go version and go.sum. Nothing else uses the name.
const goImageRepo = "ecr-credentials-imagetest-go"

// goImageRecipe changes whenever goImage assembles the image differently,
// so that an image made by an older recipe is not reused.
const goImageRecipe = "v1: goroot, busybox-static sh ln mkdir cp chmod, ca-certificates, module cache, warm build cache"

// goImageEnv is the environment of the Go image: everything the Dockerfile's
// build stage needs to build with no network at all.
var goImageEnv = []string{
	"PATH=/usr/local/go/bin:/go/bin:/usr/local/bin:/usr/bin:/bin",
	"HOME=/root",
	"GOPATH=/go",
	"GOMODCACHE=/go/pkg/mod",
	"GOCACHE=/root/.cache/go-build",
	"GOPROXY=off",
	"GOSUMDB=off",
	"GOFLAGS=-mod=mod",
	"GOTOOLCHAIN=local",
	"CGO_ENABLED=0",
}

// busyboxLinks are the commands the Dockerfile's RUN lines use, as links to
// busybox (sh runs the RUN lines themselves).
var busyboxLinks = []string{"sh", "ln", "mkdir", "cp", "chmod"}

// goImage returns the tag of a local image usable as the Dockerfile's
// GO_IMAGE: the host's Go toolchain, busybox-static for /bin/sh and the few
// commands RUN uses, the host's CA bundle, a module cache holding exactly
// this module's dependencies, and a build cache already warm with them
// (compiled with the Dockerfile's flags), so that a build of changed sources
// compiles only this module's packages. It is made once per Go version and
// go.sum (docker import of a tarball this function writes, then one
// `docker run` to warm the cache and `docker commit`) and kept between test
// runs; older ones are removed when a new one is made.
func goImage(t testing.TB) string {
	t.Helper()
	root := testenv.ModuleRoot(t)
	goBin := goCommand(t)
	goVersion := goEnv(t, goBin, "GOVERSION")
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatalf("read go.sum: %v", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s/%s\n", goImageRecipe, goVersion, goEnv(t, goBin, "GOOS"), goEnv(t, goBin, "GOARCH"))
	h.Write(sum)
	tag := goImageRepo + ":" + goVersion + "-" + hex.EncodeToString(h.Sum(nil))[:12]

	if imageExists(t, tag) {
		return tag
	}
	start := time.Now()
	makeGoImage(t, tag, root, goBin)
	t.Logf("made the Go base image %s in %s (kept for later runs)", tag, time.Since(start).Round(time.Second))
	// Older Go images can never be used again by this checkout's go.sum.
	for _, old := range imageTags(t, goImageRepo) {
		if old != tag {
			removeImageAndBuildCache(t, old)
		}
	}
	return tag
}

func makeGoImage(t testing.TB, tag, root, goBin string) {
	t.Helper()
	busybox := staticBusybox(t)
	goroot := goEnv(t, goBin, "GOROOT")
	hostModCache := goEnv(t, goBin, "GOMODCACHE")
	caFile := "/etc/ssl/certs/ca-certificates.crt"
	if _, err := os.Stat(caFile); err != nil {
		missingPackage(t, "the CA bundle "+caFile, "ca-certificates")
	}

	// A module cache with exactly this module's dependencies, copied from
	// the host's module cache (no network).
	modCache, err := os.MkdirTemp("", "imagetest-gomodcache-")
	if err != nil {
		t.Fatal(err)
	}
	offline := []string{
		"GOFLAGS=-mod=mod",
		"GOPROXY=file://" + filepath.ToSlash(filepath.Join(hostModCache, "cache", "download")),
		"GOSUMDB=off",
		"GOTOOLCHAIN=local",
		"GOMODCACHE=" + modCache,
		"CGO_ENABLED=0",
	}
	defer func() {
		// Module cache files are read-only; go clean knows how to remove them.
		c := exec.Command(goBin, "clean", "-modcache")
		c.Env = append(os.Environ(), offline...)
		_ = c.Run()
		_ = os.RemoveAll(modCache)
	}()
	goRun(t, goBin, root, offline, "mod", "download")
	// The packages the release build compiles, other than this module's.
	modPath := strings.TrimSpace(goRun(t, goBin, root, offline, "list", "-m"))
	var deps []string
	for _, p := range strings.Fields(goRun(t, goBin, root, offline, "list", "-deps", "-tags", "release",
		"-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".")) {
		if p != modPath && !strings.HasPrefix(p, modPath+"/") {
			deps = append(deps, p)
		}
	}

	tw := newTarStream(t)
	tw.dir("bin", 0o755)
	tw.file("bin/busybox", busybox, 0o755)
	for _, l := range busyboxLinks {
		tw.symlink("bin/"+l, "busybox")
	}
	for _, d := range []string{"etc", "etc/ssl", "etc/ssl/certs", "root", "usr", "usr/local", "go", "go/pkg", "warm"} {
		tw.dir(d, 0o755)
	}
	tw.dir("tmp", 0o1777)
	tw.file("etc/ssl/certs/ca-certificates.crt", caFile, 0o644)
	tw.file("warm/go.mod", filepath.Join(root, "go.mod"), 0o644)
	tw.file("warm/go.sum", filepath.Join(root, "go.sum"), 0o644)
	// GOROOT without its own test suite (test/), which builds never read.
	tw.tree("usr/local/go", goroot, func(rel string) bool { return rel == "test" })
	tw.tree("go/pkg/mod", modCache, nil)

	args := []string{"import"}
	for _, e := range goImageEnv {
		args = append(args, "--change", "ENV "+e)
	}
	args = append(args, "-")
	res := tw.pipeTo(t, requireDocker(t), args)
	if res.code != 0 {
		t.Fatalf("docker import of the Go base tarball: %s", res)
	}
	baseID := strings.TrimSpace(res.stdout)

	// Warm the build cache with the Dockerfile's compiler flags: -trimpath,
	// -tags release, its -gcflags, CGO_ENABLED=0 (in the image's
	// environment).
	name := randomName("imagetest-warm-")
	warm := []string{"run", "--name", name, "--network", "none", "--workdir", "/warm", baseID,
		"go", "build", "-trimpath", "-tags", "release"}
	warm = append(append(warm, DockerfileGCFlags(t, root)...), deps...)
	res = run(t, requireDocker(t), warm, cmdOpts{timeout: 8 * time.Minute, onTimeout: func() { dockerQuiet("rm", "-f", name) }})
	if res.code != 0 {
		dockerQuiet("rm", "-f", name)
		dockerQuiet("rmi", baseID)
		t.Fatalf("compiling the dependencies inside the Go base image failed: %s", res)
	}
	res = run(t, requireDocker(t), []string{"commit", "--change", "WORKDIR /", "--change", `CMD ["/bin/sh"]`, name, tag}, cmdOpts{})
	dockerQuiet("rm", "-f", name)
	if res.code != 0 {
		dockerQuiet("rmi", baseID)
		t.Fatalf("docker commit of the Go base image: %s", res)
	}
}

// staticBusybox returns the path of a statically linked busybox (Debian's
// busybox-static), which runs in an image that has no C library.
func staticBusybox(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		static := true
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				static = false
			}
		}
		f.Close()
		if static {
			return p
		}
	}
	missingPackage(t, "a statically linked busybox", "busybox-static")
	return ""
}

// missingPackage stops the test because a Debian package is missing: a
// failure when CI=true, a skip otherwise.
func missingPackage(t testing.TB, what, pkg string) {
	t.Helper()
	msg := fmt.Sprintf("%s is missing; install it with `apt-get install -y %s`", what, pkg)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true, so this is a failure rather than a skip)", msg)
	}
	t.Skipf("%s (skipping; with CI=true this fails)", msg)
}

func goCommand(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	return p
}

func goEnv(t testing.TB, goBin, name string) string {
	t.Helper()
	return strings.TrimSpace(goRun(t, goBin, "", nil, "env", name))
}

// goRun runs the go command in dir with extra environment and returns its
// standard output; a failure fails the test with the command's output.
func goRun(t testing.TB, goBin, dir string, env []string, args ...string) string {
	t.Helper()
	c := exec.Command(goBin, args...)
	c.Dir = dir
	c.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		hint := ""
		if strings.Contains(stderr.String(), "file://") || strings.Contains(stderr.String(), "not found") {
			hint = "\n(the Go image is made from the host's module cache without network: run `go mod download` first)"
		}
		t.Fatalf("go %s: %v\n%s%s", strings.Join(args, " "), err, stderr.String(), hint)
	}
	return stdout.String()
}

// tarStream collects the entries of an image root file system and writes
// them as a tar stream to a command's standard input.
type tarStream struct {
	t       testing.TB
	entries []func(*tar.Writer) error
}

func newTarStream(t testing.TB) *tarStream { return &tarStream{t: t} }

// header is a root-owned entry with a fixed time, so that the tarball of the
// same inputs is the same.
func header(name string, typ byte, mode int64) *tar.Header {
	return &tar.Header{Name: name, Typeflag: typ, Mode: mode, ModTime: time.Unix(946684800, 0), Format: tar.FormatPAX}
}

// dir adds a directory; mode is in tar's terms (0o1777 is sticky).
func (s *tarStream) dir(name string, mode int64) {
	s.entries = append(s.entries, func(w *tar.Writer) error {
		return w.WriteHeader(header(name+"/", tar.TypeDir, mode))
	})
}

func (s *tarStream) symlink(name, target string) {
	s.entries = append(s.entries, func(w *tar.Writer) error {
		h := header(name, tar.TypeSymlink, 0o777)
		h.Linkname = target
		return w.WriteHeader(h)
	})
}

func (s *tarStream) file(name, src string, mode fs.FileMode) {
	s.entries = append(s.entries, func(w *tar.Writer) error { return copyFile(w, name, src, int64(mode.Perm())) })
}

func copyFile(w *tar.Writer, name, src string, mode int64) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	h := header(name, tar.TypeReg, mode)
	h.Size = fi.Size()
	if err := w.WriteHeader(h); err != nil {
		return err
	}
	_, err = io.CopyN(w, f, fi.Size())
	return err
}

// tree adds the directory src under name, leaving out top-level entries
// for which skip returns true. Symbolic links are kept as links.
func (s *tarStream) tree(name, src string, skip func(rel string) bool) {
	s.entries = append(s.entries, func(w *tar.Writer) error {
		return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(src, p)
			if err != nil {
				return err
			}
			if skip != nil && rel != "." && !strings.Contains(filepath.ToSlash(rel), "/") && skip(rel) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			target := path.Join(name, filepath.ToSlash(rel))
			fi, err := d.Info()
			if err != nil {
				return err
			}
			mode := int64(fi.Mode().Perm())
			switch {
			case fi.Mode()&fs.ModeSymlink != 0:
				link, err := os.Readlink(p)
				if err != nil {
					return err
				}
				h := header(target, tar.TypeSymlink, 0o777)
				h.Linkname = link
				return w.WriteHeader(h)
			case d.IsDir():
				// Module cache directories are read-only; the image's must
				// not be, or nothing could be added below them.
				return w.WriteHeader(header(target+"/", tar.TypeDir, mode|0o200))
			case fi.Mode().IsRegular():
				return copyFile(w, target, p, mode)
			}
			return nil // sockets and devices have no place in an image
		})
	})
}

// pipeTo runs bin with args and the tar stream as its standard input.
func (s *tarStream) pipeTo(t testing.TB, bin string, args []string) cmdResult {
	t.Helper()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		tw := tar.NewWriter(pw)
		var err error
		for _, e := range s.entries {
			if err = e(tw); err != nil {
				break
			}
		}
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	res, err := runCmd(bin, args, cmdOpts{stdin: pr, timeout: 8 * time.Minute})
	pr.CloseWithError(io.ErrClosedPipe) // unblock the writer if the command stopped reading
	if werr := <-done; werr != nil && werr != io.ErrClosedPipe {
		t.Fatalf("writing the image tarball: %v", werr)
	}
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// imageExists reports whether the engine has an image by that reference.
func imageExists(t testing.TB, ref string) bool {
	t.Helper()
	res := run(t, requireDocker(t), []string{"image", "inspect", "--format", "{{.Id}}", ref}, cmdOpts{})
	return res.code == 0
}

// imageTags lists repo:tag of every image in repository repo.
func imageTags(t testing.TB, repo string) []string {
	t.Helper()
	out := docker(t, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", repo)
	return strings.Fields(out)
}

// flock takes an exclusive lock on a file in the temporary directory, so
// that two test processes do not make or build the same image at once. The
// lock is released at test cleanup.
func flock(t testing.TB, name string) func() {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), name), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatalf("open lock file: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("lock %s: %v", f.Name(), err)
	}
	return func() { f.Close() }
}

// DockerfileGCFlags are the -gcflags=... arguments of the Dockerfile's go
// build, in order.
func DockerfileGCFlags(t testing.TB, root string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	flags := regexp.MustCompile(`-gcflags=\S+`).FindAllString(string(b), -1)
	if len(flags) == 0 {
		t.Fatal("the Dockerfile's go build has no -gcflags")
	}
	return flags
}
