package output

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// awkwardValues hold every character some shell treats specially.
var awkwardValues = []Value{
	{Name: "PLAIN", Value: "AWS"},
	{Name: "B64", Value: "QVdTOnBhc3N3b3Jk+/=="},
	{Name: "JSON", Value: `{"a":"b c","d":[1,2],"e":"x\"y"}`},
	{Name: "QUOTES", Value: `it's "quoted" ‘curly’ ‚low‛ ` + "`tick`"},
	{Name: "EXPAND", Value: `$HOME ${HOME} $(id) %PATH% !x! $Env:PATH (echo)`},
	{Name: "SPECIAL", Value: `a^b&c|d<e>f;g#h*?[x]~{y} \ back\\ \'`},
	{Name: "SPACES", Value: "  lead and trail  \t"},
	{Name: "UNICODE", Value: "päss wörd ✓ 𝄞"},
	{Name: "EMPTY", Value: ""},
}

// multiLine is a value with line breaks, which every shell but cmd holds.
var multiLine = Value{Name: "MULTI", Value: "line one\nline 'two'\r\nthree\\"}

// The parsers below read each form back by the shell's own quoting rules
// (written from the shells' documentation, independently of the renderers).

func parseSh(t *testing.T, text string) map[string]string {
	return parseLines(t, text, "\n", "export ", "=", func(q string) (string, bool) {
		// A sequence of '...' strings and \x escapes outside quotes.
		var b strings.Builder
		for i := 0; i < len(q); {
			switch q[i] {
			case '\'':
				end := strings.IndexByte(q[i+1:], '\'')
				if end < 0 {
					return "", false
				}
				b.WriteString(q[i+1 : i+1+end])
				i += end + 2
			case '\\':
				if i+1 >= len(q) {
					return "", false
				}
				b.WriteByte(q[i+1])
				i += 2
			default:
				return "", false // unquoted text would be subject to expansion
			}
		}
		return b.String(), true
	})
}

func parseFish(t *testing.T, text string) map[string]string {
	return parseLines(t, text, "\n", "set -gx ", " ", func(q string) (string, bool) {
		if len(q) < 2 || q[0] != '\'' || q[len(q)-1] != '\'' {
			return "", false
		}
		var b strings.Builder
		in := q[1 : len(q)-1]
		for i := 0; i < len(in); i++ {
			switch {
			case in[i] == '\\' && i+1 < len(in) && (in[i+1] == '\\' || in[i+1] == '\''):
				b.WriteByte(in[i+1])
				i++
			case in[i] == '\'':
				return "", false // would end the string early
			default:
				b.WriteByte(in[i])
			}
		}
		return b.String(), true
	})
}

func isPSQuote(r rune) bool { return strings.ContainsRune("'\u2018\u2019\u201a\u201b", r) }

func parsePowerShell(t *testing.T, text string) map[string]string {
	return parseLines(t, text, "\n", "$Env:", " = ", func(q string) (string, bool) {
		rs := []rune(q)
		if len(rs) < 2 || rs[0] != '\'' || rs[len(rs)-1] != '\'' {
			return "", false
		}
		var b strings.Builder
		in := rs[1 : len(rs)-1]
		for i := 0; i < len(in); i++ {
			if isPSQuote(in[i]) {
				// Any single-quote character followed by another is one literal.
				if i+1 >= len(in) || !isPSQuote(in[i+1]) {
					return "", false
				}
				i++
			}
			b.WriteRune(in[i])
		}
		return b.String(), true
	})
}

func parseCmd(t *testing.T, text string) map[string]string {
	return parseLines(t, text, "\r\n", "set ", "=", func(q string) (string, bool) {
		// Batch file: %% is %, a lone % expands; ^x is x; unescaped
		// & | < > ( ) " are syntax.
		var b strings.Builder
		for i := 0; i < len(q); i++ {
			switch c := q[i]; {
			case c == '%':
				if i+1 >= len(q) || q[i+1] != '%' {
					return "", false
				}
				b.WriteByte('%')
				i++
			case c == '^':
				if i+1 >= len(q) {
					return "", false
				}
				b.WriteByte(q[i+1])
				i++
			case strings.IndexByte(`&|<>()"`, c) >= 0:
				return "", false
			default:
				b.WriteByte(c)
			}
		}
		return b.String(), true
	})
}

