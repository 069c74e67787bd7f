package dockerconfig

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

const writers = 50

func concurrentHost(i int) string { return fmt.Sprintf("%012d.dkr.ecr.eu-west-1.amazonaws.com", i) }

// checkAllPresent asserts cfg is valid JSON holding every writer's entry
// and the pre-existing one.
func checkAllPresent(t *testing.T, cfg string) {
	t.Helper()
	doc := readFile(t, cfg)
	if _, err := parseConfig(cfg, doc); err != nil {
		t.Fatalf("config after concurrent logins is not valid: %v", err)
	}
	if _, p, ok := decodedAuth(t, doc, "ghcr.io"); !ok || p != "p" {
		t.Fatal("pre-existing entry lost")
	}
	for i := range writers {
		h := concurrentHost(i)
		if _, p, ok := decodedAuth(t, doc, h); !ok || p != "pw-"+h {
			t.Fatalf("entry for writer %d lost", i)
		}
	}
}

func TestConcurrentGoroutines(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, ConfigFileName)
	orig := []byte("{\n\t\"auths\": {\n\t\t\"ghcr.io\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t}\n\t}\n}")
	writeFile(t, cfg, orig)

	receipts := make([]*Receipt, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			h := concurrentHost(i)
			receipts[i], errs[i] = login(context.Background(), Options{Dir: dir, LockTimeout: time.Minute},
				[]Credential{{Host: h, Username: "AWS", Password: "pw-" + h}})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	checkAllPresent(t, cfg)

	for i := range writers {
		wg.Go(func() { errs[i] = logout(context.Background(), receipts[i]) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("logout %d: %v", i, err)
		}
	}
	if got := readFile(t, cfg); !bytes.Equal(got, orig) {
		t.Fatalf("after all logouts the file is not the original:\n%s", redacted(got))
	}
	if b := backups(t, dir); len(b) != 0 {
		t.Fatalf("%d backups left", len(b))
	}
}

func TestConcurrentProcesses(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, ConfigFileName)
	writeFile(t, cfg, []byte(`{"auths": {"ghcr.io": {"auth": "dTpw"}}, "credHelpers": {"gcr.io": "gcloud"}}`))

	cmds := make([]*exec.Cmd, writers)
	outs := make([]bytes.Buffer, writers)
	for i := range writers {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), envChild+"=login", envChildDir+"="+dir, envChildHost+"="+concurrentHost(i))
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatalf("start writer %d: %v", i, err)
		}
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("writer process %d: %v: %s", i, err, outs[i].String())
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	checkAllPresent(t, cfg)
	if !bytes.Contains(readFile(t, cfg), []byte(`"credHelpers": {"gcr.io": "gcloud"}`)) {
		t.Fatal("credHelpers changed")
	}
}
