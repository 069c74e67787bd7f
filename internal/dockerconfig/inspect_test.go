package dockerconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInspect (issue 21, finding 3): what a docker config directory holds
// that docker runs or obeys, and whether it holds only what our logins
// write.
func TestInspect(t *testing.T) {
	for _, tt := range []struct {
		name       string
		config     string
		files      []string // more entries, relative to the directory
		wantOurs   bool
		wantObeyed string // in Obeyed, joined
	}{
		{"empty", "", nil, true, ""},
		{"auths and a format", `{"auths":{},"psFormat":"x"}`, nil, true, ""},
		{"our refresh helpers in credHelpers", `{"credHelpers":{"a.example":"ecr-credentials","b.example":"ecr-credentials-2"}}`, []string{RefreshDirName + "/"}, true, ""},
		{"our receipt, backup and lock", `{}`, []string{".ecr-credentials-receipt-0123456789abcdef.json", ".config.json.ecr-credentials-0123456789abcdef.bak", "config.json.lock"}, true, ""},
		{"another credential helper", `{"credHelpers":{"a.example":"ecr-credentials","gcr.io":"gcloud"}}`, nil, false, "gcr.io: docker-credential-gcloud"},
		{"a credsStore", `{"credsStore":"pass"}`, nil, false, `credsStore "pass"`},
		{"proxies", `{"proxies":{"default":{"httpProxy":"http://p.example"}}}`, nil, false, "proxies"},
		{"a context", `{"currentContext":"remote"}`, []string{"contexts/meta/"}, false, `currentContext "remote"`},
		{"extra plugin directories", `{"cliPluginsExtraDirs":["/x"]}`, nil, false, "cliPluginsExtraDirs"},
		{"a docker plugin", "", []string{"cli-plugins/docker-buildx"}, false, "cli-plugins/docker-buildx"},
		{"not JSON", `{`, nil, false, "not a JSON object"},
		{"another file", "", []string{"Dockerfile"}, false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "docker")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if tt.config != "" {
				if err := os.WriteFile(filepath.Join(dir, ConfigFileName), []byte(tt.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range tt.files {
				p := filepath.Join(dir, f)
				if strings.HasSuffix(f, "/") {
					if err := os.MkdirAll(p, 0o700); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, err := Inspect(dir, os.Geteuid())
			if err != nil {
				t.Fatal(err)
			}
			obeyed := strings.Join(c.Obeyed, "; ")
			if c.Ours() != tt.wantOurs || (tt.wantObeyed == "") != (obeyed == "") || !strings.Contains(obeyed, tt.wantObeyed) {
				t.Errorf("ours %v, obeyed %q, foreign %q; want ours %v, obeyed naming %q", c.Ours(), obeyed, c.Foreign, tt.wantOurs, tt.wantObeyed)
			}
		})
	}
	// What is not a private directory of ours is never ours.
	base := t.TempDir()
	link := filepath.Join(base, "link")
	open := filepath.Join(base, "open")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{link: "symbolic link", open: "writable by group or others"} {
		if c, err := Inspect(path, os.Geteuid()); err != nil || c.Ours() || !strings.Contains(c.Problem, want) {
			t.Errorf("%s: ours %v, problem %q (%v); want %q", path, c.Ours(), c.Problem, err, want)
		}
	}
	if c, err := Inspect(filepath.Join(base, "missing")); err != nil || c.Exists || !c.Ours() {
		t.Errorf("missing: %+v, %v", c, err)
	}
}
