package native

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

func docsSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

type zipEntry struct {
	name   string
	body   []byte
	stored bool
}

func zipBytes(t *testing.T, entries []zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.stored {
			h.Method = zip.Store
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// extractScript runs the launcher's extract() on an archive file and
// prints the SHA-256 of what it returned, or REFUSED and the reason.
const extractScript = `
const l = require(process.argv[1]);
const [file, format, name] = process.argv.slice(2);
try {
  const b = l.extract(require('fs').readFileSync(file), format, name);
  console.log(require('crypto').createHash('sha256').update(b).digest('hex'));
} catch (e) {
  if (!(e instanceof l.Refusal)) { console.log('CRASH: ' + e.stack); process.exit(2); }
  console.log('REFUSED: ' + e.message);
}
`

// TestLauncherExtract: the launcher's tar and zip readers find the binary
// in archives as Go's archive/tar and archive/zip write them (GoReleaser
// uses those), and refuse names that leave the directory, links, and
// doubled or missing entries.
func TestLauncherExtract(t *testing.T) {
	n := node(t)
	launcher := filepath.Join(testenv.ModuleRoot(t), "native", "launcher.js")
	bin := bytes.Repeat([]byte("\x7fELF binary "), 50000)
	long := strings.Repeat("d/", 60) + "README.md"
	tests := []struct {
		name    string
		format  string
		want    string // binary name asked for
		archive []byte
		refused string // "" means: returns bin
	}{
		{name: "tar.gz", format: "tar.gz", want: "ecr-credentials",
			archive: tarGz(t, []tarEntry{{name: "README.md", body: []byte("r")}, {name: "ecr-credentials", body: bin, mode: 0o755}})},
		{name: "tar.gz with a PAX long name first", format: "tar.gz", want: "ecr-credentials",
			archive: tarGz(t, []tarEntry{{name: long, body: []byte("r"), pax: true}, {name: "ecr-credentials", body: bin}})},
		{name: "tar.gz with ./ names", format: "tar.gz", want: "ecr-credentials",
			archive: tarGz(t, []tarEntry{{name: "./ecr-credentials", body: bin}})},
		{name: "zip deflated", format: "zip", want: "ecr-credentials.exe",
			archive: zipBytes(t, []zipEntry{{name: "README.md", body: []byte("r")}, {name: "ecr-credentials.exe", body: bin}})},
		{name: "zip stored", format: "zip", want: "ecr-credentials.exe",
			archive: zipBytes(t, []zipEntry{{name: "ecr-credentials.exe", body: bin, stored: true}})},

		{name: "tar.gz dot-dot entry", format: "tar.gz", want: "ecr-credentials", refused: "with '..'",
			archive: tarGz(t, []tarEntry{{name: "../evil", body: []byte("x")}, {name: "ecr-credentials", body: bin}})},
		{name: "tar.gz absolute entry", format: "tar.gz", want: "ecr-credentials", refused: "an absolute path",
			archive: tarGz(t, []tarEntry{{name: "/etc/evil", body: []byte("x")}, {name: "ecr-credentials", body: bin}})},
		{name: "tar.gz binary is a link", format: "tar.gz", want: "ecr-credentials", refused: "is not a regular file",
			archive: tarGz(t, []tarEntry{{name: "ecr-credentials", typeflag: '2'}})},
		{name: "tar.gz binary twice", format: "tar.gz", want: "ecr-credentials", refused: "appears twice",
			archive: tarGz(t, []tarEntry{{name: "ecr-credentials", body: bin}, {name: "ecr-credentials", body: []byte("other")}})},
		{name: "tar.gz without the binary", format: "tar.gz", want: "ecr-credentials", refused: "holds no ecr-credentials",
			archive: tarGz(t, []tarEntry{{name: "README.md", body: []byte("r")}})},
		{name: "not gzip", format: "tar.gz", want: "ecr-credentials", refused: "not gzip",
			archive: []byte("plain text")},
		{name: "zip dot-dot entry", format: "zip", want: "ecr-credentials.exe", refused: "with '..'",
			archive: zipBytes(t, []zipEntry{{name: "..\\evil.exe", body: []byte("x")}, {name: "ecr-credentials.exe", body: bin}})},
		{name: "zip without the binary", format: "zip", want: "ecr-credentials.exe", refused: "holds no ecr-credentials.exe",
			archive: zipBytes(t, []zipEntry{{name: "ecr-credentials", body: bin}})},
		{name: "zip truncated", format: "zip", want: "ecr-credentials.exe", refused: "zip archive",
			archive: zipBytes(t, []zipEntry{{name: "ecr-credentials.exe", body: bin}})[:1000]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "archive")
			if err := os.WriteFile(f, tt.archive, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(n, "-e", extractScript, launcher, f, tt.format, tt.want).CombinedOutput()
			if err != nil {
				t.Fatalf("node: %v\n%s", err, out)
			}
			got := strings.TrimSpace(string(out))
			if tt.refused == "" {
				if got != docsSHA(bin) {
					t.Fatalf("extract gave %s, want the binary's SHA-256 %s", got, docsSHA(bin))
				}
				return
			}
			if !strings.HasPrefix(got, "REFUSED: ") || !strings.Contains(got, tt.refused) {
				t.Fatalf("extract: %s; want a refusal containing %q", got, tt.refused)
			}
		})
	}
}
