package dockerconfig

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A login cancelled while a credential helper is storing rolls back with a
// context of its own: the cancelled one cannot run a helper any more, and
// the passwords already stored (here a.example's in the fake helper, and
// b.example's, which the slow helper stored before it was stopped) would
// stay behind.
func TestLoginCancelledDuringHelperStoreRollsBack(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("/bin/sh is required: %v", err)
		}
		t.Skip("no /bin/sh")
	}
	lookPath, state := fakeHelper(t, "fake")
	dir := t.TempDir()
	cfg := filepath.Join(dir, ConfigFileName)
	orig := []byte(`{"credHelpers": {"a.example": "fake", "b.example": "slow"}}`)
	writeFile(t, cfg, orig)

	// The slow helper keeps what it is given, says so, and then hangs
	// until it is stopped; erase forgets it.
	slowDir := t.TempDir()
	stored, storing := filepath.Join(slowDir, "stored"), filepath.Join(slowDir, "storing")
	slow := filepath.Join(t.TempDir(), HelperPrefix+"slow")
	script := "#!/bin/sh\ncase \"$1\" in\n" +
		"get) echo 'credentials not found in native keychain'; exit 1;;\n" +
		"store) cat > '" + stored + "'; : > '" + storing + "'; exec sleep 600;;\n" +
		"erase) rm -f '" + stored + "'; exit 0;;\n" +
		"esac\nexit 1\n"
	if err := os.WriteFile(slow, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	look := func(file string) (string, error) {
		if file == HelperPrefix+"slow" {
			return slow, nil
		}
		return lookPath(file)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for {
			if _, err := os.Stat(storing); err == nil {
				cancel()
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	_, err := login(ctx, Options{Dir: dir, LookPath: look}, []Credential{
		{Host: "a.example", Username: "AWS", Password: ecrPass},
		{Host: "b.example", Username: "AWS", Password: "b-" + ecrPass},
	})
	if err == nil {
		t.Fatal("Login succeeded although it was cancelled")
	}
	if _, ok := loadHelperState(state)["a.example"]; ok {
		t.Error("a.example's password stayed in the helper after the cancelled login")
	}
	if _, err := os.Stat(stored); err == nil {
		t.Error("b.example's password stayed in the helper that was stopped while storing it")
	}
	untouched(t, dir, orig)
}
