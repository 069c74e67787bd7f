package demo

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

func TestMain(m *testing.M) {
	if testenv.Short() {
		return
	}
	os.Exit(testenv.IsolateNetwork(m))
}

// TestDemo runs the README's demo command against a fresh build and checks
// it reaches the end, showing no secret.
func TestDemo(t *testing.T) {
	bin := testenv.BuildBinary(t, "github.com/ecr-credentials/ecr-credentials")
	var out bytes.Buffer
	if err := Run(context.Background(), bin, &out); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{"pushed ", "wrong password is refused", "Removed the docker login", "demo finished"} {
		if !strings.Contains(s, want) {
			t.Errorf("demo output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "::add-mask::") {
		t.Errorf("demo output shows raw workflow commands:\n%s", s)
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, "password ") && !strings.Contains(line, "***") && !strings.Contains(line, "expires") && !strings.Contains(line, "refused") {
			t.Errorf("password line without mask: %q", line)
		}
	}
}
