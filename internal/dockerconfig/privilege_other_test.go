//go:build !unix

package dockerconfig

import "testing"

// Without Unix users (Windows) there is no unprivileged user to run the
// read-only tests as; they are skipped there.

func unprivilegedTempDir(t *testing.T) string {
	t.Skip("no Unix users on this system")
	return ""
}

func loginAsUnprivileged(t *testing.T, _, _ string) (string, error) {
	t.Skip("no Unix users on this system")
	return "", nil
}
