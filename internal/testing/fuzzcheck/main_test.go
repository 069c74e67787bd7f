package fuzzcheck

import (
	"os"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestMain runs nothing under -short: fuzzing and the vulnerability scan
// are the slow checks.
func TestMain(m *testing.M) {
	if testenv.Short() {
		return
	}
	os.Exit(m.Run())
}
