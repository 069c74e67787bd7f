package dockerconfig

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoginCredentialHelper(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		prev    *helperCred // already in the helper before Login
		wantDoc string      // config.json right after Login
	}{
		{
			name:    "credHelpers entry",
			config:  "{\n\t\"credHelpers\": {\n\t\t\"" + ecrHost + "\": \"fake\"\n\t}\n}",
			wantDoc: "{\n\t\"credHelpers\": {\n\t\t\"" + ecrHost + "\": \"fake\"\n\t},\n\t\"auths\": {\n\t\t\"" + ecrHost + "\": {}\n\t}\n}",
		},
		{
			name:    "credsStore",
			config:  "{\n\t\"auths\": {\n\t\t\"ghcr.io\": {}\n\t},\n\t\"credsStore\": \"fake\"\n}",
			wantDoc: "{\n\t\"auths\": {\n\t\t\"ghcr.io\": {},\n\t\t\"" + ecrHost + "\": {}\n\t},\n\t\"credsStore\": \"fake\"\n}",
		},
		{
			name:    "credHelpers wins over credsStore",
			config:  `{"credsStore": "missing", "credHelpers": {"` + ecrHost + `": "fake"}}`,
			wantDoc: `{"credsStore": "missing", "credHelpers": {"` + ecrHost + `": "fake"}, "auths": {"` + ecrHost + `": {}}}`,
		},
		{
			name:    "placeholder already there, helper had credentials",
			config:  "{\n\t\"auths\": {\n\t\t\"" + ecrHost + "\": {}\n\t},\n\t\"credsStore\": \"fake\"\n}",
			prev:    &helperCred{Username: "old-user", Secret: "old-secret"},
			wantDoc: "{\n\t\"auths\": {\n\t\t\"" + ecrHost + "\": {}\n\t},\n\t\"credsStore\": \"fake\"\n}",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookPath, state := fakeHelper(t, "fake")
			if tt.prev != nil {
				data, _ := json.Marshal(helperState{ecrHost: *tt.prev})
				writeFile(t, filepath.Join(state, "state.json"), data)
			}
			dir := t.TempDir()
			cfg := filepath.Join(dir, ConfigFileName)
			orig := []byte(tt.config)
			writeFile(t, cfg, orig)

			r, err := login(context.Background(), Options{Dir: dir, LookPath: lookPath},
				[]Credential{{Host: ecrHost, Username: "AWS", Password: ecrPass}})
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			got := readFile(t, cfg)
			if string(got) != tt.wantDoc {
				t.Fatalf("config after Login:\n%s\nwant:\n%s", redacted(got), tt.wantDoc)
			}
			noSecret(t, "config.json", string(got), ecrPass)
			if c := loadHelperState(state)[ecrHost]; c.Username != "AWS" || c.Secret != ecrPass {
				t.Fatal("the helper does not hold our credentials")
			}
			if r.Entries[0].Helper != "fake" || r.Entries[0].Replaced != (tt.prev != nil) {
				t.Fatalf("receipt entry = %+v", r.Entries[0])
			}

			if err := logout(context.Background(), r); err != nil {
				t.Fatalf("Logout: %v", err)
			}
			if after := readFile(t, cfg); !bytes.Equal(after, orig) {
				t.Fatalf("Logout did not restore the original file:\n%s", redacted(after))
			}
			c, ok := loadHelperState(state)[ecrHost]
			calls := helperCalls(t, state)
			if tt.prev != nil {
				if !ok || c != *tt.prev {
					t.Fatal("the helper's previous credentials were not restored")
				}
				want := []string{"get " + ecrHost, "store " + ecrHost, "get " + ecrHost, "store " + ecrHost}
				if !reflect.DeepEqual(calls, want) {
					t.Fatalf("helper calls = %q, want %q", calls, want)
				}
			} else {
				if ok {
					t.Fatal("our credentials are still in the helper after Logout")
				}
				want := []string{"get " + ecrHost, "store " + ecrHost, "get " + ecrHost, "erase " + ecrHost}
				if !reflect.DeepEqual(calls, want) {
					t.Fatalf("helper calls = %q, want %q", calls, want)
				}
			}
			if b := backups(t, dir); len(b) != 0 {
				t.Fatalf("backup left: %v", b)
			}
		})
	}
}

func TestLogoutLeavesNewerHelperCredentials(t *testing.T) {
	lookPath, state := fakeHelper(t, "fake")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, ConfigFileName), []byte(`{"credsStore": "fake"}`))
	r, err := login(context.Background(), Options{Dir: dir, LookPath: lookPath}, []Credential{{Host: ecrHost, Username: "AWS", Password: ecrPass}})
	if err != nil {
		t.Fatal(err)
	}
	newer := helperCred{Username: "someone", Secret: "newer"}
	data, _ := json.Marshal(helperState{ecrHost: newer})
	writeFile(t, filepath.Join(state, "state.json"), data)
	if err := logout(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if c := loadHelperState(state)[ecrHost]; c != newer {
		t.Fatal("Logout overwrote credentials stored by someone else after our Login")
	}
}

