package dockerconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"

	"github.com/ecr-credentials/ecr-credentials/internal/securefile"
)

// The refresh directory (RefreshDirName in the docker config directory) is
// handed to later steps: its bin goes on PATH, and docker runs what
// config.json names there. So nothing found there is trusted because of
// its name. A login creates the directory and its bin afresh; it uses
// ones that exist only when each is a real directory (not a link), owned
// by the user the helpers are for and writable by no one else, holding
// nothing but what refresh logins write (CheckRefreshDir). Everything in
// it is reached relative to the docker config directory without following
// links (os.Root, and an Lstat matched against what was opened), and a
// helper's name is reserved by creating its settings file exclusively while
// the config lock is held, so overlapping logins get names of their own.

// RefreshHelper is the credential helper a login that stays fresh leaves
// in the refresh directory (Options.Refresh).
type RefreshHelper struct {
	// Program is the helper binary (a copy of this program).
	Program []byte
	// Settings is the content of its settings file.
	Settings []byte
}

// RefreshDirError says why an existing refresh directory (or something in
// it) is not used.
type RefreshDirError struct {
	// Path is what was refused; Why says why ("is a symbolic link").
	Path, Why string
}

func (e *RefreshDirError) Error() string {
	return fmt.Sprintf("refresh helper directory: %s %s; not trusted", e.Path, e.Why)
}

// refreshBinDir is where the helper binaries live, below the refresh dir.
const refreshBinDir = "bin"

// refreshCacheDir is the helpers' token cache, below the refresh dir.
const refreshCacheDir = "cache"

// maxRefreshHelpers bounds the names a login tries.
const maxRefreshHelpers = 1000

var (
	refreshSettingsPattern = regexp.MustCompile(`^helper(-[0-9]+)?\.json$`)
	refreshBinPattern      = regexp.MustCompile(`^` + regexp.QuoteMeta(HelperPrefix+RefreshHelperName) + `(-[0-9]+)?` + regexp.QuoteMeta(exeSuffix(runtime.GOOS)) + `$`)
)

// refreshOwner is the user the refresh directory's files are for: when
// running as root, the owner of the docker config directory (they are
// handed to it, for later non-root steps); otherwise this user. ok is
// false where files have no owners.
func refreshOwner(dockerDir string) (uid, gid int, ok bool) {
	fi, err := os.Stat(dockerDir)
	if err != nil {
		return 0, 0, false
	}
	uid, gid, ok = securefile.OwnerOf(fi)
	if !ok {
		return 0, 0, false
	}
	if me := os.Geteuid(); me != 0 {
		return me, os.Getegid(), true
	}
	return uid, gid, true
}

// CheckRefreshDir checks the refresh directory in the docker config
// directory dockerDir, if there is one, without changing anything: a
// *RefreshDirError says what is wrong with it.
func CheckRefreshDir(dockerDir string) error {
	root, err := os.OpenRoot(dockerDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("refresh helper directory: open %s: %w", dockerDir, err)
	}
	defer root.Close()
	uid, _, haveOwner := refreshOwner(dockerDir)
	sub, err := openTrustedDir(root, dockerDir, RefreshDirName, uid, haveOwner)
	if err != nil || sub == nil {
		return err
	}
	defer sub.Close()
	return checkRefreshContent(sub, filepath.Join(dockerDir, RefreshDirName), uid, haveOwner)
}

// openTrustedDir opens the directory name in root if it exists (nil, nil if
// not), and checks that it is a real directory owned by uid (haveOwner)
// and not writable by group or others. path names it in messages.
func openTrustedDir(root *os.Root, parent, name string, uid int, haveOwner bool) (*os.Root, error) {
	path := filepath.Join(parent, name)
	fi, err := root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("refresh helper directory: inspect %s: %w", path, err)
	}
	if err := checkTrusted(path, fi, true, uid, haveOwner); err != nil {
		return nil, err
	}
	sub, err := root.OpenRoot(name)
	if err != nil {
		return nil, fmt.Errorf("refresh helper directory: open %s: %w", path, err)
	}
	// What was opened must be what was inspected (not a link put there
	// in between).
	if st, err := sub.Stat("."); err != nil || !os.SameFile(st, fi) {
		_ = sub.Close()
		return nil, &RefreshDirError{Path: path, Why: "was replaced while it was opened"}
	}
	return sub, nil
}

