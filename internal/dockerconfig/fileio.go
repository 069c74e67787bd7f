package dockerconfig

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/ecr-credentials/ecr-credentials/internal/securefile"
)

// fileMode is the permission of the config, backup and temporary files we write.
const fileMode = securefile.FileMode

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

// ensureDir creates dir (mode 0700) if it is missing; when running as root
// a created directory goes to the owner of its parent, so that later
// non-root CI steps can use it.
func ensureDir(dir string) error {
	err := securefile.EnsureDir(dir)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, securefile.ErrNotDir):
		return fmt.Errorf("docker config directory %s is not a directory; remove it or set DOCKER_CONFIG to a directory", dir)
	case securefile.IsPermission(err):
		return fmt.Errorf("create docker config directory %s: %w; make its parent writable, or set DOCKER_CONFIG to a writable directory", dir, err)
	}
	return fmt.Errorf("create docker config directory %s: %w", dir, err)
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
	// Checked again on the open file: it may have changed since the Stat.
	data, fi, err := securefile.ReadRegular(path, securefile.ReadLimitLarge)
	if errors.Is(err, securefile.ErrNotRegular) || errors.Is(err, securefile.ErrTooLarge) {
		return nil, nil, fmt.Errorf("docker config: %w; remove it or set DOCKER_CONFIG to another directory", err)
	}
	if err != nil {
		if securefile.IsPermission(err) {
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
		if securefile.IsPermission(err) {
			return fmt.Errorf("docker config %s is read-only (%w); %s", path, err, writableHint)
		}
		return fmt.Errorf("open docker config %s for writing: %w", path, err)
	}
	return f.Close()
}

// writeAtomic replaces path with data atomically (see
// securefile.WriteAtomic), with errors that say what to do.
func writeAtomic(path string, data []byte, mode fs.FileMode, uid, gid int, chown bool) error {
	err := securefile.WriteAtomic(path, data, mode, uid, gid, chown)
	switch {
	case err == nil:
		return nil
	case securefile.IsPermission(err):
		return fmt.Errorf("write docker config %s: %w; %s", path, err, writableHint)
	}
	return fmt.Errorf("write docker config %s: %w", path, err)
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
		if uid, gid, ok := securefile.Owner(filepath.Dir(lockPath)); ok {
			securefile.ChownIfRoot(lockPath, uid, gid)
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
	case securefile.IsPermission(err):
		return nil, fmt.Errorf("lock docker config: cannot create or open %s (%w); %s", lockPath, err, writableHint)
	default:
		return nil, fmt.Errorf("lock docker config (%s): %w", lockPath, err)
	}
}
