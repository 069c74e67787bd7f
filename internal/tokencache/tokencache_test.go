package tokencache

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/securefile"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/fixtures"
)

func TestGetPutExpiry(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	c := Open(filepath.Join(t.TempDir(), "cache"))
	c.now = func() time.Time { return now }
	key := Key("role", "eu-west-1", "h")
	if _, ok, err := c.Get(ctx, key); ok || err != nil {
		t.Fatalf("empty cache: ok=%v err=%v", ok, err)
	}
	e := Entry{Host: "h", Username: "AWS", Password: "secret-password", ExpiresAt: now.Add(12 * time.Hour)}
	if err := c.Put(ctx, key, e); err != nil {
		t.Fatal(err)
	}
	got, ok, err := c.Get(ctx, key)
	if err != nil || !ok || got != e {
		t.Fatalf("Get = %+v %v %v", got, ok, err)
	}
	// Within the margin of expiry the entry is not served.
	now = now.Add(11*time.Hour + time.Minute)
	if _, ok, _ := c.Get(ctx, key); ok {
		t.Errorf("served an entry with less than %v left", Margin)
	}
	if l, _ := c.List(ctx); len(l) != 0 {
		t.Errorf("List shows stale entries: %v", l)
	}

	st, err := os.Stat(filepath.Join(c.dir, fileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("cache file mode: %v %v", st.Mode(), err)
	}
	dst, _ := os.Stat(c.dir)
	if dst.Mode().Perm() != 0o700 {
		t.Errorf("cache dir mode: %v", dst.Mode())
	}
}

func TestDeleteAndList(t *testing.T) {
	ctx := context.Background()
	c := Open(t.TempDir())
	exp := time.Now().Add(12 * time.Hour)
	fixtures.Must(t, c.Put(ctx, "a", Entry{Host: "h1", Username: "AWS", Password: "p1", ExpiresAt: exp}))
	fixtures.Must(t, c.Put(ctx, "b", Entry{Host: "h2", Username: "AWS", Password: "p2", ExpiresAt: exp}))
	fixtures.Must(t, c.Put(ctx, "c", Entry{Host: "h1", Username: "AWS", Password: "p3", ExpiresAt: exp}))
	fixtures.Must(t, c.Delete(ctx, "h1"))
	l, err := c.List(ctx)
	if err != nil || len(l) != 1 || l["h2"] != "AWS" {
		t.Errorf("List = %v %v", l, err)
	}
}

func TestCorruptCacheIsDropped(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fixtures.Must(t, os.WriteFile(filepath.Join(dir, fileName), []byte("{not json"), 0o600))
	c := Open(dir)
	if _, ok, err := c.Get(ctx, "x"); ok || err != nil {
		t.Fatalf("corrupt cache: ok=%v err=%v", ok, err)
	}
	fixtures.Must(t, c.Put(ctx, "x", Entry{Host: "h", Password: "p", ExpiresAt: time.Now().Add(12 * time.Hour)}))
	if _, ok, _ := c.Get(ctx, "x"); !ok {
		t.Error("cache did not recover from a corrupt file")
	}
}

// TestConcurrentWriters: many writers at once (each with its own lock
// handle, as separate processes have) keep a valid file with every entry.
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- Open(dir).Put(ctx, fmt.Sprint(i), Entry{Host: fmt.Sprintf("h%d", i), Username: "AWS", Password: "p", ExpiresAt: time.Now().Add(12 * time.Hour)})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, fileName))
	if err != nil {
		t.Fatal(err)
	}
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("cache file is not valid JSON: %v", err)
	}
	if len(f.Entries) != n {
		t.Errorf("%d entries survived, want %d", len(f.Entries), n)
	}
}

