//go:build !windows

package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestOddFilesDoNotBlock (issue 21, finding 9): a named pipe (FIFO) or a
// device where the program reads a file it did not write, the web identity
// token file, the helper's settings file or the token cache, gives a clear
// error naming what it is, in every mode that reads it, instead of
// blocking past the step's timeout (a pipe) or reading without end (a
// device). On the previous code each FIFO case blocked in open until the
// test binary's -timeout killed it.
func TestOddFilesDoNotBlock(t *testing.T) {
	const role = "arn:aws:iam::123456789012:role/ci"
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	settings := func(t *testing.T, token string) string {
		b, _ := json.Marshal(map[string]any{"settings": map[string]string{"role-to-assume": role, "web-identity-token-file": token, "aws-region": "eu-west-1"}})
		p := filepath.Join(t.TempDir(), "helper.json")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// cacheWithPipe is a private cache directory whose tokens.json is a FIFO.
	cacheWithPipe := func(t *testing.T) string {
		d := filepath.Join(t.TempDir(), "cache")
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(filepath.Join(d, "tokens.json"), 0o600); err != nil {
			t.Fatal(err)
		}
		return d
	}
	type setup struct {
		args  []string
		env   map[string]string
		stdin string
	}
	tests := []struct {
		name  string
		setup func(t *testing.T) setup
		want  string // in the output, besides "not a regular file"
	}{
		{"CLI: token file is a FIFO", func(t *testing.T) setup {
			return setup{args: []string{"ecr-credentials", "json", "--role-arn", role, "--web-identity-token-file", fifo, "--region", "eu-west-1", "123456789012"}}
		}, "named pipe"},
		{"CLI: token file is /dev/zero", func(t *testing.T) setup {
			return setup{args: []string{"ecr-credentials", "json", "--role-arn", role, "--web-identity-token-file", "/dev/zero", "--region", "eu-west-1", "123456789012"}}
		}, "character device"},
		{"GitHub: token file is a FIFO", func(t *testing.T) setup {
			return setup{args: []string{"ecr-credentials"}, env: map[string]string{"GITHUB_ACTIONS": "true",
				"INPUT_ROLE-TO-ASSUME": role, "INPUT_WEB-IDENTITY-TOKEN-FILE": fifo, "INPUT_AWS-REGION": "eu-west-1", "INPUT_DOCKER-LOGIN": "false"}}
		}, "named pipe"},
		{"plugin: token file is a FIFO", func(t *testing.T) setup {
			return setup{args: []string{"ecr-credentials"}, env: map[string]string{"DRONE": "true",
				"PLUGIN_ROLE_ARN": role, "PLUGIN_WEB_IDENTITY_TOKEN_FILE": fifo, "PLUGIN_REGION": "eu-west-1", "PLUGIN_DOCKER_LOGIN": "false"}}
		}, "named pipe"},
		{"credential helper: token file is a FIFO", func(t *testing.T) setup {
			return setup{args: []string{"docker-credential-ecr-credentials", "get"}, env: map[string]string{"ECR_CREDENTIALS_CONFIG": settings(t, fifo)},
				stdin: "123456789012.dkr.ecr.eu-west-1.amazonaws.com\n"}
		}, "named pipe"},
		{"credential helper: settings file is a FIFO", func(t *testing.T) setup {
			return setup{args: []string{"docker-credential-ecr-credentials", "get"}, env: map[string]string{"ECR_CREDENTIALS_CONFIG": fifo},
				stdin: "123456789012.dkr.ecr.eu-west-1.amazonaws.com\n"}
		}, "named pipe"},
		// The AWS SDK reads its shared files itself, from the process
		// environment: they are checked before it is let at them.
		{"CLI: AWS_CONFIG_FILE is a FIFO", func(t *testing.T) setup {
			return setup{args: []string{"ecr-credentials", "json", "--region", "eu-west-1", "123456789012"}, env: map[string]string{"AWS_CONFIG_FILE": fifo}}
		}, "environment variable AWS_CONFIG_FILE"},
		{"CLI with static keys: AWS_CONFIG_FILE is a FIFO, set aside", func(t *testing.T) setup {
			// Not needed for this identity: loaded without it, with a
			// warning (then failing here, where no AWS endpoint answers).
			return setup{args: []string{"ecr-credentials", "json", "--region", "eu-west-1", "--access-key-id", "AKIAIOSFODNN7EXAMPLE",
				"--secret-access-key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "--timeout", "1s", "123456789012"}, env: map[string]string{"AWS_CONFIG_FILE": fifo}}
		}, "loaded without the shared config files"},
		{"plugin: AWS_CONFIG_FILE is a FIFO", func(t *testing.T) setup {
			return setup{args: []string{"ecr-credentials"}, env: map[string]string{"DRONE": "true", "AWS_CONFIG_FILE": fifo,
				"PLUGIN_REGION": "eu-west-1", "PLUGIN_DOCKER_LOGIN": "false"}}
		}, "environment variable AWS_CONFIG_FILE"},
		{"credential helper: AWS_SHARED_CREDENTIALS_FILE is /dev/zero", func(t *testing.T) setup {
			return setup{args: []string{"docker-credential-ecr-credentials", "get"}, env: map[string]string{"AWS_SHARED_CREDENTIALS_FILE": "/dev/zero"},
				stdin: "123456789012.dkr.ecr.eu-west-1.amazonaws.com\n"}
		}, "environment variable AWS_SHARED_CREDENTIALS_FILE"},
		{"credential helper: token cache is a FIFO", func(t *testing.T) setup {
			// The cache is only a cache: the helper warns and goes on
			// without it (and then fails here, with no token to use).
			return setup{args: []string{"docker-credential-ecr-credentials", "get"},
				env:   map[string]string{"ECR_CREDENTIALS_CONFIG": settings(t, "/dev/zero"), "ECR_CREDENTIALS_CACHE_DIR": cacheWithPipe(t)},
				stdin: "123456789012.dkr.ecr.eu-west-1.amazonaws.com\n"}
		}, "token cache unusable, going without it: token cache: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := helperEnv(t)
			s := tt.setup(t)
			for k, v := range s.env {
				env[k] = v
				if strings.HasPrefix(k, "AWS_") {
					t.Setenv(k, v) // the SDK reads the process environment
				}
			}
			e := Env{Args: s.args, Getenv: func(k string) string { return env[k] }, Stdin: strings.NewReader(s.stdin), Dir: t.TempDir()}
			for k, v := range env {
				e.Environ = append(e.Environ, k+"="+v)
			}
			var out strings.Builder
			e.Stdout, e.Stderr = &out, &out
			code := Main(t.Context(), e)
			if code != ExitError || !strings.Contains(out.String(), tt.want) || !strings.Contains(out.String(), "not a regular file") {
				t.Fatalf("exit %d, want 1 and %q in the output:\n%s", code, tt.want, out.String())
			}
			if testing.Verbose() {
				t.Log(out.String())
			}
		})
	}
}
