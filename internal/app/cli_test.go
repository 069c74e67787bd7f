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

// A flag the command does not have is named in one line, whatever its
// name holds: the flag package's error repeats the name verbatim.
func TestCLIUnknownFlagIsOneLine(t *testing.T) {
	for _, name := range []string{"--x\n::error::forged", "--x\r::error::forged", "-x\r\n##[error]forged"} {
		var stdout, stderr bytes.Buffer
		e := Env{Args: []string{"ecr-credentials"}, Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr}
		cmd, _ := lookupCLI("login")
		code := runCLI(context.Background(), e, cmd, []string{name})
		if code != ExitUsage || !strings.Contains(stderr.String(), "flag provided but not defined") {
			t.Errorf("%q: exit %d, stderr %q; want a usage error naming the flag", name, code, stderr.String())
		}
		for _, line := range strings.Split(stderr.String(), "\n") {
			if strings.HasPrefix(line, "::") || strings.Contains(line, "\r") || strings.Contains(line, "##[") {
				t.Errorf("%q: stderr line %q can start a workflow command", name, line)
			}
		}
	}
}