// parseLines reads text as statements of the form <prefix>NAME<sep>QUOTED
// ending in eol; value unquotes QUOTED (false: not a whole value yet, the
// statement goes on on the next line).
func parseLines(t *testing.T, text, eol, prefix, sep string, value func(q string) (string, bool)) map[string]string {
	t.Helper()
	parse := func(stmt string) (string, string, bool) {
		rest, ok := strings.CutPrefix(stmt, prefix)
		if !ok {
			return "", "", false
		}
		name, q, ok := strings.Cut(rest, sep)
		if !ok {
			return "", "", false
		}
		v, ok := value(q)
		return name, v, ok
	}
	got := map[string]string{}
	if !strings.HasSuffix(text, eol) {
		t.Fatalf("output does not end in %q: %q", eol, text)
	}
	// A line break inside a quoted value continues the statement.
	pending := ""
	for _, line := range strings.SplitAfter(strings.TrimSuffix(text, eol), eol) {
		line = pending + line
		stmt := strings.TrimSuffix(line, eol)
		name, value, ok := parse(stmt)
		if !ok {
			pending = line
			continue
		}
		pending = ""
		got[name] = value
	}
	if pending != "" {
		t.Fatalf("cannot parse %q", pending)
	}
	return got
}

func TestExportsParseBack(t *testing.T) {
	parsers := map[Shell]func(*testing.T, string) map[string]string{
		ShellSh: parseSh, ShellFish: parseFish, ShellPowerShell: parsePowerShell, ShellCmd: parseCmd,
	}
	for _, name := range ShellNames {
		sh := Shell(name)
		t.Run(name, func(t *testing.T) {
			values := awkwardValues
			if sh != ShellCmd {
				values = append(append([]Value{}, values...), multiLine)
			}
			text, err := Exports(values, sh)
			if err != nil {
				t.Fatal(err)
			}
			got := parsers[sh](t, text)
			if len(got) != len(values) {
				t.Errorf("read back %d variables, want %d:\n%s", len(got), len(values), text)
			}
			for _, v := range values {
				if got[v.Name] != v.Value {
					t.Errorf("%s read back as %q, want %q", v.Name, got[v.Name], v.Value)
				}
			}
		})
	}
}

func TestExportsRefusals(t *testing.T) {
	if _, err := Exports([]Value{multiLine}, ShellCmd); err == nil || !strings.Contains(err.Error(), "MULTI") {
		t.Errorf("cmd with a line break: err = %v, want one naming the variable", err)
	}
	if _, err := Exports(awkwardValues, "tcsh"); err == nil {
		t.Error("an unknown shell was accepted")
	}
	if s, err := Exports(awkwardValues[:1], ""); err != nil || s != "export PLAIN='AWS'\n" {
		t.Errorf("default shell: %q, %v; want sh", s, err)
	}
}

// TestExportsRealShells runs the output in bash and fish and reads the
// exported environment of a child process.
func TestExportsRealShells(t *testing.T) {
	values := append(append([]Value{}, awkwardValues...), multiLine)
	for _, tc := range []struct {
		shell Shell
		tool  string
		args  func(file string) []string
	}{
		{ShellSh, "bash", func(f string) []string {
			return []string{"--norc", "--noprofile", "-c", `eval "$(cat "$1")" && exec env -0`, "bash", f}
		}},
		{ShellSh, "sh", func(f string) []string { return []string{"-c", `. "$1" && exec env -0`, "sh", f} }},
		{ShellFish, "fish", func(f string) []string { return []string{"--no-config", "-c", "source $argv[1]; and exec env -0", f} }},
	} {
		t.Run(tc.tool, func(t *testing.T) {
			bin := testenv.RequireTool(t, tc.tool)
			text, err := Exports(values, tc.shell)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "ecr.env")
			if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, tc.args(file)...)
			cmd.Env = []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + dir, "XDG_DATA_HOME=" + dir, "PATH=/usr/bin:/bin"}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v\n%s", tc.tool, err, stderr.String())
			}
			env := map[string]string{}
			for _, kv := range strings.Split(string(out), "\x00") {
				if k, v, ok := strings.Cut(kv, "="); ok {
					env[k] = v
				}
			}
			for _, v := range values {
				got, ok := env[v.Name]
				if !ok || got != v.Value {
					t.Errorf("%s: %s = %q (set %v), want %q", tc.tool, v.Name, got, ok, v.Value)
				}
			}
		})
	}
}

func ExampleExports() {
	for _, sh := range ShellNames {
		s, _ := Exports([]Value{{Name: "ECR_PASSWORD", Value: `it's 100%`}}, Shell(sh))
		fmt.Print(s)
	}
	// Output:
	// export ECR_PASSWORD='it'\''s 100%'
	// set -gx ECR_PASSWORD 'it\'s 100%'
	// $Env:ECR_PASSWORD = 'it''s 100%'
	// set ECR_PASSWORD=it's 100%%
}
