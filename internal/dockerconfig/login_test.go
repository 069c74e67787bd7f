package dockerconfig

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const (
	ecrHost = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
	ecrPass = "ecr-token-Zm9vYmFyYmF6-0123456789"
)

func TestDir(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr string
	}{
		{name: "DOCKER_CONFIG wins", env: map[string]string{"DOCKER_CONFIG": "/cfg/docker", "HOME": "/home/u"}, want: "/cfg/docker"},
		{name: "HOME fallback", env: map[string]string{"HOME": "/home/u"}, want: "/home/u/.docker"},
		{name: "blank DOCKER_CONFIG ignored", env: map[string]string{"DOCKER_CONFIG": "  ", "HOME": "/home/u"}, want: "/home/u/.docker"},
		{name: "cleaned", env: map[string]string{"DOCKER_CONFIG": "/cfg//docker/"}, want: "/cfg/docker"},
		{name: "neither", env: map[string]string{}, wantErr: "neither DOCKER_CONFIG nor HOME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Dir(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Dir() error = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Dir() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	t.Run("relative made absolute", func(t *testing.T) {
		got, err := Dir(func(k string) string { return map[string]string{"DOCKER_CONFIG": "rel/dir"}[k] })
		if err != nil || !filepath.IsAbs(got) || !strings.HasSuffix(got, "rel/dir") {
			t.Fatalf("Dir() = %q, %v; want an absolute path ending in rel/dir", got, err)
		}
	})
}

// members returns the raw "key": value bytes of each member of the object
// at the top level (path empty) or at auths, by key.
func membersOf(t *testing.T, doc []byte, inAuths bool) map[string]string {
	t.Helper()
	top, err := topObject(doc)
	if err != nil {
		t.Fatalf("top object: %v", err)
	}
	obj := top
	if inAuths {
		loc, err := findAuths(doc)
		if err != nil {
			t.Fatal(err)
		}
		if loc.index < 0 || loc.isNull {
			return map[string]string{}
		}
		obj = loc.obj
	}
	out := map[string]string{}
	for _, m := range obj.members {
		out[m.name] = string(doc[m.keyStart:m.valEnd])
	}
	return out
}

