package dockerconfig

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ecr-credentials/ecr-credentials/internal/securefile"
)

// logout undoes the Login that produced r (Handle.Undo): entries Login added are
// removed, values it replaced are restored (from the backup file, which is
// then deleted). If config.json is still exactly as Login left it, its
// original bytes and mode come back (or it is deleted if Login created
// it). Otherwise only the entries that still hold Login's values are
// undone, so changes other tools made in between survive. Logout may be
// retried after an error; a second Logout of the same receipt fails
// without changing anything.
func logout(ctx context.Context, r *Receipt) error {
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
		st := helperStore{helper{name: e.Helper, path: e.HelperPath}}
		cur, found, err := st.get(ctx, e.Key)
		if err != nil {
			errs = append(errs, fmt.Errorf("docker logout %s: %w", e.Key, err))
			continue
		}
		if !found || st.sum(cur) != bk.Ours[e.Key] {
			continue // gone or replaced by someone else since: leave it
		}
		prev, replaced := bk.Prev[e.Key]
		err = st.restore(ctx, e.Key, prev)
		erased[e.Key] = !replaced && err == nil
		if err != nil {
			errs = append(errs, fmt.Errorf("docker logout %s: %w", e.Key, err))
		}
	}

	if bk.After != "" {
		if err := restoreFile(r, bk, erased); err != nil {
			errs = append(errs, err)
		}
	}
	if err := removeRefreshDir(r); err != nil {
		errs = append(errs, err)
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
	if isBlank(data) {
		return nil
	}
	files := &authsStore{path: r.ConfigFile, doc: data}
	for _, e := range r.Entries {
		raw, ok, err := files.get(context.Background(), e.Key)
		if err != nil {
			return fmt.Errorf("docker logout: %w", err)
		}
		if !ok {
			continue
		}
		switch {
		case e.Helper == "" && files.sum(raw) == bk.Ours[e.Key]:
			err = files.restore(context.Background(), e.Key, bk.Prev[e.Key])
		case e.Helper != "" && e.PlaceholderAdded && erased[e.Key] && files.sum(raw) == canonicalHash([]byte("{}")):
			err = files.restore(context.Background(), e.Key, nil)
		}
		if err != nil {
			return err
		}
	}
	doc := files.doc
	if r.AuthsAdded || r.AuthsWasNull {
		if doc, err = dropEmptyAuths(doc, r.AuthsWasNull); err != nil {
			return fmt.Errorf("docker logout: %s: %w", r.ConfigFile, err)
		}
	}
	if doc, err = restoreCredHelpers(r, bk, doc); err != nil {
		return err
	}
	if bytes.Equal(doc, data) {
		return nil
	}
	if !json.Valid(doc) {
		return fmt.Errorf("docker logout: internal error: edited %s is not valid JSON; the file was left unchanged", r.ConfigFile)
	}
	return writeAtomic(r.ConfigFile, doc, fi.Mode().Perm(), uid, gid, haveOwner)
}
