package dockerconfig

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gofrs/flock"
)

// fileMode is the permission of the config, backup and temporary files we write.
const fileMode fs.FileMode = 0o600

// dirMode is the permission of a configuration directory we create.
const dirMode fs.FileMode = 0o700

// maxSymlinks bounds symlink resolution, like the kernel's ELOOP limit.
const maxSymlinks = 40

// writableHint is appended to errors about unwritable paths.
const writableHint = "make it writable for this user, or set DOCKER_CONFIG to a writable directory"

// resolveSymlinks follows path through symlinks to the file that docker
// would replace on save. A dangling symlink resolves to its (missing)
// target, which will then be created.
func resolveSymlinks(path string) (string, error) {
	p := path
	for range maxSymlinks {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, nil
		}
		if err != nil {
			return "", fmt.Errorf("inspect docker config %s: %w", p, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		target, err := os.Readlink(p)
		if err != nil {
			return "", fmt.Errorf("read symlink %s: %w", p, err)
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(p), target)
		}
		p = target
	}
	return "", fmt.Errorf("docker config %s: too many levels of symbolic links; fix the symlink chain", path)
}

// ensureDir creates dir (mode 0700) if it is missing. When running as root
// it hands a directory it created to the owner of the parent directory, so
// that later non-root CI steps can use it.
func ensureDir(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("docker config directory %s is not a directory; remove it or set DOCKER_CONFIG to a directory", dir)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("inspect docker config directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, dirMode); err != nil {
		if isPermission(err) {
			return fmt.Errorf("create docker config directory %s: %w; make its parent writable, or set DOCKER_CONFIG to a writable directory", dir, err)
		}
		return fmt.Errorf("create docker config directory %s: %w", dir, err)
	}
	if uid, gid, ok := ownerOf(filepath.Dir(dir)); ok {
		chownIfRoot(dir, uid, gid)
	}
	return nil
}

// isPermission reports whether err means the path may not be written.
func isPermission(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EPERM)
}

// ownerOf returns the owner of path.
func ownerOf(path string) (int, int, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, false
	}
	return ownerOfInfo(fi)
}

func ownerOfInfo(fi fs.FileInfo) (int, int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}

// chownIfRoot gives path to uid:gid when we run as root and the owner is
// somebody else; errors are ignored, as docker does.
func chownIfRoot(path string, uid, gid int) {
	if os.Geteuid() != 0 || (uid == 0 && gid == 0) {
		return
	}
	_ = os.Lchown(path, uid, gid)
}

// readConfig returns the content of path and its FileInfo; a missing file
// gives nil, nil, nil.
func readConfig(path string) ([]byte, fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("inspect docker config %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("docker config %s is not a regular file; remove it or set DOCKER_CONFIG to another directory", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if isPermission(err) {
			return nil, nil, fmt.Errorf("read docker config %s: %w; make it readable for this user, or set DOCKER_CONFIG to another directory", path, err)
		}
		return nil, nil, fmt.Errorf("read docker config %s: %w", path, err)
	}
	return data, fi, nil
}

// checkWritable fails early, with a clear message, if the existing file at
// path may not be written. Replacing it by rename would otherwise succeed
// and silently override a read-only file.
func checkWritable(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		if isPermission(err) {
			return fmt.Errorf("docker config %s is read-only (%w); %s", path, err, writableHint)
		}
		return fmt.Errorf("open docker config %s for writing: %w", path, err)
	}
	return f.Close()
}

// writeAtomic replaces path with data: a temporary file in the same
// directory is written, synced, given mode and owner, then renamed over
// path, and the directory is synced. A reader sees the old or the new
// content, never a mix.
func writeAtomic(path string, data []byte, mode fs.FileMode, uid, gid int, chown bool) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		if isPermission(err) {
			return fmt.Errorf("write docker config %s: directory %s is not writable (%w); %s", path, dir, err, writableHint)
		}
		return fmt.Errorf("write docker config %s: create temporary file in %s: %w", path, dir, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write docker config %s: %w", path, err)
	}
	if err = tmp.Chmod(mode); err != nil {
		return fmt.Errorf("write docker config %s: set mode: %w", path, err)
	}
	if chown {
		chownIfRoot(tmp.Name(), uid, gid)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write docker config %s: sync: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write docker config %s: close: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		if isPermission(err) {
			return fmt.Errorf("replace docker config %s: %w; %s", path, err, writableHint)
		}
		return fmt.Errorf("replace docker config %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable; failures are not fatal (some
// filesystems do not support syncing directories).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// lockRetry is how often a busy lock is retried.
const lockRetry = 5 * time.Millisecond

// defaultLockTimeout bounds the wait for another process's lock.
const defaultLockTimeout = 2 * time.Minute

// lockFile takes the exclusive lock guarding the config file whose lock
// file is lockPath and returns the function that releases it.
func lockFile(ctx context.Context, lockPath string, timeout time.Duration) (func(), error) {
	if timeout <= 0 {
		timeout = defaultLockTimeout
	}
	// Readable by everyone: a job running as another user must be able
	// to open (and so lock) a lock file that a root container created.
	// It never holds data.
	fl := flock.New(lockPath, flock.SetPermissions(0o644))
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ok, err := fl.TryLockContext(lctx, lockRetry)
	if err == nil && ok {
		if uid, gid, ok := ownerOf(filepath.Dir(lockPath)); ok {
			chownIfRoot(lockPath, uid, gid)
		}
		return func() { _ = fl.Unlock() }, nil
	}
	_ = fl.Close()
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("lock docker config (%s): %w", lockPath, ctx.Err())
	case errors.Is(err, context.DeadlineExceeded) || err == nil:
		return nil, fmt.Errorf("lock docker config: %s is still held by another process after %s; "+
			"wait for the other docker login to finish, or delete the lock file if no such process is running", lockPath, timeout)
	case isPermission(err):
		return nil, fmt.Errorf("lock docker config: cannot create or open %s (%w); %s", lockPath, err, writableHint)
	default:
		return nil, fmt.Errorf("lock docker config (%s): %w", lockPath, err)
	}
}
