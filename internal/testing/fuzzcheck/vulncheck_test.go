package fuzzcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// The vulnerability scan is pinned: the scanner's version, and the Go
// vulnerability database as a version of the golang.org/x/vulndb module
// (its data/osv directory holds every report as OSV JSON, which
// govulncheck reads with -db file://...). Both come from the Go module
// proxy, the only registry reachable here, and are checked against the
// checksum database; the database's hash is also pinned below. To take
// newer reports, bump vulndbVersion and vulndbSum (`go mod download -json
// golang.org/x/vulndb@<version>` prints both).
const (
	govulncheck   = "golang.org/x/vuln/cmd/govulncheck@v1.9.0"
	vulndbModule  = "golang.org/x/vulndb"
	vulndbVersion = "v0.0.0-20261105234957-e22db6528018"
	vulndbSum     = "h1:mfngRv0Yoh0VApsXKEN82CjD99kl7mtparN3bs3JnqI="
)

// knownStdlib lists standard library vulnerabilities of the Go release the
// project builds with that only a newer release fixes, by Go version. They
// are accepted for that Go version only, and each must still be reported
// (so the list cannot go stale): moving to a fixed Go release (go1.27.3 is
// the one approved here, through GOTOOLCHAIN) empties it. Everything else
// govulncheck finds in code we call fails the test.
var knownStdlib = map[string][]string{
	"go1.26.8": {
		"GO-2026-6603", "GO-2026-6605", "GO-2026-6607", "GO-2026-6608", "GO-2026-6610",
		"GO-2026-6611", "GO-2026-6612", "GO-2026-6613", "GO-2026-6617", "GO-2026-6809",
		// os.Root (the refresh directory's link-safe removal) on Windows:
		// Root.Mkdir(All) can follow a junction that is the last path
		// component out of the root. Fixed in go1.26.9, which is not to be
		// had here; go1.27.3 (GOTOOLCHAIN) fixes it with the others.
		"GO-2026-6604",
	},
}

// TestGovulncheck runs govulncheck on the whole module (symbol level: only
// vulnerable functions our code can reach count) against the pinned
// offline database.
func TestGovulncheck(t *testing.T) {
	if !inCI() {
		t.Skip("CI is not true: the scan takes about a minute; run `CI=true go test -run Govulncheck ./internal/testing/fuzzcheck`")
	}
	root := moduleRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	// Download the database module outside the main module, so go.mod and
	// go.sum are left alone.
	dl := exec.CommandContext(ctx, goCommand(), "mod", "download", "-json", vulndbModule+"@"+vulndbVersion)
	dl.Dir = t.TempDir()
	dl.Env = append(os.Environ(), "GO111MODULE=on")
	out, err := dl.Output()
	if err != nil {
		t.Fatalf("download %s@%s: %v\n%s", vulndbModule, vulndbVersion, err, stderrOf(err))
	}
	var mod struct{ Dir, Sum, Error string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Error != "" {
		t.Fatalf("download %s: %v %s", vulndbModule, err, mod.Error)
	}
	if mod.Sum != vulndbSum {
		t.Fatalf("%s@%s has hash %s, pinned %s", vulndbModule, vulndbVersion, mod.Sum, vulndbSum)
	}
	db := filepath.Join(mod.Dir, "data", "osv")

	scan := exec.CommandContext(ctx, goCommand(), "run", govulncheck, "-db", "file://"+db, "-format", "json", "./...")
	scan.Dir = root
	var stderr bytes.Buffer
	scan.Stderr = &stderr
	report, err := scan.Output()
	if err != nil {
		t.Fatalf("govulncheck did not run: %v\n%s", err, stderr.String())
	}
	called, err := calledVulns(report)
	if err != nil {
		t.Fatalf("reading govulncheck's report: %v", err)
	}

	goVersion := runtime.Version()
	accepted := map[string]bool{}
	for _, id := range knownStdlib[goVersion] {
		accepted[id] = true
	}
	var ids []string
	for id := range called {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		v := called[id]
		if v.module == "stdlib" && accepted[id] {
			t.Logf("%s in the standard library of %s (fixed in %s): accepted until the Go version moves", id, goVersion, v.fixed)
			continue
		}
		t.Errorf("%s: %s@%s is vulnerable and our code calls it (%s); fixed in %s", id, v.module, v.version, v.function, v.fixed)
	}
	for id := range accepted {
		if _, ok := called[id]; !ok {
			t.Errorf("%s is listed as a known %s standard library vulnerability but is no longer reported: remove it from knownStdlib", id, goVersion)
		}
	}
}

type vuln struct{ module, version, function, fixed string }

// calledVulns reads govulncheck's JSON stream and returns the
// vulnerabilities with a symbol-level finding (a vulnerable function our
// code reaches), by OSV ID.
func calledVulns(report []byte) (map[string]vuln, error) {
	out := map[string]vuln{}
	dec := json.NewDecoder(bytes.NewReader(report))
	for {
		var msg struct {
			Finding *struct {
				OSV          string `json:"osv"`
				FixedVersion string `json:"fixed_version"`
				Trace        []struct {
					Module   string `json:"module"`
					Version  string `json:"version"`
					Package  string `json:"package"`
					Function string `json:"function"`
					Receiver string `json:"receiver"`
				} `json:"trace"`
			} `json:"finding"`
		}
		if err := dec.Decode(&msg); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		f := msg.Finding
		if f == nil || len(f.Trace) == 0 || f.Trace[0].Function == "" {
			continue
		}
		fn := f.Trace[0].Package + "." + f.Trace[0].Function
		if r := f.Trace[0].Receiver; r != "" {
			fn = f.Trace[0].Package + "." + strings.TrimPrefix(r, "*") + "." + f.Trace[0].Function
		}
		out[f.OSV] = vuln{module: f.Trace[0].Module, version: f.Trace[0].Version, function: fn, fixed: f.FixedVersion}
	}
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}
