package dockerconfig

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var testHelper = &RefreshHelper{Program: []byte("#!/bin/sh\nexit 0\n"), Settings: []byte("{\"settings\":{}}\n")}

// noHelpers is a LookPath under which running any credential helper fails
// the test.
func noHelpers(t *testing.T) func(string) (string, error) {
	return func(name string) (string, error) {
		t.Errorf("%s was looked up", name)
		return "", errors.New("not allowed")
	}
}

// TestRefreshLoginWithCredsStoreWritesNoPassword (issue 21, also seen):
// where config.json names a credsStore (its owner keeps no passwords in the
// file), a refresh login names its helper in credHelpers and writes no
// plain-text auths entry; it does not store through the credsStore either.
// Logout gives the file back byte for byte.
func TestRefreshLoginWithCredsStoreWritesNoPassword(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ConfigFileName)
	orig := []byte("{\n  \"credsStore\": \"desktop\"\n}\n")
	writeFile(t, path, orig)
	r, err := login(context.Background(), Options{Dir: dir, Refresh: testHelper, LookPath: noHelpers(t)}, []Credential{{Host: ecrHost, Username: "AWS", Password: ecrPass}})
	if err != nil {
		t.Fatal(err)
	}
	got := readFile(t, path)
	if bytes.Contains(got, []byte(encodeAuth("AWS", ecrPass))) {
		t.Errorf("the password is in config.json beside a credsStore:\n%s", redacted(got))
	}
	var v struct{ CredHelpers map[string]string }
	if err := json.Unmarshal(got, &v); err != nil || v.CredHelpers[ecrHost] != RefreshHelperName {
		t.Errorf("credHelpers = %v (%v)", v.CredHelpers, err)
	}
	if err := logout(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if after := readFile(t, path); !bytes.Equal(after, orig) {
		t.Errorf("after Logout:\n%s\nwant\n%s", after, orig)
	}
}

// TestConcurrentRefreshLoginsTakeTheirOwnNames (issue 21, finding 4):
// logins that overlap in one config directory each reserve a helper name
// of their own; logging half of them out leaves the others' helpers and
// credHelpers entries in place.
func TestConcurrentRefreshLoginsTakeTheirOwnNames(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	receipts := make([]*Receipt, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			receipts[i], errs[i] = login(context.Background(), Options{Dir: dir, Refresh: testHelper, LookPath: noHelpers(t)},
				[]Credential{{Host: fmt.Sprintf("r%d.example", i), Username: "AWS", Password: ecrPass}})
		})
	}
	wg.Wait()
	names := map[string]int{}
	for i, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
		name := receipts[i].Entries[0].RefreshHelper
		if j, dup := names[name]; dup {
			t.Errorf("logins %d and %d both took %s", j, i, name)
		}
		names[name] = i
	}
	for i := 0; i < n; i += 2 {
		if err := logout(context.Background(), receipts[i]); err != nil {
			t.Fatal(err)
		}
	}
	var v struct{ CredHelpers map[string]string }
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, ConfigFileName)), &v); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < n; i += 2 {
		name := receipts[i].Entries[0].RefreshHelper
		bin, settings := RefreshHelperFiles(receipts[i].RefreshDir, name)
		for _, p := range []string{bin, settings} {
			if _, err := os.Stat(p); err != nil {
				t.Errorf("login %d's %s is gone after the others logged out: %v", i, p, err)
			}
		}
		if got := v.CredHelpers[fmt.Sprintf("r%d.example", i)]; got != name {
			t.Errorf("login %d's host names %q, want %q", i, got, name)
		}
	}
}

