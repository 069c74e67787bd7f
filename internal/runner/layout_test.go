package runner

import (
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/fixtures"
)

// fakeMounts makes detectLayout see the given mount points and /.dockerenv
// exist or not, for the duration of the test.
func fakeMounts(t *testing.T, dockerenv bool, points ...string) {
	t.Helper()
	info, envFile := fixtures.ContainerSigns(t, dockerenv, points...)
	oldInfo, oldEnv := MountInfoFile, DockerEnvFile
	MountInfoFile, DockerEnvFile = info, envFile
	t.Cleanup(func() { MountInfoFile, DockerEnvFile = oldInfo, oldEnv })
}

func TestDetectLayout(t *testing.T) {
	ws := "/home/me/work/my repo"
	tests := []struct {
		name      string
		env       map[string]string
		dockerenv bool
		mounts    []string
		want      Layout
	}{
		{"github runner", map[string]string{"HOME": "/github/home", "GITHUB_WORKSPACE": "/github/workspace"}, true, nil, GitHub},
		{"act: ACT, no HOME, workspace volume", map[string]string{"ACT": "true", "GITHUB_WORKSPACE": ws}, true, []string{ws}, Shared},
		{"act-like without ACT: HOME /", map[string]string{"HOME": "/", "GITHUB_WORKSPACE": ws}, true, []string{ws}, Shared},
		{"dockerenv and a mounted workspace", map[string]string{"HOME": "/root", "GITHUB_WORKSPACE": ws}, true, []string{ws}, Shared},
		{"container sharing nothing", map[string]string{"ACT": "true", "GITHUB_WORKSPACE": ws}, true, []string{"/elsewhere"}, Alone},
		{"only a parent is mounted", map[string]string{"HOME": "/", "GITHUB_WORKSPACE": ws}, false, []string{"/home/me"}, Alone},
		{"host step in a containerised runner", map[string]string{"HOME": "/home/runner", "GITHUB_WORKSPACE": ws}, true, nil, Host},
		{"host", map[string]string{"HOME": "/home/me", "GITHUB_WORKSPACE": ws}, false, []string{ws}, Host},
		{"native action under act: the job container is the host", map[string]string{"ACT": "true", "HOME": "/root", "GITHUB_WORKSPACE": ws, inputs.EnvNativeAction.Name: "true"}, true, []string{ws}, Host},
		{"native action, HOME /", map[string]string{"HOME": "/", "GITHUB_WORKSPACE": ws, inputs.EnvNativeAction.Name: "true"}, true, []string{ws}, Host},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fakeMounts(t, tt.dockerenv, tt.mounts...)
			if got := detectLayout(func(k string) string { return tt.env[k] }); got != tt.want {
				t.Errorf("layout = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestDetectLayoutOffLinux: a Windows runner gives a node action's step no
// HOME (docker's home there is %USERPROFILE%), which on Linux is a sign of
// act's job container; off Linux no step runs in a container, so the
// login goes to the user's own docker config, never refused as one that
// would vanish with a container.
func TestDetectLayoutOffLinux(t *testing.T) {
	windows := map[string]string{"USERPROFILE": `C:\Users\runneradmin`, "GITHUB_WORKSPACE": `D:\a\repo\repo`, "RUNNER_TEMP": `D:\a\_temp`}
	mac := map[string]string{"HOME": "/Users/runner", "GITHUB_WORKSPACE": "/Users/runner/work/repo/repo"}
	tests := []struct {
		goos string
		env  map[string]string
		want Layout
	}{
		{"windows", windows, Host},
		{"darwin", mac, Host},
		{"darwin", map[string]string{"GITHUB_WORKSPACE": "/Users/runner/work/repo/repo"}, Host},
		{"linux", windows, Alone}, // the same variables on Linux: a container sharing nothing
		{"linux", mac, Host},
	}
	for _, tt := range tests {
		t.Run(tt.goos, func(t *testing.T) {
			fakeMounts(t, true)
			old := hostOS
			hostOS = tt.goos
			t.Cleanup(func() { hostOS = old })
			if got := detectLayout(func(k string) string { return tt.env[k] }); got != tt.want {
				t.Errorf("layout on %s = %d, want %d", tt.goos, got, tt.want)
			}
		})
	}
}

func TestContainerDockerConfig(t *testing.T) {
	ws := "/home/me/work/repo"
	act := map[string]string{"ACT": "true", "GITHUB_WORKSPACE": ws}
	tests := []struct {
		name    string
		env     map[string]string
		mounts  []string
		setting string
		wantDir string // "" with wantErr
		wantErr string
	}{
		{"act default: the shared workspace", act, []string{ws}, "", ws + "/" + ActDockerConfigDir, ""},
		{"act, setting inside the workspace", act, []string{ws}, "ci/docker", ws + "/ci/docker", ""},
		{"act, DOCKER_CONFIG inside the workspace", merge(act, map[string]string{"DOCKER_CONFIG": ws + "/d"}), []string{ws}, "", ws + "/d", ""},
		{"act, job DOCKER_CONFIG elsewhere", merge(act, map[string]string{"DOCKER_CONFIG": "/root/.docker"}), []string{ws}, "", "", "environment variable DOCKER_CONFIG"},
		{"act, setting outside", act, []string{ws}, "/tmp/docker", "", "docker-config"},
		{"act, the workspace itself", act, []string{ws}, ws, "", "docker-config"},
		{"a container sharing nothing", act, nil, "", "", "docker-login"},
		{"host: untouched", map[string]string{"HOME": "/home/me"}, nil, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fakeMounts(t, true, tt.mounts...)
			cfg := &inputs.Config{DockerConfig: tt.setting}
			r := &Runner{Layout: detectLayout(func(k string) string { return tt.env[k] }), workspace: tt.env["GITHUB_WORKSPACE"], dockerConfig: tt.env["DOCKER_CONFIG"]}
			dir, err := r.containerDockerConfig(cfg)
			if err == nil {
				cfg.DockerConfig = dir
			}
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case tt.wantDir != "" && cfg.DockerConfig != tt.wantDir:
				t.Errorf("docker config = %q, want %q", cfg.DockerConfig, tt.wantDir)
			case tt.wantDir == "" && cfg.DockerConfig != tt.setting:
				t.Errorf("docker config changed to %q", cfg.DockerConfig)
			}
		})
	}
}

func TestCheckContainerAuthFile(t *testing.T) {
	const ws = "/home/me/work/repo"
	// env nil is act's (ACT, GITHUB_WORKSPACE); shared: the workspace is a mount.
	tests := []struct {
		name, path string
		shared     bool
		env        map[string]string
		wantErr    []string // nil: accepted
	}{
		{"act, inside the workspace", ws + "/.containers/auth.json", true, nil, nil},
		{"act, outside the workspace", "/run/containers/0/auth.json", true, nil, []string{`input "registry-auth-file"`, "not inside the workspace " + ws, ws + "/.containers/auth.json"}},
		{"act, a sibling named like the workspace", ws + "2/auth.json", true, nil, []string{`input "registry-auth-file"`, "not inside the workspace"}},
		{"a container sharing nothing", ws + "/auth.json", false, nil, []string{`input "registry-auth-file"`, "shares no directory"}},
		{"host: any path", "/tmp/auth.json", false, map[string]string{"HOME": "/home/me", "GITHUB_WORKSPACE": ws}, nil},
		{"github runner: checked after writing", "/tmp/auth.json", false, map[string]string{"HOME": "/github/home", "GITHUB_WORKSPACE": "/github/workspace"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.env
			if env == nil {
				env = map[string]string{"ACT": "true", "GITHUB_WORKSPACE": ws}
			}
			var mounts []string
			if tt.shared {
				mounts = []string{ws}
			}
			fakeMounts(t, true, mounts...)
			cfg := &inputs.Config{Mode: inputs.GitHub, RegistryAuthFile: tt.path}
			r, err := Detect(Input{Getenv: func(k string) string { return env[k] }})
			if err != nil {
				t.Fatal(err)
			}
			err = r.CheckAuthFile(tt.path, cfg.Describe(inputs.RegistryAuthFile))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("%s accepted, want an error naming %q", tt.path, tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v, want it to name %q", err, want)
				}
			}
		})
	}
}
