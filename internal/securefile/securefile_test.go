package securefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteAtomicModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := EnsureDir(dir); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != DirMode {
		t.Fatalf("dir mode %v (%v)", st.Mode(), err)
	}
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(p, []byte("new"), FileMode, 0, 0, false); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	st, _ = os.Stat(p)
	if string(b) != "new" || st.Mode().Perm() != FileMode {
		t.Errorf("content %q mode %v", b, st.Mode())
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".f.tmp-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	if err := EnsureDir(p); !errors.Is(err, ErrNotDir) {
		t.Errorf("EnsureDir on a file: %v", err)
	}
}

func TestSetCommitAndUndo(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing")
	if err := os.WriteFile(existing, []byte("before"), 0o600); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(dir, "sub", "fresh")

	var s Set
	if err := s.Write(existing, []byte("after")); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(fresh, []byte("new")); err != nil {
		t.Fatal(err)
	}
	// Nothing is visible before Commit.
	if b, _ := os.ReadFile(existing); string(b) != "before" {
		t.Fatalf("staged write visible before commit: %q", b)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Fatal("staged file visible before commit")
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(existing); string(b) != "after" {
		t.Errorf("existing = %q", b)
	}
	if st, err := os.Stat(fresh); err != nil || st.Mode().Perm() != FileMode {
		t.Errorf("fresh: %v %v", st, err)
	}
	s.Undo()
	if b, _ := os.ReadFile(existing); string(b) != "before" {
		t.Errorf("undo did not restore: %q", b)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("undo did not remove the new file")
	}
}

func TestSetCommitFailureUndoesEarlierFiles(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "first")
	blocked := filepath.Join(dir, "blocked")
	var s Set
	if err := s.Write(first, []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(blocked, []byte("2")); err != nil {
		t.Fatal(err)
	}
	// A non-empty directory where the second file goes makes its rename fail.
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(); err == nil {
		t.Fatal("Commit succeeded over a directory")
	}
	if _, err := os.Stat(first); !os.IsNotExist(err) {
		t.Errorf("the first file was left behind after a failed commit")
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestOpenTo: the mode checks of files read back (receipts, backups, the
// refresh directory) with Unix modes and with Windows', where Go reports
// 0666 for any writable file and 0777 for a directory: there a mode says
// nothing about other users, so nothing is refused for it.
func TestOpenTo(t *testing.T) {
	tests := []struct {
		unix       bool
		perm, mask fs.FileMode
		want       fs.FileMode
	}{
		{true, 0o600, 0o077, 0},
		{true, 0o640, 0o077, 0o040},
		{true, 0o755, 0o022, 0},
		{true, 0o775, 0o022, 0o020},
		{false, 0o666, 0o077, 0},
		{false, 0o777, 0o022, 0},
		{false, 0o444, 0o077, 0},
	}
	for _, tt := range tests {
		if got := openTo(tt.unix, tt.perm, tt.mask); got != tt.want {
			t.Errorf("openTo(unix %v, %04o, %04o) = %04o, want %04o", tt.unix, tt.perm, tt.mask, got, tt.want)
		}
	}
}
