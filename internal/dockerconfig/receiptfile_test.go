package dockerconfig

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/fixtures"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSavedReceipt: a receipt saved by the main stage opens with its seal
// and undoes the login (through a helper looked up by name); a seal or a
// file that is not exactly what SaveReceipt wrote is refused before
// anything is run or deleted.
func TestSavedReceipt(t *testing.T) {
	lookPath, state := fakeHelper(t, "fake")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ConfigFileName), []byte(`{"credHelpers":{"`+ecrHost+`":"fake"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := login(context.Background(), Options{Dir: dir, LookPath: lookPath}, []Credential{{Host: ecrHost, Username: "AWS", Password: ecrPass}})
	if err != nil {
		t.Fatal(err)
	}
	seal, err := saveReceipt(r)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(seal.File())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("saved receipt: %v, mode %v; want 0600", err, fi)
	}
	if b, _ := os.ReadFile(seal.File()); strings.Contains(string(b), ecrPass) {
		t.Fatal("the saved receipt holds the password")
	}

	refused := []struct {
		name  string
		seal  Seal
		setup func(t *testing.T) func()
	}{
		{"wrong nonce", Seal{Dir: seal.Dir, ID: seal.ID, Nonce: strings.Repeat("a", 32)}, nil},
		{"id with a path", Seal{Dir: seal.Dir, ID: "../" + seal.ID, Nonce: seal.Nonce}, nil},
		{"relative dir", Seal{Dir: "docker", ID: seal.ID, Nonce: seal.Nonce}, nil},
		{"no nonce", Seal{Dir: seal.Dir, ID: seal.ID}, nil},
		{"readable by others", seal, func(t *testing.T) func() {
			fixtures.Must(t, os.Chmod(seal.File(), 0o644))
			return func() { fixtures.Must(t, os.Chmod(seal.File(), 0o600)) }
		}},
		{"a symlink", seal, func(t *testing.T) func() {
			moved := seal.File() + ".real"
			fixtures.Must(t, os.Rename(seal.File(), moved))
			fixtures.Must(t, os.Symlink(moved, seal.File()))
			return func() { fixtures.Must(t, os.Remove(seal.File())); fixtures.Must(t, os.Rename(moved, seal.File())) }
		}},
	}
	for _, tt := range refused {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			if tt.setup != nil {
				defer tt.setup(t)()
			}
			if _, err := openSealed(tt.seal, lookPath); err == nil {
				t.Error("opened")
			}
		})
	}

	// A receipt file with the right nonce whose content points elsewhere
	// (written by someone who learnt a nonce) is refused as well.
	for _, tamper := range []struct {
		name string
		edit func(r *Receipt)
	}{
		{"backup outside the directory", func(r *Receipt) { r.BackupFile = filepath.Join(t.TempDir(), filepath.Base(r.BackupFile)) }},
		{"backup not named as Login names it", func(r *Receipt) { r.BackupFile = filepath.Join(dir, "important.json") }},
		{"config elsewhere", func(r *Receipt) { r.ConfigFile = "/etc/passwd" }},
		{"config another file of the directory", func(r *Receipt) { r.ConfigFile = filepath.Join(dir, "important.json") }},
		{"lock elsewhere", func(r *Receipt) { r.LockFile = filepath.Join(t.TempDir(), "lock") }},
		{"helper name with a path", func(r *Receipt) { r.Entries[0].Helper = "../../tmp/evil" }},
		{"helper not on PATH", func(r *Receipt) { r.Entries[0].Helper = "other" }},
	} {
		t.Run("refused: "+tamper.name, func(t *testing.T) {
			forged := *r
			forged.Entries = append([]ReceiptEntry(nil), r.Entries...)
			tamper.edit(&forged)
			s := Seal{Dir: dir, ID: strings.Repeat("b", 16), Nonce: seal.Nonce}
			data, _ := json.Marshal(savedReceipt{Nonce: seal.Nonce, Receipt: forged})
			fixtures.Must(t, os.WriteFile(s.File(), data, 0o600))
			defer os.Remove(s.File())
			if _, err := openSealed(s, lookPath); err == nil {
				t.Error("opened")
			}
		})
	}

	// A stored helper path is never used: the helper is looked up again.
	var saved savedReceipt
	data, _ := os.ReadFile(seal.File())
	fixtures.Must(t, json.Unmarshal(data, &saved))
	saved.Receipt.Entries[0].HelperPath = "/bin/false"
	data, _ = json.Marshal(saved)
	fixtures.Must(t, os.WriteFile(seal.File(), data, 0o600))

	got, err := openSealed(seal, lookPath)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := lookPath(HelperPrefix + "fake")
	if got.Entries[0].HelperPath != want {
		t.Errorf("helper path = %q, want %q (looked up by name)", got.Entries[0].HelperPath, want)
	}
	found, seals, skipped, err := findReceipts(dir, lookPath)
	if err != nil || len(found) != 1 || seals[0].ID != seal.ID || len(skipped) != 0 {
		t.Fatalf("FindReceipts = %d receipts, %v skipped, %v", len(found), skipped, err)
	}
	if err := logout(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	if calls := helperCalls(t, state); len(calls) == 0 || !strings.HasPrefix(calls[len(calls)-1], "erase") {
		t.Errorf("logout did not erase through the helper: %q", calls)
	}
	fixtures.Must(t, removeReceipt(seal))
	if _, _, _, err := findReceipts(dir, lookPath); !errors.Is(err, ErrNoSavedReceipt) {
		t.Errorf("after RemoveReceipt: %v, want ErrNoSavedReceipt", err)
	}
}

// TestSavedReceiptAuthFile: the receipt of a login in a containers
// auth.json (registry-auth-file) is saved and opened like config.json's,
// and the logout it drives restores the file byte for byte.
func TestSavedReceiptAuthFile(t *testing.T) {
	dir := t.TempDir()
	const before = "{\n  \"auths\": {\"quay.io\": {\"auth\": \"dTpw\"}}\n}"
	path := filepath.Join(dir, AuthFileName)
	fixtures.Must(t, os.WriteFile(path, []byte(before), 0o600))
	r, err := login(context.Background(), Options{Dir: dir, File: AuthFileName}, []Credential{{Host: ecrHost, Username: "AWS", Password: ecrPass}})
	fixtures.Must(t, err)
	if r.ConfigFile != path {
		t.Fatalf("receipt names %s, want %s", r.ConfigFile, path)
	}
	seal, err := saveReceipt(r)
	fixtures.Must(t, err)
	back, err := openSealed(seal, nil)
	if err != nil {
		t.Fatalf("OpenReceipt of an auth.json login: %v", err)
	}
	fixtures.Must(t, logout(context.Background(), back))
	if after, err := os.ReadFile(path); err != nil || string(after) != before {
		t.Errorf("auth.json after logout (%v): %q, want %q", err, after, before)
	}
	fixtures.Must(t, removeReceipt(seal))
}