// TestRefusesUntrustedDirectory: a cache directory or file that another
// user owns or may write is refused with an error that says what to do,
// and nothing planted there is served.
func TestRefusesUntrustedDirectory(t *testing.T) {
	ctx := context.Background()
	plant := func(t *testing.T, dir string) string {
		c := Open(dir)
		key := Key("planted")
		if err := c.Put(ctx, key, Entry{Host: "h", Username: "AWS", Password: "planted-password", ExpiresAt: time.Now().Add(12 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		return key
	}
	type tc struct {
		name    string
		spoil   func(t *testing.T, dir string)
		wantErr string
	}
	cases := []tc{
		{"directory writable by others", func(t *testing.T, dir string) { chmod(t, dir, 0o777) }, "writable by other users"},
		{"directory writable by the group", func(t *testing.T, dir string) { chmod(t, dir, 0o770) }, "writable by other users"},
		{"file writable by others", func(t *testing.T, dir string) { chmod(t, filepath.Join(dir, fileName), 0o666) }, "writable by other users"},
	}
	if os.Geteuid() == 0 {
		cases = append(cases,
			tc{"directory owned by another user", func(t *testing.T, dir string) { chown(t, dir, 1001) }, "owned by uid 1001"},
			tc{"file owned by another user", func(t *testing.T, dir string) { chown(t, filepath.Join(dir, fileName), 1001) }, "owned by uid 1001"})
	} else if os.Getenv("CI") == "true" {
		t.Errorf("CI runs the suite as root; the other-owner cases need it")
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cache")
			key := plant(t, dir)
			tt.spoil(t, dir)
			c := Open(dir)
			e, ok, err := c.Get(ctx, key)
			if ok || e.Password != "" {
				t.Errorf("served the planted entry")
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "ECR_CREDENTIALS_CACHE_DIR") {
				t.Errorf("Get error = %v; want one saying %q and how to fix it", err, tt.wantErr)
			}
			if _, err := c.List(ctx); err == nil {
				t.Errorf("List used the untrusted cache")
			}
		})
	}
}

func chmod(t *testing.T, p string, m os.FileMode) {
	t.Helper()
	if err := os.Chmod(p, m); err != nil {
		t.Fatal(err)
	}
}

func chown(t *testing.T, p string, uid int) {
	t.Helper()
	if err := os.Chown(p, uid, uid); err != nil {
		t.Fatal(err)
	}
}

// TestFreshAndUsable: an entry is refreshed ahead of expiry (an hour, or a
// quarter of a short lifetime) and, while still valid for a while (five
// minutes, or a twelfth of a short lifetime), served when refresh fails.
func TestFreshAndUsable(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		issued        time.Duration // before now; 0: unknown
		left          time.Duration // until expiry
		fresh, usable bool
	}{
		{"12h token, new", time.Minute, 12*time.Hour - time.Minute, true, true},
		{"12h token, 59m left", 11 * time.Hour, 59 * time.Minute, false, true},
		{"12h token, 4m left", 12*time.Hour - 4*time.Minute, 4 * time.Minute, false, false},
		{"old entry without IssuedAt, 2h left", 0, 2 * time.Hour, true, true},
		{"old entry without IssuedAt, 30m left", 0, 30 * time.Minute, false, true},
		{"1m token, 50s left", 10 * time.Second, 50 * time.Second, true, true},
		{"1m token, 10s left", 50 * time.Second, 10 * time.Second, false, true},
		{"1m token, 3s left", 57 * time.Second, 3 * time.Second, false, false},
		{"expired", time.Hour, -time.Second, false, false},
	}
	for _, tt := range tests {
		e := Entry{ExpiresAt: now.Add(tt.left)}
		if tt.issued != 0 {
			e.IssuedAt = now.Add(-tt.issued)
		}
		if got := e.Fresh(now); got != tt.fresh {
			t.Errorf("%s: Fresh = %v, want %v", tt.name, got, tt.fresh)
		}
		if got := e.Usable(now); got != tt.usable {
			t.Errorf("%s: Usable = %v, want %v", tt.name, got, tt.usable)
		}
	}
	c := Open(t.TempDir())
	c.now = func() time.Time { return now }
	ctx := context.Background()
	if err := c.Put(ctx, "k", Entry{Host: "h", Username: "AWS", Password: "p", IssuedAt: now.Add(-50 * time.Second), ExpiresAt: now.Add(10 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Get(ctx, "k"); err != nil || ok {
		t.Errorf("Get served an entry due for refresh (%v)", err)
	}
	if e, ok, err := c.GetUsable(ctx, "k"); err != nil || !ok || e.Password != "p" {
		t.Errorf("GetUsable = %v %v %v, want the entry", e, ok, err)
	}
}

// TestRootCacheUnderAnotherUsersHome: run as root with HOME belonging to
// another user (a CI container), the cache directory made under it is
// root's own, so the cache stays usable (and private), while the parents
// made on the way belong to the home's owner.
func TestRootCacheUnderAnotherUsersHome(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI runs the suite as root; this test needs it")
		}
		t.Skip("needs root")
	}
	home := t.TempDir()
	chown(t, home, 1001)
	dir := filepath.Join(home, ".cache", "ecr-credentials")
	c := Open(dir)
	ctx := context.Background()
	e := Entry{Host: "h", Username: "AWS", Password: "pw-123456", ExpiresAt: time.Now().Add(12 * time.Hour)}
	if err := c.Put(ctx, Key("k"), e); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if got, ok, err := c.Get(ctx, Key("k")); err != nil || !ok || got.Password != e.Password {
		t.Fatalf("Get = %+v %v %v", got, ok, err)
	}
	for p, want := range map[string]uint32{filepath.Join(home, ".cache"): 1001, dir: 0} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if uid, _, _ := securefile.OwnerOf(fi); uid != int(want) {
			t.Errorf("%s is owned by uid %d, want %d", p, uid, want)
		}
	}
}
