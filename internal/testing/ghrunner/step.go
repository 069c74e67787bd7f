package ghrunner

import (
	"os"
	"path/filepath"
	"strings"
)

// StepFiles are the file command files the runner gives one step.
type StepFiles struct {
	Output, Env, State, Summary string
}

// NewStepFiles names a step's file command files in dir and creates them
// empty, as the runner does before the step starts.
func NewStepFiles(dir string) (StepFiles, error) {
	f := StepFiles{
		Output: filepath.Join(dir, "github_output"), Env: filepath.Join(dir, "github_env"),
		State: filepath.Join(dir, "github_state"), Summary: filepath.Join(dir, "step_summary"),
	}
	for _, p := range []string{f.Output, f.Env, f.State, f.Summary} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			return StepFiles{}, err
		}
	}
	return f, nil
}

// ActionDefaults are the inputs the runner fills in from the defaults
// action.yml declares, when the workflow does not set them.
var ActionDefaults = map[string]string{
	"audience":               "sts.amazonaws.com",
	"role-duration-seconds":  "3600",
	"docker-login":           "true",
	"verify":                 "true",
	"export-env":             "true",
	"env-prefix":             "ECR_",
	"mask-password":          "true",
	"credential-source":      "auto",
	"export-aws-credentials": "false",
}

// Step is a container action step as the runner starts it.
type Step struct {
	// Files are its file command files; empty ones are not set.
	Files StepFiles
	// Temp is RUNNER_TEMP and Home is HOME ("": not set).
	Temp, Home string
	// RunID is GITHUB_RUN_ID ("": 9001).
	RunID string
	// Defaults adds ActionDefaults under Inputs.
	Defaults bool
	// Inputs are the step's `with:` values, by input name.
	Inputs map[string]string
}

// Env is the step's environment: the runner's GITHUB_* variables, its
// file command files and the inputs as INPUT_<NAME> (upper-cased, spaces
// as underscores, as the runner writes them).
func (s Step) Env() map[string]string {
	runID := s.RunID
	if runID == "" {
		runID = "9001"
	}
	env := map[string]string{
		"GITHUB_ACTIONS":     "true",
		"CI":                 "true",
		"GITHUB_RUN_ID":      runID,
		"GITHUB_RUN_ATTEMPT": "1",
		"GITHUB_REPOSITORY":  "octo-org/octo-repo",
	}
	for name, v := range map[string]string{
		"GITHUB_OUTPUT": s.Files.Output, "GITHUB_ENV": s.Files.Env, "GITHUB_STATE": s.Files.State,
		"GITHUB_STEP_SUMMARY": s.Files.Summary, "RUNNER_TEMP": s.Temp, "HOME": s.Home,
	} {
		if v != "" {
			env[name] = v
		}
	}
	if s.Defaults {
		for name, v := range ActionDefaults {
			env[InputVar(name)] = v
		}
	}
	for name, v := range s.Inputs {
		env[InputVar(name)] = v
	}
	return env
}

// InputVar is the variable the runner sets for an input.
func InputVar(name string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
}
