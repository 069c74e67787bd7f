package e2e

import (
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestMultiLineFormatsMaskOnlyTheirSecrets: the k8s-secret manifest, the
// dotenv and the bamboo properties file are several lines; masking one
// whole would make a runner that masks line by line hide "apiVersion: v1",
// "kind: Secret" or "metadata:" in every later log. Only their secret
// parts are masked, and each of those is.
func TestMultiLineFormatsMaskOnlyTheirSecrets(t *testing.T) {
	f := newFixture(t)
	r := newRunner(t)
	env := f.githubEnv(r, map[string]string{"role-to-assume": roleARN, "aws-region": region, "formats": "k8s-secret,dotenv,bamboo,ecs"})
	res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Timeout: runBound})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d\n%s", res.ExitCode, withoutMaskCommands(res.Stdout))
	}
	masked := ghrunner.MaskedValues(res.Stdout)
	for _, v := range masked {
		if strings.ContainsAny(v, "\r\n") {
			t.Errorf("a multi-line value was masked whole (%d lines, starting %q)", strings.Count(v, "\n")+1, abbreviate(v))
		}
	}
	outputs := readFileCommands(t, r.output)
	manifest := outputs["k8s-secret"]
	if !strings.Contains(manifest, "apiVersion: v1\nkind: Secret\n") {
		t.Fatalf("k8s-secret output missing or unexpected:\n%s", manifest)
	}
	// Every line of the manifest that holds a secret is covered by a mask;
	// no other line is.
	for _, line := range strings.Split(strings.TrimSpace(manifest), "\n") {
		secret := strings.Contains(line, ".dockerconfigjson:")
		covered := false
		for _, v := range masked {
			if len(v) >= 8 && strings.Contains(line, v) {
				covered = true
			}
			if v == strings.TrimSpace(line) && !secret {
				t.Errorf("the manifest line %q is masked", line)
			}
		}
		if secret && !covered {
			t.Errorf("the manifest's .dockerconfigjson value is not masked")
		}
	}
	for _, word := range []string{"apiVersion: v1", "kind: Secret", "metadata:", "type: kubernetes.io/dockerconfigjson"} {
		for _, v := range masked {
			if strings.Contains(v, word) {
				t.Errorf("a mask covers %q", word)
				break
			}
		}
	}
	for _, name := range []string{"dotenv", "bamboo"} {
		for _, line := range strings.Split(strings.TrimSpace(outputs[name]), "\n") {
			key, _, _ := strings.Cut(line, "=")
			for _, v := range masked {
				if strings.Contains(v, key+"=") {
					t.Errorf("%s: a mask covers the name %s", name, key)
					break
				}
			}
		}
	}
}
