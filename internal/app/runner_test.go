package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/runner"
)

// fakeMounts makes runner.Detect see the given mount points and /.dockerenv
// exist or not, for the duration of the test.
func fakeMounts(t *testing.T, dockerenv bool, points ...string) {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("22 1 0:21 / / rw,relatime - overlay overlay rw\n")
	for i, p := range points {
		p = strings.ReplaceAll(p, " ", `\040`)
		b.WriteString("3" + string(rune('0'+i)) + " 22 8:1 /volumes/x/_data " + p + " rw,relatime - ext4 /dev/sda1 rw\n")
	}
	info := filepath.Join(dir, "mountinfo")
	if err := os.WriteFile(info, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	envFile := filepath.Join(dir, "dockerenv")
	if dockerenv {
		if err := os.WriteFile(envFile, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
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
