// Package securefile writes files that hold secrets: owner-only modes,
// atomic replacement (a reader sees the old content or the new, never a
// mix), and, when running as root in a CI step, ownership handed to the
// owner of the parent directory so that later non-root steps can read
// what this step wrote.
//
// Syncing: a file that replaces another is synced before it is renamed
// into place, and its directory after, so that a crash cannot lose the old
// content (a rename can reach the disk before the new data does). A file
// that replaces nothing is not synced, as docker does not sync its
// config.json: a crash then loses nothing that was there before, and
// readers see the file whole either way, thanks to the rename. A CI login
// mostly writes new files, and syncing them was most of its file-writing
// time.
//
// # On Windows
//
// Windows keeps no Unix modes: a new file or directory takes the access
// control list of the directory it is made in (under %USERPROFILE%, the
// user, the administrators and SYSTEM), and Go maps a mode only to the
// read-only attribute. So on Windows FileMode and DirMode promise only a
// writable file; privacy comes from where files are written (the user's
// profile, the runner's temp directory), not from this package. Files have
// no uid/gid: OwnerOf reports none, ChownIfRoot does nothing and
// CheckPrivate accepts any path. Replacing is still a temporary file in the
// same directory renamed over the target (MoveFileEx with
// MOVEFILE_REPLACE_EXISTING), and ReadRegularNoFollow refuses a symbolic
// link by looking before it opens (Windows has no O_NOFOLLOW), which leaves
// a window in which a link could be swapped in.
package securefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// The modes of what this package creates.
const (
	FileMode fs.FileMode = 0o600
	DirMode  fs.FileMode = 0o700
)

// IsPermission reports whether err means the path may not be written.
func IsPermission(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EPERM)
}

// Owner returns the owner of path.
func Owner(path string) (uid, gid int, ok bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, false
	}
	return OwnerOf(fi)
}

// ChownIfRoot gives path to uid:gid when we run as root and the owner is
// somebody else; errors are ignored, as docker does.
func ChownIfRoot(path string, uid, gid int) {
	if os.Geteuid() != 0 || (uid == 0 && gid == 0) {
		return
	}
	_ = os.Lchown(path, uid, gid)
}

// ErrNotDir is returned by EnsureDir when the path exists but is not a
// directory.
var ErrNotDir = errors.New("not a directory")

// EnsureDir creates dir (mode 0700, parents as needed) if it is missing.
// When running as root, every directory it creates (dir and each missing
// parent) is handed to the owner of the nearest directory that already
// existed, so a tree made under a non-root user's workspace stays theirs.
func EnsureDir(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s: %w", dir, ErrNotDir)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	missing := missingDirs(dir)
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return err
	}
	if len(missing) == 0 {
		return nil
	}
	if uid, gid, ok := Owner(filepath.Dir(missing[0])); ok {
		for _, d := range missing {
			ChownIfRoot(d, uid, gid)
		}
	}
	return nil
}

// EnsurePrivateDir creates dir like EnsureDir, except that dir itself
// stays the running user's (only its missing parents go to the owner of
// the nearest existing ancestor): a directory only this user may use, such
// as a cache, that CheckPrivate then accepts.
func EnsurePrivateDir(dir string) error {
	dir = filepath.Clean(dir)
	if err := EnsureDir(filepath.Dir(dir)); err != nil {
		return err
	}
	err := os.Mkdir(dir, DirMode)
	if errors.Is(err, fs.ErrExist) {
		return EnsureDir(dir) // exists: only check that it is a directory
	}
	return err
}

// ErrNotPrivate is returned by CheckPrivate for a path another user owns
// or may write.
var ErrNotPrivate = errors.New("not private to this user")

// CheckPrivate checks that path (a directory followed if it is a link; a
// file not followed) is owned by the user we run as and writable by
// nobody else, so that what it holds cannot have been planted by another
// user. A missing path is fine (nothing to trust yet).
func CheckPrivate(path string) error {
	fi, err := os.Lstat(path)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if st, serr := os.Stat(path); serr == nil && st.IsDir() {
			fi = st
		} else {
			return fmt.Errorf("%s is a symbolic link: %w", path, ErrNotPrivate)
		}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	}
	uid, _, ok := OwnerOf(fi)
	if !ok {
		return nil // no owners on this system
	}
	if me := os.Geteuid(); uid != me {
		return fmt.Errorf("%s is owned by uid %d, not by this user (uid %d): %w", path, uid, me, ErrNotPrivate)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s has mode %v, writable by other users: %w", path, fi.Mode().Perm(), ErrNotPrivate)
	}
	return nil
}

