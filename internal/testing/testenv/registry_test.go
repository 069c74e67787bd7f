package testenv

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeECRPassword returns a random password shaped like a real ECR one:
// ~1.7 KB of base64 text.
func fakeECRPassword(t testing.TB) string {
	t.Helper()
	raw := make([]byte, 1300)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(raw)
}

// statusWith GETs /v2/ with the given basic-auth credentials ("" user:
// none) and returns the status code.
func statusWith(t *testing.T, r *Registry, user, password string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, r.URL+"/v2/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := r.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("GET %s/v2/: %v", r.URL, err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("Www-Authenticate"), "Basic ") {
		t.Errorf("401 without a Basic challenge: %q", resp.Header.Get("Www-Authenticate"))
	}
	return resp.StatusCode
}

func TestRegistryAuth(t *testing.T) {
	short := "short-password-1234"
	long := fakeECRPassword(t)
	tests := []struct {
		name     string
		password string
		tls      bool
	}{
		{"short password, http", short, false},
		{"short password, https", short, true},
		{"ECR-length password, http", long, false},
		{"ECR-length password, https", long, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := StartRegistry(t, RegistryOptions{Password: tc.password, TLS: tc.tls})
			if r.Username != DefaultRegistryUser {
				t.Errorf("Username = %q, want %q", r.Username, DefaultRegistryUser)
			}
			if wantGuard := len(tc.password) > 72; r.Guarded != wantGuard {
				t.Errorf("Guarded = %v, want %v", r.Guarded, wantGuard)
			}
			wantScheme := "http://"
			if tc.tls {
				wantScheme = "https://"
			}
			if r.URL != wantScheme+r.Addr || !strings.HasPrefix(r.Addr, "127.0.0.1:") {
				t.Errorf("Addr %q / URL %q", r.Addr, r.URL)
			}
			if (r.CA != nil) != tc.tls {
				t.Errorf("CA = %v with TLS %v", r.CA, tc.tls)
			}
			pw := tc.password
			type authCase struct {
				what     string
				user, pw string
				want     int
			}
			cases := []authCase{
				{"no credentials", "", "", http.StatusUnauthorized},
				{"right password", "AWS", pw, http.StatusOK},
				{"wrong user", "aws", pw, http.StatusUnauthorized},
				{"first byte wrong", "AWS", "X" + pw[1:], http.StatusUnauthorized},
				{"last byte wrong", "AWS", pw[:len(pw)-1] + "!", http.StatusUnauthorized},
				{"truncated by one byte", "AWS", pw[:len(pw)-1], http.StatusUnauthorized},
				{"one byte extra", "AWS", pw + "x", http.StatusUnauthorized},
				{"trailing newline", "AWS", pw + "\n", http.StatusUnauthorized},
				{"empty password", "AWS", "", http.StatusUnauthorized},
			}
			if len(pw) > 72 {
				cases = append(cases,
					authCase{"first 72 bytes only", "AWS", pw[:72], http.StatusUnauthorized},
					authCase{"first 72 bytes then garbage", "AWS", pw[:72] + strings.Repeat("z", len(pw)-72), http.StatusUnauthorized},
				)
			}
			for _, c := range cases {
				if got := statusWith(t, r, c.user, c.pw); got != c.want {
					t.Errorf("%s: status %d, want %d", c.what, got, c.want)
				}
			}
		})
	}
}

// TestRegistryAloneTruncatesLongPasswords records what docker-registry
// itself does with a password over 72 bytes: bcrypt compares only the first
// 72, so a wrong password with the same start gets in. This is why
// StartRegistry guards long passwords; if a newer registry starts refusing
// here, the guard can go.
func TestRegistryAloneTruncatesLongPasswords(t *testing.T) {
	pw := fakeECRPassword(t)
	r := startRegistry(t, RegistryOptions{Password: pw}, false)
	if r.Guarded {
		t.Fatal("registry unexpectedly guarded")
	}
	if got := statusWith(t, r, "AWS", pw); got != http.StatusOK {
		t.Fatalf("right password: %d", got)
	}
	if got := statusWith(t, r, "AWS", pw[:72]+"completely different tail"); got != http.StatusOK {
		t.Fatalf("docker-registry now rejects a password that differs after byte 72 (status %d): bcrypt truncation is gone, the front may be unnecessary", got)
	}
	if got := statusWith(t, r, "AWS", pw[:71]+"!"+pw[72:]); got != http.StatusUnauthorized {
		t.Fatalf("a difference at byte 72 was accepted (status %d)", got)
	}
}

