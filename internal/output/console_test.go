package output

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestConsoleLinesCarryNoLineBreaks: whatever a value holds, each console
// call writes exactly one line, no line (after leading space) starts with
// "::" unless it is our own workflow command, and the runner's legacy
// "##[" marker never survives.
func TestConsoleLinesCarryNoLineBreaks(t *testing.T) {
	evil := "a\nb\r::warning::x\r\n##[error]y\u2028z\x1b[31m\x00"
	for _, style := range []Style{StyleGitHub, StylePlain} {
		calls := map[string]func(c *Console){
			"Infof":         func(c *Console) { c.Infof("path %s", evil) },
			"Infof leading": func(c *Console) { c.Infof("%s", " ::warning::lead"+evil) },
			"Warnf":         func(c *Console) { c.Warnf("%v", errors.New(evil)) },
			"Debugf":        func(c *Console) { c.Debugf("hosts %s", []string{evil, evil}) },
			"Problem":       func(c *Console) { c.Problem(errors.New(evil)) },
		}
		for name, call := range calls {
			var out bytes.Buffer
			c := NewConsole(style, &out, &out, true)
			call(c)
			text := out.String()
			if strings.Count(text, "\n") != 1 || !strings.HasSuffix(text, "\n") || strings.ContainsAny(text, "\r\x1b\x00\u2028") {
				t.Errorf("style %d %s: not one clean line: %q", style, name, text)
			}
			if strings.Contains(text, "##[") {
				t.Errorf("style %d %s: legacy command marker survived: %q", style, name, text)
			}
			line := strings.TrimLeft(text, " \t")
			own := style == StyleGitHub && (strings.HasPrefix(line, "::warning::") || strings.HasPrefix(line, "::debug::") || strings.HasPrefix(line, "::error "))
			if strings.HasPrefix(line, "::") && !own {
				t.Errorf("style %d %s: a value starts a workflow command: %q", style, name, text)
			}
		}
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain /tmp/x": "plain /tmp/x",
		"tab\tok":      "tab\tok",
		"a\nb\rc":      `a\nb\rc`,
		"##[error]x":   `##\x5berror]x`,
		"\x1b[0m":      `\x1b[0m`,
		"l\u2028s":     `l\u2028s`,
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

// A value masked again (by another part of the run) is told to the runner
// once; a new value still is, and our own lines hide both.
func TestMaskTellsTheRunnerOnce(t *testing.T) {
	var out bytes.Buffer
	c := NewConsole(StyleGitHub, &out, &out, false)
	c.Mask("123456789012")
	c.Infof("account %s", "123456789012")
	c.Mask("123456789012")
	c.Mask("210987654321")
	c.Infof("accounts %s %s", "123456789012", "210987654321")
	want := "::add-mask::123456789012\naccount ***\n::add-mask::210987654321\naccounts *** ***\n"
	if out.String() != want {
		t.Errorf("console wrote\n%s\nwant\n%s", out.String(), want)
	}
	// Hidden first (mask-password: false), a later Mask still tells it.
	out.Reset()
	c.Hide("hidden-secret-1")
	c.Mask("hidden-secret-1")
	if out.String() != "::add-mask::hidden-secret-1\n" {
		t.Errorf("Mask after Hide wrote %q, want the ::add-mask:: line", out.String())
	}
}
