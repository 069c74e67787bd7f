package inputs

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/fixtures"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
)

// Loading the settings is the first thing every run does; these keep it
// visible in benchstat (`go test -bench . ./internal/inputs`).

// benchGitHubEnv is what the runner passes a container action step: the
// inputs with their action.yml defaults, plus registries in n regions.
func benchGitHubEnv(n int) map[string]string {
	env := ghrunner.Step{Defaults: true, Inputs: map[string]string{"role-to-assume": role, "aws-region": "eu-west-1"}}.Env()
	if n > 0 {
		env["INPUT_REGISTRIES"] = strings.Join(fixtures.Hosts(n), "\n")
	}
	return env
}

func BenchmarkLoadGitHub(b *testing.B) {
	for _, n := range []int{0, 20} {
		env := benchGitHubEnv(n)
		environ := environOf(env)
		b.Run(fmt.Sprintf("registries=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c, _, err := Load(Source{Mode: GitHub, Getenv: envOf(env), Environ: environ})
				if err != nil {
					b.Fatal(err)
				}
				if len(c.Registries) != n {
					b.Fatalf("%d registries, want %d", len(c.Registries), n)
				}
			}
		})
	}
}

// BenchmarkLoadPlugin includes the scan of the whole environment for
// misspelt PLUGIN_* settings, with a CI-sized environment.
func BenchmarkLoadPlugin(b *testing.B) {
	env := map[string]string{
		"DRONE":              "true",
		"PLUGIN_ROLE_ARN":    role,
		"PLUGIN_REGION":      "eu-west-1",
		"PLUGIN_REGISTRY":    "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
		"PLUGIN_TIMEOUT":     "90s",
		"PLUGIN_AUDIENCE":    "sts.amazonaws.com",
		"DRONE_BUILD_NUMBER": "42",
	}
	for i := range 150 {
		env[fmt.Sprintf("DRONE_VAR_%03d", i)] = strings.Repeat("x", 40)
	}
	environ := environOf(env)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Load(Source{Mode: Plugin, Getenv: envOf(env), Environ: environ}); err != nil {
			b.Fatal(err)
		}
	}
}
