package ghrunner

import (
	"strings"
)

// Command is one workflow command that the GitHub Actions runner would act
// on, such as `::add-mask::value` or `::error file=a.go,line=3::message`.
type Command struct {
	// Name is the command as written (the runner matches names without
	// regard to case).
	Name string
	// Properties holds the unescaped key=value pairs. The runner treats keys
	// without regard to case; a repeated key keeps the first spelling and the
	// last value. Use Property to look one up.
	Properties map[string]string
	// Data is the unescaped text after the command.
	Data string
	// Line is the 1-based line of the output the command came from.
	Line int
}

// Property returns the value of property key, matched without regard to
// case as the runner does.
func (c Command) Property(key string) (string, bool) {
	for k, v := range c.Properties {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

// registeredCommands are the commands actions/runner registers for steps
// (ActionCommandManager; the plugin-only internal-set-repo-path is left out).
var registeredCommands = []string{
	"stop-commands", "set-env", "set-output", "save-state", "add-mask",
	"add-path", "add-matcher", "remove-matcher", "debug", "warning", "error",
	"notice", "group", "endgroup", "echo",
}

// ParseWorkflowCommands returns the workflow commands the GitHub Actions
// runner would act on in a step's output, in order. It follows
// actions/runner (src/Runner.Common/ActionCommand.cs and
// src/Runner.Worker/ActionCommandManager.cs):
//
//   - output is split into lines at "\r\n", "\n" or a lone "\r";
//   - a line is a command when, after leading white space, it reads
//     `::name props::data` with name one of the runner's commands (any case):
//     props is `k=v,k=v`; data is unescaped %0D %0A %25 and property values
//     also %3A and %2C;
//   - failing that, the legacy form `##[name k=v;k=v]data` anywhere in the
//     line, unescaped %3B %0D %0A %5D %25;
//   - `::stop-commands::TOKEN` (itself returned) makes the runner ignore
//     commands until a line `::TOKEN::` (not returned); an empty token, a
//     command name or "pause-logging" is refused and stops nothing.
//
// Property pairs without a key or a value are dropped, as the runner does.
// Lines that are not commands are ordinary log output and are skipped.
func ParseWorkflowCommands(stdout string) []Command {
	registered := map[string]bool{}
	for _, c := range registeredCommands {
		registered[c] = true
	}
	var out []Command
	stopToken := ""
	for i, line := range splitRunnerLines(stdout) {
		cmd, ok := parseCommandV2(line, registered)
		if !ok {
			cmd, ok = parseCommandLegacy(line, registered)
		}
		if !ok {
			continue
		}
		cmd.Line = i + 1
		name := strings.ToLower(cmd.Name)
		if stopToken != "" {
			if name == strings.ToLower(stopToken) {
				delete(registered, strings.ToLower(stopToken))
				stopToken = ""
			}
			continue
		}
		if name == "stop-commands" {
			tok := cmd.Data
			if tok != "" && !registered[strings.ToLower(tok)] && !strings.EqualFold(tok, "pause-logging") {
				stopToken = tok
				registered[strings.ToLower(tok)] = true
			}
		}
		out = append(out, cmd)
	}
	return out
}

// MaskedValues returns the distinct values a GitHub runner would mask after
// reading stdout, in order of appearance: the data of every add-mask command
// that is not blank, and each non-empty trimmed line of a multi-line one.
func MaskedValues(stdout string) []string {
	var masks []string
	seen := map[string]bool{}
	add := func(v string) {
		if !seen[v] {
			seen[v] = true
			masks = append(masks, v)
		}
	}
	for _, c := range ParseWorkflowCommands(stdout) {
		if !strings.EqualFold(c.Name, "add-mask") || strings.TrimSpace(c.Data) == "" {
			continue
		}
		add(c.Data)
		for _, l := range strings.FieldsFunc(c.Data, func(r rune) bool { return r == '\r' || r == '\n' }) {
			if l = strings.TrimSpace(l); l != "" {
				add(l)
			}
		}
	}
	return masks
}

// splitRunnerLines splits like .NET's TextReader.ReadLine, which the runner
// uses on a step's output: "\r\n", "\n" and "\r" each end a line, and a
// final terminator does not start another line.
func splitRunnerLines(s string) []string {
	var lines []string
	for len(s) > 0 {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			lines = append(lines, s)
			break
		}
		lines = append(lines, s[:i])
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			i++
		}
		s = s[i+1:]
	}
	return lines
}

