// Package fuzzcheck holds the repository's meta checks, the ones CI runs
// through `go test ./...` although they are about the code base rather
// than one package: every Go fuzz target fuzzed for a short, bounded time,
// and govulncheck against a vulnerability database built offline from a
// pinned module. Both run only when CI=true (they take minutes); outside CI
// they skip and say how to run them. A quick static check runs outside CI
// too (not under -short, which skips the package): no product package
// writes to stdout or stderr itself (stdio_test.go).
package fuzzcheck

import (
	"bufio"
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// fuzzTime is how long CI fuzzes each target.
const fuzzTime = "10s"

// requiredTargets must exist: the parsers and writers the reliability
// issue names (registry host parser, settings parser, file-command writer,
// config.json merge), and the credential helper entry (arbitrary stdin).
var requiredTargets = []string{
	"internal/registry FuzzParse",
	"internal/inputs FuzzLoad",
	"internal/output FuzzFileCommands",
	"internal/dockerconfig FuzzMerge",
	"internal/app FuzzCredentialHelper",
}

func inCI() bool { return os.Getenv("CI") == "true" }

// moduleRoot is the directory of go.mod, two levels up from this package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("module root: %v", err)
	}
	return dir
}

// fuzzTargets finds every `func FuzzX(f *testing.F)` in the module's test
// files, as "<package dir> <name>".
func fuzzTargets(t *testing.T, root string) []string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^func (Fuzz\w+)\(\w+ \*testing\.F\)`)
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			out = append(out, filepath.ToSlash(rel)+" "+string(m[1]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestFuzzTargetsExist runs everywhere: the targets CI fuzzes are there.
func TestFuzzTargetsExist(t *testing.T) {
	found := fuzzTargets(t, moduleRoot(t))
	for _, want := range requiredTargets {
		if !contains(found, want) {
			t.Errorf("fuzz target %s is missing (found %v)", want, found)
		}
	}
}

// TestFuzzEveryTarget fuzzes each target for fuzzTime, one after another,
// in CI. A finding fails the test with go test's report (the failing input
// is written to the package's testdata/fuzz, where it becomes a
// regression case once committed).
func TestFuzzEveryTarget(t *testing.T) {
	if !inCI() {
		t.Skip("CI is not true: fuzzing every target takes minutes; run `CI=true go test ./internal/testing/fuzzcheck` or `go test -run='^$' -fuzz='^FuzzX$' -fuzztime=10s ./<pkg>`")
	}
	root := moduleRoot(t)
	for _, target := range fuzzTargets(t, root) {
		pkg, name, _ := strings.Cut(target, " ")
		t.Run(strings.ReplaceAll(pkg, "/", "_")+"_"+name, func(t *testing.T) {
			fuzz := func() ([]byte, error) {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				defer cancel()
				cmd := exec.CommandContext(ctx, goCommand(), "test", "-run=^$", "-fuzz=^"+name+"$", "-fuzztime="+fuzzTime, "./"+pkg)
				cmd.Dir = root
				return cmd.CombinedOutput()
			}
			out, err := fuzz()
			if err != nil && coordinatorDeadline(out) {
				// Go 1.26's fuzzing coordinator can report its own -fuzztime
				// deadline as a failure, with no input written
				// (go.dev/issue/75804, fixed in Go 1.27): fuzz once more.
				t.Logf("%s: the fuzzing coordinator reported its own deadline, no failing input; fuzzing again", target)
				out, err = fuzz()
			}
			if err != nil {
				t.Fatalf("fuzzing %s in %s found a failure (or could not run): %v\n%s", name, pkg, err, tail(out, 60))
			}
			t.Logf("%s: %s", target, lastLine(out))
		})
	}
}

// coordinatorDeadline reports whether a fuzzing run's output is Go's
// fuzzing coordinator failing on its own -fuzztime deadline: "context
// deadline exceeded" and no failing input written.
func coordinatorDeadline(out []byte) bool {
	return bytes.Contains(out, []byte("context deadline exceeded")) && !bytes.Contains(out, []byte("Failing input written to"))
}

func goCommand() string {
	if p := filepath.Join(os.Getenv("GOROOT"), "bin", "go"); os.Getenv("GOROOT") != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func tail(b []byte, lines int) string {
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

func lastLine(b []byte) string {
	var last string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			last = l
		}
	}
	return last
}

func TestCoordinatorDeadline(t *testing.T) {
	for out, want := range map[string]bool{
		"--- FAIL: FuzzX (10.07s)\n    context deadline exceeded\nFAIL\n":                                  true,
		"--- FAIL: FuzzX (0.2s)\n    panic: boom\n    Failing input written to testdata/fuzz/FuzzX/ab12\n": false,
		"    context deadline exceeded\n    Failing input written to testdata/fuzz/FuzzX/ab12\n":           false,
		"--- FAIL: FuzzX (0.2s)\n    fuzz_test.go:12: wrong answer\n":                                      false,
	} {
		if got := coordinatorDeadline([]byte(out)); got != want {
			t.Errorf("coordinatorDeadline(%q) = %v, want %v", out, got, want)
		}
	}
}
