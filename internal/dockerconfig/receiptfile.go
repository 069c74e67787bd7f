package dockerconfig

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/ecr-credentials/ecr-credentials/internal/securefile"
)

// A receipt that crosses a process boundary (the main stage of a CI step
// hands it to the post stage) must not be taken from wherever it came: a
// value an earlier step or the workflow can set would otherwise choose
// which program the post stage runs (a helper path) and which file it
// deletes (a backup path). So the receipt itself stays on disk, in a file
// only this user can read, in the config directory Login wrote; what
// crosses the boundary is a Seal: that directory, the file's id and a
// secret nonce the file must hold. Opening checks the file and everything
// in the receipt before any of it is used.

// receiptPrefix and receiptSuffix frame the name of a saved receipt in the
// config directory: .ecr-credentials-receipt-<id>.json.
const (
	receiptPrefix = ".ecr-credentials-receipt-"
	receiptSuffix = ".json"
)

var (
	receiptIDPattern  = regexp.MustCompile(`^[0-9a-f]{16}$`)
	backupNamePattern = regexp.MustCompile(`^\.[^/]+\.ecr-credentials-[0-9a-f]{16}\.bak$`)
	helperNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// Seal is what the post stage needs to find and trust a saved receipt. Its
// Nonce is a secret: keep it out of logs (it is harmless once the receipt
// is used, but nothing else may forge one).
type Seal struct {
	Dir   string `json:"dir"`
	ID    string `json:"id"`
	Nonce string `json:"nonce"`
}

type savedReceipt struct {
	Nonce   string  `json:"nonce"`
	Receipt Receipt `json:"receipt"`
}

// ErrNoSavedReceipt is returned by Saved (findReceipts) when the directory holds
// none.
var ErrNoSavedReceipt = errors.New("no saved docker login receipt")

// saveReceipt stores r (mode 0600, exclusively created) in the directory of
// its config file and returns the Seal that opens it.
func saveReceipt(r *Receipt) (Seal, error) {
	if r == nil || r.ConfigFile == "" {
		return Seal{}, errors.New("save docker login receipt: empty receipt")
	}
	var id, nonce [16]byte
	if _, err := rand.Read(id[:8]); err != nil {
		return Seal{}, fmt.Errorf("save docker login receipt: %w", err)
	}
	if _, err := rand.Read(nonce[:]); err != nil {
		return Seal{}, fmt.Errorf("save docker login receipt: %w", err)
	}
	s := Seal{Dir: filepath.Dir(r.ConfigFile), ID: hex.EncodeToString(id[:8]), Nonce: hex.EncodeToString(nonce[:])}
	data, err := json.Marshal(savedReceipt{Nonce: s.Nonce, Receipt: *r})
	if err != nil {
		return Seal{}, fmt.Errorf("save docker login receipt: %w", err)
	}
	name := s.File()
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return Seal{}, fmt.Errorf("save docker login receipt %s: %w", name, err)
	}
	_, err = f.Write(data) // a new file: not synced (see internal/securefile)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(name)
		return Seal{}, fmt.Errorf("save docker login receipt %s: %w", name, err)
	}
	return s, nil
}

// File is the saved receipt's path.
func (s Seal) File() string { return filepath.Join(s.Dir, receiptPrefix+s.ID+receiptSuffix) }

// removeReceipt deletes the saved receipt (after its logout, or when the
// login it describes was undone or kept for good).
func removeReceipt(s Seal) error {
	if !receiptIDPattern.MatchString(s.ID) {
		return nil
	}
	if err := os.Remove(s.File()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove docker login receipt %s: %w", s.File(), err)
	}
	return nil
}

// openSealed reads the receipt s names and checks it: the file is a
// regular file owned by this user and readable by no one else, it holds
// s.Nonce, and every path in the receipt lies in s.Dir with the names
// Login gives them. Credential helpers are looked up again by name with
// lookPath (nil: exec.LookPath); a path stored in the receipt is never
// run.
func openSealed(s Seal, lookPath func(string) (string, error)) (*Receipt, error) {
	if s.Nonce == "" {
		return nil, errors.New("docker login receipt: the seal has no nonce")
	}
	return openReceipt(s, &s.Nonce, lookPath)
}

