//go:build !windows

package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/dockerconfig"
	"github.com/ecr-credentials/ecr-credentials/internal/runner"
)

// TestPostStageWithoutStateSkipsForeignReceipts (issue 21, finding 6):
// under act the post stage has no step state and looks for receipts in
// the exported DOCKER_CONFIG. A receipt-named file it cannot trust there
// (carried by the checkout with the mode git gives it, unreadable, a named
// pipe, a link) is skipped with a warning, and the step's own login is
// still removed. On the previous code the first such file failed the post
// step and left the password in the workspace.
func TestPostStageWithoutStateSkipsForeignReceipts(t *testing.T) {
	const host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
	for _, tt := range []struct {
		name    string
		plant   func(t *testing.T, path string, own []byte)
		wantLog string
	}{
		{"a copy with mode 0644, as a checkout carries it", func(t *testing.T, path string, own []byte) {
			if err := os.WriteFile(path, own, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "has mode 0644"},
		{"not JSON", func(t *testing.T, path string, _ []byte) {
			if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "is unreadable; not trusted"},
		{"a named pipe", func(t *testing.T, path string, _ []byte) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "is not a regular file; not trusted"},
		{"a link to the step's own receipt", func(t *testing.T, path string, _ []byte) {
			own, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".ecr-credentials-receipt-*.json"))
			if err := os.Symlink(own[0], path); err != nil {
				t.Fatal(err)
			}
		}, "is not a regular file; not trusted"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ws := t.TempDir()
			fakeMounts(t, true, ws)
			dir := filepath.Join(ws, runner.ActDockerConfigDir)
			r, err := dockerconfig.Login(context.Background(), dockerconfig.Options{Dir: dir},
				[]dockerconfig.Credential{{Host: host, Username: "AWS", Password: "secret-password-1234"}})
			if err != nil {
				t.Fatal(err)
			}
			seal, err := r.Save()
			if err != nil {
				t.Fatal(err)
			}
			own, err := os.ReadFile(seal.File())
			if err != nil {
				t.Fatal(err)
			}
			// Named like a receipt; sorted before and after the step's own.
			for _, id := range []string{"0000000000000000", "ffffffffffffffff"} {
				tt.plant(t, filepath.Join(dir, ".ecr-credentials-receipt-"+id+".json"), own)
			}
			var out bytes.Buffer
			env := map[string]string{"ACT": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": ws, "DOCKER_CONFIG": dir}
			code := githubPost(context.Background(), Env{Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &out})
			if code != ExitOK {
				t.Fatalf("exit %d, want 0:\n%s", code, out.String())
			}
			if n := strings.Count(out.String(), "::warning"); n != 2 || !strings.Contains(out.String(), tt.wantLog) {
				t.Errorf("%d warnings, want one for each foreign receipt, saying %q:\n%s", n, tt.wantLog, out.String())
			}
			if b, err := os.ReadFile(r.File()); err == nil && strings.Contains(string(b), host) {
				t.Errorf("the step's login is left in %s:\n%s\n%s", r.File(), b, out.String())
			}
			if _, err := os.Lstat(seal.File()); !os.IsNotExist(err) {
				t.Errorf("the step's receipt is left: %v", err)
			}
		})
	}
}
