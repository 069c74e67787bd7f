package snapshot

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/docs"
)

// TestMake: every platform's archive is in checksums.txt and in the
// launcher's data with its real sum; the host's archive holds the binary
// (tar.gz, or zip on Windows) and its sum is the binary's.
func TestMake(t *testing.T) {
	for _, target := range [][2]string{{"linux", "amd64"}, {"darwin", "arm64"}, {"windows", "amd64"}} {
		t.Run(target[0]+"_"+target[1], func(t *testing.T) {
			binary := []byte("\x7fELF a stand-in for " + target[0])
			r, err := Make(t.TempDir(), "v1.2.3-snapshot-abc", binary, target[0], target[1])
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Data.Archives) != len(docs.NativePlatforms) || r.Data.Version != "v1.2.3-snapshot-abc" || r.Data.Repository != Repository {
				t.Fatalf("launcher data: %+v", r.Data)
			}
			for key, a := range r.Data.Archives {
				b, err := os.ReadFile(filepath.Join(r.Dist, a.Name))
				if err != nil || SHA256(b) != a.SHA256 {
					t.Errorf("%s: %s has another sum than the data's (%v)", key, a.Name, err)
				}
			}
			archive, err := os.ReadFile(filepath.Join(r.Dist, r.Archive))
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(archive)) != r.ArchiveSize {
				t.Errorf("ArchiveSize %d, file %d", r.ArchiveSize, len(archive))
			}
			if got := unpack(t, r.Platform, archive); !bytes.Equal(got, binary) {
				t.Errorf("%s holds %q, want the binary", r.Archive, got)
			}
			if r.BinarySHA256() != SHA256(binary) {
				t.Errorf("BinarySHA256 %s, want %s", r.BinarySHA256(), SHA256(binary))
			}
		})
	}
	if _, err := Make(t.TempDir(), "v1.0.0", nil, "plan9", "amd64"); err == nil {
		t.Error("a release for plan9/amd64 was made")
	}
}

func unpack(t *testing.T, p Platform, archive []byte) []byte {
	t.Helper()
	if p.Format == "zip" {
		zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
		if err != nil {
			t.Fatal(err)
		}
		f, err := zr.Open(p.Exe)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(f)
		return b
	}
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no %s in the archive: %v", p.Exe, err)
		}
		if h.Name == p.Exe {
			if h.Mode != 0o755 {
				t.Errorf("%s: mode %o", p.Exe, h.Mode)
			}
			b, _ := io.ReadAll(tr)
			return b
		}
	}
}

// TestActionAndToolCache: the checkout holds native/'s files and the
// release's checksums.json; the tool cache holds the binary where the
// launcher looks, in directories nobody else may write.
func TestActionAndToolCache(t *testing.T) {
	r, err := Make(t.TempDir(), "v2.0.0", []byte("binary"), "linux", "arm64")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "native")
	root, _ := filepath.Abs(filepath.Join("..", "..", ".."))
	if err := r.WriteAction(root, dir); err != nil {
		t.Fatal(err)
	}
	want, _ := r.Data.Render()
	if got, err := os.ReadFile(filepath.Join(dir, "checksums.json")); err != nil || !bytes.Equal(got, want) {
		t.Errorf("checksums.json: %s (%v)", got, err)
	}
	for _, f := range ActionFiles {
		a, _ := os.ReadFile(filepath.Join(root, "native", f))
		if b, err := os.ReadFile(filepath.Join(dir, f)); err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs from native/%s (%v)", f, f, err)
		}
	}
	cache := filepath.Join(t.TempDir(), "toolcache")
	if err := os.Mkdir(cache, 0o777); err != nil {
		t.Fatal(err)
	}
	p, err := r.FillToolCache(cache)
	if err != nil {
		t.Fatal(err)
	}
	if p != filepath.Join(cache, "ecr-credentials", "2.0.0", "arm64", "ecr-credentials") {
		t.Errorf("cached at %s", p)
	}
	for d := p; d != filepath.Dir(cache); d = filepath.Dir(d) {
		st, err := os.Lstat(d)
		if err != nil || st.Mode().Perm()&0o022 != 0 {
			t.Errorf("%s: mode %v (%v)", d, st.Mode(), err)
		}
	}
}

// TestMirror: archives by name under /releases/, nothing else; one byte
// changed when tampering; every request recorded.
func TestMirror(t *testing.T) {
	r, err := Make(t.TempDir(), "v1.0.0", []byte("binary"), "linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(r.Dist), "secret"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := r.Mirror()
	srv := httptest.NewServer(m)
	defer srv.Close()
	get := func(path string) (int, []byte) {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	orig, _ := os.ReadFile(filepath.Join(r.Dist, r.Archive))
	if code, b := get("/releases/" + r.Archive); code != 200 || !bytes.Equal(b, orig) {
		t.Errorf("archive: %d, %d bytes", code, len(b))
	}
	for _, p := range []string{"/releases/", "/releases/../secret", "/releases/..%2fsecret", "/" + r.Archive, "/releases/.hidden"} {
		if code, _ := get(p); code != 404 {
			t.Errorf("%s: %d, want 404", p, code)
		}
	}
	m.Tamper(true)
	if _, b := get("/releases/" + r.Archive); bytes.Equal(b, orig) || len(b) != len(orig) {
		t.Error("tampering changed nothing")
	}
	m.Tamper(false)
	m.Fail(503, 429)
	for _, want := range []int{503, 429, 200} {
		if code, _ := get("/releases/" + r.Archive); code != want {
			t.Errorf("after Fail(503, 429): %d, want %d", code, want)
		}
	}
	if got := len(m.Requests()); got != 10 {
		t.Errorf("%d requests recorded, want 10", got)
	}
}
