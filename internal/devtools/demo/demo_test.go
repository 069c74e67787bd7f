package demo

import (
	"bytes"
	"os"
	"os/exec"
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

// TestDemo runs the README's demo command, `go run . demo`, in the
// checkout and checks it reaches the end, showing no secret. A build
// without tags carries no development code: the command runs the program
// again as `go run -tags dev . demo` (devrun.go in package main).
func TestDemo(t *testing.T) {
	goBin, err := testenv.GoCommand()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(goBin, "run", ".", "demo")
	cmd.Dir = testenv.ModuleRoot(t)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("go run . demo: %v\n%s", err, out.String())
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
