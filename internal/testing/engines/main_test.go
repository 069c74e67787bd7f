package engines

import (
	"os"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/imagetest"
)

// TestMain builds the engines first (outside the tests' timeout, see
// buildEngines) and removes them and the image the tests built at the end.
func TestMain(m *testing.M) {
	if testenv.Short() {
		return
	}
	buildEngines()
	code := m.Run()
	imagetest.RemoveBuiltImage()
	removeEngines()
	os.Exit(code)
}