func TestLoginMerge(t *testing.T) {
	const docker = "{\n\t\"auths\": {\n\t\t\"" + ecrHost + "\": {\n\t\t\t\"auth\": \"QVdTOmVjci10b2tlbi1abTl2WW1GeVltRjYtMDEyMzQ1Njc4OQ==\"\n\t\t}\n\t}\n}"
	tests := []struct {
		name     string
		initial  *string // nil: no config.json
		noDir    bool    // the config directory does not exist
		password string
		host     string
		want     string // exact expected file after Login, if set
	}{
		{name: "missing directory", noDir: true, want: docker},
		{name: "no file", want: docker},
		{name: "empty file", initial: ptr(""), want: docker},
		{name: "whitespace file", initial: ptr("\n  \n"), want: docker},
		{name: "empty object", initial: ptr("{}"), want: docker},
		{name: "empty object docker style", initial: ptr("{\n\t\"auths\": {}\n}"), want: docker},
		{name: "other host", initial: ptr("{\n\t\"auths\": {\n\t\t\"ghcr.io\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t}\n\t}\n}"),
			want: "{\n\t\"auths\": {\n\t\t\"ghcr.io\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t},\n\t\t\"" + ecrHost + "\": {\n\t\t\t\"auth\": \"QVdTOmVjci10b2tlbi1abTl2WW1GeVltRjYtMDEyMzQ1Njc4OQ==\"\n\t\t}\n\t}\n}"},
		{name: "same host replaced", initial: ptr("{\n\t\"auths\": {\n\t\t\"" + ecrHost + "\": {\n\t\t\t\"auth\": \"b2xkOm9sZA==\",\n\t\t\t\"identitytoken\": \"x\"\n\t\t},\n\t\t\"ghcr.io\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t}\n\t}\n}"),
			want: "{\n\t\"auths\": {\n\t\t\"" + ecrHost + "\": {\n\t\t\t\"auth\": \"QVdTOmVjci10b2tlbi1abTl2WW1GeVltRjYtMDEyMzQ1Njc4OQ==\"\n\t\t},\n\t\t\"ghcr.io\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t}\n\t}\n}"},
		{name: "unknown keys and no auths", initial: ptr("{\n\t\"psFormat\": \"table {{.ID}}\",\n\t\"x-custom\": [1, 2, {\"a\": null}],\n\t\"proxies\": {\"default\": {\"httpProxy\": \"http://p:3128\"}}\n}"),
			want: "{\n\t\"psFormat\": \"table {{.ID}}\",\n\t\"x-custom\": [1, 2, {\"a\": null}],\n\t\"proxies\": {\"default\": {\"httpProxy\": \"http://p:3128\"}},\n\t\"auths\": {\n\t\t\"" + ecrHost + "\": {\n\t\t\t\"auth\": \"QVdTOmVjci10b2tlbi1abTl2WW1GeVltRjYtMDEyMzQ1Njc4OQ==\"\n\t\t}\n\t}\n}"},
		{name: "credHelpers for another host", initial: ptr("{\n  \"credHelpers\": {\n    \"gcr.io\": \"gcloud\"\n  }\n}\n"),
			want: "{\n  \"credHelpers\": {\n    \"gcr.io\": \"gcloud\"\n  },\n  \"auths\": {\n    \"" + ecrHost + "\": {\n      \"auth\": \"QVdTOmVjci10b2tlbi1abTl2WW1GeVltRjYtMDEyMzQ1Njc4OQ==\"\n    }\n  }\n}\n"},
		{name: "CRLF four spaces", initial: ptr("{\r\n    \"auths\": {\r\n        \"ghcr.io\": {\"auth\": \"dTpw\"}\r\n    }\r\n}\r\n"),
			want: "{\r\n    \"auths\": {\r\n        \"ghcr.io\": {\"auth\": \"dTpw\"},\r\n        \"" + ecrHost + "\": {\r\n            \"auth\": \"QVdTOmVjci10b2tlbi1abTl2WW1GeVltRjYtMDEyMzQ1Njc4OQ==\"\r\n        }\r\n    }\r\n}\r\n"},
		{name: "CRLF tabs as docker on Windows writes it", initial: ptr("{\r\n\t\"auths\": {\r\n\t\t\"ghcr.io\": {\r\n\t\t\t\"auth\": \"dTpw\"\r\n\t\t}\r\n\t},\r\n\t\"credsStore\": \"\",\r\n\t\"currentContext\": \"desktop-linux\"\r\n}"),
			want: "{\r\n\t\"auths\": {\r\n\t\t\"ghcr.io\": {\r\n\t\t\t\"auth\": \"dTpw\"\r\n\t\t},\r\n\t\t\"" + ecrHost + "\": {\r\n\t\t\t\"auth\": \"QVdTOmVjci10b2tlbi1abTl2WW1GeVltRjYtMDEyMzQ1Njc4OQ==\"\r\n\t\t}\r\n\t},\r\n\t\"credsStore\": \"\",\r\n\t\"currentContext\": \"desktop-linux\"\r\n}"},
		{name: "compact one line", initial: ptr(`{"auths":{"ghcr.io":{"auth":"dTpw"}},"credsStore":""}`),
			want: `{"auths":{"ghcr.io":{"auth":"dTpw"},"` + ecrHost + `":{"auth":"QVdTOmVjci10b2tlbi1abTl2WW1GeVltRjYtMDEyMzQ1Njc4OQ=="}},"credsStore":""}`},
		{name: "compact auths in indented file", initial: ptr("{\n\t\"auths\": {\"ghcr.io\": {\"auth\": \"dTpw\"}}\n}"),
			want: "{\n\t\"auths\": {\"ghcr.io\": {\"auth\": \"dTpw\"}, \"" + ecrHost + "\": {\"auth\": \"QVdTOmVjci10b2tlbi1abTl2WW1GeVltRjYtMDEyMzQ1Njc4OQ==\"}}\n}"},
		{name: "auths null", initial: ptr("{\n\t\"auths\": null,\n\t\"detachKeys\": \"ctrl-x\"\n}"),
			want: "{\n\t\"auths\": {\n\t\t\"" + ecrHost + "\": {\n\t\t\t\"auth\": \"QVdTOmVjci10b2tlbi1abTl2WW1GeVltRjYtMDEyMzQ1Njc4OQ==\"\n\t\t}\n\t},\n\t\"detachKeys\": \"ctrl-x\"\n}"},
		{name: "legacy scheme key kept", initial: ptr(`{"auths": {"https://` + ecrHost + `/v1/": {"auth": "dTpw"}}}`)},
		{name: "empty credsStore means file", initial: ptr(`{"credsStore": "", "auths": {}}`)},
		{name: "huge password", initial: ptr(`{"auths": {"a.example": {"auth": "dTpw"}}}`), password: strings.Repeat("Zx9/+", 410)},
		{name: "hub key", host: "docker.io", initial: ptr(`{"auths": {}}`)},
		{name: "port in host", host: "localhost:5000", initial: ptr(`{}`)},
	}
	// The same edits and the same exact restore for docker's config.json
	// and the containers auth.json of podman, buildah and skopeo.
	for _, tc := range []struct{ file, other string }{{ConfigFileName, AuthFileName}, {AuthFileName, ConfigFileName}} {
		for _, tt := range tests {
			t.Run(tc.file+"/"+tt.name, func(t *testing.T) {
				base := t.TempDir()
				dir := filepath.Join(base, "docker")
				if !tt.noDir {
					if err := os.Mkdir(dir, 0o700); err != nil {
						t.Fatal(err)
					}
				}
				cfg := filepath.Join(dir, tc.file)
				var orig []byte
				if tt.initial != nil {
					orig = []byte(*tt.initial)
					writeFile(t, cfg, orig)
				}
				host, pass := ecrHost, ecrPass
				if tt.host != "" {
					host = tt.host
				}
				if tt.password != "" {
					pass = tt.password
				}
				r, err := login(context.Background(), Options{Dir: dir, File: tc.file}, []Credential{{Host: host, Username: "AWS", Password: pass}})
				if err != nil {
					t.Fatalf("Login: %v", err)
				}
				if _, err := os.Stat(filepath.Join(dir, tc.other)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("Login of %s touched %s: %v", tc.file, tc.other, err)
				}
				got := readFile(t, cfg)
				if tt.want != "" && string(got) != tt.want {
					t.Fatalf("config after Login:\n%s\nwant:\n%s", redacted(got), redacted([]byte(tt.want)))
				}
				user, p, ok := decodedAuth(t, got, authKey(host))
				if !ok || user != "AWS" || p != pass {
					t.Fatalf("auths[%q] does not hold AWS and our password (present=%v)", authKey(host), ok)
				}
				// Everything else survives byte for byte.
				if orig != nil && !isBlank(orig) {
					for _, inAuths := range []bool{false, true} {
						before, after := membersOf(t, orig, inAuths), membersOf(t, got, inAuths)
						for k, v := range before {
							if (inAuths && k == authKey(host)) || (!inAuths && strings.EqualFold(k, "auths")) {
								continue
							}
							if after[k] != v {
								t.Errorf("member %q changed: %q -> %q", k, redacted([]byte(v)), redacted([]byte(after[k])))
							}
						}
					}
				}
				fi, err := os.Stat(cfg)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("config mode = %v, want 0600", fi.Mode().Perm())
				}
				if tt.noDir {
					di, err := os.Stat(dir)
					if err != nil || di.Mode().Perm() != 0o700 {
						t.Errorf("created dir mode = %v (%v), want 0700", di.Mode().Perm(), err)
					}
				}
				rj, err := json.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				noSecret(t, "receipt", string(rj), pass)
				if len(backups(t, dir)) != 1 {
					t.Fatalf("want exactly one backup file, have %v", backups(t, dir))
				}
				bfi, err := os.Stat(r.BackupFile)
				if err != nil || bfi.Mode().Perm() != 0o600 {
					t.Fatalf("backup file mode = %v (%v), want 0600", bfi.Mode().Perm(), err)
				}

				// Round trip through JSON, as a CI step state would.
				var back Receipt
				if err := json.Unmarshal(rj, &back); err != nil {
					t.Fatal(err)
				}
				if err := logout(context.Background(), &back); err != nil {
					t.Fatalf("Logout: %v", err)
				}
				after, err := os.ReadFile(cfg)
				switch {
				case tt.initial == nil:
					if !errors.Is(err, fs.ErrNotExist) {
						t.Fatalf("config.json should be gone after Logout; err = %v", err)
					}
				case err != nil:
					t.Fatal(err)
				case !bytes.Equal(after, orig):
					t.Fatalf("Logout did not restore the original bytes:\n%s\nwant:\n%s", redacted(after), redacted(orig))
				}
				if b := backups(t, dir); len(b) != 0 {
					t.Fatalf("backup files left after Logout: %v", b)
				}
				if err := logout(context.Background(), &back); err == nil || !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("second Logout = %v, want an error saying the receipt was used", err)
				}
			})
		}
	}
}

