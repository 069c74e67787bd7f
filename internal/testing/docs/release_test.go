package docs

// The release form of action.yml. On main, action.yml builds the image from
// the Dockerfile (DefaultRuns). A release runs the prebuilt image instead,
// and the native action's data (native/checksums.json) gets the SHA-256
// sums of the release's archives; .github/workflows/release.yml switches
// both, after GoReleaser has built the archives into dist/, with
//
//	go test ./internal/testing/docs -run '^TestReleaseAction$' -release-image=ghcr.io/OWNER/NAME:v1.2.3 \
//	  -release-dist=dist -release-repository=OWNER/NAME -update
//
// and checks the result by running the same without -update. The -run
// pattern matters: without it, TestActionYAMLUpToDate would write (or
// expect) the Dockerfile form in the same run.

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"go.yaml.in/yaml/v3"
)

var releaseImage = flag.String("release-image", "",
	"prebuilt image of a release, e.g. ghcr.io/OWNER/NAME:v1.2.3: with -update, "+
		"TestReleaseAction writes action.yml in the release form; without, it checks action.yml is in that form")

var releaseDist = flag.String("release-dist", "",
	"with -release-image: GoReleaser's dist directory of the release, from whose checksums.txt and archives "+
		"TestReleaseAction writes (with -update) or checks native/checksums.json")

var releaseRepository = flag.String("release-repository", "",
	"with -release-image: OWNER/NAME of the repository whose GitHub release holds the archives")

// sampleReleaseImage stands for a release when no -release-image is given.
const sampleReleaseImage = "ghcr.io/ecr-credentials/ecr-credentials:v1.2.3"

// releaseRuns is the runs: section of a release's action.yml: the same as
// DefaultRuns, but the image is the prebuilt one. ref is the image
// reference with an explicit tag and/or digest, with or without docker://.
func releaseRuns(ref string) (Runs, error) {
	ref = strings.TrimPrefix(ref, "docker://")
	if ref == "" {
		return Runs{}, errors.New("release image: empty; give the pushed image, e.g. ghcr.io/OWNER/NAME:v1.2.3")
	}
	// StrictValidation: no implied registry (docker.io) and no implied
	// :latest, so the reference is exactly what the release pushed.
	parsed, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		return Runs{}, fmt.Errorf("release image %q: want REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@DIGEST, the repository in lower case (e.g. ghcr.io/owner/name:v1.2.3): %w", ref, err)
	}
	if tag, ok := parsed.(name.Tag); ok && tag.TagStr() == "latest" {
		return Runs{}, fmt.Errorf("release image %q: :latest moves; use the release's version tag", ref)
	}
	r := DefaultRuns
	r.Args = append([]string(nil), DefaultRuns.Args...)
	r.Image = "docker://" + ref
	return r, nil
}

func TestReleaseAction(t *testing.T) {
	ref := *releaseImage
	if ref == "" {
		ref = sampleReleaseImage
	}
	runs, err := releaseRuns(ref)
	if err != nil {
		t.Fatal(err)
	}
	release, err := ActionYAML(runs)
	if err != nil {
		t.Fatal(err)
	}

	if *releaseImage != "" {
		native := releaseNativeData(t, ref)
		if *update {
			if err := os.WriteFile(repoFile("action.yml"), release, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(repoFile("native/checksums.json"), native, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("action.yml now runs %s; native/checksums.json has the checksums of %s", runs.Image, *releaseDist)
			return
		}
		for file, want := range map[string][]byte{"action.yml": release, "native/checksums.json": native} {
			got, err := os.ReadFile(repoFile(file))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s is not the release form for %s; run: go test ./internal/testing/docs -run '^TestReleaseAction$' -release-image=%s -release-dist=%s -release-repository=%s -update",
					file, runs.Image, ref, *releaseDist, *releaseRepository)
			}
		}
		return
	}

	// No image given: check the release form against the Dockerfile form.
	dev, err := ActionYAML(DefaultRuns)
	if err != nil {
		t.Fatal(err)
	}
	checkOnlyImageDiffers(t, dev, release, runs.Image)
}