func TestRegistryWithoutAuth(t *testing.T) {
	r := StartRegistry(t, RegistryOptions{})
	if r.Username != "" || r.Guarded {
		t.Errorf("no-auth registry has Username %q, Guarded %v", r.Username, r.Guarded)
	}
	if got := statusWith(t, r, "", ""); got != http.StatusOK {
		t.Fatalf("anonymous /v2/: %d, want 200", got)
	}
}

func TestRegistryOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		opts RegistryOptions
		want string
	}{
		{"colon in user", RegistryOptions{Username: "a:b", Password: "p"}, "contains ':'"},
		{"user without password", RegistryOptions{Username: "u"}, "without a password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recordingTB{TB: t}
			rec.run(func() { StartRegistry(rec, tc.opts) })
			defer rec.runCleanups()
			if len(rec.fatal) != 1 || !strings.Contains(rec.fatal[0], tc.want) {
				if len(rec.skipped) > 0 {
					t.Skip(rec.skipped[0])
				}
				t.Fatalf("fatal %q, want one containing %q", rec.fatal, tc.want)
			}
		})
	}
}

func TestRegistryPrintsLogWhenTestFails(t *testing.T) {
	rec := &recordingTB{TB: t}
	var r *Registry
	rec.run(func() { r = StartRegistry(rec, RegistryOptions{Password: fakeECRPassword(t)}) })
	if r == nil {
		if len(rec.skipped) > 0 {
			t.Skip(rec.skipped[0])
		}
		t.Fatalf("StartRegistry stopped: %q", rec.fatal)
	}
	statusWith(t, r, "AWS", "wrong")
	rec.failed = true
	rec.runCleanups()
	all := strings.Join(rec.logs, "\n")
	if !strings.Contains(all, "docker-registry log") || !strings.Contains(all, "listening on") {
		t.Fatalf("cleanup of a failed test did not print the registry log; logs: %q", rec.logs)
	}
	if !strings.Contains(all, "does not match in full") {
		t.Errorf("the front's rejection is not in the log: %q", all)
	}
	if len(rec.errors) != 0 {
		t.Errorf("stopping the registry reported errors: %q", rec.errors)
	}
	// Stopped means stopped.
	if _, err := r.HTTPClient().Get(r.URL + "/v2/"); err == nil {
		t.Error("registry still answers after cleanup")
	}
}

