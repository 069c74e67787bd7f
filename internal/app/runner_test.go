package app

import (
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/runner"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/fixtures"
)

// fakeMounts makes runner.Detect see the given mount points and /.dockerenv
// exist or not, for the duration of the test.
func fakeMounts(t *testing.T, dockerenv bool, points ...string) {
	t.Helper()
	info, envFile := fixtures.ContainerSigns(t, dockerenv, points...)
	oldInfo, oldEnv := runner.MountInfoFile, runner.DockerEnvFile
	runner.MountInfoFile, runner.DockerEnvFile = info, envFile
	t.Cleanup(func() { runner.MountInfoFile, runner.DockerEnvFile = oldInfo, oldEnv })
}

func TestGitHubArgs(t *testing.T) {
	flags, err := githubArgs([]string{"--host-runner-temp=/home/runner/work/_temp", "--host-workspace=${{ inputs.host-workspace }}"})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := flags.Value(inputs.HostRunnerTemp); v != "/home/runner/work/_temp" {
		t.Errorf("flags = %v", flags)
	}
	for _, bad := range [][]string{{"--role-to-assume=x"}, {"extra"}, {"--nope=1"}, {"--host-runner-temp"}} {
		if _, err := githubArgs(bad); err == nil {
			t.Errorf("githubArgs(%q) accepted", bad)
		}
	}
}
