package engines

import (
	"os"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/imagetest"
)

// TestMain removes the image and the engine binaries the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	imagetest.RemoveBuiltImage()
	removeEngines()
	os.Exit(code)
}