func TestLoginHelperMissing(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"credsStore", `{"credsStore": "desktop"}`, "credsStore"},
		{"credHelpers", `{"credHelpers": {"` + ecrHost + `": "ecr-login"}}`, `credHelpers["` + ecrHost + `"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, ConfigFileName)
			writeFile(t, cfg, []byte(tt.config))
			lookPath, _ := fakeHelper(t, "other")
			_, err := login(context.Background(), Options{Dir: dir, LookPath: lookPath}, []Credential{{Host: ecrHost, Username: "AWS", Password: ecrPass}})
			if err == nil {
				t.Fatal("Login succeeded without the helper binary")
			}
			msg := err.Error()
			for _, w := range []string{ecrHost, tt.want, "install", "DOCKER_CONFIG", "docker-credential-"} {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q should mention %q", msg, w)
				}
			}
			noSecret(t, "error", msg, ecrPass)
			untouched(t, dir, []byte(tt.config))
		})
	}
}

// TestLoginHelperFailureRollsBack: the second host's store fails (and the
// helper echoes the secret); the first host's store is undone, the file is
// untouched and the error never shows the secret.
func TestLoginHelperFailureRollsBack(t *testing.T) {
	lookPath, state := fakeHelper(t, "fake")
	dir := t.TempDir()
	cfg := filepath.Join(dir, ConfigFileName)
	orig := []byte(`{"credHelpers": {"a.example": "fake", "b.example": "broken"}}`)
	writeFile(t, cfg, orig)

	broken := filepath.Join(t.TempDir(), HelperPrefix+"broken")
	// Has nothing stored; fails to store, echoing its input.
	script := "#!/bin/sh\nif [ \"$1\" = get ]; then echo 'credentials not found in native keychain'; exit 1; fi\ncat\necho\nexit 1\n"
	if err := os.WriteFile(broken, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/bin/sh"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("/bin/sh is required: %v", err)
		}
		t.Skip("no /bin/sh")
	}
	look := func(file string) (string, error) {
		if file == HelperPrefix+"broken" {
			return broken, nil
		}
		return lookPath(file)
	}
	secretB := "b-secret-" + ecrPass
	_, err := login(context.Background(), Options{Dir: dir, LookPath: look}, []Credential{
		{Host: "a.example", Username: "AWS", Password: ecrPass},
		{Host: "b.example", Username: "AWS", Password: secretB},
	})
	if err == nil {
		t.Fatal("Login succeeded although a helper failed")
	}
	if !strings.Contains(err.Error(), "b.example") || !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("error %q should name the host and show the helper output redacted", err)
	}
	noSecret(t, "error", err.Error(), ecrPass, secretB)
	if _, ok := loadHelperState(state)["a.example"]; ok {
		t.Fatal("the first host's credentials were not rolled back")
	}
	untouched(t, dir, orig)
}

func TestLoginMixedHelperAndFile(t *testing.T) {
	lookPath, state := fakeHelper(t, "fake")
	dir := t.TempDir()
	cfg := filepath.Join(dir, ConfigFileName)
	orig := []byte("{\n\t\"credHelpers\": {\n\t\t\"public.ecr.aws\": \"fake\"\n\t}\n}")
	writeFile(t, cfg, orig)
	r, err := login(context.Background(), Options{Dir: dir, LookPath: lookPath}, []Credential{
		{Host: ecrHost, Username: "AWS", Password: ecrPass},
		{Host: "public.ecr.aws", Username: "AWS", Password: "pub-" + ecrPass},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := readFile(t, cfg)
	if _, p, ok := decodedAuth(t, got, ecrHost); !ok || p != ecrPass {
		t.Fatal("file-stored host missing")
	}
	if user, _, ok := decodedAuth(t, got, "public.ecr.aws"); !ok || user != "" {
		t.Fatal("helper-stored host should have an empty placeholder in auths")
	}
	if c := loadHelperState(state)["public.ecr.aws"]; c.Secret != "pub-"+ecrPass {
		t.Fatal("helper-stored host not in helper")
	}
	if err := logout(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if after := readFile(t, cfg); !bytes.Equal(after, orig) {
		t.Fatal("Logout did not restore the file")
	}
	if len(loadHelperState(state)) != 0 {
		t.Fatal("helper still holds credentials")
	}
}
