package inputs

import (
	"os"
	"path/filepath"
	"testing"
)

// The helper's settings file may hold static keys: written over a file
// others may read, it is owner-only afterwards, and it reads back.
func TestWriteSettingsFileIsOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "helper.json")
	if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := &SettingsFile{Settings: map[string]string{"aws-region": "eu-west-1"}, CacheDir: "/var/cache/ecr"}
	if err := WriteSettingsFile(path, want); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	got, err := ReadSettingsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Settings["aws-region"] != "eu-west-1" || got.CacheDir != want.CacheDir || len(got.Settings) != 1 {
		t.Errorf("read back %+v, want %+v", got, want)
	}
}
