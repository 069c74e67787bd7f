package dockerconfig

import (
	"bytes"
	"context"
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
	// File is the name of the file in Dir to edit: ConfigFileName (the
	// default) or, for podman, buildah and skopeo, a containers auth.json
	// (AuthFileName), which has the same "auths" form.
	File string
	// LookPath finds docker-credential-<name> helpers; default exec.LookPath.
	LookPath func(string) (string, error)
	// LockTimeout bounds the wait for another process that holds the
	// config lock; default 2 minutes.
	LockTimeout time.Duration
	// Refresh, when set, is a credential helper Login leaves in the
	// refresh directory beside config.json (RefreshDirName, see
	// refreshdir.go) under a name of its own and names in credHelpers for
	// every host: docker then asks the helper for fresh credentials. The
	// auths entry is written too, for tools that read only auths, unless
	// config.json names a credsStore (its owner keeps no passwords in the
	// file). Such hosts are never stored through another helper.
	Refresh *RefreshHelper
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
	// CredHelpersAdded / CredHelpersWasNull: the same for "credHelpers"
	// (Options.Refresh).
	CredHelpersAdded   bool `json:"credHelpersAdded,omitempty"`
	CredHelpersWasNull bool `json:"credHelpersWasNull,omitempty"`
	// Entries lists the hosts Login wrote, in the order given.
	Entries []ReceiptEntry `json:"entries"`
	// RefreshDir is the refresh helper's directory beside ConfigFile
	// (RefreshDirName), which Logout removes; "" if none.
	RefreshDir string `json:"refreshDir,omitempty"`
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
	// RefreshHelper is the helper Login named in credHelpers for Key
	// (Options.Refresh), "" if none.
	RefreshHelper string `json:"refreshHelper,omitempty"`
}

// helperCred is a credential helper's value, as helperStore keeps it.
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

// helperMissingError explains a missing credential helper binary.
func helperMissingError(name, key, configFile, via string, err error) error {
	return &helperError{fmt.Errorf("docker login %s: %s routes this registry to credential helper %q (%s), but %s%s is not installed (%v); "+
		"install %s%s on PATH, or remove %s from %s, or set DOCKER_CONFIG to another directory",
		key, configFile, name, via, HelperPrefix, name, err, HelperPrefix, name, via, configFile)}
}

// rollbackTimeout bounds the undo of a failed login.
const rollbackTimeout = 30 * time.Second

