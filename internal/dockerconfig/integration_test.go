package dockerconfig

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestRealClientsReadOurLogin proves the written configuration is the one
// docker-compatible clients use: crane (go-containerregistry reads
// config.json with docker/cli's own config package) lists a real
// password-protected registry with it, through auths and through a
// credential helper, and is refused once the login is undone.
func TestRealClientsReadOurLogin(t *testing.T) {
	// As long as a real ECR password, so the registry's full-password
	// front checks every byte.
	pw := strings.Repeat("eyJwYXlsb2FkIjoiQUFBQUFBQUFBQUFBQUFBQUFBIn0", 40)
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{Password: pw, TLS: true})
	crane := testenv.Crane(t)
	bundle := reg.CA.BundleWith(false)

	lookPath, state := fakeHelper(t, "fake")
	helperPath, _ := lookPath(HelperPrefix + "fake")
	craneCatalog := func(dir string) testenv.Result {
		return testenv.RunProgram(t, crane, testenv.RunOptions{
			Args: []string{"catalog", reg.Addr},
			Env: map[string]string{
				"DOCKER_CONFIG": dir,
				"SSL_CERT_FILE": bundle,
				"PATH":          filepath.Dir(helperPath) + string(os.PathListSeparator) + os.Getenv("PATH"),
				envHelperDir:    state,
			},
		})
	}

	tests := []struct {
		name     string
		config   string
		password string
		wantOK   bool
	}{
		{name: "auths entry", password: pw, wantOK: true},
		{name: "auths entry with a wrong last byte", password: pw[:len(pw)-1] + "X", wantOK: false},
		{name: "credential helper", config: `{"credHelpers": {"` + reg.Addr + `": "fake"}}`, password: pw, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, r := loginIn(t, tt.config, lookPath, Credential{Host: reg.Addr, Username: testenv.DefaultRegistryUser, Password: tt.password})
			res := craneCatalog(dir)
			if got := res.ExitCode == 0; got != tt.wantOK {
				t.Fatalf("crane catalog exit %d, want success=%v; stderr: %s", res.ExitCode, tt.wantOK, res.Stderr)
			}
			if tt.config != "" && !slices.Contains(helperCalls(t, state), "get "+reg.Addr) {
				t.Fatalf("crane did not ask the credential helper; calls: %q", helperCalls(t, state))
			}
			if err := logout(context.Background(), r); err != nil {
				t.Fatalf("Logout: %v", err)
			}
			if tt.wantOK {
				if res := craneCatalog(dir); res.ExitCode == 0 {
					t.Fatal("crane still authenticates after Logout")
				}
			}
		})
	}
}

// TestDockerCLIUsesOurLogin: the docker CLI itself, with no credentials on
// its command line, authenticates with what Login stored (auths entry or
// credential helper) and the daemon's check against a real registry
// succeeds only with the right password.
func TestDockerCLIUsesOurLogin(t *testing.T) {
	docker := testenv.RequireTool(t, "docker")
	if out, err := exec.Command(docker, "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Docker Engine is required with CI=true: %v: %s", err, out)
		}
		t.Skipf("no Docker Engine: %v", err)
	}
	// Plain HTTP on loopback: the daemon treats 127.0.0.0/8 registries as
	// insecure by default, so no CA has to be installed on the host.
	const pw = "docker-cli-check-password"
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{Password: pw})
	lookPath, state := fakeHelper(t, "fake")
	helperPath, _ := lookPath(HelperPrefix + "fake")

	tests := []struct {
		name, config, password string
		wantOK                 bool
	}{
		{name: "auths entry", password: pw, wantOK: true},
		{name: "wrong password", password: pw + "x", wantOK: false},
		{name: "credential helper", config: `{"credsStore": "fake"}`, password: pw, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, r := loginIn(t, tt.config, lookPath, Credential{Host: reg.Addr, Username: testenv.DefaultRegistryUser, Password: tt.password})
			defer func() {
				if err := logout(context.Background(), r); err != nil {
					t.Errorf("Logout: %v", err)
				}
			}()
			res := testenv.RunProgram(t, docker, testenv.RunOptions{
				Args: []string{"--config", dir, "login", reg.Addr},
				Env: map[string]string{
					"PATH":       filepath.Dir(helperPath) + string(os.PathListSeparator) + os.Getenv("PATH"),
					envHelperDir: state,
				},
			})
			ok := res.ExitCode == 0 && strings.Contains(res.Stdout+res.Stderr, "Login Succeeded")
			if ok != tt.wantOK {
				t.Fatalf("docker login exit %d, want success=%v; output: %s %s", res.ExitCode, tt.wantOK, res.Stdout, res.Stderr)
			}
			if !strings.Contains(res.Stdout+res.Stderr, "existing credentials") {
				t.Fatalf("docker did not use the stored credentials: %s %s", res.Stdout, res.Stderr)
			}
		})
	}
}

// loginIn logs c in to a fresh config directory holding config (none when
// empty) and returns the directory and the receipt.
func loginIn(t *testing.T, config string, lookPath func(string) (string, error), c Credential) (string, *Receipt) {
	t.Helper()
	dir := t.TempDir()
	if config != "" {
		writeFile(t, filepath.Join(dir, ConfigFileName), []byte(config))
	}
	r, err := login(context.Background(), Options{Dir: dir, LookPath: lookPath}, []Credential{c})
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	return dir, r
}
