package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/dockerconfig"
)

// TestPostStageDistrustsForgedState (issue 12, class 7): a STATE_receipt
// the main stage did not write (a workflow `env:`, an earlier step's
// GITHUB_ENV) must not make the post stage run a program or delete a
// file. On the code before receipts were sealed, the forged receipt below
// ran the "helper" (the marker appeared) and deleted the victim file.
func TestPostStageDistrustsForgedState(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "helper-ran")
	evil := filepath.Join(dir, "evil")
	script := "#!/bin/sh\ntouch " + marker + "\necho 'credentials not found in native keychain'\nexit 1\n"
	if err := os.WriteFile(evil, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(dir, "victim.json")
	if err := os.WriteFile(victim, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A real seal and receipt file of our own, to forge a seal against.
	cfgDir := filepath.Join(dir, "docker")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		t.Fatal(err)
	}
	own, err := dockerconfig.SaveReceipt(&dockerconfig.Receipt{ConfigFile: filepath.Join(cfgDir, "config.json")})
	if err != nil {
		t.Fatal(err)
	}
	forgedReceipt, _ := json.Marshal(dockerconfig.Receipt{
		ConfigFile: filepath.Join(dir, "config.json"), LockFile: filepath.Join(dir, "lock"), BackupFile: victim,
		Entries: []dockerconfig.ReceiptEntry{{Host: "x.example", Key: "x.example", Helper: "evil", HelperPath: evil}},
	})
	wrongNonce, _ := json.Marshal(dockerconfig.Seal{Dir: own.Dir, ID: own.ID, Nonce: strings.Repeat("0", 32)})
	tests := []struct {
		name, state string
	}{
		{"a receipt, not a seal", string(forgedReceipt)},
		{"a seal with the wrong nonce", string(wrongNonce)},
		{"garbage", "{not json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_ = os.Remove(marker)
			if err := os.WriteFile(victim, []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			env := map[string]string{"GITHUB_ACTIONS": "true", "HOME": dir, "STATE_receipt": tt.state}
			code := githubPost(context.Background(), Env{Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &out})
			if code != ExitError || !strings.Contains(out.String(), "::error") || !strings.Contains(out.String(), "STATE_receipt") {
				t.Errorf("exit %d, want a failure naming STATE_receipt:\n%s", code, out.String())
			}
			if _, err := os.Stat(marker); err == nil {
				t.Error("the post stage ran the helper path a forged receipt named")
			}
			if _, err := os.Stat(victim); err != nil {
				t.Errorf("the post stage deleted the backup file a forged receipt named: %v", err)
			}
		})
	}
}
