package dockerconfig

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/ecr-credentials/ecr-credentials/internal/securefile"
)

// Credential is one registry login.
type Credential struct {
	// Host is the registry host name, optionally with ":port" and without
	// scheme or path, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com.
	// It becomes the key in "auths" (docker.io maps to Docker Hub's key).
	Host string
	// Username is the registry user name ("AWS" for ECR). It may not
	// contain ':'.
	Username string
	// Password is the registry password or token. It is a secret.
	Password string
}

// Options configures Login.
type Options struct {
	// Dir is docker's configuration directory, usually from Dir(os.Getenv).
	// It is created (mode 0700) if missing.
	Dir string
	// LookPath finds docker-credential-<name> helpers; default exec.LookPath.
	LookPath func(string) (string, error)
	// LockTimeout bounds the wait for another process that holds the
	// config lock; default 2 minutes.
	LockTimeout time.Duration
}

// Receipt records what Login changed so that Logout can undo exactly that.
// It holds no secrets and may be stored as JSON (for example as a CI step
// state) and passed to Logout in another process on the same machine.
type Receipt struct {
	// ConfigFile is the file Login edited, after following symlinks.
	ConfigFile string `json:"configFile"`
	// LockFile is the lock guarding ConfigFile.
	LockFile string `json:"lockFile"`
	// BackupFile (mode 0600, beside ConfigFile) keeps the previous
	// content and replaced values until Logout removes it.
	BackupFile string `json:"backupFile"`
	// FileCreated is true when config.json did not exist before Login.
	FileCreated bool `json:"fileCreated,omitempty"`
	// FileMode is the permission bits config.json had before Login
	// (Login writes it with 0600); Logout restores them with the content.
	FileMode fs.FileMode `json:"fileMode,omitempty"`
	// AuthsAdded is true when Login added the "auths" member.
	AuthsAdded bool `json:"authsAdded,omitempty"`
	// AuthsWasNull is true when "auths" was null before Login.
	AuthsWasNull bool `json:"authsWasNull,omitempty"`
	// Entries lists the hosts Login wrote, in the order given.
	Entries []ReceiptEntry `json:"entries"`
}

// ReceiptEntry is one host written by Login.
type ReceiptEntry struct {
	// Host is the registry host from the Credential.
	Host string `json:"host"`
	// Key is the auths key and credential-helper server URL for Host.
	Key string `json:"key"`
	// Helper is the credential helper name ("" when stored in config.json).
	Helper string `json:"helper,omitempty"`
	// HelperPath is the helper binary Login used.
	HelperPath string `json:"helperPath,omitempty"`
	// Replaced is true when Login overwrote an existing value (kept in
	// the backup file).
	Replaced bool `json:"replaced,omitempty"`
	// PlaceholderAdded is true when Login added docker's empty auths
	// placeholder for a helper-stored host.
	PlaceholderAdded bool `json:"placeholderAdded,omitempty"`
}

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
	// Auths are the previous raw auths values Login replaced, by key.
	Auths map[string]json.RawMessage `json:"auths,omitempty"`
	// Ours are canonical hashes of the auths values Login wrote, by key.
	Ours map[string]string `json:"ours,omitempty"`
	// Helpers are the previous helper credentials Login replaced, by key.
	Helpers map[string]helperCred `json:"helpers,omitempty"`
	// HelperOurs are hashes of the helper credentials Login stored, by key.
	HelperOurs map[string]string `json:"helperOurs,omitempty"`
}

type helperCred struct {
	Username string `json:"username"`
	Secret   string `json:"secret"`
}

// validateCredentials checks the input before anything is touched.
func validateCredentials(creds []Credential) error {
	if len(creds) == 0 {
		return errors.New("docker login: no registry credentials given")
	}
	seen := map[string]bool{}
	for _, c := range creds {
		if c.Host == "" {
			return errors.New("docker login: a registry host is empty")
		}
		if strings.Contains(c.Host, "://") || strings.ContainsAny(c.Host, "/?#@") ||
			strings.IndexFunc(c.Host, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			return fmt.Errorf("docker login: registry host %q must be a bare host name (with optional :port), without scheme or path", c.Host)
		}
		if c.Username == "" || strings.Contains(c.Username, ":") {
			return fmt.Errorf("docker login %s: the user name must be non-empty and contain no ':'", c.Host)
		}
		if c.Password == "" {
			return fmt.Errorf("docker login %s: the password is empty", c.Host)
		}
		k := authKey(c.Host)
		if seen[k] {
			return fmt.Errorf("docker login: registry %s is listed more than once", c.Host)
		}
		seen[k] = true
	}
	return nil
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
	if err := f.Sync(); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("sync docker config backup %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("close docker config backup %s: %w", path, err)
	}
	return nil
}

