package output

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/sethvargo/go-githubactions"

	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// Style is how the console talks.
type Style int

// The styles.
const (
	StyleGitHub Style = iota // workflow commands (::add-mask::, ::error::, ::debug::)
	StylePlain               // plain lines (Drone, Woodpecker, CLI); no masking by the CI
)

// minSecretLen: shorter values are not treated as secrets by the redactor
// (they would blank out ordinary words); real secrets are far longer.
const minSecretLen = 6

// Redactor replaces every registered secret with *** in what it writes.
type Redactor struct {
	mu      sync.Mutex
	w       io.Writer
	secrets []string // longest first, so a secret containing another goes whole
}

// NewRedactor wraps w.
func NewRedactor(w io.Writer) *Redactor { return &Redactor{w: w} }

// Add registers a secret (each of its lines too).
func (r *Redactor) Add(secret string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range append([]string{secret}, strings.Split(secret, "\n")...) {
		s = strings.TrimSpace(s)
		if len(s) < minSecretLen || slices.Contains(r.secrets, s) {
			continue
		}
		r.secrets = append(r.secrets, s)
	}
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
}

// Redact returns s with every secret replaced.
func (r *Redactor) Redact(s string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, secret := range r.secrets {
		if strings.Contains(s, secret) {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	return s
}

// Write redacts p and writes it. It reports len(p) on success.
func (r *Redactor) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, r.Redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Console writes what people read. In GitHub style, Mask registers a value
// with the runner (::add-mask::) as well as with the redactor; every other
// line passes through the redactor, so a secret that slips into a message
// is still blanked out, in every mode.
type Console struct {
	style Style
	raw   io.Writer // only ::add-mask:: goes here unredacted
	out   *Redactor // informational lines
	gh    *githubactions.Action
	red   *Redactor // shared secret list for out and errs
	errs  io.Writer
	debug bool

	maskMu sync.Mutex
	masked map[string]bool // told to the runner already (::add-mask::)
	// announce: a plain console that tells the runner of secrets too
	// (the CLI in a GitHub job; see AnnounceMasks).
	announce bool
}

// AnnounceMasks makes a plain console tell the GitHub runner of every
// secret (::add-mask::, on the informational writer) before Mask returns,
// as the GitHub style does: for the CLI in a GitHub job, whose results go
// to stdout and whose log (stderr) the runner reads workflow commands
// from too. Call it before the first Mask.
func (c *Console) AnnounceMasks() { c.announce = true }

// NewConsole makes a console. info receives informational lines (stdout
// for CIs; stderr for the CLI, whose stdout carries results); errs receives
// problems; debug turns on debug lines.
func NewConsole(style Style, info, errs io.Writer, debug bool) *Console {
	red := NewRedactor(info)
	c := &Console{style: style, raw: info, out: red, red: red, debug: debug}
	if style == StyleGitHub {
		c.gh = githubactions.New(githubactions.WithWriter(red))
	}
	// errs shares the secret list: redact through red's list first.
	c.errs = writerFunc(func(p []byte) (int, error) {
		if _, err := io.WriteString(errs, red.Redact(string(p))); err != nil {
			return 0, err
		}
		return len(p), nil
	})
	return c
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Mask registers a secret. Call it as soon as a secret is known, before it
// is used or written anywhere.
func (c *Console) Mask(secret string) {
	if strings.TrimSpace(secret) == "" {
		return
	}
	if c.style == StyleGitHub || c.announce {
		c.tellRunner(secret)
	}
	c.red.Add(secret)
}

// tellRunner writes ::add-mask:: for secret unless it already has: a value
// masked twice (an account ID the settings name, met again in the flow) is
// told once. The line is written before any caller returns.
func (c *Console) tellRunner(secret string) {
	c.maskMu.Lock()
	defer c.maskMu.Unlock()
	if c.masked[secret] {
		return
	}
	if c.masked == nil {
		c.masked = map[string]bool{}
	}
	githubactions.New(githubactions.WithWriter(c.raw)).AddMask(secret)
	c.masked[secret] = true
}

// Hide registers a secret with the redactor only: our own lines never
// show it, but the CI is not told to mask it (mask-password: false).
func (c *Console) Hide(secret string) {
	c.red.Add(secret)
}

// Redact returns s with every registered secret replaced.
func (c *Console) Redact(s string) string { return c.red.Redact(s) }

// Infof writes an informational line.
func (c *Console) Infof(format string, args ...any) {
	io.WriteString(c.out, c.line(format, args)+"\n")
}

// Warnf writes a warning.
func (c *Console) Warnf(format string, args ...any) {
	if c.style == StyleGitHub {
		c.gh.Warningf("%s", c.line(format, args))
		return
	}
	io.WriteString(c.out, "WARNING: "+c.line(format, args)+"\n")
}

// Debugf writes a debug line when debugging is on (GitHub shows ::debug::
// lines only with ACTIONS_STEP_DEBUG, so they are always sent there).
func (c *Console) Debugf(format string, args ...any) {
	if c.style == StyleGitHub {
		c.gh.Debugf("%s", c.line(format, args))
		return
	}
	if c.debug {
		io.WriteString(c.out, "DEBUG: "+c.line(format, args)+"\n")
	}
}

// Problem reports a failure: a GitHub error annotation titled with the
// problem code, or a plain "error [code]: ..." line.
func (c *Console) Problem(err error) {
	p := problem.As(err)
	if c.style == StyleGitHub {
		c.gh.WithFieldsMap(map[string]string{"title": "ecr-credentials: " + string(p.Code)}).Errorf("%s", c.line("%s", []any{p.Error()}))
		return
	}
	io.WriteString(c.errs, "error ["+string(p.Code)+"]: "+c.line("%s", []any{p.Error()})+"\n")
}

// line renders one log line. This is the one place where values from
// outside (settings, paths, hosts, messages of errors) are made unable to
// start a second line or a workflow command: every text value is redacted
// and passed through OneLine before it is formatted, and a line that would
// begin with "::" has its first colon escaped.
func (c *Console) line(format string, args []any) string {
	safe := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			safe[i] = OneLine(c.red.Redact(v))
		case error:
			safe[i] = OneLine(c.red.Redact(v.Error()))
		case fmt.Stringer:
			safe[i] = OneLine(c.red.Redact(v.String()))
		case []string:
			s := make([]string, len(v))
			for j, x := range v {
				s[j] = OneLine(c.red.Redact(x))
			}
			safe[i] = s
		default:
			safe[i] = a
		}
	}
	l := OneLine(fmt.Sprintf(format, safe...))
	if t := strings.TrimLeftFunc(l, unicode.IsSpace); strings.HasPrefix(t, "::") {
		l = l[:len(l)-len(t)] + `\x3a` + t[1:]
	}
	return l
}

// OneLine makes s safe to carry inside one log line: line breaks (CR, LF,
// NEL, U+2028, U+2029) and other control characters except tab are written
// as escapes (\n, \r, \xNN, \uNNNN), and the runner's legacy command
// marker "##[" loses its bracket (##\x5b), so no value can end the line,
// start a workflow command, or rewrite the terminal.
func OneLine(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == 0x85 || r == 0x2028 || r == 0x2029 || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return strings.ReplaceAll(b.String(), "##[", `##\x5b`)
}

func needsEscape(s string) bool {
	if strings.Contains(s, "##[") {
		return true
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029 {
			return true
		}
	}
	return false
}