// layerTar writes a one-file layer tarball and returns its path.
func layerTar(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := []byte("hello from testenv\n")
	if err := tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "layer.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRegistryWithRealClients pushes with crane and reads back with crane
// and skopeo over TLS with an ECR-length password, as the end-to-end tests
// will, and checks that wrong credentials and a missing CA are refused.
func TestRegistryWithRealClients(t *testing.T) {
	crane := Crane(t)
	pw := fakeECRPassword(t)
	r := StartRegistry(t, RegistryOptions{Password: pw, TLS: true})
	bundle := r.CA.BundleWith(false)
	ref := r.Addr + "/team/app:v1"

	home := t.TempDir()
	env := map[string]string{"HOME": home, "SSL_CERT_FILE": bundle}
	login := RunProgram(t, crane, RunOptions{Args: []string{"auth", "login", r.Addr, "-u", "AWS", "--password-stdin"}, Env: env, Stdin: pw})
	if login.ExitCode != 0 {
		t.Fatalf("crane auth login: exit %d: %s", login.ExitCode, login.Stderr)
	}
	cfg, err := os.ReadFile(filepath.Join(home, ".docker", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dc struct {
		Auths map[string]struct{ Auth string } `json:"auths"`
	}
	if err := json.Unmarshal(cfg, &dc); err != nil {
		t.Fatalf("config.json: %v", err)
	}
	if got, _ := base64.StdEncoding.DecodeString(dc.Auths[r.Addr].Auth); string(got) != "AWS:"+pw {
		t.Fatalf("config.json auth for %s does not hold the full credentials (%d bytes)", r.Addr, len(got))
	}

	push := RunProgram(t, crane, RunOptions{Args: []string{"append", "-f", layerTar(t), "-t", ref}, Env: env})
	if push.ExitCode != 0 {
		t.Fatalf("crane append (push): exit %d: %s", push.ExitCode, push.Stderr)
	}
	dig := RunProgram(t, crane, RunOptions{Args: []string{"digest", ref}, Env: env})
	digest := strings.TrimSpace(dig.Stdout)
	if dig.ExitCode != 0 || !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("crane digest: exit %d, %q, %s", dig.ExitCode, dig.Stdout, dig.Stderr)
	}

	t.Run("skopeo reads it back", func(t *testing.T) {
		skopeo := Skopeo(t)
		res := RunProgram(t, skopeo, RunOptions{
			Args: []string{"inspect", "--authfile", filepath.Join(home, ".docker", "config.json"), "docker://" + ref},
			Env:  env,
		})
		if res.ExitCode != 0 {
			t.Fatalf("skopeo inspect: exit %d: %s", res.ExitCode, res.Stderr)
		}
		var info struct{ Digest string }
		if err := json.Unmarshal([]byte(res.Stdout), &info); err != nil {
			t.Fatalf("skopeo output: %v", err)
		}
		if info.Digest != digest {
			t.Fatalf("skopeo sees digest %s, crane pushed %s", info.Digest, digest)
		}
	})

	refused := []struct {
		name    string
		env     map[string]string
		login   string // password to log in with; "" keeps the right one
		wantErr string
	}{
		{"password truncated to 72 bytes", nil, pw[:72], "UNAUTHORIZED"},
		{"password with the right start", nil, pw[:100] + strings.Repeat("A", len(pw)-100), "UNAUTHORIZED"},
		{"CA not trusted", map[string]string{"SSL_CERT_FILE": os.DevNull}, "", "certificate"},
	}
	for _, tc := range refused {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			h := t.TempDir()
			e := map[string]string{"HOME": h, "SSL_CERT_FILE": bundle}
			for k, v := range tc.env {
				e[k] = v
			}
			loginPW := pw
			if tc.login != "" {
				loginPW = tc.login
			}
			if res := RunProgram(t, crane, RunOptions{Args: []string{"auth", "login", r.Addr, "-u", "AWS", "--password-stdin"}, Env: e, Stdin: loginPW}); res.ExitCode != 0 {
				t.Fatalf("crane auth login: %s", res.Stderr)
			}
			res := RunProgram(t, crane, RunOptions{Args: []string{"digest", ref}, Env: e})
			if res.ExitCode == 0 {
				t.Fatalf("crane digest succeeded; want it refused")
			}
			if !strings.Contains(res.Stderr, tc.wantErr) {
				t.Fatalf("stderr does not mention %q: %s", tc.wantErr, redact(res.Stderr, []string{pw}))
			}
		})
	}
}

// BenchmarkStartRegistry measures start-up (until /v2/ answers) plus
// shutdown of a TLS registry with an ECR-length password.
func BenchmarkStartRegistry(b *testing.B) {
	pw := fakeECRPassword(b)
	ca := NewCA(b)
	for b.Loop() {
		rec := &recordingTB{TB: b}
		rec.run(func() { StartRegistry(rec, RegistryOptions{Password: pw, TLS: true, CA: ca}) })
		rec.runCleanups()
		if len(rec.skipped) > 0 {
			b.Skip(rec.skipped[0])
		}
		if len(rec.fatal) > 0 || len(rec.errors) > 0 {
			b.Fatalf("start/stop failed: %q %q", rec.fatal, rec.errors)
		}
	}
}
