package e2e

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// newEmulatorFixture is a fixture without a registry: the emulator alone,
// with the given options (a skewed clock), trusting the role of newFixture.
// Runs against it use verify: false, as nothing answers for the registry.
func newEmulatorFixture(t *testing.T, opts awsfake.Options) *fixture {
	t.Helper()
	opts.TLS = true
	f := &fixture{bin: testenv.BuildBinary(t, modulePk), fake: awsfake.New(opts)}
	must(t, f.fake.AddRole(awsfake.Role{ARN: roleARN, Subjects: []string{"repo:octo-org/octo-repo:*"}, ECR: true, ECRPublic: true}))
	must(t, f.fake.Start())
	t.Cleanup(f.fake.Close)
	f.bundle = f.fake.CAFile()
	return f
}

// wantGitHubFailure checks a failed GitHub step: exit 1, exactly one
// ::error:: titled with code and mentioning every string of inMsg.
func wantGitHubFailure(t *testing.T, res testenv.Result, code string, inMsg ...string) {
	t.Helper()
	if res.ExitCode != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	errs := ghrunner.Errors(res.Stdout)
	if len(errs) != 1 {
		t.Fatalf("want one ::error:: line, got %d:\n%s", len(errs), res.Stdout)
	}
	if title, _ := errs[0].Property("title"); title != "ecr-credentials: "+code {
		t.Errorf("error title = %q, want code %s; message: %s", title, code, errs[0].Data)
	}
	for _, s := range inMsg {
		if !strings.Contains(errs[0].Data, s) {
			t.Errorf("error %q does not mention %q", errs[0].Data, s)
		}
	}
}

// wantPlainFailure checks a failed plugin or CLI run: exit 1 and an
// "error [code]: ..." line (in out) mentioning every string of inMsg.
func wantPlainFailure(t *testing.T, res testenv.Result, out, code string, inMsg ...string) {
	t.Helper()
	if res.ExitCode != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "error [") {
			if line != "" {
				t.Fatalf("more than one error line:\n%s", out)
			}
			line = l
		}
	}
	if !strings.HasPrefix(line, "error ["+code+"]: ") {
		t.Fatalf("want an error line with code %s, got %q\n%s", code, line, out)
	}
	for _, s := range inMsg {
		if !strings.Contains(line, s) {
			t.Errorf("error %q does not mention %q", line, s)
		}
	}
}

// assertStepUntouched checks that a failed GitHub step wrote nothing: the
// file command files are empty and no docker config directory appeared.
func assertStepUntouched(t *testing.T, r *runner) {
	t.Helper()
	for _, p := range []string{r.output, r.env, r.state, r.summary} {
		if b, err := os.ReadFile(p); err != nil || len(b) != 0 {
			t.Errorf("%s was written by a failed run (%d bytes, %v)", filepath.Base(p), len(b), err)
		}
	}
	if _, err := os.Stat(filepath.Join(r.homeDir, ".docker")); !os.IsNotExist(err) {
		t.Errorf("a failed run created the docker config directory (%v)", err)
	}
}

// snapshot records every file and directory under root (path, mode and
// content), to prove a failed run changed nothing at all.
type snapshot map[string]string

func takeSnapshot(t *testing.T, roots ...string) snapshot {
	t.Helper()
	s := snapshot{}
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) && p == root {
					s[p] = "absent"
					return nil
				}
				if os.IsPermission(err) {
					s[p] = "unreadable"
					return nil
				}
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			entry := info.Mode().String()
			if info.Mode().IsRegular() {
				b, err := os.ReadFile(p)
				if err != nil {
					entry += " unreadable"
				} else {
					entry += " " + string(b)
				}
			}
			if info.Mode()&fs.ModeSymlink != 0 {
				target, _ := os.Readlink(p)
				entry += " -> " + target
			}
			s[p] = entry
			return nil
		})
		if err != nil {
			t.Fatalf("snapshot %s: %v", root, err)
		}
	}
	return s
}

// diff lists what differs between two snapshots (names only: contents may
// be secret).
func (s snapshot) diff(after snapshot) []string {
	var out []string
	for p, v := range s {
		w, ok := after[p]
		switch {
		case !ok:
			out = append(out, "removed "+p)
		case v != w:
			out = append(out, "changed "+p)
		}
	}
	for p := range after {
		if _, ok := s[p]; !ok {
			out = append(out, "added "+p)
		}
	}
	sort.Strings(out)
	return out
}

// callsSince returns the emulator's calls after the first n.
func callsSince(fake *awsfake.Server, n int) []awsfake.Call {
	calls := fake.Calls()
	if n > len(calls) {
		return nil
	}
	return calls[n:]
}

// tally counts the calls to one service operation: failed ones (with an
// error code or no answer) and successful ones.
func tally(calls []awsfake.Call, service, op string) (failed, ok int) {
	for _, c := range calls {
		if c.Service != service || c.Operation != op {
			continue
		}
		if c.ErrorCode == "" && c.Status == 200 {
			ok++
		} else {
			failed++
		}
	}
	return failed, ok
}

// secretsIn returns which of secrets occur in text, by length only.
func secretsIn(text string, secrets []string) []int {
	var found []int
	for _, s := range secrets {
		if len(s) >= 8 && strings.Contains(text, s) {
			found = append(found, len(s))
		}
	}
	return found
}

// readAll returns the content of the files, joined, for leak scans.
func readAll(t *testing.T, paths ...string) string {
	t.Helper()
	var b bytes.Buffer
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		b.Write(data)
		b.WriteByte('\n')
	}
	return b.String()
}
