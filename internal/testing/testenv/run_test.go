package testenv

import (
	"debug/elf"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func envMap(t *testing.T, stdout string) map[string]string {
	t.Helper()
	var list []string
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		t.Fatalf("decode env from %q: %v", stdout, err)
	}
	m := map[string]string{}
	for _, kv := range list {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func TestRunProgramCleanEnvironment(t *testing.T) {
	bin := fakeprog(t)
	// Things a developer's shell or a CI host might have set: none may leak.
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAHOSTLEAK")
	t.Setenv("AWS_PROFILE", "host-profile")
	t.Setenv("GITHUB_OUTPUT", "/host/output")

	res := RunProgram(t, bin, RunOptions{Args: []string{"env"}, Env: map[string]string{"INPUT_REGISTRIES": "123"}})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d: %s", res.ExitCode, res.Stderr)
	}
	env := envMap(t, res.Stdout)
	keys := slices.Sorted(maps.Keys(env))
	want := []string{"AWS_CONFIG_FILE", "AWS_EC2_METADATA_DISABLED", "AWS_SHARED_CREDENTIALS_FILE", "HOME", "INPUT_REGISTRIES", "PATH"}
	if !slices.Equal(keys, want) {
		t.Fatalf("environment keys %q, want %q", keys, want)
	}
	if env["AWS_EC2_METADATA_DISABLED"] != "true" || env["INPUT_REGISTRIES"] != "123" || env["PATH"] != os.Getenv("PATH") {
		t.Errorf("unexpected values: %q", env)
	}
	for _, k := range []string{"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
		if _, err := os.Stat(env[k]); !os.IsNotExist(err) {
			t.Errorf("%s=%s exists (or stat failed oddly: %v); it must name a missing file", k, env[k], err)
		}
	}
	if fi, err := os.Stat(env["HOME"]); err != nil || !fi.IsDir() {
		t.Errorf("HOME=%s is not a directory: %v", env["HOME"], err)
	}
}

func TestRunProgramOverridesDefaults(t *testing.T) {
	bin := fakeprog(t)
	home := t.TempDir()
	res := RunProgram(t, bin, RunOptions{Args: []string{"env"}, Env: map[string]string{
		"HOME": home, "AWS_EC2_METADATA_DISABLED": "false", "PATH": "/nowhere",
	}})
	env := envMap(t, res.Stdout)
	if env["HOME"] != home || env["AWS_EC2_METADATA_DISABLED"] != "false" || env["PATH"] != "/nowhere" {
		t.Fatalf("overrides not applied: %q", env)
	}
}

func TestRunProgramIO(t *testing.T) {
	bin := fakeprog(t)
	dir := t.TempDir()
	tests := []struct {
		name       string
		opts       RunOptions
		wantOut    string
		wantErr    string
		wantCode   int
		checkEmpty bool
	}{
		{name: "stdin echoed", opts: RunOptions{Args: []string{"stdin"}, Stdin: "line one\nline two"}, wantOut: "line one\nline two"},
		{name: "no stdin is EOF", opts: RunOptions{Args: []string{"stdin"}}, wantOut: ""},
		{name: "exit code and both streams", opts: RunOptions{Args: []string{"exit", "3"}}, wantOut: "to stdout", wantErr: "to stderr", wantCode: 3},
		{name: "exit zero", opts: RunOptions{Args: []string{"exit", "0"}}, wantOut: "to stdout", wantErr: "to stderr"},
		{name: "working directory", opts: RunOptions{Args: []string{"pwd"}, Dir: dir}, wantOut: dir},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := RunProgram(t, bin, tc.opts)
			if res.Stdout != tc.wantOut || res.Stderr != tc.wantErr || res.ExitCode != tc.wantCode {
				t.Fatalf("got %+v, want stdout %q stderr %q code %d", res, tc.wantOut, tc.wantErr, tc.wantCode)
			}
		})
	}
}

func TestRunProgramDefaultDirIsFresh(t *testing.T) {
	bin := fakeprog(t)
	a := RunProgram(t, bin, RunOptions{Args: []string{"pwd"}}).Stdout
	b := RunProgram(t, bin, RunOptions{Args: []string{"pwd"}}).Stdout
	if a == b || a == "" {
		t.Fatalf("two runs shared working directory %q / %q", a, b)
	}
	wd, _ := os.Getwd()
	if a == wd {
		t.Fatalf("run used the test's own directory %q", wd)
	}
}

func TestRunProgramTimeoutRedactsMasks(t *testing.T) {
	bin := fakeprog(t)
	const secret = "hunter2-very-secret-value"
	_, err := runProgram(bin, RunOptions{Args: []string{"mask-and-sleep", secret}, Timeout: 300 * time.Millisecond}, t.TempDir())
	if err == nil {
		t.Fatal("a hanging program returned without error")
	}
	msg := err.Error()
	if !strings.Contains(msg, "still running after") {
		t.Errorf("error %q does not say the program timed out", msg)
	}
	if strings.Contains(msg, secret) {
		t.Errorf("error repeats a masked value: %q", msg)
	}
	if !strings.Contains(msg, "oops, the secret is ***") {
		t.Errorf("error %q lacks the redacted stderr", msg)
	}
}

func TestRunProgramMissingBinary(t *testing.T) {
	_, err := runProgram(filepath.Join(t.TempDir(), "does-not-exist"), RunOptions{}, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "does-not-exist") {
		t.Fatalf("got %v, want an error naming the missing program", err)
	}
}

func TestBuildBinaryTagsAndStatic(t *testing.T) {
	tests := []struct {
		tags []string
		want string
	}{
		{nil, "tagged=false"},
		{[]string{"testenv_tag"}, "tagged=true"},
		{[]string{"other", "testenv_tag"}, "tagged=true"},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		bin := fakeprog(t, tc.tags...)
		if seen[bin] {
			t.Errorf("tags %q reuse binary %s of another tag set", tc.tags, bin)
		}
		seen[bin] = true
		if again := fakeprog(t, tc.tags...); again != bin {
			t.Errorf("second build of the same package gave %s, first %s", again, bin)
		}
		if res := RunProgram(t, bin, RunOptions{Args: []string{"tags"}}); res.Stdout != tc.want {
			t.Errorf("tags %q: program says %q, want %q", tc.tags, res.Stdout, tc.want)
		}
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatalf("%s is not an ELF binary: %v", bin, err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s has a dynamic loader; CGO_ENABLED=0 was not applied", bin)
			}
		}
		f.Close()
	}
}

func TestBuildBinaryFailureReported(t *testing.T) {
	rec := &recordingTB{TB: t}
	rec.run(func() { BuildBinary(rec, "./internal/testing/testenv/internal/no-such-package") })
	if len(rec.fatal) != 1 || !strings.Contains(rec.fatal[0], "no-such-package") {
		t.Fatalf("want one fatal naming the package, got %q", rec.fatal)
	}
}
