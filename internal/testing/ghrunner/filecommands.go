package ghrunner

import (
	"bytes"
	"fmt"
	"strings"
)

// ParseFileCommands reads a GITHUB_OUTPUT, GITHUB_ENV or GITHUB_STATE file
// the way the GitHub Actions runner on Linux does (EnvFileKeyValuePairs in
// actions/runner's src/Runner.Worker/FileCommandManager.cs) and returns the
// names and values it would set; a name given twice keeps the last value.
//
// The rules, all taken from the runner:
//
//   - lines end at "\n" only; a "\r" stays part of the name, value or
//     delimiter (the runner strips "\r\n" only on Windows);
//   - empty lines are skipped;
//   - a line whose first "=" comes before any "<<" is NAME=VALUE, split at
//     that first "="; the runner lets NAME be empty here, and so does this;
//   - a line whose first "<<" comes before any "=" starts a heredoc
//     NAME<<DELIMITER: both must be non-empty; the value is every following
//     line up to the first line exactly equal to DELIMITER, joined with
//     "\n" (no trailing newline); a missing delimiter line is an error, and
//     so is a file that ends inside the value without a final newline;
//   - any other line is an error.
//
// A UTF-8 byte order mark at the start is dropped, as .NET's reader does.
// The GITHUB_ENV blocklist (NODE_OPTIONS is refused there) is not applied.
// Errors give the line number and the name but never a value.
func ParseFileCommands(data []byte) (map[string]string, error) {
	text := string(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")))
	out := map[string]string{}
	pos := 0
	lineNo := 0
	// readLine returns the next line without its "\n", whether it had one,
	// and false at end of input.
	readLine := func() (line string, hadNewline, ok bool) {
		if pos >= len(text) {
			return "", false, false
		}
		lineNo++
		i := strings.IndexByte(text[pos:], '\n')
		if i < 0 {
			line = text[pos:]
			pos = len(text)
			return line, false, true
		}
		line = text[pos : pos+i]
		pos += i + 1
		return line, true, true
	}
	for {
		line, _, ok := readLine()
		if !ok {
			return out, nil
		}
		if line == "" {
			continue
		}
		eq := strings.Index(line, "=")
		hd := strings.Index(line, "<<")
		switch {
		case eq >= 0 && (hd < 0 || eq < hd):
			out[line[:eq]] = line[eq+1:]
		case hd >= 0 && (eq < 0 || hd < eq):
			name, delim := line[:hd], line[hd+2:]
			if name == "" || delim == "" {
				return nil, fmt.Errorf("line %d: heredoc needs NAME<<DELIMITER with both non-empty (the runner fails the step here)", lineNo)
			}
			start, startLine := pos, lineNo
			end := pos
			for {
				l, nl, ok := readLine()
				if !ok {
					return nil, fmt.Errorf("line %d: value of %q has no closing delimiter line %q (the runner fails the step here)", startLine, name, delim)
				}
				if l == delim {
					break
				}
				if !nl {
					return nil, fmt.Errorf("line %d: value of %q runs to the end of the file without a newline (the runner reports \"EOF marker missing new line\")", startLine, name)
				}
				end = pos - 1 // up to, not including, this line's "\n"
			}
			if end > start {
				out[name] = text[start:end]
			} else {
				out[name] = ""
			}
		default:
			return nil, fmt.Errorf("line %d: neither NAME=VALUE nor NAME<<DELIMITER (%d bytes, content withheld; the runner fails the step here)", lineNo, len(line))
		}
	}
}
