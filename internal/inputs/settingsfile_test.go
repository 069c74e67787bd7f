package inputs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The helper's settings file may hold static keys: written over a file
// others may read, it is owner-only afterwards, and it reads back.
func TestWriteSettingsFileIsOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "helper.json")
	if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := &SettingsFile{Settings: map[*Setting]string{AWSRegion: "eu-west-1"}, CacheDir: "/var/cache/ecr"}
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
	if got.Settings[AWSRegion] != "eu-west-1" || got.CacheDir != want.CacheDir || len(got.Settings) != 1 {
		t.Errorf("read back %+v, want %+v", got, want)
	}
}

// In the file, settings are named as in the settings table; in memory, by
// handle. The file form is what earlier helpers wrote and read.
func TestSettingsFileNamesSettings(t *testing.T) {
	f := &SettingsFile{Settings: map[*Setting]string{AWSRegion: "eu-west-1", Registries: "111111111111"}, CacheDir: "cache", DroppableTags: []string{"Job"}}
	b, err := f.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"settings\": {\n    \"aws-region\": \"eu-west-1\",\n    \"registries\": \"111111111111\"\n  },\n  \"cacheDir\": \"cache\",\n  \"droppableTags\": [\n    \"Job\"\n  ]\n}\n"
	if string(b) != want {
		t.Errorf("encoded\n%s\nwant\n%s", b, want)
	}
	path := filepath.Join(t.TempDir(), "helper.json")
	if err := os.WriteFile(path, []byte(`{"settings": {"aws-region": "eu-west-1", "no-such-setting": "x"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSettingsFile(path); err == nil || !strings.Contains(err.Error(), `"no-such-setting" is not a setting`) {
		t.Errorf("unknown name read: %v", err)
	}
}