// WriteAtomic replaces path with data: a temporary file in the same
// directory is written, given mode (and, with chown, the owner uid:gid
// when running as root), then renamed over path. When path existed, the
// temporary file is synced before the rename and the directory after it
// (see the package documentation).
func WriteAtomic(path string, data []byte, mode fs.FileMode, uid, gid int, chown bool) (err error) {
	dir := filepath.Dir(path)
	durable := exists(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(mode); err != nil {
		return err
	}
	if chown {
		ChownIfRoot(tmp.Name(), uid, gid)
	}
	if durable {
		if err = tmp.Sync(); err != nil {
			return err
		}
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if durable {
		SyncDir(dir)
	}
	return nil
}

// exists reports whether something is at path (not following a final
// symbolic link).
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// SyncDir makes a rename in dir durable; failures are not fatal (some
// filesystems do not support syncing directories).
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// Set writes a group of files all or nothing: Write stages each file,
// Commit renames them into place, and Undo restores what was there before
// (removing files that did not exist). Files are 0600 in 0700 directories,
// owned like their directory when running as root.
type Set struct {
	staged  []staged
	done    []staged
	created []string // directories Write created, outermost first
}

type staged struct {
	path, tmp string
	prev      []byte // previous content; nil with existed false
	existed   bool
}

// Write stages data for path.
func (s *Set) Write(path string, data []byte) error {
	dir := filepath.Dir(path)
	missing := missingDirs(dir)
	if err := EnsureDir(dir); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	s.created = append(s.created, missing...)
	st := staged{path: path}
	if b, _, err := ReadRegular(path, ReadLimitLarge); err == nil {
		st.prev, st.existed = b, true
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	st.tmp = tmp.Name()
	uid, gid, ok := Owner(dir)
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Chmod(FileMode)
	}
	if werr == nil && ok {
		ChownIfRoot(tmp.Name(), uid, gid)
	}
	if werr == nil && st.existed { // see the package documentation
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(st.tmp)
		return fmt.Errorf("write %s: %w", path, werr)
	}
	s.staged = append(s.staged, st)
	return nil
}

// Commit renames every staged file into place. On failure it undoes the
// ones already renamed and removes the rest.
func (s *Set) Commit() error {
	for i, st := range s.staged {
		if err := os.Rename(st.tmp, st.path); err != nil {
			for _, rest := range s.staged[i:] {
				_ = os.Remove(rest.tmp)
			}
			s.Undo()
			return fmt.Errorf("write %s: %w", st.path, err)
		}
		s.done = append(s.done, st)
		if st.existed { // see the package documentation
			SyncDir(filepath.Dir(st.path))
		}
	}
	s.staged = nil
	return nil
}

// missingDirs lists dir and those of its parents that do not exist,
// outermost first.
func missingDirs(dir string) []string {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); !errors.Is(err, fs.ErrNotExist) {
			break
		}
		missing = append([]string{d}, missing...)
		if filepath.Dir(d) == d {
			break
		}
	}
	return missing
}

// Undo restores every committed file's previous content, or removes it if
// it did not exist, drops staged files, and removes the directories Write
// created if they are empty again.
func (s *Set) Undo() {
	for _, st := range s.staged {
		_ = os.Remove(st.tmp)
	}
	for i := len(s.done) - 1; i >= 0; i-- {
		st := s.done[i]
		if st.existed {
			_ = WriteAtomic(st.path, st.prev, FileMode, 0, 0, false)
		} else {
			_ = os.Remove(st.path)
		}
	}
	for i := len(s.created) - 1; i >= 0; i-- {
		_ = os.Remove(s.created[i]) // fails, as it should, if not empty
	}
	s.staged, s.done, s.created = nil, nil, nil
}

// OpenTo returns the bits of mask that fi's mode sets: with mask 0o077 who
// besides the owner may use the file, with 0o022 who else may write it.
// A caller refuses what is open to others. On Windows it is always 0:
// there a mode tells only whether a file is read-only (Go reports 0666 or
// 0444, 0777 for a directory), and who may use a file is its access list
// (see the package documentation).
func OpenTo(fi fs.FileInfo, mask fs.FileMode) fs.FileMode {
	return openTo(unixModes, fi.Mode().Perm(), mask)
}

func openTo(unixModes bool, perm, mask fs.FileMode) fs.FileMode {
	if !unixModes {
		return 0
	}
	return perm & mask
}