func readBackup(path string) (*backup, error) {
	data, err := os.ReadFile(path)
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

// helperMissingError explains a missing credential helper binary.
func helperMissingError(name, key, configFile, via string, err error) error {
	return &helperError{fmt.Errorf("docker login %s: %s routes this registry to credential helper %q (%s), but %s%s is not installed (%v); "+
		"install %s%s on PATH, or remove %s from %s, or set DOCKER_CONFIG to another directory",
		key, configFile, name, via, HelperPrefix, name, err, HelperPrefix, name, via, configFile)}
}

// helperOp is a pending store through a credential helper.
type helperOp struct {
	h    helper
	key  string
	cred Credential
	prev *helperCred
}

// Login writes creds into docker's client configuration in opts.Dir so
// that docker (and tools reading its config) authenticate to each host.
// Hosts routed to a credential helper by credHelpers/credsStore are stored
// through that helper. On error nothing is left changed. The returned
// Receipt undoes the login with Logout.
func Login(ctx context.Context, opts Options, creds []Credential) (*Receipt, error) {
	if err := validateCredentials(creds); err != nil {
		return nil, err
	}
	if opts.Dir == "" {
		return nil, errors.New("docker login: no docker config directory given; use dockerconfig.Dir to find it")
	}
	lookPath := opts.LookPath
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("docker config directory %q: %w", opts.Dir, err)
	}
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	cfgPath, err := resolveSymlinks(filepath.Join(dir, ConfigFileName))
	if err != nil {
		return nil, err
	}
	r := &Receipt{ConfigFile: cfgPath, LockFile: cfgPath + ".lock"}
	unlock, err := lockFile(ctx, r.LockFile, opts.LockTimeout)
	if err != nil {
		return nil, err
	}
	defer unlock()

	data, fi, err := readConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	view, err := parseConfig(cfgPath, data)
	if err != nil {
		return nil, err
	}
	uid, gid, haveOwner := -1, -1, false
	if fi != nil {
		if err := checkWritable(cfgPath); err != nil {
			return nil, err
		}
		r.FileMode = fi.Mode().Perm()
		uid, gid, haveOwner = securefile.OwnerOf(fi)
	} else {
		r.FileCreated = true
		uid, gid, haveOwner = securefile.Owner(filepath.Dir(cfgPath))
	}

	bk := &backup{
		OriginalExists: fi != nil,
		Original:       data,
		Auths:          map[string]json.RawMessage{},
		Ours:           map[string]string{},
		Helpers:        map[string]helperCred{},
		HelperOurs:     map[string]string{},
	}
	doc := data
	if isBlank(doc) {
		doc = []byte("{}")
	}
	var ops []helperOp
	for _, c := range creds {
		key := authKey(c.Host)
		e := ReceiptEntry{Host: c.Host, Key: key}
		if name := view.helperFor(key); name != "" {
			via := "credsStore"
			if _, ok := view.CredHelpers[key]; ok {
				via = fmt.Sprintf("credHelpers[%q]", key)
			}
			path, err := lookPath(HelperPrefix + name)
			if err != nil {
				return nil, helperMissingError(name, key, cfgPath, via, err)
			}
			h := helper{name: name, path: path}
			prev, found, err := h.get(ctx, key)
			if err != nil {
				return nil, fmt.Errorf("docker login %s: read existing credentials: %w", key, err)
			}
			op := helperOp{h: h, key: key, cred: c}
			if found {
				op.prev = &helperCred{Username: prev.Username, Secret: prev.Secret}
				bk.Helpers[key] = *op.prev
				e.Replaced = true
			}
			ops = append(ops, op)
			bk.HelperOurs[key] = helperHash(c.Username, c.Password)
			e.Helper, e.HelperPath = name, path
			// Docker keeps an empty auths entry for helper-stored hosts.
			if _, ok, err := getAuth(doc, key); err != nil {
				return nil, fmt.Errorf("docker config %s: %w", cfgPath, err)
			} else if !ok {
				res, err := setAuth(doc, key, placeholder{})
				if err != nil {
					return nil, fmt.Errorf("docker config %s: %w", cfgPath, err)
				}
				doc = res.doc
				e.PlaceholderAdded = true
				r.AuthsAdded = r.AuthsAdded || res.authsAdded
				r.AuthsWasNull = r.AuthsWasNull || res.authsWasNull
			}
		} else {
			value := authEntry{Auth: encodeAuth(c.Username, c.Password)}
			res, err := setAuth(doc, key, value)
			if err != nil {
				return nil, fmt.Errorf("docker config %s: %w", cfgPath, err)
			}
			doc = res.doc
			if res.prev != nil {
				bk.Auths[key] = res.prev
				e.Replaced = true
			}
			raw, _ := json.Marshal(value)
			bk.Ours[key] = canonicalHash(raw)
			r.AuthsAdded = r.AuthsAdded || res.authsAdded
			r.AuthsWasNull = r.AuthsWasNull || res.authsWasNull
		}
		r.Entries = append(r.Entries, e)
	}
	changed := !bytes.Equal(doc, data)
	if changed {
		if !json.Valid(doc) { // defence in depth: never write what we cannot read back
			return nil, fmt.Errorf("docker login: internal error: edited %s is not valid JSON; the file was left unchanged", cfgPath)
		}
		bk.After = sha256Hex(doc)
	}

	r.BackupFile, err = newBackupPath(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("docker login: name backup file: %w", err)
	}
	if err := writeBackup(r.BackupFile, bk); err != nil {
		return nil, err
	}

	// From here on, undo everything on failure.
	var done []helperOp
	fail := func(err error) (*Receipt, error) {
		var errs []error
		for i := len(done) - 1; i >= 0; i-- {
			op := done[i]
			var uerr error
			if op.prev != nil {
				uerr = op.h.store(ctx, op.key, op.prev.Username, op.prev.Secret)
			} else {
				uerr = op.h.erase(ctx, op.key)
			}
			if uerr != nil {
				errs = append(errs, fmt.Errorf("roll back %s: %w", op.key, uerr))
			}
		}
		if len(errs) == 0 {
			_ = os.Remove(r.BackupFile)
		} else {
			errs = append(errs, fmt.Errorf("previous credentials are kept in %s", r.BackupFile))
		}
		return nil, errors.Join(append([]error{err}, errs...)...)
	}
	for _, op := range ops {
		if err := op.h.store(ctx, op.key, op.cred.Username, op.cred.Password); err != nil {
			return fail(fmt.Errorf("docker login %s: %w", op.key, err))
		}
		done = append(done, op)
	}
	if changed {
		if err := writeAtomic(cfgPath, doc, fileMode, uid, gid, haveOwner); err != nil {
			return fail(err)
		}
	}
	return r, nil
}

