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

// cmdBangs are values that cmd's delayed expansion reads: ! and ^ beside
// it, alone and in pairs naming a variable cmdPreset defines.
var cmdBangs = []Value{
	{Name: "BANG", Value: "!"},
	{Name: "BANGS", Value: "a!b!!c!x!d"},
	{Name: "CARETBANG", Value: "^!x^! ^^ !PATH! %x% ^"},
	{Name: "BANGSPECIAL", Value: `!&|<>()"^%`},
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

// cmdPreset are variables defined before the batch file runs: a value
// that still expanded would show one of them.
var cmdPreset = map[string]string{"x": "EXPANDED-x", "PATH": "EXPANDED-PATH", "HOME": "EXPANDED-HOME"}

// runCmd runs text as cmd.exe runs a batch file of `set NAME=value` and
// `if "a"=="b" set NAME=value` lines, by its parser's phases: percent
// expansion (%% is %, a lone % would expand), then carets and special
// characters (^x is x; unescaped & | < > ( ) and quotes are syntax, only
// the if's quoted operands are expected), then, with delayed expansion on,
// each token holding a ! once more (^x is x, !NAME! expands, an unpaired !
// vanishes); the if compares its operands after that pass. It returns the
// variables set (without cmdPreset), or fails the test on a line that is
// not of that form.
func runCmd(t *testing.T, text string, delayed bool) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for k, v := range cmdPreset {
		vars[k] = v
	}
	percent := func(l string) string {
		var b strings.Builder
		for i := 0; i < len(l); i++ {
			if l[i] == '%' {
				if i+1 >= len(l) || l[i+1] != '%' {
					t.Fatalf("a lone %% expands: %q", l)
				}
				i++
			}
			b.WriteByte(l[i])
		}
		return b.String()
	}
	carets := func(l string) string {
		var b strings.Builder
		for i := 0; i < len(l); i++ {
			switch c := l[i]; {
			case c == '^':
				if i+1 >= len(l) {
					t.Fatalf("a caret ends the line: %q", l)
				}
				i++
				b.WriteByte(l[i])
			case strings.IndexByte(`&|<>()"`, c) >= 0:
				t.Fatalf("unescaped %q is syntax: %q", c, l)
			default:
				b.WriteByte(c)
			}
		}
		return b.String()
	}
	bang := func(tok string) string {
		if !delayed || !strings.Contains(tok, "!") {
			return tok
		}
		var b strings.Builder
		for i := 0; i < len(tok); i++ {
			switch tok[i] {
			case '^':
				if i+1 < len(tok) {
					i++
					b.WriteByte(tok[i])
				}
			case '!':
				end := strings.IndexByte(tok[i+1:], '!')
				if end < 0 {
					continue // an unpaired ! vanishes
				}
				b.WriteString(vars[tok[i+1:i+1+end]])
				i += end + 1
			default:
				b.WriteByte(tok[i])
			}
		}
		return b.String()
	}
	if !strings.HasSuffix(text, "\r\n") {
		t.Fatalf("output does not end in CRLF: %q", text)
	}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n") {
		l := percent(line)
		run := true
		if rest, ok := strings.CutPrefix(l, "if "); ok {
			var operands [2]string
			for i := range operands {
				if !strings.HasPrefix(rest, `"`) {
					t.Fatalf("an if operand is not quoted: %q", line)
				}
				end := strings.IndexByte(rest[1:], '"')
				if end < 0 {
					t.Fatalf("an if operand is not closed: %q", line)
				}
				operands[i] = bang(rest[:end+2])
				rest = rest[end+2:]
				if i == 0 {
					if rest, ok = strings.CutPrefix(rest, "=="); !ok {
						t.Fatalf("not an == comparison: %q", line)
					}
				}
			}
			if rest, ok = strings.CutPrefix(rest, " "); !ok {
				t.Fatalf("no command after the if: %q", line)
			}
			l, run = rest, operands[0] == operands[1]
		}
		assignment, ok := strings.CutPrefix(l, "set ")
		if !ok {
			t.Fatalf("not a set line: %q", line)
		}
		name, value, ok := strings.Cut(bang(carets(assignment)), "=")
		if !ok {
			t.Fatalf("no = in %q", line)
		}
		if run {
			vars[name] = value
		}
	}
	for k, v := range cmdPreset {
		if vars[k] == v {
			delete(vars, k)
		}
	}
	return vars
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
		ShellSh: parseSh, ShellFish: parseFish, ShellPowerShell: parsePowerShell,
		ShellCmd:            func(t *testing.T, text string) map[string]string { return runCmd(t, text, false) },
		ShellCmd + " /v:on": func(t *testing.T, text string) map[string]string { return runCmd(t, text, true) },
	}
	for _, name := range append(ShellNames, string(ShellCmd)+" /v:on") {
		sh := Shell(name)
		t.Run(name, func(t *testing.T) {
			render := sh
			values := append([]Value{}, awkwardValues...)
			if strings.HasPrefix(name, string(ShellCmd)) {
				render = ShellCmd // cmd.exe with delayed expansion off (its default) and on
				values = append(values, cmdBangs...)
			} else {
				values = append(values, multiLine)
			}
			text, err := Exports(values, render)
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
