package imagetest

import (
	"os"
	"testing"
)

// TestMain removes the image the tests built. The network is deliberately
// not isolated (see the package comment): the Docker daemon has to reach
// the registry on the host's loopback.
func TestMain(m *testing.M) {
	code := m.Run()
	removeBuiltImage()
	os.Exit(code)
}
