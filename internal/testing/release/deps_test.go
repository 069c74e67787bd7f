package release

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestProductLinksNoDevCode: a build without tags (`go build`, `go install`)
// and the release build link no test rig or development tool; only the dev
// tag (which `go run . demo` uses) does.
func TestProductLinksNoDevCode(t *testing.T) {
	goBin, err := testenv.GoCommand()
	if err != nil {
		t.Fatal(err)
	}
	root := testenv.ModuleRoot(t)
	for _, tc := range []struct {
		tags    string
		wantDev bool
	}{{"", false}, {"release", false}, {"dev", true}} {
		cmd := exec.Command(goBin, "list", "-deps", "-tags", tc.tags, ".")
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps -tags %q .: %v", tc.tags, err)
		}
		var dev []string
		for _, pkg := range strings.Fields(string(out)) {
			if strings.Contains(pkg, "/internal/testing") || strings.Contains(pkg, "/internal/devtools") {
				dev = append(dev, pkg)
			}
		}
		if got := len(dev) > 0; got != tc.wantDev {
			t.Errorf("go list -deps -tags %q . links development packages %v; want them: %v", tc.tags, dev, tc.wantDev)
		}
	}
}