func ptr(s string) *string { return &s }

func TestLoginPreservesModeAndRestoresIt(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, ConfigFileName)
	orig := []byte(`{"auths": {}}`)
	writeFile(t, cfg, orig)
	if err := os.Chmod(cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := login(context.Background(), Options{Dir: dir}, []Credential{{Host: ecrHost, Username: "AWS", Password: ecrPass}})
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(cfg); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after Login = %v, want 0600 (the file now holds a secret)", fi.Mode().Perm())
	}
	if err := logout(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(cfg); fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode after Logout = %v, want the original 0644", fi.Mode().Perm())
	}
}

func TestLoginMultipleHosts(t *testing.T) {
	dir := t.TempDir()
	creds := []Credential{
		{Host: ecrHost, Username: "AWS", Password: ecrPass},
		{Host: "public.ecr.aws", Username: "AWS", Password: "pub-" + ecrPass},
		{Host: "210987654321.dkr.ecr.us-east-1.amazonaws.com", Username: "AWS", Password: "east-" + ecrPass},
	}
	r, err := login(context.Background(), Options{Dir: dir}, creds)
	if err != nil {
		t.Fatal(err)
	}
	got := readFile(t, filepath.Join(dir, ConfigFileName))
	for _, c := range creds {
		if _, p, ok := decodedAuth(t, got, c.Host); !ok || p != c.Password {
			t.Errorf("host %s missing or wrong", c.Host)
		}
	}
	if len(r.Entries) != 3 {
		t.Fatalf("receipt has %d entries, want 3", len(r.Entries))
	}
	if err := logout(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ConfigFileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("config.json created by Login should be removed by Logout: %v", err)
	}
}

