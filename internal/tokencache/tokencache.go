// Package tokencache keeps registry passwords between runs of the docker
// credential helper, so that `docker pull` does not cost an STS and an ECR
// round trip every time.
//
// The cache is one JSON file (0600, in a 0700 directory) guarded by a file
// lock, so helpers started in parallel by docker, buildx or several jobs on
// one machine never corrupt it or lose each other's entries. Entries are
// keyed by a hash of everything that decides which credentials would be
// used (settings and identity) and the registry host, and are served only
// while they stay valid for at least Margin.
package tokencache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/ecr-credentials/ecr-credentials/internal/securefile"
)

// Margin is how long before expiry an entry is refreshed: a pull or push
// that starts with it must not outlive it. ECR passwords live 12 hours, so
// each identity and region costs about one login per 11 hours. An entry
// whose whole lifetime is short (IssuedAt known) is refreshed once a
// quarter of it is left instead.
const Margin = time.Hour

// StaleMargin is how long an entry due for refresh must still be valid to
// be served when the refresh fails (Usable): five minutes, or a twelfth
// of a short lifetime.
const StaleMargin = 5 * time.Minute

const (
	fileName = "tokens.json"
	lockName = "tokens.lock"
	version  = 1
)

// Entry is one cached login.
type Entry struct {
	Host      string    `json:"host"`
	Username  string    `json:"username"`
	Password  string    `json:"password"`
	ExpiresAt time.Time `json:"expiresAt"`
	// IssuedAt is when the password was obtained (zero in old entries).
	IssuedAt time.Time `json:"issuedAt,omitzero"`
}

// margin is the smaller of m and the given fraction of the entry's
// lifetime, when that is known.
func (e Entry) margin(m time.Duration, fraction int) time.Duration {
	if !e.IssuedAt.IsZero() {
		if part := e.ExpiresAt.Sub(e.IssuedAt) / time.Duration(fraction); part < m {
			return part
		}
	}
	return m
}

// Fresh reports whether the entry may be served at now without refresh.
func (e Entry) Fresh(now time.Time) bool { return e.ExpiresAt.Sub(now) > e.margin(Margin, 4) }

// Usable reports whether the entry is still good enough at now to serve
// when a refresh failed.
func (e Entry) Usable(now time.Time) bool { return e.ExpiresAt.Sub(now) > e.margin(StaleMargin, 12) }

type file struct {
	Version int              `json:"version"`
	Entries map[string]Entry `json:"entries"`
}

// Cache is a token cache in a directory.
type Cache struct {
	dir string
	now func() time.Time
}

// Open returns the cache in dir (created on first write).
func Open(dir string) *Cache { return &Cache{dir: dir, now: time.Now} }

// DefaultDir is $XDG_CACHE_HOME/ecr-credentials, else ~/.cache/ecr-credentials.
func DefaultDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "ecr-credentials"), nil
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "ecr-credentials"), nil
	}
	return "", errors.New("neither XDG_CACHE_HOME nor HOME is set")
}

// Key derives an entry key from the parts that decide the credentials.
func Key(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:16])
}

// Get returns a fresh entry for key (see Entry.Fresh).
func (c *Cache) Get(ctx context.Context, key string) (Entry, bool, error) {
	return c.get(ctx, key, Entry.Fresh)
}

// GetUsable returns an entry for key that is due for refresh but still
// usable (Entry.Usable): for serving when the refresh failed.
func (c *Cache) GetUsable(ctx context.Context, key string) (Entry, bool, error) {
	return c.get(ctx, key, Entry.Usable)
}

func (c *Cache) get(ctx context.Context, key string, good func(Entry, time.Time) bool) (Entry, bool, error) {
	var e Entry
	var ok bool
	err := c.locked(ctx, func(f *file) (bool, error) {
		e, ok = f.Entries[key]
		ok = ok && good(e, c.now())
		return false, nil
	})
	return e, ok, err
}

// Put stores an entry and drops expired ones.
func (c *Cache) Put(ctx context.Context, key string, e Entry) error {
	return c.locked(ctx, func(f *file) (bool, error) {
		f.Entries[key] = e
		return true, nil
	})
}

// Delete removes every entry for host.
func (c *Cache) Delete(ctx context.Context, host string) error {
	return c.locked(ctx, func(f *file) (bool, error) {
		changed := false
		for k, e := range f.Entries {
			if e.Host == host {
				delete(f.Entries, k)
				changed = true
			}
		}
		return changed, nil
	})
}

// List returns the hosts with valid entries and their user names.
func (c *Cache) List(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	err := c.locked(ctx, func(f *file) (bool, error) {
		for _, e := range f.Entries {
			if e.Fresh(c.now()) {
				out[e.Host] = e.Username
			}
		}
		return false, nil
	})
	return out, err
}

// locked runs fn on the file's content under the lock and writes the
// content back if fn reports a change.
func (c *Cache) locked(ctx context.Context, fn func(*file) (bool, error)) error {
	if err := securefile.EnsurePrivateDir(c.dir); err != nil {
		return fmt.Errorf("token cache %s: %w", c.dir, err)
	}
	path := filepath.Join(c.dir, fileName)
	// Another user who owns or may write the directory or the file could
	// have planted passwords for us to serve: refuse both.
	for _, p := range []string{c.dir, path} {
		if err := securefile.CheckPrivate(p); err != nil {
			return fmt.Errorf("token cache refused: %w; remove %s (it holds only passwords that can be fetched again) or set ECR_CREDENTIALS_CACHE_DIR to a directory only you can write (or to none)", err, c.dir)
		}
	}
	lock := flock.New(filepath.Join(c.dir, lockName))
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if ok, err := lock.TryLockContext(ctx, 20*time.Millisecond); err != nil || !ok {
		return fmt.Errorf("token cache %s: lock: %v", c.dir, err)
	}
	defer lock.Unlock()

	f := &file{Version: version, Entries: map[string]Entry{}}
	b, _, err := securefile.ReadRegular(path, securefile.ReadLimitLarge) // not a pipe or device: it would block or never end
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("token cache: %w", err)
	default:
		var read file
		// An unreadable or foreign-version cache is dropped, not fatal: it
		// only holds what can be fetched again.
		if json.Unmarshal(b, &read) == nil && read.Version == version && read.Entries != nil {
			f = &read
		}
	}
	changed, err := fn(f)
	if err != nil || !changed {
		return err
	}
	for k, e := range f.Entries {
		if !e.ExpiresAt.After(c.now()) {
			delete(f.Entries, k)
		}
	}
	out, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	if err := securefile.WriteAtomic(path, out, securefile.FileMode, 0, 0, false); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	return nil
}
