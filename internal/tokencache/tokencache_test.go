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
	must(t, c.Put(ctx, "a", Entry{Host: "h1", Username: "AWS", Password: "p1", ExpiresAt: exp}))
	must(t, c.Put(ctx, "b", Entry{Host: "h2", Username: "AWS", Password: "p2", ExpiresAt: exp}))
	must(t, c.Put(ctx, "c", Entry{Host: "h1", Username: "AWS", Password: "p3", ExpiresAt: exp}))
	must(t, c.Delete(ctx, "h1"))
	l, err := c.List(ctx)
	if err != nil || len(l) != 1 || l["h2"] != "AWS" {
		t.Errorf("List = %v %v", l, err)
	}
}

func TestCorruptCacheIsDropped(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, fileName), []byte("{not json"), 0o600))
	c := Open(dir)
	if _, ok, err := c.Get(ctx, "x"); ok || err != nil {
		t.Fatalf("corrupt cache: ok=%v err=%v", ok, err)
	}
	must(t, c.Put(ctx, "x", Entry{Host: "h", Password: "p", ExpiresAt: time.Now().Add(12 * time.Hour)}))
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

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
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