func TestLoginRejectsBadInput(t *testing.T) {
	tests := []struct {
		name  string
		creds []Credential
		want  string
	}{
		{"none", nil, "no registry credentials"},
		{"scheme", []Credential{{Host: "https://" + ecrHost, Username: "AWS", Password: ecrPass}}, "bare host name"},
		{"path", []Credential{{Host: ecrHost + "/repo", Username: "AWS", Password: ecrPass}}, "bare host name"},
		{"empty host", []Credential{{Username: "AWS", Password: ecrPass}}, "host is empty"},
		{"colon user", []Credential{{Host: ecrHost, Username: "A:WS", Password: ecrPass}}, "no ':'"},
		{"empty password", []Credential{{Host: ecrHost, Username: "AWS"}}, "password is empty"},
		{"duplicate", []Credential{{Host: ecrHost, Username: "AWS", Password: ecrPass}, {Host: ecrHost, Username: "AWS", Password: ecrPass}}, "more than once"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := login(context.Background(), Options{Dir: dir}, tt.creds)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Login error = %v, want it to mention %q", err, tt.want)
			}
			noSecret(t, "error", err.Error(), ecrPass)
			if names := listDir(t, dir); len(names) != 0 {
				t.Fatalf("Login left files behind: %v", names)
			}
		})
	}
}