func parseCommandV2(line string, registered map[string]bool) (Command, bool) {
	msg := strings.TrimLeftFunc(line, isDotNetSpace)
	if !strings.HasPrefix(msg, "::") {
		return Command{}, false
	}
	end := strings.Index(msg[2:], "::")
	if end < 0 {
		return Command{}, false
	}
	end += 2
	info := msg[2:end]
	name, props, hasProps := strings.Cut(info, " ")
	if !registered[strings.ToLower(name)] {
		return Command{}, false
	}
	cmd := Command{Name: name, Properties: map[string]string{}}
	if hasProps && name != "" {
		for _, p := range dotNetSplit(strings.TrimFunc(props, isDotNetSpace), ",", -1) {
			pair := dotNetSplit(p, "=", 2)
			if len(pair) == 2 {
				setProperty(cmd.Properties, pair[0], unescape(pair[1], propertyEscapes))
			}
		}
	}
	cmd.Data = unescape(msg[end+2:], dataEscapes)
	return cmd, true
}

func parseCommandLegacy(line string, registered map[string]bool) (Command, bool) {
	start := strings.Index(line, "##[")
	if start < 0 {
		return Command{}, false
	}
	rb := strings.IndexByte(line[start:], ']')
	if rb < 0 {
		return Command{}, false
	}
	rb += start
	info := line[start+3 : rb]
	name, props, hasProps := strings.Cut(info, " ")
	if !registered[strings.ToLower(name)] {
		return Command{}, false
	}
	cmd := Command{Name: name, Properties: map[string]string{}}
	if hasProps && name != "" {
		for _, p := range dotNetSplit(props, ";", -1) {
			pair := dotNetSplit(p, "=", 2)
			if len(pair) == 2 {
				setProperty(cmd.Properties, pair[0], unescape(pair[1], legacyEscapes))
			}
		}
	}
	cmd.Data = unescape(line[rb+1:], legacyEscapes)
	return cmd, true
}

// setProperty stores a property the way a case-insensitive .NET dictionary
// does: an existing key keeps its spelling and takes the new value.
func setProperty(props map[string]string, key, value string) {
	for k := range props {
		if strings.EqualFold(k, key) {
			props[k] = value
			return
		}
	}
	props[key] = value
}

type escape struct{ token, replacement string }

// The runner's escape tables, applied in this order when unescaping.
var (
	dataEscapes     = []escape{{"\r", "%0D"}, {"\n", "%0A"}, {"%", "%25"}}
	propertyEscapes = []escape{{"\r", "%0D"}, {"\n", "%0A"}, {":", "%3A"}, {",", "%2C"}, {"%", "%25"}}
	legacyEscapes   = []escape{{";", "%3B"}, {"\r", "%0D"}, {"\n", "%0A"}, {"]", "%5D"}, {"%", "%25"}}
)

// unescape replaces each escape sequence in turn, exactly as the runner's
// chain of string.Replace calls (case-sensitive: %0a is left alone).
func unescape(s string, table []escape) string {
	for _, e := range table {
		s = strings.ReplaceAll(s, e.replacement, e.token)
	}
	return s
}

// dotNetSplit mimics .NET's string.Split(separator, count,
// StringSplitOptions.RemoveEmptyEntries): empty pieces are dropped, at most
// count pieces are returned (count < 0: no limit), the last one holding the
// rest of the string, and empty pieces in front of that rest are skipped
// too. So "a==b" with count 2 gives ["a" "b"], and "=b" gives ["b"].
func dotNetSplit(s, sep string, count int) []string {
	var out []string
	for {
		if count > 0 && len(out) == count-1 {
			// Skip separators directly in front of the final piece.
			for strings.HasPrefix(s, sep) {
				s = s[len(sep):]
			}
			if s != "" {
				out = append(out, s)
			}
			return out
		}
		i := strings.Index(s, sep)
		if i < 0 {
			if s != "" {
				out = append(out, s)
			}
			return out
		}
		if i > 0 {
			out = append(out, s[:i])
		}
		s = s[i+len(sep):]
	}
}

// isDotNetSpace reports what .NET's Char.IsWhiteSpace does for the
// characters that matter in a log line.
func isDotNetSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// Errors returns the ::error:: commands the runner would act on in a
// step's output, in order.
func Errors(stdout string) []Command {
	var errs []Command
	for _, c := range ParseWorkflowCommands(stdout) {
		if c.Name == "error" {
			errs = append(errs, c)
		}
	}
	return errs
}
