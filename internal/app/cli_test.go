package app

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Registries go either as arguments or as a flag, under any of the flag's
// names (--registries or --registry), never both.
func TestCLIRegistriesArgumentsOrFlag(t *testing.T) {
	for _, flag := range []string{"--registries", "--registry"} {
		var stdout, stderr bytes.Buffer
		e := Env{Args: []string{"ecr-credentials"}, Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr}
		cmd, _ := lookupCLI("json")
		code := runCLI(context.Background(), e, cmd, []string{flag, "123456789012", "210987654321"})
		if code != ExitUsage || !strings.Contains(stderr.String(), "not both") {
			t.Errorf("%s with an argument: exit %d, stderr %q; want a usage error", flag, code, stderr.String())
		}
		if stdout.Len() != 0 {
			t.Errorf("%s with an argument printed %q", flag, stdout.String())
		}
	}
}
