package dockerconfig

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// ConfigFileName is the name of docker's client configuration file inside
// the configuration directory.
const ConfigFileName = "config.json"

// AuthFileName is the usual name of the containers registry auth file
// (containers-auth.json(5)) that podman, buildah and skopeo read.
const AuthFileName = "auth.json"

// Dir returns docker's client configuration directory the way the docker
// CLI finds it: $DOCKER_CONFIG if set, else $HOME/.docker. getenv is
// usually os.Getenv. The result is an absolute path.
func Dir(getenv func(string) string) (string, error) {
	if getenv == nil {
		return "", errors.New("dockerconfig.Dir: getenv is nil")
	}
	var dir string
	if d := strings.TrimSpace(getenv("DOCKER_CONFIG")); d != "" {
		dir = d
	} else if h := strings.TrimSpace(getenv("HOME")); h != "" {
		dir = filepath.Join(h, ".docker")
	} else {
		return "", errors.New("cannot locate the docker config directory: neither DOCKER_CONFIG nor HOME is set; " +
			"set DOCKER_CONFIG to the directory where docker should find config.json")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("docker config directory %q: %w", dir, err)
	}
	return abs, nil
}
