package output

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
)

// FuzzFileCommands: whatever names and values FileCommands accepts, the
// runner reads back exactly those names with exactly those values, in
// GITHUB_OUTPUT and GITHUB_ENV alike: no value (new lines, "<<", "=",
// delimiter look-alikes, carriage returns, NUL, invalid UTF-8) can end its
// block early or smuggle in another variable. Names it refuses are the
// ones the runner could misread.
func FuzzFileCommands(f *testing.F) {
	seeds := []struct{ n1, v1, n2, v2 string }{
		{"password", "s3cr3t", "registry", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"},
		{"json", "{\n  \"a\": 1\n}\n", "empty", ""},
		{"x", "EOF\nGITHUB_PATH=/tmp\nEOF", "y", "y<<EOF\nz\nEOF"},
		{"a", "ghadelimiter_00000000000000000000000000000000", "b", "\n\n"},
		{"nl", "\r\n", "eq", "=a=b=="},
		{"bad name", "v", "also=bad", "w"},
		{"u", "ünïcødé ✓ \u2028 \x00 \xff", "u", "second value wins"},
	}
	for _, s := range seeds {
		f.Add(s.n1, s.v1, s.n2, s.v2)
	}
	dir := f.TempDir()
	out, env := filepath.Join(dir, "output"), filepath.Join(dir, "env")
	getenv := func(k string) string {
		switch k {
		case GitHubOutput:
			return out
		case GitHubEnv:
			return env
		}
		return ""
	}
	validOutput := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
	validEnv := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string) {
		for _, p := range []string{out, env} {
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		fc := NewFileCommands(getenv)
		wantOut, wantEnv := map[string]string{}, map[string]string{}
		for _, kv := range [][2]string{{n1, v1}, {n2, v2}} {
			name, value := kv[0], kv[1]
			if err := fc.Output(name, value); err == nil {
				wantOut[name] = value
			} else if validOutput.MatchString(name) {
				t.Fatalf("Output refused the valid name %q: %v", name, err)
			}
			if err := fc.Env(name, value); err == nil {
				wantEnv[name] = value
			} else if validEnv.MatchString(name) {
				t.Fatalf("Env refused the valid name %q: %v", name, err)
			}
		}
		for name := range wantOut {
			if !validOutput.MatchString(name) {
				t.Fatalf("Output accepted the name %q", name)
			}
		}
		if err := fc.Commit(); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			path string
			want map[string]string
		}{{out, wantOut}, {env, wantEnv}} {
			data, err := os.ReadFile(c.path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ghrunner.ParseFileCommands(data)
			if err != nil {
				t.Fatalf("%s does not parse: %v", filepath.Base(c.path), err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("%s: read back %d names, wrote %d", filepath.Base(c.path), len(got), len(c.want))
			}
			for name, value := range c.want {
				if g, ok := got[name]; !ok || g != value {
					t.Fatalf("%s: %q read back as %q (present %v), want %q", filepath.Base(c.path), name, g, ok, value)
				}
			}
		}
	})
}
