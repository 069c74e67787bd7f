package imagetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
)

// TestContainerActionDockerConfigFromTheJob: the job sets DOCKER_CONFIG
// and the runner passes it to the container action like every job
// variable, translated when it is under a directory the runner mounts.
// A host path the runner does not mount would be a directory inside the
// container only, so a login there would vanish with it: the main stage
// must fail before writing anything, with one docker-config error naming
// DOCKER_CONFIG, and the post stage then has nothing to remove. A path
// under the mounted home works, and later steps get its host path.
func TestContainerActionDockerConfigFromTheJob(t *testing.T) {
	ref := builtImage(t)
	act := loadAction(t)
	f := newFixture(t)
	inputs := map[string]string{"role-to-assume": roleARN, "aws-region": region}

	t.Run("host path the runner does not mount", func(t *testing.T) {
		r := newFakeRunner(t, f.bundle)
		const jobDockerConfig = "/home/runner/.docker-custom"
		env := f.jobEnv()
		env["DOCKER_CONFIG"] = jobDockerConfig
		main := r.newStep()
		before := snapshot(t, r.work)
		res := r.runAction(ref, act, stage{inputs: inputs, env: env, step: main})
		if res.code != 1 {
			t.Fatalf("exit %d, want 1: %s", res.code, f.redact(res))
		}
		f.assertNoLeaks(t, res)
		errs := ghrunner.Errors(res.stdout)
		if len(errs) != 1 {
			t.Fatalf("want one ::error:: line, got %d: %s", len(errs), f.redact(res))
		}
		if title, _ := errs[0].Property("title"); title != "ecr-credentials: docker-config" {
			t.Errorf("error title %q, want the code docker-config; message: %s", title, errs[0].Data)
		}
		for _, want := range []string{"DOCKER_CONFIG", jobDockerConfig} {
			if !strings.Contains(errs[0].Data, want) {
				t.Errorf("the error does not name %s: %s", want, errs[0].Data)
			}
		}
		if after := snapshot(t, r.work); after != before {
			t.Errorf("the failed run changed the runner's files (outputs, env, state, home):\nbefore:\n%s\nafter:\n%s", before, after)
		}
		if state := main.read(t, main.state); len(state) != 0 {
			t.Errorf("the failed run saved state %v", state)
		}

		// The post stage runs with the same job environment and the
		// (empty) state of the main stage.
		postEnv := f.jobEnv()
		postEnv["DOCKER_CONFIG"] = jobDockerConfig
		res = r.runAction(ref, act, stage{entrypoint: act.Runs.PostEntrypoint, inputs: inputs, env: postEnv, step: r.newStep()})
		if res.code != 0 || !strings.Contains(res.stdout, "No docker login to remove.") {
			t.Errorf("post stage after the refused main stage: %s", f.redact(res))
		}
	})

	t.Run("host path under the runner's home", func(t *testing.T) {
		r := newFakeRunner(t, f.bundle)
		// The runner translates it to /github/home/docker-custom.
		jobDockerConfig := filepath.Join(r.home, "docker-custom")
		env := f.jobEnv()
		env["DOCKER_CONFIG"] = jobDockerConfig
		main := r.newStep()
		res := r.runAction(ref, act, stage{inputs: inputs, env: env, step: main})
		if res.code != 0 {
			t.Fatalf("main stage: %s", f.redact(res))
		}
		f.assertNoLeaks(t, res)
		if got := main.read(t, main.env)["DOCKER_CONFIG"]; got != jobDockerConfig {
			t.Errorf("exported DOCKER_CONFIG = %q, want the job's host path %q", got, jobDockerConfig)
		}
		configFile := filepath.Join(jobDockerConfig, "config.json")
		if _, err := os.Stat(configFile); err != nil {
			t.Fatalf("no login in the job's DOCKER_CONFIG: %v", err)
		}
		state := main.read(t, main.state)
		postEnv := f.jobEnv()
		postEnv["DOCKER_CONFIG"] = jobDockerConfig
		for k, v := range state {
			postEnv["STATE_"+k] = v
		}
		res = r.runAction(ref, act, stage{entrypoint: act.Runs.PostEntrypoint, inputs: inputs, env: postEnv, step: r.newStep()})
		if res.code != 0 || !strings.Contains(res.stdout, "Removed the docker login for "+f.host) {
			t.Errorf("post stage: %s", f.redact(res))
		}
		// The login created config.json, so the post stage removes it.
		if _, err := os.Stat(configFile); !os.IsNotExist(err) {
			t.Errorf("after the post stage %s is still there (%v)", configFile, err)
		}
	})
}