// Discard keeps the login for good: it deletes the backup of what Login
// replaced (which holds the previous credentials), so nothing secret is
// left behind for a logout that will never come (a CLI login, a plugin
// step, skip-logout). The receipt is useless afterwards.
func Discard(r *Receipt) error {
	if r == nil || r.BackupFile == "" {
		return nil
	}
	if err := os.Remove(r.BackupFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove backup %s: %w; delete it by hand, it holds the previous credentials", r.BackupFile, err)
	}
	return nil
}

// Logout undoes the Login that produced r: entries Login added are
// removed, values it replaced are restored (from the backup file, which is
// then deleted). If config.json is still exactly as Login left it, its
// original bytes and mode come back (or it is deleted if Login created
// it). Otherwise only the entries that still hold Login's values are
// undone, so changes other tools made in between survive. Logout may be
// retried after an error; a second Logout of the same receipt fails
// without changing anything.
func Logout(ctx context.Context, r *Receipt) error {
	if r == nil || r.ConfigFile == "" || r.BackupFile == "" || r.LockFile == "" {
		return errors.New("docker logout: empty receipt; nothing to undo")
	}
	unlock, err := lockFile(ctx, r.LockFile, 0)
	if err != nil {
		return err
	}
	defer unlock()
	bk, err := readBackup(r.BackupFile)
	if err != nil {
		return err
	}

	var errs []error
	erased := map[string]bool{}
	for _, e := range r.Entries {
		if e.Helper == "" {
			continue
		}
		h := helper{name: e.Helper, path: e.HelperPath}
		cur, found, err := h.get(ctx, e.Key)
		if err != nil {
			errs = append(errs, fmt.Errorf("docker logout %s: %w", e.Key, err))
			continue
		}
		if !found || helperHash(cur.Username, cur.Secret) != bk.HelperOurs[e.Key] {
			continue // gone or replaced by someone else since: leave it
		}
		if prev, ok := bk.Helpers[e.Key]; ok {
			err = h.store(ctx, e.Key, prev.Username, prev.Secret)
		} else {
			err = h.erase(ctx, e.Key)
			erased[e.Key] = err == nil
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("docker logout %s: %w", e.Key, err))
		}
	}

	if bk.After != "" {
		if err := restoreFile(r, bk, erased); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		errs = append(errs, fmt.Errorf("the backup %s was kept; run logout again once the problem is fixed", r.BackupFile))
		return errors.Join(errs...)
	}
	if err := os.Remove(r.BackupFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("docker logout: remove backup %s: %w; delete it by hand, it holds credentials", r.BackupFile, err)
	}
	return nil
}