// checkTrusted checks one entry of the refresh directory: a directory (dir)
// or a regular file, not a link, owned by uid and not writable by group or
// others.
func checkTrusted(path string, fi fs.FileInfo, dir bool, uid int, haveOwner bool) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return &RefreshDirError{Path: path, Why: "is a symbolic link"}
	case dir && !fi.IsDir():
		return &RefreshDirError{Path: path, Why: "is not a directory"}
	case !dir && !fi.Mode().IsRegular():
		return &RefreshDirError{Path: path, Why: "is not a regular file"}
	}
	if !haveOwner {
		return nil // no owners or modes to go by on this system
	}
	if got, _, ok := securefile.OwnerOf(fi); ok && got != uid {
		return &RefreshDirError{Path: path, Why: fmt.Sprintf("belongs to uid %d, not to uid %d that the credential helper is for", got, uid)}
	}
	if securefile.OpenTo(fi, 0o022) != 0 {
		return &RefreshDirError{Path: path, Why: fmt.Sprintf("has mode %04o (writable by group or others)", fi.Mode().Perm())}
	}
	return nil
}

// checkRefreshContent checks that the opened refresh directory holds
// nothing but what refresh logins write: bin with helper binaries, their
// settings files and the token cache.
func checkRefreshContent(sub *os.Root, path string, uid int, haveOwner bool) error {
	names, err := readNames(sub, ".")
	if err != nil {
		return fmt.Errorf("refresh helper directory: list %s: %w", path, err)
	}
	for _, name := range names {
		p := filepath.Join(path, name)
		fi, err := sub.Lstat(name)
		if err != nil {
			return fmt.Errorf("refresh helper directory: inspect %s: %w", p, err)
		}
		switch {
		case name == refreshBinDir:
			bin, err := openTrustedDir(sub, path, name, uid, haveOwner)
			if err != nil {
				return err
			}
			err = checkBinContent(bin, p, uid, haveOwner)
			_ = bin.Close()
			if err != nil {
				return err
			}
		case name == refreshCacheDir:
			// Its files are the token cache's to check when it is used.
			// A helper that ran as root (a job container) made it root's.
			owner := uid
			if got, _, ok := securefile.OwnerOf(fi); ok && got == 0 {
				owner = 0
			}
			if err := checkTrusted(p, fi, true, owner, haveOwner); err != nil {
				return err
			}
		case refreshSettingsPattern.MatchString(name):
			if err := checkTrusted(p, fi, false, uid, haveOwner); err != nil {
				return err
			}
		default:
			return &RefreshDirError{Path: p, Why: "is not something a refresh login writes"}
		}
	}
	return nil
}

func checkBinContent(bin *os.Root, path string, uid int, haveOwner bool) error {
	names, err := readNames(bin, ".")
	if err != nil {
		return fmt.Errorf("refresh helper directory: list %s: %w", path, err)
	}
	for _, name := range names {
		p := filepath.Join(path, name)
		if !refreshBinPattern.MatchString(name) {
			return &RefreshDirError{Path: p, Why: "is not a credential helper a refresh login writes"}
		}
		fi, err := bin.Lstat(name)
		if err != nil {
			return fmt.Errorf("refresh helper directory: inspect %s: %w", p, err)
		}
		if err := checkTrusted(p, fi, false, uid, haveOwner); err != nil {
			return err
		}
	}
	return nil
}

func readNames(root *os.Root, name string) ([]string, error) {
	d, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}

// leftRefreshHelper is a helper Login left, until the login is kept.
type leftRefreshHelper struct {
	name string
	undo func()
}

