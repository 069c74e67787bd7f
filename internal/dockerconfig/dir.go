package dockerconfig

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
)

// ConfigFileName is the name of docker's client configuration file inside
// the configuration directory.
const ConfigFileName = "config.json"

// AuthFileName is the usual name of the containers registry auth file
// (containers-auth.json(5)) that podman, buildah and skopeo read.
const AuthFileName = "auth.json"

// Dir returns docker's client configuration directory the way the docker
// CLI finds it: $DOCKER_CONFIG if set, else <home>/.docker, where home is
// $HOME, or on Windows %USERPROFILE% (what the docker CLI's
// os.UserHomeDir reads there: C:\Users\<user>\.docker). getenv is usually
// os.Getenv. The result is an absolute path.
func Dir(getenv func(string) string) (string, error) {
	if getenv == nil {
		return "", errors.New("dockerconfig.Dir: getenv is nil")
	}
	dir, err := dirFor(runtime.GOOS, getenv)
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("docker config directory %q: %w", dir, err)
	}
	return abs, nil
}

// HomeVar is the variable that names the user's home directory on goos,
// the one docker's default configuration directory is in.
func HomeVar(goos string) string {
	if goos == "windows" {
		return "USERPROFILE"
	}
	return "HOME"
}

// dirFor is Dir's choice for goos, before the path is made absolute: the
// rules of each system, testable on any.
func dirFor(goos string, getenv func(string) string) (string, error) {
	if d := strings.TrimSpace(getenv("DOCKER_CONFIG")); d != "" {
		return d, nil
	}
	home := HomeVar(goos)
	if h := strings.TrimSpace(getenv(home)); h != "" {
		return joinFor(goos, h, ".docker"), nil
	}
	return "", fmt.Errorf("cannot locate the docker config directory: neither DOCKER_CONFIG nor %s is set; "+
		"set DOCKER_CONFIG to the directory where docker should find config.json", home)
}

// joinFor joins dir and name with goos's separator (on Windows, after
// either slash), as filepath.Join does on goos, without cleaning dir (Dir
// makes the result absolute, which cleans it, on the system it runs on).
func joinFor(goos, dir, name string) string {
	if goos == "windows" {
		return strings.TrimRight(dir, `\/`) + `\` + name
	}
	return strings.TrimRight(dir, "/") + "/" + name
}