// restoreFile undoes Login's changes to config.json.
func restoreFile(r *Receipt, bk *backup, erased map[string]bool) error {
	data, fi, err := readConfig(r.ConfigFile)
	if err != nil {
		return fmt.Errorf("docker logout: %w", err)
	}
	if fi == nil {
		return nil // removed since; nothing of ours is left
	}
	uid, gid, haveOwner := securefile.OwnerOf(fi)
	if sha256Hex(data) == bk.After {
		if !bk.OriginalExists {
			if err := os.Remove(r.ConfigFile); err != nil {
				return fmt.Errorf("docker logout: remove %s: %w", r.ConfigFile, err)
			}
			securefile.SyncDir(filepath.Dir(r.ConfigFile))
			return nil
		}
		mode := r.FileMode
		if mode == 0 {
			mode = fileMode
		}
		return writeAtomic(r.ConfigFile, bk.Original, mode, uid, gid, haveOwner)
	}

	// The file changed since Login: undo only what is still ours.
	if _, err := parseConfig(r.ConfigFile, data); err != nil {
		return fmt.Errorf("docker logout: %w; our entries were left in place", err)
	}
	doc := data
	if isBlank(doc) {
		return nil
	}
	for _, e := range r.Entries {
		raw, ok, err := getAuth(doc, e.Key)
		if err != nil {
			return fmt.Errorf("docker logout: %s: %w", r.ConfigFile, err)
		}
		if !ok {
			continue
		}
		var prev []byte
		switch {
		case e.Helper == "" && canonicalHash(raw) == bk.Ours[e.Key]:
			if p, ok := bk.Auths[e.Key]; ok {
				prev = p
			}
		case e.Helper != "" && e.PlaceholderAdded && erased[e.Key] && canonicalHash(raw) == canonicalHash([]byte("{}")):
		default:
			continue
		}
		if doc, err = restoreAuth(doc, e.Key, prev); err != nil {
			return fmt.Errorf("docker logout: %s: %w", r.ConfigFile, err)
		}
	}
	if r.AuthsAdded || r.AuthsWasNull {
		if doc, err = dropEmptyAuths(doc, r.AuthsWasNull); err != nil {
			return fmt.Errorf("docker logout: %s: %w", r.ConfigFile, err)
		}
	}
	if bytes.Equal(doc, data) {
		return nil
	}
	if !json.Valid(doc) {
		return fmt.Errorf("docker logout: internal error: edited %s is not valid JSON; the file was left unchanged", r.ConfigFile)
	}
	return writeAtomic(r.ConfigFile, doc, fi.Mode().Perm(), uid, gid, haveOwner)
}