// findReceipts opens every receipt saved in dir, newest first, for a post
// stage that got no Seal (a runner that passes no step state). Without a
// nonce, trust rests on the file checks and the receipt checks of
// openSealed alone. A receipt-named file that fails them (one a checkout
// carries, with the mode git gives it) is skipped, with the reason in
// skipped, so that it cannot keep the others from being undone. Each
// result's Seal removes it. ErrNoSavedReceipt means dir holds no
// receipt-named file at all.
func findReceipts(dir string, lookPath func(string) (string, error)) (rs []*Receipt, seals []Seal, skipped []error, err error) {
	dir = filepath.Clean(dir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil, ErrNoSavedReceipt
		}
		return nil, nil, nil, fmt.Errorf("look for docker login receipts in %s: %w", dir, err)
	}
	type found struct {
		s    Seal
		time int64
	}
	var list []found
	for _, en := range entries {
		id, ok := strings.CutPrefix(en.Name(), receiptPrefix)
		if !ok {
			continue
		}
		id, ok = strings.CutSuffix(id, receiptSuffix)
		if !ok || !receiptIDPattern.MatchString(id) {
			continue
		}
		fi, err := en.Info()
		if err != nil {
			continue
		}
		list = append(list, found{Seal{Dir: dir, ID: id}, fi.ModTime().UnixNano()})
	}
	if len(list) == 0 {
		return nil, nil, nil, ErrNoSavedReceipt
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].time > list[j].time })
	for _, f := range list {
		r, err := openReceipt(f.s, nil, lookPath)
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		rs = append(rs, r)
		seals = append(seals, f.s)
	}
	return rs, seals, skipped, nil
}

func openReceipt(s Seal, nonce *string, lookPath func(string) (string, error)) (*Receipt, error) {
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	if !filepath.IsAbs(s.Dir) || !receiptIDPattern.MatchString(s.ID) {
		return nil, fmt.Errorf("docker login receipt: malformed seal (directory %q, id %q)", s.Dir, s.ID)
	}
	s.Dir = filepath.Clean(s.Dir)
	name := s.File()
	// Read without following a link or blocking on a pipe; the checks
	// below are on the file opened, not on a path looked up again.
	data, fi, err := securefile.ReadRegularNoFollow(name, securefile.ReadLimitSmall)
	if errors.Is(err, securefile.ErrNotRegular) {
		return nil, fmt.Errorf("docker login receipt %s is not a regular file; not trusted", name)
	}
	if err != nil {
		return nil, fmt.Errorf("docker login receipt %s: %w", name, err)
	}
	if securefile.OpenTo(fi, 0o077) != 0 {
		return nil, fmt.Errorf("docker login receipt %s has mode %04o (others may have written it); not trusted", name, fi.Mode().Perm())
	}
	if uid, _, ok := securefile.OwnerOf(fi); ok && uid != os.Geteuid() {
		return nil, fmt.Errorf("docker login receipt %s belongs to uid %d, not to this user (%d); not trusted", name, uid, os.Geteuid())
	}
	var saved savedReceipt
	if err := json.Unmarshal(data, &saved); err != nil {
		return nil, fmt.Errorf("docker login receipt %s is unreadable; not trusted", name)
	}
	if nonce != nil && subtle.ConstantTimeCompare([]byte(saved.Nonce), []byte(*nonce)) != 1 {
		return nil, fmt.Errorf("docker login receipt %s does not match the step's saved state (another login's, or forged); not trusted", name)
	}
	r := saved.Receipt
	if err := checkReceipt(&r, s.Dir, lookPath); err != nil {
		return nil, fmt.Errorf("docker login receipt %s: %w; not trusted", name, err)
	}
	return &r, nil
}

// checkReceipt accepts only what Login writes: config.json (or auth.json), its lock and a
// backup named as Login names it, all in dir; helper names without a path.
// Helper paths are looked up afresh.
func checkReceipt(r *Receipt, dir string, lookPath func(string) (string, error)) error {
	if r.ConfigFile != filepath.Join(dir, ConfigFileName) && r.ConfigFile != filepath.Join(dir, AuthFileName) {
		return fmt.Errorf("config file %q is not %s or %s in %s", r.ConfigFile, ConfigFileName, AuthFileName, dir)
	}
	if r.LockFile != r.ConfigFile+".lock" {
		return fmt.Errorf("lock file %q is not %s.lock", r.LockFile, r.ConfigFile)
	}
	if filepath.Dir(r.BackupFile) != dir || !backupNamePattern.MatchString(filepath.Base(r.BackupFile)) {
		return fmt.Errorf("backup file %q is not a backup Login names in %s", r.BackupFile, dir)
	}
	if r.RefreshDir != "" && r.RefreshDir != filepath.Join(dir, RefreshDirName) {
		return fmt.Errorf("refresh directory %q is not %s in %s", r.RefreshDir, RefreshDirName, dir)
	}
	for i := range r.Entries {
		e := &r.Entries[i]
		if e.RefreshHelper != "" && !helperNamePattern.MatchString(e.RefreshHelper) {
			return fmt.Errorf("credential helper name %q is not a plain name", e.RefreshHelper)
		}
		if e.Helper == "" {
			e.HelperPath = ""
			continue
		}
		if !helperNamePattern.MatchString(e.Helper) {
			return fmt.Errorf("credential helper name %q is not a plain name", e.Helper)
		}
		p, err := lookPath(HelperPrefix + e.Helper)
		if err != nil {
			return fmt.Errorf("credential helper %s%s: %w", HelperPrefix, e.Helper, err)
		}
		e.HelperPath = p
	}
	return nil
}
