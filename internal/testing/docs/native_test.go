package docs

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// fakeDist writes a GoReleaser-like dist directory of version (without
// the v): one archive per platform holding a distinct "binary" and a
// README, and checksums.txt. It returns the directory and the binaries.
func fakeDist(t *testing.T, version string) (string, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	bins := map[string][]byte{}
	var sums strings.Builder
	for _, p := range NativePlatforms {
		bin := []byte("binary of " + p)
		bins[p] = bin
		var buf bytes.Buffer
		name := fmt.Sprintf("ecr-credentials_%s_%s", version, p)
		if strings.HasPrefix(p, "windows") {
			name += ".zip"
			zw := zip.NewWriter(&buf)
			for n, c := range map[string][]byte{"README.md": []byte("readme"), "ecr-credentials.exe": bin} {
				w, err := zw.Create(n)
				if err != nil {
					t.Fatal(err)
				}
				w.Write(c)
			}
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
		} else {
			name += ".tar.gz"
			gz := gzip.NewWriter(&buf)
			tw := tar.NewWriter(gz)
			for _, e := range []struct {
				n string
				c []byte
			}{{"README.md", []byte("readme")}, {"ecr-credentials", bin}} {
				if err := tw.WriteHeader(&tar.Header{Name: e.n, Mode: 0o755, Size: int64(len(e.c)), Typeflag: tar.TypeReg}); err != nil {
					t.Fatal(err)
				}
				tw.Write(e.c)
			}
			tw.Close()
			gz.Close()
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sums, "%s  %s\n", sha256Hex(buf.Bytes()), name)
	}
	if err := os.WriteFile(filepath.Join(dir, "checksums.txt"), []byte(sums.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, bins
}

func TestNativeDataFromDist(t *testing.T) {
	dist, bins := fakeDist(t, "1.2.3")
	d, err := NativeDataFromDist(dist, "v1.2.3", "acme/ecr-credentials")
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != "v1.2.3" || d.Repository != "acme/ecr-credentials" || len(d.Archives) != len(NativePlatforms) {
		t.Fatalf("data = %+v", d)
	}
	for p, bin := range bins {
		a := d.Archives[p]
		archive, err := os.ReadFile(filepath.Join(dist, a.Name))
		if err != nil {
			t.Fatal(err)
		}
		if a.SHA256 != sha256Hex(archive) || a.BinarySHA256 != sha256Hex(bin) {
			t.Errorf("%s: %+v, want the archive's and the binary's SHA-256", p, a)
		}
	}
}

func TestNativeDataFromDistRefuses(t *testing.T) {
	tests := []struct {
		name, version, repo string
		change              func(t *testing.T, dist string)
		errPart             string
	}{
		{name: "tampered archive", version: "v1.2.3", repo: "acme/x", errPart: "checksums.txt says",
			change: func(t *testing.T, dist string) {
				f := filepath.Join(dist, "ecr-credentials_1.2.3_linux_amd64.tar.gz")
				b, _ := os.ReadFile(f)
				b[len(b)-1] ^= 1
				os.WriteFile(f, b, 0o644)
			}},
		{name: "platform missing", version: "v1.2.3", repo: "acme/x", errPart: "checksums.txt has no ecr-credentials_1.2.3_darwin_arm64.tar.gz",
			change: func(t *testing.T, dist string) {
				f := filepath.Join(dist, "checksums.txt")
				b, _ := os.ReadFile(f)
				var keep []string
				for _, l := range strings.Split(string(b), "\n") {
					if !strings.Contains(l, "darwin_arm64") {
						keep = append(keep, l)
					}
				}
				os.WriteFile(f, []byte(strings.Join(keep, "\n")), 0o644)
			}},
		{name: "bad checksums line", version: "v1.2.3", repo: "acme/x", errPart: "line 1",
			change: func(t *testing.T, dist string) {
				os.WriteFile(filepath.Join(dist, "checksums.txt"), []byte("nonsense\n"), 0o644)
			}},
		{name: "other version", version: "v1.2.4", repo: "acme/x", errPart: "checksums.txt has no ecr-credentials_1.2.4"},
		{name: "not a version", version: "1.2.3", repo: "acme/x", errPart: "want vMAJOR"},
		{name: "bad repository", version: "v1.2.3", repo: "acme", errPart: "want OWNER/NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dist, _ := fakeDist(t, "1.2.3")
			if tt.change != nil {
				tt.change(t, dist)
			}
			d, err := NativeDataFromDist(dist, tt.version, tt.repo)
			if err == nil || !strings.Contains(err.Error(), tt.errPart) {
				t.Fatalf("NativeDataFromDist = %+v, %v; want an error containing %q", d, err, tt.errPart)
			}
		})
	}
}

// TestNativePlatformsMatchGoReleaser: the launcher's data covers exactly
// the targets GoReleaser builds, in the archive formats it makes.
func TestNativePlatformsMatchGoReleaser(t *testing.T) {
	b, err := os.ReadFile(repoFile(".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Builds []struct {
			Goos   []string `yaml:"goos"`
			Goarch []string `yaml:"goarch"`
		} `yaml:"builds"`
		Archives []struct {
			NameTemplate    string   `yaml:"name_template"`
			Formats         []string `yaml:"formats"`
			FormatOverrides []struct {
				Goos    string   `yaml:"goos"`
				Formats []string `yaml:"formats"`
			} `yaml:"format_overrides"`
		} `yaml:"archives"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Builds) != 1 || len(cfg.Archives) != 1 {
		t.Fatalf("want one build and one archive in .goreleaser.yaml, got %d and %d", len(cfg.Builds), len(cfg.Archives))
	}
	var got []string
	for _, o := range cfg.Builds[0].Goos {
		for _, a := range cfg.Builds[0].Goarch {
			got = append(got, o+"_"+a)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, NativePlatforms) {
		t.Errorf("GoReleaser builds %v, the launcher's data covers %v", got, NativePlatforms)
	}
	a := cfg.Archives[0]
	if a.NameTemplate != "{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}" || !slices.Equal(a.Formats, []string{"tar.gz"}) ||
		len(a.FormatOverrides) != 1 || a.FormatOverrides[0].Goos != "windows" || !slices.Equal(a.FormatOverrides[0].Formats, []string{"zip"}) {
		t.Errorf("archives = %+v; NativeDataFromDist and native/launcher.js expect ecr-credentials_<version>_<os>_<arch>.tar.gz (.zip on windows)", a)
	}
}
