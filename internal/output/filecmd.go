package output

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// The file command variables the runner sets, in the order they are written.
const (
	GitHubOutput  = "GITHUB_OUTPUT"
	GitHubEnv     = "GITHUB_ENV"
	GitHubState   = "GITHUB_STATE"
	GitHubSummary = "GITHUB_STEP_SUMMARY"
	GitHubPath    = "GITHUB_PATH"
)

var fileOrder = []string{GitHubOutput, GitHubEnv, GitHubPath, GitHubState, GitHubSummary}

var (
	outputName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
	envName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// FileCommands collects GitHub file commands (outputs, environment
// variables, state, step summary) and writes them all or nothing.
//
// Every name=value pair uses the heredoc form with a fresh random
// delimiter, so a value can hold any text, new lines included, and can
// never end the block early or inject another variable.
type FileCommands struct {
	getenv func(string) string
	bufs   map[string]*bytes.Buffer
}

// NewFileCommands collects commands for the files named in the environment.
func NewFileCommands(getenv func(string) string) *FileCommands {
	return &FileCommands{getenv: getenv, bufs: map[string]*bytes.Buffer{}}
}

// Output adds a step output.
func (f *FileCommands) Output(name, value string) error {
	if !outputName.MatchString(name) {
		return fmt.Errorf("output name %q: use letters, digits, - and _", name)
	}
	return f.pair(GitHubOutput, name, value)
}

// Env adds an environment variable for later steps.
func (f *FileCommands) Env(name, value string) error {
	if !envName.MatchString(name) {
		return fmt.Errorf("environment variable name %q: use letters, digits and _", name)
	}
	return f.pair(GitHubEnv, name, value)
}

// State adds a value for the post step (it sees STATE_<name>).
func (f *FileCommands) State(name, value string) error {
	if !envName.MatchString(name) {
		return fmt.Errorf("state name %q: use letters, digits and _", name)
	}
	return f.pair(GitHubState, name, value)
}

// Path prepends a directory to PATH for later steps.
func (f *FileCommands) Path(dir string) error {
	if dir == "" || strings.ContainsAny(dir, "\r\n") {
		return fmt.Errorf("PATH directory %q: must be one non-empty line", dir)
	}
	fmt.Fprintf(f.buf(GitHubPath), "%s\n", dir)
	return nil
}

// Summary adds markdown to the step summary.
func (f *FileCommands) Summary(markdown string) {
	f.buf(GitHubSummary).WriteString(markdown)
}

func (f *FileCommands) buf(file string) *bytes.Buffer {
	b, ok := f.bufs[file]
	if !ok {
		b = &bytes.Buffer{}
		f.bufs[file] = b
	}
	return b
}

func (f *FileCommands) pair(file, name, value string) error {
	delim, err := delimiter(value)
	if err != nil {
		return err
	}
	b := f.buf(file)
	fmt.Fprintf(b, "%s<<%s\n%s\n%s\n", name, delim, value, delim)
	return nil
}

// delimiter returns a random heredoc delimiter that does not occur in value.
func delimiter(value string) (string, error) {
	for range 8 {
		var r [16]byte
		if _, err := rand.Read(r[:]); err != nil {
			return "", fmt.Errorf("random delimiter: %w", err)
		}
		d := "ghadelimiter_" + hex.EncodeToString(r[:])
		if !strings.Contains(value, d) {
			return d, nil
		}
	}
	return "", errors.New("no delimiter found that is absent from the value")
}

// Missing lists the file variables that have pending commands but are not
// set in the environment.
func (f *FileCommands) Missing() []string {
	var missing []string
	for _, name := range fileOrder {
		if b, ok := f.bufs[name]; ok && b.Len() > 0 && f.getenv(name) == "" {
			missing = append(missing, name)
		}
	}
	return missing
}

// Commit appends everything collected to its file, one write per file. If
// any write fails, files already written are truncated back to their
// previous size, so a failed run leaves no outputs, env or state behind.
func (f *FileCommands) Commit() error {
	if m := f.Missing(); len(m) > 0 {
		return fmt.Errorf("%s not set: not running under a GitHub Actions runner?", strings.Join(m, ", "))
	}
	type written struct {
		path string
		size int64
	}
	var done []written
	rollback := func() {
		for _, w := range done {
			_ = os.Truncate(w.path, w.size)
		}
	}
	for _, name := range fileOrder {
		b, ok := f.bufs[name]
		if !ok || b.Len() == 0 {
			continue
		}
		path := f.getenv(name)
		size, err := AppendOnce(path, b.Bytes())
		if err != nil {
			rollback()
			return fmt.Errorf("write %s (%s): %w", name, path, err)
		}
		done = append(done, written{path, size})
	}
	return nil
}

// AppendOnce appends data to path in a single write and returns the size
// the file had before, so a caller can truncate it back to undo.
func AppendOnce(path string, data []byte) (int64, error) {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return 0, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return 0, err
	}
	size := st.Size()
	if _, err := fh.Write(data); err != nil {
		fh.Close()
		_ = os.Truncate(path, size)
		return 0, err
	}
	if err := fh.Close(); err != nil {
		_ = os.Truncate(path, size)
		return 0, err
	}
	return size, nil
}
