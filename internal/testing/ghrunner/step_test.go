package ghrunner

import (
	"os"
	"testing"
)

func TestStepEnv(t *testing.T) {
	files, err := NewStepFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{files.Output, files.Env, files.State, files.Summary} {
		if fi, err := os.Stat(p); err != nil || fi.Size() != 0 {
			t.Errorf("file command file %s: %v, want it empty", p, err)
		}
	}
	env := Step{Files: files, Temp: "/tmp/runner", Defaults: true,
		Inputs: map[string]string{"aws-region": "eu-west-1", "verify": "false", "odd name": "x"}}.Env()
	want := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "9001", "GITHUB_OUTPUT": files.Output,
		"GITHUB_STEP_SUMMARY": files.Summary, "RUNNER_TEMP": "/tmp/runner",
		"INPUT_AWS-REGION": "eu-west-1", "INPUT_VERIFY": "false", "INPUT_ODD_NAME": "x", "INPUT_ENV-PREFIX": "ECR_",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if _, ok := env["HOME"]; ok {
		t.Error("HOME is set although the step gave none")
	}
}