// login writes creds into docker's client configuration in opts.Dir so
// that docker (and tools reading its config) authenticate to each host.
// Hosts routed to a credential helper by credHelpers/credsStore are stored
// through that helper. On error nothing is left changed. The returned
// Receipt undoes the login with logout (see Login and Handle).
func login(ctx context.Context, opts Options, creds []Credential) (_ *Receipt, err error) {
	if err = validateCredentials(creds); err != nil {
		return nil, err
	}
	if opts.Dir == "" {
		return nil, errors.New("docker login: no docker config directory given; use dockerconfig.Dir to find it")
	}
	if opts.LookPath == nil {
		opts.LookPath = exec.LookPath
	}
	if opts.Refresh != nil {
		// Before anything is written (the directory, the lock): a refresh
		// directory that is not to be trusted stops the login.
		if err := precheckRefreshDir(opts); err != nil {
			return nil, err
		}
	}
	f, unlock, err := openConfig(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer unlock()
	r := &Receipt{ConfigFile: f.path, LockFile: f.lock, FileCreated: f.info == nil}
	if f.info != nil {
		r.FileMode = f.info.Mode().Perm()
	}
	bk := &backup{OriginalExists: f.info != nil, Original: f.data, Prev: map[string]json.RawMessage{}, Ours: map[string]string{},
		PrevCredHelpers: map[string]json.RawMessage{}}

	refreshName := ""
	if opts.Refresh != nil {
		// Under the lock: the helper's name is reserved in the directory
		// it is written to, so overlapping logins take names of their own.
		left, lerr := leaveRefreshHelper(filepath.Dir(f.path), opts.Refresh)
		if lerr != nil {
			return nil, lerr
		}
		defer func() {
			if err != nil {
				left.undo()
			}
		}()
		refreshName = left.name
		r.RefreshDir = filepath.Join(filepath.Dir(f.path), RefreshDirName)
	}

	p, err := planLogin(ctx, opts, refreshName, f, creds, r, bk)
	if err != nil {
		return nil, err
	}
	doc := p.files.doc
	r.AuthsAdded, r.AuthsWasNull = p.files.authsAdded, p.files.authsWasNull
	changed := !bytes.Equal(doc, f.data)
	if changed {
		if !json.Valid(doc) { // defence in depth: never write what we cannot read back
			return nil, fmt.Errorf("docker login: internal error: edited %s is not valid JSON; the file was left unchanged", f.path)
		}
		bk.After = sha256Hex(doc)
	}

	r.BackupFile, err = newBackupPath(f.path)
	if err != nil {
		return nil, fmt.Errorf("docker login: name backup file: %w", err)
	}
	if err := writeBackup(r.BackupFile, bk); err != nil {
		return nil, err
	}

	// From here on, every put is undone on failure, newest first.
	var undo []put
	fail := func(err error) (*Receipt, error) {
		var errs []error
		for i := len(undo) - 1; i >= 0; i-- {
			u := undo[i]
			errs = append(errs, rollBack(ctx, u.st, u.key, bk.Prev[u.key]))
		}
		if errors.Join(errs...) == nil {
			_ = os.Remove(r.BackupFile)
		} else {
			errs = append(errs, fmt.Errorf("previous credentials are kept in %s", r.BackupFile))
		}
		return nil, errors.Join(append([]error{err}, errs...)...)
	}
	for _, u := range p.later {
		if err := u.st.put(ctx, u.key, u.c); err != nil {
			if ctx.Err() != nil {
				// Stopped part way: the helper may have stored it.
				undo = append(undo, u)
			}
			return fail(fmt.Errorf("docker login %s: %w", u.key, err))
		}
		undo = append(undo, u)
	}
	if changed {
		if err := writeAtomic(f.path, doc, fileMode, f.uid, f.gid, f.haveOwner); err != nil {
			return fail(err)
		}
	}
	return r, nil
}

// put is one credential to put in a store.
type put struct {
	st  store
	key string
	c   Credential
}

// loginPlan is what Login will write: config.json's edits, made in memory,
// and the puts to credential helpers, which wait until the backup is on
// disk.
type loginPlan struct {
	files *authsStore
	later []put
	// refresh is the refresh helper's name (Options.Refresh), "" if none.
	refresh string
}

// planLogin sends each credential to its store, recording in r what it
// will change and in bk what it replaces.
func planLogin(ctx context.Context, opts Options, refreshName string, f *configFile, creds []Credential, r *Receipt, bk *backup) (*loginPlan, error) {
	doc := f.data
	if isBlank(doc) {
		doc = []byte("{}")
	}
	p := &loginPlan{files: &authsStore{path: f.path, doc: doc}, refresh: refreshName}
	for _, c := range creds {
		e, err := p.add(ctx, opts, f, c, r, bk)
		if err != nil {
			return nil, err
		}
		r.Entries = append(r.Entries, e)
	}
	return p, nil
}

// add plans one credential.
func (p *loginPlan) add(ctx context.Context, opts Options, f *configFile, c Credential, r *Receipt, bk *backup) (ReceiptEntry, error) {
	files := p.files
	key := authKey(c.Host)
	e := ReceiptEntry{Host: c.Host, Key: key}
	var st store = files
	var h *helper
	var err error
	if p.refresh != "" {
		// credHelpers names our helper for the host; auths keeps the
		// login for tools that read only auths.
		res, err := setEntry(files.doc, credHelpersMember, key, p.refresh)
		if err != nil {
			return e, fmt.Errorf("docker config %s: %w", f.path, err)
		}
		files.doc = res.doc
		if res.prev != nil {
			bk.PrevCredHelpers[key] = res.prev
		}
		e.RefreshHelper = p.refresh
		r.CredHelpersAdded = r.CredHelpersAdded || res.authsAdded
		r.CredHelpersWasNull = r.CredHelpersWasNull || res.authsWasNull
		if f.view.CredsStore != "" {
			// The file's owner keeps no passwords in it: the helper
			// alone serves the host, no plain-text auths entry.
			return e, nil
		}
	} else if st, h, err = storeFor(f.view, key, f.path, files, opts.LookPath); err != nil {
		return e, err
	}
	prev, found, err := st.get(ctx, key)
	if err != nil {
		if h != nil {
			return e, fmt.Errorf("docker login %s: read existing credentials: %w", key, err)
		}
		return e, err
	}
	if found {
		bk.Prev[key] = prev
		e.Replaced = true
	}
	bk.Ours[key] = st.ours(c)
	if h == nil {
		return e, files.put(ctx, key, c)
	}
	e.Helper, e.HelperPath = h.name, h.path
	p.later = append(p.later, put{st, key, c})
	// Docker keeps an empty auths entry for helper-stored hosts.
	if _, ok, err := files.get(ctx, key); err != nil || ok {
		return e, err
	}
	e.PlaceholderAdded = true
	return e, files.set(key, placeholder{})
}

// rollBack undoes one put of a failed login. The login's context may be
// why it failed, and a cancelled context can run no helper: the undo gets a
// fresh one, bounded so that a hung helper cannot hold the run forever.
func rollBack(ctx context.Context, st store, key string, prev json.RawMessage) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	if err := st.restore(ctx, key, prev); err != nil {
		return fmt.Errorf("roll back %s: %w", key, err)
	}
	return nil
}

// configFile is config.json opened for a login, under its lock.
type configFile struct {
	path, lock string // after following symlinks
	data       []byte // content; nil when the file does not exist
	info       fs.FileInfo
	view       dockerView
	// Owner to give the written file (the file's, or its directory's).
	uid, gid  int
	haveOwner bool
}

// openConfig creates the directory if needed, takes the lock and reads
// and checks config.json. The returned func releases the lock.
func openConfig(ctx context.Context, opts Options) (*configFile, func(), error) {
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, nil, fmt.Errorf("docker config directory %q: %w", opts.Dir, err)
	}
	if err := ensureDir(dir); err != nil {
		return nil, nil, err
	}
	name := opts.File
	if name == "" {
		name = ConfigFileName
	}
	path, err := resolveSymlinks(filepath.Join(dir, name))
	if err != nil {
		return nil, nil, err
	}
	f := &configFile{path: path, lock: path + ".lock"}
	unlock, err := lockFile(ctx, f.lock, opts.LockTimeout)
	if err != nil {
		return nil, nil, err
	}
	if err := f.read(); err != nil {
		unlock()
		return nil, nil, err
	}
	return f, unlock, nil
}

func (f *configFile) read() error {
	data, fi, err := readConfig(f.path)
	if err != nil {
		return err
	}
	if f.view, err = parseConfig(f.path, data); err != nil {
		return err
	}
	f.data, f.info = data, fi
	if fi == nil {
		f.uid, f.gid, f.haveOwner = securefile.Owner(filepath.Dir(f.path))
		return nil
	}
	if err := checkWritable(f.path); err != nil {
		return err
	}
	f.uid, f.gid, f.haveOwner = securefile.OwnerOf(fi)
	return nil
}
