package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRequireToolMissing(t *testing.T) {
	const name = "ecr-credentials-no-such-tool"
	tests := []struct {
		ci          bool
		wantFatal   bool
		wantSkipped bool
	}{
		{ci: true, wantFatal: true},
		{ci: false, wantSkipped: true},
	}
	for _, tc := range tests {
		rec := &recordingTB{TB: t}
		var got string
		reached := false
		rec.run(func() {
			got = requireTool(rec, name, tc.ci)
			reached = true
		})
		if reached || got != "" {
			t.Errorf("ci=%v: requireTool returned %q instead of stopping the test", tc.ci, got)
		}
		if (len(rec.fatal) == 1) != tc.wantFatal || (len(rec.skipped) == 1) != tc.wantSkipped {
			t.Fatalf("ci=%v: fatal=%q skipped=%q", tc.ci, rec.fatal, rec.skipped)
		}
		msg := strings.Join(append(rec.fatal, rec.skipped...), "")
		if !strings.Contains(msg, "apt-get install -y "+name) {
			t.Errorf("ci=%v: message %q does not say what to install", tc.ci, msg)
		}
	}
}

func TestRequireToolPackageHint(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // nothing on PATH ...
	old := extraToolDirs
	extraToolDirs = nil // ... nor in the fallback directories
	t.Cleanup(func() { extraToolDirs = old })
	rec := &recordingTB{TB: t}
	rec.run(func() { requireTool(rec, "unshare", true) })
	if len(rec.fatal) != 1 || !strings.Contains(rec.fatal[0], "apt-get install -y util-linux") {
		t.Fatalf("got %q, want a failure naming util-linux", rec.fatal)
	}
}

func TestRequireToolFound(t *testing.T) {
	dir := t.TempDir()
	tool := filepath.Join(dir, "mytool")
	if err := os.WriteFile(tool, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	if got := RequireTool(t, "mytool"); got != tool {
		t.Fatalf("RequireTool = %q, want %q", got, tool)
	}
}

func TestRequireToolFallsBackToSbin(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	old := extraToolDirs
	dir := t.TempDir()
	extraToolDirs = []string{dir}
	t.Cleanup(func() { extraToolDirs = old })
	tool := filepath.Join(dir, "ip")
	if err := os.WriteFile(tool, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := RequireTool(t, "ip"); got != tool {
		t.Fatalf("RequireTool = %q, want %q", got, tool)
	}
}

func TestCraneBuilds(t *testing.T) {
	crane := Crane(t)
	res := RunProgram(t, crane, RunOptions{Args: []string{"--help"}})
	if res.ExitCode != 0 || !strings.Contains(res.Stdout, "crane") || !strings.Contains(res.Stdout, "append") {
		t.Fatalf("crane --help: exit %d\nstdout: %s\nstderr: %s", res.ExitCode, res.Stdout, res.Stderr)
	}
}

func TestSkopeoRuns(t *testing.T) {
	skopeo := Skopeo(t)
	res := RunProgram(t, skopeo, RunOptions{Args: []string{"--version"}})
	if res.ExitCode != 0 || !strings.HasPrefix(res.Stdout, "skopeo version") {
		t.Fatalf("skopeo --version: exit %d, stdout %q, stderr %q", res.ExitCode, res.Stdout, res.Stderr)
	}
}