func TestLoginMalformed(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"truncated", `{"auths": {`, "not valid JSON"},
		{"trailing garbage", `{"auths": {}} x`, "not valid JSON"},
		{"comment", "{\n// hi\n}", "line 2"},
		{"array top", `[]`, "not a JSON object"},
		{"null top", `null`, "not a JSON object"},
		{"auths array", `{"auths": []}`, "auths"},
		{"credHelpers string", `{"credHelpers": "pass"}`, "credHelpers"},
		{"bad base64", `{"auths": {"ghcr.io": {"auth": "!!!"}}}`, `auths["ghcr.io"]`},
		{"no colon", `{"auths": {"ghcr.io": {"auth": "dXNlcg=="}}}`, `auths["ghcr.io"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, ConfigFileName)
			writeFile(t, cfg, []byte(tt.content))
			_, err := login(context.Background(), Options{Dir: dir}, []Credential{{Host: ecrHost, Username: "AWS", Password: ecrPass}})
			if err == nil {
				t.Fatal("Login accepted a malformed config")
			}
			msg := err.Error()
			for _, w := range []string{cfg, tt.want} {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q should mention %q", msg, w)
				}
			}
			if !strings.Contains(msg, "fix") {
				t.Errorf("error %q should say how to fix it", msg)
			}
			noSecret(t, "error", msg, ecrPass)
			untouched(t, dir, []byte(tt.content))
		})
	}
}

func TestLoginSymlink(t *testing.T) {
	t.Run("existing target", func(t *testing.T) {
		base := t.TempDir()
		dir := filepath.Join(base, "docker")
		shared := filepath.Join(base, "shared")
		for _, d := range []string{dir, shared} {
			if err := os.Mkdir(d, 0o700); err != nil {
				t.Fatal(err)
			}
		}
		target := filepath.Join(shared, "real.json")
		orig := []byte(`{"auths": {"ghcr.io": {"auth": "dTpw"}}}`)
		writeFile(t, target, orig)
		link := filepath.Join(dir, ConfigFileName)
		if err := os.Symlink("../shared/real.json", link); err != nil {
			t.Fatal(err)
		}
		r, err := login(context.Background(), Options{Dir: dir}, []Credential{{Host: ecrHost, Username: "AWS", Password: ecrPass}})
		if err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Fatalf("config.json is no longer a symlink (%v)", err)
		}
		if _, p, ok := decodedAuth(t, readFile(t, target), ecrHost); !ok || p != ecrPass {
			t.Fatal("symlink target does not hold our entry")
		}
		if r.ConfigFile != target {
			t.Fatalf("receipt ConfigFile = %s, want the symlink target %s", r.ConfigFile, target)
		}
		if err := logout(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, target); !bytes.Equal(got, orig) {
			t.Fatal("target not restored")
		}
	})
	t.Run("dangling", func(t *testing.T) {
		base := t.TempDir()
		link := filepath.Join(base, ConfigFileName)
		target := filepath.Join(base, "elsewhere.json")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		r, err := login(context.Background(), Options{Dir: base}, []Credential{{Host: ecrHost, Username: "AWS", Password: ecrPass}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, ok := decodedAuth(t, readFile(t, target), ecrHost); !ok {
			t.Fatal("dangling symlink target was not created with our entry")
		}
		if err := logout(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(target); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("target created by Login should be gone: %v", err)
		}
	})
}

// TestLogoutAfterOtherChanges: other tools changed the file between Login
// and Logout, including docker rewriting the whole file in its own format.
func TestLogoutAfterOtherChanges(t *testing.T) {
	const other = "ghcr.io"
	orig := []byte("{\n  \"auths\": {\n    \"quay.io\": {\"auth\": \"cTpx\"},\n    \"" + ecrHost + "\": {\"auth\": \"b2xkOm9sZA==\"}\n  },\n  \"x\": 1\n}\n")
	tests := []struct {
		name   string
		change func(t *testing.T, doc []byte) []byte
		// what Logout must leave for our host: "" removed, "old" restored, "theirs" left alone
		wantOurs string
	}{
		{
			name: "other entry added surgically",
			change: func(t *testing.T, doc []byte) []byte {
				res, err := setAuth(doc, other, authEntry{Auth: "Z2g6dG9r"})
				if err != nil {
					t.Fatal(err)
				}
				return res.doc
			},
			wantOurs: "old",
		},
		{
			name: "docker rewrote the file",
			change: func(t *testing.T, doc []byte) []byte {
				var v map[string]any
				if err := json.Unmarshal(doc, &v); err != nil {
					t.Fatal(err)
				}
				v["auths"].(map[string]any)[other] = map[string]any{"auth": "Z2g6dG9r"}
				out, err := json.MarshalIndent(v, "", "\t")
				if err != nil {
					t.Fatal(err)
				}
				return out
			},
			wantOurs: "old",
		},
		{
			name: "someone logged in to our host again",
			change: func(t *testing.T, doc []byte) []byte {
				res, err := setAuth(doc, ecrHost, authEntry{Auth: "dGhlbTp0aGVpcnM="})
				if err != nil {
					t.Fatal(err)
				}
				res2, err := setAuth(res.doc, other, authEntry{Auth: "Z2g6dG9r"})
				if err != nil {
					t.Fatal(err)
				}
				return res2.doc
			},
			wantOurs: "theirs",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, ConfigFileName)
			writeFile(t, cfg, orig)
			r, err := login(context.Background(), Options{Dir: dir}, []Credential{{Host: ecrHost, Username: "AWS", Password: ecrPass}})
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, cfg, tt.change(t, readFile(t, cfg)))
			if err := logout(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			got := readFile(t, cfg)
			if _, _, ok := decodedAuth(t, got, other); !ok {
				t.Fatal("the other tool's entry was lost")
			}
			if _, _, ok := decodedAuth(t, got, "quay.io"); !ok {
				t.Fatal("a pre-existing entry was lost")
			}
			user, pass, ok := decodedAuth(t, got, ecrHost)
			switch tt.wantOurs {
			case "old":
				if !ok || user != "old" || pass != "old" {
					t.Fatal("our host should hold the value from before Login")
				}
			case "theirs":
				if !ok || user != "them" {
					t.Fatal("a newer login by someone else should survive our Logout")
				}
			}
			if !strings.Contains(string(got), `"x": 1`) {
				t.Fatal("unknown key lost")
			}
		})
	}
}

func TestLoginReadOnly(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, dir, cfg string)
		want   string
		noFile bool
	}{
		{
			name: "read-only directory",
			setup: func(t *testing.T, dir, cfg string) {
				mustChmod(t, dir, 0o555)
			},
			want: "writable",
		},
		{
			name: "read-only file",
			setup: func(t *testing.T, dir, cfg string) {
				mustChmod(t, dir, 0o777)
				mustChmod(t, cfg, 0o444)
			},
			want: "read-only",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := unprivilegedTempDir(t)
			dir := filepath.Join(base, "docker")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			cfg := filepath.Join(dir, ConfigFileName)
			orig := []byte(`{"auths": {"ghcr.io": {"auth": "dTpw"}}}`)
			writeFile(t, cfg, orig)
			mustChmod(t, cfg, 0o644)
			tt.setup(t, dir, cfg)
			t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
			out, err := loginAsUnprivileged(t, dir, ecrHost)
			if err == nil {
				t.Fatalf("Login succeeded on a %s", tt.name)
			}
			if !strings.Contains(out, tt.want) || !strings.Contains(out, "DOCKER_CONFIG") {
				t.Fatalf("error %q should say %q and suggest DOCKER_CONFIG", out, tt.want)
			}
			noSecret(t, "error", out, "pw-"+ecrHost)
			if got := readFile(t, cfg); !bytes.Equal(got, orig) {
				t.Fatal("config.json changed")
			}
		})
	}
}

func mustChmod(t *testing.T, path string, mode fs.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func TestDiscardRemovesTheBackup(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfg, []byte(`{"auths":{"h.example":{"auth":"b2xkOnNlY3JldA=="}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := login(context.Background(), Options{Dir: dir}, []Credential{{Host: "h.example", Username: "AWS", Password: "new-password"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(r.BackupFile); err != nil {
		t.Fatalf("no backup after a replacing login: %v", err)
	}
	if err := discard(r); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(r.BackupFile); !os.IsNotExist(err) {
		t.Errorf("backup still there after Discard (%v)", err)
	}
	b, _ := os.ReadFile(cfg)
	if !strings.Contains(string(b), "h.example") {
		t.Errorf("Discard changed the login")
	}
}

// TestLoginRefreshHelper: with Refresh every host gets a credHelpers
// entry naming the helper beside its auths entry, even a host another
// helper had (that value comes back at logout). Logout of an unchanged
// file restores it byte for byte; after another tool's change it removes
// only our entries and keeps theirs.
func TestLoginRefreshHelper(t *testing.T) {
	const east = "210987654321.dkr.ecr.us-east-1.amazonaws.com"
	orig := []byte("{\n\t\"credHelpers\": {\"" + east + "\": \"ecr-login\", \"gcr.io\": \"gcloud\"},\n\t\"x\": 1\n}\n")
	creds := []Credential{{Host: ecrHost, Username: "AWS", Password: ecrPass}, {Host: east, Username: "AWS", Password: "east-" + ecrPass}}
	for _, change := range []bool{false, true} {
		dir := t.TempDir()
		path := filepath.Join(dir, ConfigFileName)
		if err := os.WriteFile(path, orig, 0o600); err != nil {
			t.Fatal(err)
		}
		lookPath := func(name string) (string, error) { return "", fmt.Errorf("%s must not be run", name) }
		r, err := login(context.Background(), Options{Dir: dir, Refresh: &RefreshHelper{Program: []byte("#!/bin/sh\n"), Settings: []byte("{}\n")}, LookPath: lookPath}, creds)
		if err != nil {
			t.Fatal(err)
		}
		got := readFile(t, path)
		var v struct {
			CredHelpers map[string]string `json:"credHelpers"`
			X           int               `json:"x"`
		}
		if err := json.Unmarshal(got, &v); err != nil {
			t.Fatal(err)
		}
		if v.CredHelpers[ecrHost] != "ecr-credentials" || v.CredHelpers[east] != "ecr-credentials" || v.CredHelpers["gcr.io"] != "gcloud" || v.X != 1 {
			t.Errorf("credHelpers after Login = %v", v.CredHelpers)
		}
		for _, c := range creds {
			if _, p, ok := decodedAuth(t, got, c.Host); !ok || p != c.Password {
				t.Errorf("auths entry for %s missing or wrong", c.Host)
			}
		}
		if change {
			res, err := setEntry(got, credHelpersMember, "quay.io", "theirs")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, res.doc, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := logout(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		after := readFile(t, path)
		if !change {
			if !bytes.Equal(after, orig) {
				t.Errorf("Logout of an unchanged file:\n%s\nwant\n%s", after, orig)
			}
			continue
		}
		v.CredHelpers = nil
		if err := json.Unmarshal(after, &v); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{east: "ecr-login", "gcr.io": "gcloud", "quay.io": "theirs"}
		if fmt.Sprint(v.CredHelpers) != fmt.Sprint(want) {
			t.Errorf("credHelpers after Logout = %v, want %v", v.CredHelpers, want)
		}
		if _, _, ok := decodedAuth(t, after, ecrHost); ok {
			t.Errorf("auths entry for %s left after Logout", ecrHost)
		}
	}
}

// TestDirFor: docker's default directory on each system, tested on any:
// %USERPROFILE%\.docker on Windows (HOME is not what docker reads there),
// $HOME/.docker elsewhere, DOCKER_CONFIG first everywhere.
func TestDirFor(t *testing.T) {
	tests := []struct {
		goos    string
		env     map[string]string
		want    string
		wantErr string
	}{
		{"windows", map[string]string{"USERPROFILE": `C:\Users\runneradmin`}, `C:\Users\runneradmin\.docker`, ""},
		{"windows", map[string]string{"USERPROFILE": `C:\Users\runneradmin\`, "HOME": "/c/Users/other"}, `C:\Users\runneradmin\.docker`, ""},
		{"windows", map[string]string{"USERPROFILE": `D:/profiles/u/`}, `D:/profiles/u\.docker`, ""},
		{"windows", map[string]string{"USERPROFILE": `C:\`}, `C:\.docker`, ""},
		{"windows", map[string]string{"DOCKER_CONFIG": `D:\a\_temp\docker`, "USERPROFILE": `C:\Users\u`}, `D:\a\_temp\docker`, ""},
		{"windows", map[string]string{"HOME": "/c/Users/u"}, "", "neither DOCKER_CONFIG nor USERPROFILE"},
		{"linux", map[string]string{"HOME": "/home/runner", "USERPROFILE": `C:\x`}, "/home/runner/.docker", ""},
		{"linux", map[string]string{"HOME": "/"}, "/.docker", ""},
		{"darwin", map[string]string{"HOME": "/Users/runner/"}, "/Users/runner/.docker", ""},
		{"darwin", map[string]string{"USERPROFILE": `C:\x`}, "", "neither DOCKER_CONFIG nor HOME"},
	}
	for _, tt := range tests {
		t.Run(tt.goos+" "+tt.want, func(t *testing.T) {
			got, err := dirFor(tt.goos, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("dirFor(%s) = %q, %v; want an error mentioning %q", tt.goos, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("dirFor(%s) = %q, %v; want %q", tt.goos, got, err, tt.want)
			}
		})
	}
}

// TestRefreshHelperFilesExe: docker on Windows runs a credential helper
// only as docker-credential-<name>.exe (PATHEXT), so the refresh helper's
// binary carries the suffix there.
func TestRefreshHelperFilesExe(t *testing.T) {
	bin, settings := RefreshHelperFiles(filepath.Join("d", RefreshDirName), RefreshHelperName+"-2")
	want := HelperPrefix + RefreshHelperName + "-2" + exeSuffix(runtime.GOOS)
	if filepath.Base(bin) != want || filepath.Base(filepath.Dir(bin)) != "bin" || filepath.Base(settings) != "helper-2.json" {
		t.Errorf("RefreshHelperFiles = %s, %s", bin, settings)
	}
	for _, tt := range []struct{ goos, base, want string }{
		{"windows", "docker-credential-ecr-credentials-2.exe", "ecr-credentials-2"},
		{"windows", "docker-credential-ecr-credentials.EXE", "ecr-credentials"},
		{"linux", "docker-credential-ecr-credentials-2", "ecr-credentials-2"},
		{"linux", "docker-credential-x.exe", "x.exe"},
	} {
		if got := helperNameOf(tt.goos, tt.base); got != tt.want {
			t.Errorf("helperNameOf(%s, %s) = %q, want %q", tt.goos, tt.base, got, tt.want)
		}
	}
	if !refreshBinPattern.MatchString(filepath.Base(bin)) {
		t.Errorf("the refresh directory's check does not take its own helper %s", filepath.Base(bin))
	}
	for goos, want := range map[string]string{"windows": ".exe", "linux": "", "darwin": ""} {
		if got := exeSuffix(goos); got != want {
			t.Errorf("exeSuffix(%s) = %q, want %q", goos, got, want)
		}
	}
}
