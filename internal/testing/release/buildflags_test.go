package release

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestBuildFlagsAgree: the release binaries are compiled with the
// Dockerfile's -gcflags, so the image and the archives hold the same
// program (and the benchmark, which reads them from the Dockerfile,
// measures it).
func TestBuildFlagsAgree(t *testing.T) {
	r := root(t)
	var docker []string
	for _, f := range regexp.MustCompile(`-gcflags=(\S+)`).FindAllStringSubmatch(string(read(t, filepath.Join(r, "Dockerfile"))), -1) {
		docker = append(docker, f[1])
	}
	if len(docker) == 0 {
		t.Fatal("the Dockerfile's go build has no -gcflags")
	}
	var cfg struct {
		Builds []struct {
			ID      string   `yaml:"id"`
			GCFlags []string `yaml:"gcflags"`
		} `yaml:"builds"`
	}
	if err := yaml.Unmarshal(read(t, filepath.Join(r, ".goreleaser.yaml")), &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Builds) == 0 {
		t.Fatal(".goreleaser.yaml has no builds")
	}
	for _, b := range cfg.Builds {
		if !slices.Equal(b.GCFlags, docker) {
			t.Errorf(".goreleaser.yaml build %s has gcflags [%s], the Dockerfile [%s]", b.ID, strings.Join(b.GCFlags, ", "), strings.Join(docker, ", "))
		}
	}
}