// TestRefreshDirChecks (issue 21, finding 2): a refresh login uses an
// existing refresh directory only if it is what refresh logins leave; it
// fails before config.json is written otherwise.
func TestRefreshDirChecks(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, refresh string)
		why   string // "" accepted
	}{
		{"missing", func(*testing.T, string) {}, ""},
		{"left by an earlier login", func(t *testing.T, refresh string) {
			must(t, os.MkdirAll(filepath.Join(refresh, "bin"), 0o700))
			must(t, os.MkdirAll(filepath.Join(refresh, "cache"), 0o700))
			must(t, os.WriteFile(filepath.Join(refresh, "bin", HelperPrefix+RefreshHelperName), nil, 0o700))
			must(t, os.WriteFile(filepath.Join(refresh, "helper.json"), nil, 0o600))
		}, ""},
		{"a foreign program in bin", func(t *testing.T, refresh string) {
			must(t, os.MkdirAll(filepath.Join(refresh, "bin"), 0o700))
			must(t, os.WriteFile(filepath.Join(refresh, "bin", "docker"), nil, 0o700))
		}, "is not a credential helper"},
		{"a foreign file", func(t *testing.T, refresh string) {
			must(t, os.MkdirAll(refresh, 0o700))
			must(t, os.WriteFile(filepath.Join(refresh, "notes.txt"), nil, 0o600))
		}, "is not something a refresh login writes"},
		{"bin is a link", func(t *testing.T, refresh string) {
			must(t, os.MkdirAll(refresh, 0o700))
			must(t, os.Symlink(t.TempDir(), filepath.Join(refresh, "bin")))
		}, "is a symbolic link"},
		{"a helper is a link", func(t *testing.T, refresh string) {
			must(t, os.MkdirAll(filepath.Join(refresh, "bin"), 0o700))
			must(t, os.Symlink("/bin/sh", filepath.Join(refresh, "bin", HelperPrefix+RefreshHelperName)))
		}, "is a symbolic link"},
		{"a settings file others may write", func(t *testing.T, refresh string) {
			must(t, os.MkdirAll(refresh, 0o700))
			must(t, os.WriteFile(filepath.Join(refresh, "helper-2.json"), nil, 0o600))
			must(t, os.Chmod(filepath.Join(refresh, "helper-2.json"), 0o666))
		}, "writable by group or others"},
		{"the directory is a file", func(t *testing.T, refresh string) {
			must(t, os.WriteFile(refresh, nil, 0o600))
		}, "is not a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(t, filepath.Join(dir, RefreshDirName))
			r, err := login(context.Background(), Options{Dir: dir, Refresh: testHelper, LookPath: noHelpers(t)}, []Credential{{Host: ecrHost, Username: "AWS", Password: ecrPass}})
			if tc.why == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if r.Entries[0].RefreshHelper == "" {
					t.Errorf("no helper named")
				}
				return
			}
			var rd *RefreshDirError
			if !errors.As(err, &rd) || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("err = %v, want a RefreshDirError saying %q", err, tc.why)
			}
			for _, name := range []string{ConfigFileName, ConfigFileName + ".lock"} {
				if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
					t.Errorf("%s was written", name)
				}
			}
		})
	}
}

// TestLogoutChecksTheBackupAsTheReceipt (issue 21, finding 8): the backup
// Logout reads is trusted only as a saved receipt is: a regular file of
// this user that no one else may read or write, not a link.
func TestLogoutChecksTheBackupAsTheReceipt(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, backup string)
		why    string
	}{
		{"readable by others", func(t *testing.T, b string) { must(t, os.Chmod(b, 0o644)) }, "has mode 0644"},
		{"a link", func(t *testing.T, b string) {
			elsewhere := filepath.Join(t.TempDir(), "bak")
			must(t, os.Rename(b, elsewhere))
			must(t, os.Symlink(elsewhere, b))
		}, "is a symbolic link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			r, err := login(context.Background(), Options{Dir: dir, LookPath: noHelpers(t)}, []Credential{{Host: ecrHost, Username: "AWS", Password: ecrPass}})
			if err != nil {
				t.Fatal(err)
			}
			before := readFile(t, filepath.Join(dir, ConfigFileName))
			tc.tamper(t, r.BackupFile)
			err = logout(context.Background(), r)
			if err == nil || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("Logout: %v, want an error saying %q", err, tc.why)
			}
			if after := readFile(t, filepath.Join(dir, ConfigFileName)); !bytes.Equal(after, before) {
				t.Errorf("Logout changed config.json with an untrusted backup")
			}
		})
	}
}

// TestRefreshLogoutDoesNotFollowALink (issue 21, finding 8): a refresh
// directory replaced by a link after the login: Logout removes nothing
// through it and says so.
func TestRefreshLogoutDoesNotFollowALink(t *testing.T) {
	dir := t.TempDir()
	r, err := login(context.Background(), Options{Dir: dir, Refresh: testHelper, LookPath: noHelpers(t)}, []Credential{{Host: ecrHost, Username: "AWS", Password: ecrPass}})
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(elsewhere, "bin"), 0o700))
	victims := []string{filepath.Join(elsewhere, "helper.json"), filepath.Join(elsewhere, "bin", HelperPrefix+RefreshHelperName)}
	for _, v := range victims {
		must(t, os.WriteFile(v, []byte("theirs"), 0o600))
	}
	must(t, os.RemoveAll(r.RefreshDir))
	must(t, os.Symlink(elsewhere, r.RefreshDir))
	if err := logout(context.Background(), r); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Logout: %v, want it to say the directory is a link", err)
	}
	for _, v := range victims {
		if _, err := os.Stat(v); err != nil {
			t.Errorf("%s was removed through the link", v)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
