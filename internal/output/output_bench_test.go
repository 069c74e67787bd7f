package output

import (
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/ecr"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/fixtures"
)

// The output side of a login, for `go test -bench . ./internal/output` and
// benchstat: rendering the JSON blob and the value lists, writing the
// GitHub file commands, and masking secrets on the console.

// eachSize runs bench for 1 and for 20 logins and their JSON blob.
func eachSize(b *testing.B, bench func(b *testing.B, logins []ecr.Login, blob string)) {
	for _, n := range []int{1, 20} {
		logins := benchLogins(b, n)
		blob, err := JSON(logins)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("registries=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			bench(b, logins, blob)
		})
	}
}

// benchLogins makes n logins in different regions with ECR-sized passwords.
func benchLogins(b *testing.B, n int) []ecr.Login {
	b.Helper()
	logins := make([]ecr.Login, n)
	for i, r := range fixtures.Registries(b, n) {
		pw := base64.StdEncoding.EncodeToString([]byte(strings.Repeat(fmt.Sprintf("pw%02d", i), 360)))
		logins[i] = ecr.Login{
			Registry: r, Username: "AWS", Password: pw,
			AuthorizationToken: base64.StdEncoding.EncodeToString([]byte("AWS:" + pw)),
			ProxyEndpoint:      "https://" + r.Host,
			ExpiresAt:          time.Date(2026, 11, 26, 5, 0, 0, 0, time.UTC),
		}
	}
	return logins
}

func BenchmarkJSON(b *testing.B) {
	eachSize(b, func(b *testing.B, logins []ecr.Login, _ string) {
		for b.Loop() {
			if _, err := JSON(logins); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGitHubFileCommands is what the GitHub mode writes after a
// login: outputs, environment variables and a summary, committed to files.
func BenchmarkGitHubFileCommands(b *testing.B) {
	eachSize(b, func(b *testing.B, logins []ecr.Login, blob string) {
		dir := b.TempDir()
		files := map[string]string{}
		for _, name := range []string{GitHubOutput, GitHubEnv, GitHubState, GitHubSummary} {
			files[name] = filepath.Join(dir, name)
		}
		getenv := func(k string) string { return files[k] }
		for b.Loop() {
			for _, f := range files {
				if err := os.WriteFile(f, nil, 0o600); err != nil {
					b.Fatal(err)
				}
			}
			fc := NewFileCommands(getenv)
			for _, v := range Outputs(logins, blob) {
				if err := fc.Output(v.Name, v.Value); err != nil {
					b.Fatal(err)
				}
			}
			for _, v := range Env(logins, blob, "ECR_") {
				if err := fc.Env(v.Name, v.Value); err != nil {
					b.Fatal(err)
				}
			}
			fc.Summary("### Amazon ECR login\n")
			if err := fc.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkConsoleMask registers every secret of a login (with its
// ::add-mask:: command) and writes a few redacted log lines.
func BenchmarkConsoleMask(b *testing.B) {
	eachSize(b, func(b *testing.B, logins []ecr.Login, blob string) {
		for b.Loop() {
			con := NewConsole(StyleGitHub, io.Discard, io.Discard, false)
			for _, l := range logins {
				con.Mask(l.Password)
				con.Mask(l.AuthorizationToken)
			}
			con.Mask(blob)
			for _, l := range logins {
				con.Infof("Registry %s (%s): password expires %s", l.Registry.Host, l.Registry.Region, FormatTime(l.ExpiresAt))
			}
		}
	})
}
