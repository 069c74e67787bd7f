package dockerconfig

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ecr-credentials/ecr-credentials/internal/securefile"
)

// backup is the content of Receipt.BackupFile. Everything secret that
// Logout needs lives here, never in the Receipt.
type backup struct {
	// OriginalExists tells whether config.json existed before Login.
	OriginalExists bool `json:"originalExists"`
	// Original is config.json's exact content before Login.
	Original []byte `json:"original,omitempty"`
	// After is the SHA-256 of config.json as Login left it ("" when
	// Login did not change the file).
	After string `json:"after,omitempty"`
	// Prev are the values Login replaced, by key, in the form of the store
	// that holds the key (see store).
	Prev map[string]json.RawMessage `json:"prev,omitempty"`
	// Ours are the sums (store.sum) of the values Login wrote, by key.
	Ours map[string]string `json:"ours,omitempty"`
	// PrevCredHelpers are the credHelpers values Login replaced
	// (Options.Refresh), by key.
	PrevCredHelpers map[string]json.RawMessage `json:"prevCredHelpers,omitempty"`
}

// newBackupPath returns a fresh backup file name beside configFile.
func newBackupPath(configFile string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(configFile), "."+filepath.Base(configFile)+".ecr-credentials-"+hex.EncodeToString(b[:])+".bak"), nil
}

// writeBackup creates the backup file exclusively with mode 0600.
func writeBackup(path string, b *backup) error {
	data, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("encode docker config backup: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		if securefile.IsPermission(err) {
			return fmt.Errorf("create docker config backup %s: %w; %s", path, err, writableHint)
		}
		return fmt.Errorf("create docker config backup %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("write docker config backup %s: %w", path, err)
	}
	// Not synced: a new file (see internal/securefile on syncing).
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("close docker config backup %s: %w", path, err)
	}
	return nil
}

func readBackup(path string) (*backup, error) {
	data, err := readPrivateFile(path, "backup")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("docker logout: backup %s is gone, so this receipt was already used (or the file was deleted); nothing was changed: %w", path, err)
		}
		return nil, fmt.Errorf("docker logout: read backup %s: %w", path, err)
	}
	var b backup
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("docker logout: backup %s is corrupt; nothing was changed; restore config.json by hand and delete the backup", path)
	}
	return &b, nil
}

// discard keeps the login for good (Handle.Keep): it deletes the backup of what Login
// replaced (which holds the previous credentials), so nothing secret is
// left behind for a logout that will never come (a CLI login, a plugin
// step, skip-logout). The receipt is useless afterwards.
func discard(r *Receipt) error {
	if r == nil || r.BackupFile == "" {
		return nil
	}
	if err := os.Remove(r.BackupFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove backup %s: %w; delete it by hand, it holds the previous credentials", r.BackupFile, err)
	}
	return nil
}