// leaveRefreshHelper writes h into the refresh directory of dockerDir under
// a name no other login there has, creating the directory and its bin if
// they are missing and checking them if not. The caller holds the config
// lock. undo removes what it wrote.
func leaveRefreshHelper(dockerDir string, h *RefreshHelper) (*leftRefreshHelper, error) {
	root, err := os.OpenRoot(dockerDir)
	if err != nil {
		return nil, fmt.Errorf("refresh helper directory: open %s: %w", dockerDir, err)
	}
	defer root.Close()
	uid, gid, haveOwner := refreshOwner(dockerDir)
	chown := func(r *os.Root, name string) {
		if haveOwner && os.Geteuid() == 0 && (uid != 0 || gid != 0) {
			_ = r.Lchown(name, uid, gid)
		}
	}
	dir := filepath.Join(dockerDir, RefreshDirName)
	var undo []func()
	fail := func(err error) (*leftRefreshHelper, error) {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
		return nil, err
	}

	// mkdir creates name in parent, or checks the one there.
	mkdir := func(parent *os.Root, parentPath, name string) (*os.Root, error) {
		err := parent.Mkdir(name, 0o700)
		created := err == nil
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("refresh helper directory: create %s: %w", filepath.Join(parentPath, name), err)
		}
		if created {
			chown(parent, name)
			undo = append(undo, func() { _ = parent.Remove(name) })
		}
		return openTrustedDir(parent, parentPath, name, uid, haveOwner)
	}
	sub, err := mkdir(root, dockerDir, RefreshDirName)
	if err != nil {
		return fail(err)
	}
	defer sub.Close()
	if err := checkRefreshContent(sub, dir, uid, haveOwner); err != nil {
		return fail(err)
	}
	bin, err := mkdir(sub, dir, refreshBinDir)
	if err != nil {
		return fail(err)
	}
	defer bin.Close()

	for n := 1; n <= maxRefreshHelpers; n++ {
		name := RefreshHelperName
		if n > 1 {
			name += "-" + strconv.Itoa(n)
		}
		binPath, settingsPath := RefreshHelperFiles(dir, name)
		binName, settingsName := filepath.Base(binPath), filepath.Base(settingsPath)
		if _, err := bin.Lstat(binName); !errors.Is(err, fs.ErrNotExist) {
			continue // taken (or unreadable)
		}
		// The reservation: the settings file, created exclusively.
		f, err := sub.OpenFile(settingsName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return fail(fmt.Errorf("refresh helper: create %s: %w", settingsPath, err))
		}
		undo = append(undo, func() { _ = sub.Remove(settingsName) })
		if err := writeNew(f, h.Settings, fileMode, uid, gid, haveOwner); err != nil {
			return fail(fmt.Errorf("refresh helper: write %s: %w", settingsPath, err))
		}
		f, err = bin.OpenFile(binName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o700)
		if err != nil {
			return fail(fmt.Errorf("refresh helper: create %s: %w", binPath, err))
		}
		undo = append(undo, func() { _ = bin.Remove(binName) })
		if err := writeNew(f, h.Program, 0o700, uid, gid, haveOwner); err != nil {
			return fail(fmt.Errorf("refresh helper: write %s: %w", binPath, err))
		}
		// The roots close on return: undo opens its own.
		return &leftRefreshHelper{name: name, undo: func() {
			_ = removeRefreshHelpers(dir, []string{name})
		}}, nil
	}
	return fail(&RefreshDirError{Path: dir, Why: fmt.Sprintf("already holds %d credential helpers", maxRefreshHelpers)})
}

// writeNew writes data to the new file f, gives it mode (and, as root, the
// owner uid:gid) and closes it.
func writeNew(f *os.File, data []byte, mode fs.FileMode, uid, gid int, haveOwner bool) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil && haveOwner && os.Geteuid() == 0 && (uid != 0 || gid != 0) {
		err = f.Chown(uid, gid)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeRefreshHelpers deletes the helpers called names from the refresh
// directory dir, and the directory with its token cache once no helper is
// left in it, relative to the docker config directory and without
// following links: a refresh directory or bin that is no longer a real
// directory is left alone (an error says so).
func removeRefreshHelpers(dir string, names []string) error {
	dockerDir := filepath.Dir(dir)
	root, err := os.OpenRoot(dockerDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("docker logout: open %s: %w", dockerDir, err)
	}
	defer root.Close()
	// Ownership and modes were checked when the helpers were written;
	// what matters now is not to follow a link.
	sub, err := openTrustedDir(root, dockerDir, RefreshDirName, 0, false)
	if err != nil {
		return fmt.Errorf("docker logout: %w: nothing in it was removed", err)
	}
	if sub == nil {
		return nil
	}
	defer sub.Close()
	bin, err := openTrustedDir(sub, dir, refreshBinDir, 0, false)
	if err != nil {
		return fmt.Errorf("docker logout: %w: nothing in it was removed", err)
	}
	var errs []error
	for _, name := range names {
		binPath, settingsPath := RefreshHelperFiles(dir, name)
		if bin != nil {
			if err := bin.Remove(filepath.Base(binPath)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("docker logout: remove the refresh helper %s: %w", binPath, err))
			}
		}
		if err := sub.Remove(filepath.Base(settingsPath)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("docker logout: remove the refresh helper's %s: %w", settingsPath, err))
		}
	}
	left := 0
	if bin != nil {
		binNames, err := readNames(bin, ".")
		if err != nil {
			errs = append(errs, fmt.Errorf("docker logout: list %s: %w", filepath.Join(dir, refreshBinDir), err))
		}
		for _, n := range binNames {
			if refreshBinPattern.MatchString(n) {
				left++
			}
		}
		_ = bin.Close()
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if left > 0 {
		return nil // another refresh login still uses the directory
	}
	if err := root.RemoveAll(RefreshDirName); err != nil {
		return fmt.Errorf("docker logout: remove the refresh helper directory %s: %w", dir, err)
	}
	return nil
}

// precheckRefreshDir checks the refresh directory Login would use, before
// Login writes anything (the config directory, the lock file).
func precheckRefreshDir(opts Options) error {
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return fmt.Errorf("docker config directory %q: %w", opts.Dir, err)
	}
	name := opts.File
	if name == "" {
		name = ConfigFileName
	}
	path, err := resolveSymlinks(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	return CheckRefreshDir(filepath.Dir(path))
}
