package dockerconfig

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestHandle follows a login through each way it ends: kept, undone here,
// or saved and undone by another process that resumes it (by its seal, or
// found in the directory).
func TestHandle(t *testing.T) {
	ctx := context.Background()
	creds := []Credential{{Host: ecrHost, Username: "AWS", Password: ecrPass}}
	tests := []struct {
		name string
		// end ends the login h made in dir; it tells whether config.json
		// (which the login created) should then be gone.
		end func(t *testing.T, h *Handle, dir string) (wantGone bool)
	}{
		{"kept", func(t *testing.T, h *Handle, dir string) bool {
			if err := h.Keep(); err != nil {
				t.Fatal(err)
			}
			if err := h.Undo(ctx); err == nil {
				t.Error("Undo after Keep succeeded; the backup should be gone")
			}
			return false
		}},
		{"undone", func(t *testing.T, h *Handle, dir string) bool {
			if err := h.Undo(ctx); err != nil {
				t.Fatal(err)
			}
			return true
		}},
		{"saved and resumed", func(t *testing.T, h *Handle, dir string) bool {
			seal, err := h.Save()
			if err != nil {
				t.Fatal(err)
			}
			if h.Saved() != seal {
				t.Errorf("Saved() = %+v, want %+v", h.Saved(), seal)
			}
			r, err := Resume(seal, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.File() != h.File() || !slices.Equal(r.Hosts(), []string{ecrHost}) {
				t.Errorf("resumed %s %v, want %s [%s]", r.File(), r.Hosts(), h.File(), ecrHost)
			}
			if err := r.Undo(ctx); err != nil {
				t.Fatal(err)
			}
			if err := r.Forget(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(seal.File()); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("saved receipt left after Forget: %v", err)
			}
			return true
		}},
		{"saved and found", func(t *testing.T, h *Handle, dir string) bool {
			seal, err := h.Save()
			if err != nil {
				t.Fatal(err)
			}
			hs, skipped, err := Saved(dir, nil)
			if err != nil || len(skipped) > 0 || len(hs) != 1 {
				t.Fatalf("Saved() = %d handles, skipped %v, %v; want the one", len(hs), skipped, err)
			}
			if hs[0].Saved().ID != seal.ID || hs[0].File() != h.File() {
				t.Errorf("found %+v of %s, want %s of %s", hs[0].Saved(), hs[0].File(), seal.ID, h.File())
			}
			if err := hs[0].Undo(ctx); err != nil {
				t.Fatal(err)
			}
			if err := hs[0].Forget(); err != nil {
				t.Fatal(err)
			}
			if _, _, err := Saved(dir, nil); !errors.Is(err, ErrNoSavedReceipt) {
				t.Errorf("Saved() after Forget: %v, want ErrNoSavedReceipt", err)
			}
			return true
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			h, err := Login(ctx, Options{Dir: dir}, creds)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(dir, ConfigFileName); h.File() != want {
				t.Fatalf("File() = %s, want %s", h.File(), want)
			}
			backup := h.Receipt().BackupFile
			gone := tt.end(t, h, dir)
			_, err = os.Stat(h.File())
			if gotGone := errors.Is(err, fs.ErrNotExist); gotGone != gone {
				t.Errorf("config.json gone = %v (%v), want %v", gotGone, err, gone)
			}
			if _, err := os.Stat(backup); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("backup %s left: %v", backup, err)
			}
		})
	}
}

func TestTargetEnvValue(t *testing.T) {
	for _, tt := range []struct {
		target     Target
		file, want string
	}{
		{DockerConfig, "/home/u/.docker/config.json", "/home/u/.docker"},
		{AuthFile, "/run/containers/auth.json", "/run/containers/auth.json"},
	} {
		if got := tt.target.EnvValue(tt.file); got != tt.want {
			t.Errorf("%s: EnvValue(%s) = %s, want %s", tt.target.Env, tt.file, got, tt.want)
		}
	}
}