// releaseNativeData is native/checksums.json of the release whose image is
// ref (its tag is the version) from -release-dist and -release-repository.
func releaseNativeData(t *testing.T, ref string) []byte {
	t.Helper()
	if *releaseDist == "" || *releaseRepository == "" {
		t.Fatal("-release-image needs -release-dist (GoReleaser's dist directory) and -release-repository (OWNER/NAME) for native/checksums.json")
	}
	parsed, err := name.ParseReference(strings.TrimPrefix(ref, "docker://"), name.StrictValidation)
	if err != nil {
		t.Fatal(err)
	}
	tag, ok := parsed.(name.Tag)
	if !ok {
		t.Fatalf("release image %q: the native action needs the version: give the image by its version tag", ref)
	}
	dist := *releaseDist
	if !filepath.IsAbs(dist) {
		dist = repoFile(dist) // relative to the repository's root, not this package
	}
	d, err := NativeDataFromDist(dist, tag.TagStr(), *releaseRepository)
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Render()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkOnlyImageDiffers checks that the two forms of action.yml differ in
// runs.image only, as YAML and as text (one line), so that switching cannot
// change an input, an output, the args or the post step.
func checkOnlyImageDiffers(t *testing.T, dev, release []byte, wantImage string) {
	t.Helper()
	var d, r map[string]any
	if err := yaml.Unmarshal(dev, &d); err != nil {
		t.Fatalf("Dockerfile form is not YAML: %v", err)
	}
	if err := yaml.Unmarshal(release, &r); err != nil {
		t.Fatalf("release form is not YAML: %v", err)
	}
	dRuns, _ := d["runs"].(map[string]any)
	rRuns, _ := r["runs"].(map[string]any)
	if dRuns == nil || rRuns == nil {
		t.Fatalf("runs missing: Dockerfile form %v, release form %v", d["runs"], r["runs"])
	}
	if dRuns["image"] != "Dockerfile" {
		t.Errorf("Dockerfile form: runs.image = %v, want Dockerfile", dRuns["image"])
	}
	if rRuns["image"] != wantImage {
		t.Errorf("release form: runs.image = %v, want %s", rRuns["image"], wantImage)
	}
	dRuns["image"], rRuns["image"] = nil, nil
	if !reflect.DeepEqual(d, r) {
		t.Errorf("the forms differ beyond runs.image:\nDockerfile form:\n%s\nrelease form:\n%s", dev, release)
	}

	dl, rl := strings.Split(string(dev), "\n"), strings.Split(string(release), "\n")
	if len(dl) != len(rl) {
		t.Fatalf("line counts differ: %d and %d", len(dl), len(rl))
	}
	var changed []string
	for i := range dl {
		if dl[i] != rl[i] {
			changed = append(changed, fmt.Sprintf("%q -> %q", dl[i], rl[i]))
		}
	}
	if want := fmt.Sprintf("%q -> %q", "  image: Dockerfile", "  image: "+wantImage); len(changed) != 1 || changed[0] != want {
		t.Errorf("changed lines = %v, want only %s", changed, want)
	}
}

func TestReleaseRunsImageReference(t *testing.T) {
	tests := []struct {
		ref     string
		want    string // runs.image; "" when ref must be refused
		errPart string
	}{
		{ref: "ghcr.io/ecr-credentials/ecr-credentials:v1.2.3", want: "docker://ghcr.io/ecr-credentials/ecr-credentials:v1.2.3"},
		{ref: "docker://ghcr.io/acme/ecr-credentials:v2.0.0-rc.1", want: "docker://ghcr.io/acme/ecr-credentials:v2.0.0-rc.1"},
		{ref: "ghcr.io/acme/ecr-credentials@sha256:" + strings.Repeat("ab", 32), want: "docker://ghcr.io/acme/ecr-credentials@sha256:" + strings.Repeat("ab", 32)},
		{ref: "localhost:5000/ecr-credentials:v1", want: "docker://localhost:5000/ecr-credentials:v1"},
		{ref: "", errPart: "empty"},
		{ref: "docker://", errPart: "empty"},
		{ref: "ghcr.io/acme/ecr-credentials", errPart: "want REGISTRY/REPOSITORY:TAG"},
		{ref: "ghcr.io/Acme/ecr-credentials:v1.2.3", errPart: "want REGISTRY/REPOSITORY:TAG"},
		{ref: "ghcr.io/acme/ecr-credentials:latest", errPart: ":latest moves"},
		{ref: "ghcr.io/acme/ecr-credentials:v1 2", errPart: "want REGISTRY/REPOSITORY:TAG"},
		{ref: "Dockerfile", errPart: "want REGISTRY/REPOSITORY:TAG"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			runs, err := releaseRuns(tt.ref)
			if tt.want == "" {
				if err == nil || !strings.Contains(err.Error(), tt.errPart) {
					t.Fatalf("releaseRuns(%q) = %+v, %v; want an error containing %q", tt.ref, runs, err, tt.errPart)
				}
				return
			}
			if err != nil {
				t.Fatalf("releaseRuns(%q): %v", tt.ref, err)
			}
			if runs.Image != tt.want {
				t.Errorf("image = %q, want %q", runs.Image, tt.want)
			}
			if !reflect.DeepEqual(runs.Args, DefaultRuns.Args) || runs.PostEntrypoint != DefaultRuns.PostEntrypoint {
				t.Errorf("args/post-entrypoint = %v %q, want those of DefaultRuns %v %q", runs.Args, runs.PostEntrypoint, DefaultRuns.Args, DefaultRuns.PostEntrypoint)
			}
		})
	}
}
