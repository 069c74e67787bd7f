//go:build unix

package dockerconfig

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// nobody is the unprivileged user read-only tests run as when the suite
// runs as root (root may write anywhere, so permissions alone would not
// make a directory read-only for it).
const nobody = 65534

// unprivilegedTempDir returns a temporary directory the unprivileged user
// can traverse.
func unprivilegedTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		mustChmod(t, dir, 0o755)
		mustChmod(t, filepath.Dir(dir), 0o755)
	}
	return dir
}

// loginAsUnprivileged runs Login for host in dir as a user without special
// privileges: in-process when the suite is not root, otherwise in a copy of
// the test binary started as nobody. It returns the error text.
func loginAsUnprivileged(t *testing.T, dir, host string) (string, error) {
	t.Helper()
	if os.Geteuid() != 0 {
		_, err := login(context.Background(), Options{Dir: dir}, []Credential{{Host: host, Username: "AWS", Password: "pw-" + host}})
		if err != nil {
			return err.Error(), err
		}
		return "", nil
	}
	bin := unprivilegedTempDir(t)
	exe := filepath.Join(bin, "dockerconfig.test")
	copyExecutable(t, exe)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envChild+"=login", envChildDir+"="+dir, envChildHost+"="+host)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func copyExecutable(t *testing.T, dst string) {
	t.Helper()
	src, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
