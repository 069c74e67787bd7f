package imagetest

import (
	"os"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestMain removes the image the tests built. The network is deliberately
// not isolated (see the package comment): the Docker daemon has to reach
// the registry on the host's loopback.
func TestMain(m *testing.M) {
	if testenv.Short() {
		return
	}
	code := m.Run()
	removeBuiltImage()
	os.Exit(code)
}
