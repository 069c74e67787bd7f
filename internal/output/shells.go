package output

import (
	"fmt"
	"strings"

	"github.com/ecr-credentials/ecr-credentials/internal/output/names"
)

// Shell is a command interpreter `env` can print assignments for.
type Shell string

// The shells.
const (
	ShellSh         Shell = names.Sh         // POSIX sh, bash, zsh: export NAME='...'
	ShellFish       Shell = names.Fish       // fish: set -gx NAME '...'
	ShellPowerShell Shell = names.PowerShell // PowerShell: $Env:NAME = '...'
	ShellCmd        Shell = names.Cmd        // cmd.exe batch file: set NAME=... (^-escaped)
)

// ShellNames are the values of the shell setting, default first
// (names.Shells).
var ShellNames = names.Shells

// Exports renders values as assignments that shell sh makes environment
// variables of. Every value arrives byte for byte; a value the shell
// cannot hold (a line break in a cmd.exe line) is an error, not a
// truncated variable.
func Exports(values []Value, sh Shell) (string, error) {
	var b strings.Builder
	for _, v := range values {
		switch sh {
		case ShellSh, "":
			fmt.Fprintf(&b, "export %s=%s\n", v.Name, shellQuote(v.Value))
		case ShellFish:
			fmt.Fprintf(&b, "set -gx %s %s\n", v.Name, fishQuote(v.Value))
		case ShellPowerShell:
			fmt.Fprintf(&b, "$Env:%s = %s\n", v.Name, powerShellQuote(v.Value))
		case ShellCmd:
			q, err := cmdEscape(v.Value, false)
			if err != nil {
				return "", fmt.Errorf("variable %s: %w", v.Name, err)
			}
			fmt.Fprintf(&b, "set %s=%s\r\n", v.Name, q)
			if strings.Contains(v.Value, "!") {
				// With delayed expansion on (setlocal
				// EnableDelayedExpansion, cmd /v:on), a line holding a !
				// loses its carets and !...! once more: "!!" is then empty,
				// and the value is set again, escaped for that pass.
				q, _ := cmdEscape(v.Value, true)
				fmt.Fprintf(&b, "if \"!!\"==\"\" set %s=%s\r\n", v.Name, q)
			}
		default:
			return "", fmt.Errorf("%q is not a shell (use %s)", sh, strings.Join(ShellNames, ", "))
		}
	}
	return b.String(), nil
}

// ShellExports renders values as POSIX shell export lines, for
// `eval "$(ecr-credentials env)"`.
func ShellExports(values []Value) string {
	s, _ := Exports(values, ShellSh) // sh can hold every value
	return s
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// fishQuote: inside fish's single quotes only \' and \\ are escapes.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// powerShellQuote: a PowerShell verbatim string. Besides ', the typographic
// single quotes U+2018..U+201B also open and close one; each is escaped by
// doubling it.
func powerShellQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '\u2018', '\u2019', '\u201a', '\u201b':
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

// cmdEscape makes s literal in an unquoted `set NAME=value` line of a batch
// file: cmd's special characters (and ") get a caret, % is doubled. With
// delayed, the line is for cmd with delayed expansion on, which, after
// removing those carets, reads a line holding a ! once more: ^x is x and
// !NAME! expands, so ! and ^ first get a caret of their own. cmd has no
// way to put a line break in such a line.
func cmdEscape(s string, delayed bool) (string, error) {
	if strings.ContainsAny(s, "\r\n\x00") {
		return "", fmt.Errorf("the value has a line break, which a cmd.exe set line cannot hold")
	}
	if delayed {
		s = strings.NewReplacer("^", "^^", "!", "^!").Replace(s)
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '^', '&', '|', '<', '>', '(', ')', '"':
			b.WriteByte('^')
		case '%':
			b.WriteByte('%')
		}
		b.WriteRune(r)
	}
	return b.String(), nil
}
