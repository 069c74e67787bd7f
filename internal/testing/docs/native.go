package docs

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// NativeData is native/checksums.json, the launcher's data: which release
// it is, and for every platform the archive to fetch, its SHA-256 and the
// SHA-256 of the binary inside. On main it names no version (the launcher
// then builds from source); the release workflow writes it from
// GoReleaser's dist directory (see NativeDataFromDist).
type NativeData struct {
	Comment    string                   `json:"comment"`
	Version    string                   `json:"version"`
	Repository string                   `json:"repository"`
	Archives   map[string]NativeArchive `json:"archives"`
}

// NativeArchive is one platform's release archive.
type NativeArchive struct {
	Name         string `json:"name"`
	SHA256       string `json:"sha256"`
	BinarySHA256 string `json:"binarySha256"`
}

// NativePlatforms are the GoReleaser targets (goos_goarch) the launcher
// knows; a test keeps them in step with .goreleaser.yaml.
var NativePlatforms = []string{"darwin_amd64", "darwin_arm64", "linux_amd64", "linux_arm64", "windows_amd64", "windows_arm64"}

const (
	nativeCommentMain    = "Written by the release workflow (docs/releasing.md). No version here (main, or a commit that is not a release): the launcher builds from source when Go is on PATH, and refuses otherwise."
	nativeCommentRelease = "Written by the release workflow (docs/releasing.md) from GoReleaser's checksums.txt: the launcher runs only a binary with these SHA-256 sums."
)

// NativeDataMain is native/checksums.json on main.
func NativeDataMain() NativeData {
	return NativeData{Comment: nativeCommentMain, Archives: map[string]NativeArchive{}}
}

// Render is the file's text.
func (d NativeData) Render() ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

var releaseVersion = regexp.MustCompile(`^v([0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?)$`)

// NativeDataFromDist reads GoReleaser's dist directory of release version
// (v1.2.3) of repository (owner/name): checksums.txt, and every platform's
// archive, whose SHA-256 it checks against checksums.txt before taking the
// binary's SHA-256 from inside it.
func NativeDataFromDist(dist, version, repository string) (NativeData, error) {
	m := releaseVersion.FindStringSubmatch(version)
	if m == nil {
		return NativeData{}, fmt.Errorf("release version %q: want vMAJOR.MINOR.PATCH[-PRERELEASE]", version)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`).MatchString(repository) {
		return NativeData{}, fmt.Errorf("release repository %q: want OWNER/NAME", repository)
	}
	sums, err := readChecksums(filepath.Join(dist, "checksums.txt"))
	if err != nil {
		return NativeData{}, err
	}
	d := NativeData{Comment: nativeCommentRelease, Version: version, Repository: repository, Archives: map[string]NativeArchive{}}
	for _, p := range NativePlatforms {
		goos, _, _ := strings.Cut(p, "_")
		ext, bin := "tar.gz", "ecr-credentials"
		if goos == "windows" {
			ext, bin = "zip", "ecr-credentials.exe"
		}
		name := fmt.Sprintf("ecr-credentials_%s_%s.%s", m[1], p, ext)
		want, ok := sums[name]
		if !ok {
			return NativeData{}, fmt.Errorf("checksums.txt has no %s", name)
		}
		archive, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			return NativeData{}, err
		}
		if got := sha256Hex(archive); got != want {
			return NativeData{}, fmt.Errorf("%s: SHA-256 %s, checksums.txt says %s", name, got, want)
		}
		binary, err := archivedFile(archive, ext, bin)
		if err != nil {
			return NativeData{}, fmt.Errorf("%s: %w", name, err)
		}
		d.Archives[p] = NativeArchive{Name: name, SHA256: want, BinarySHA256: sha256Hex(binary)}
	}
	return d, nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// readChecksums reads a checksums.txt of "<sha256>  <name>" lines.
func readChecksums(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" || name == "" {
			return nil, fmt.Errorf("%s line %d: want \"<sha256>  <name>\"", path, n)
		}
		out[name] = sum
	}
	return out, sc.Err()
}

// archivedFile returns the content of the file name at the top of a
// tar.gz or zip archive.
func archivedFile(archive []byte, ext, name string) ([]byte, error) {
	if ext == "zip" {
		zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
		if err != nil {
			return nil, err
		}
		for _, f := range zr.File {
			if f.Name == name {
				r, err := f.Open()
				if err != nil {
					return nil, err
				}
				defer r.Close()
				return io.ReadAll(r)
			}
		}
		return nil, fmt.Errorf("no %s inside", name)
	}
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("no %s inside", name)
		}
		if err != nil {
			return nil, err
		}
		if h.Name == name && h.Typeflag == tar.TypeReg {
			return io.ReadAll(tr)
		}
	}
}
