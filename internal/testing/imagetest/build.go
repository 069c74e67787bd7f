package imagetest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// The build arguments of the image under test. They are fixed, so that an
// unchanged source tree hits the build cache.
const (
	imageRepo    = "ecr-credentials-imagetest"
	buildVersion = "v0.0.0-imagetest"
	buildCommit  = "1234567890abcdef1234567890abcdef12345678"
	buildDate    = "2000-01-02T03:04:05Z"
)

var built struct {
	sync.Mutex
	ref       string
	attempted bool
}

// builtImage builds the repository's Dockerfile once per test process, the
// way the runner builds `image: Dockerfile` (`docker build -t TAG -f
// Dockerfile DIR`), plus --network none and the Go base image from goImage
// as GO_IMAGE; BASE_IMAGE stays scratch. The image is removed when the
// package's tests end (see TestMain).
func builtImage(t testing.TB) string {
	t.Helper()
	requireDocker(t)
	built.Lock()
	defer built.Unlock()
	if built.ref != "" {
		return built.ref
	}
	if built.attempted {
		t.Fatal("building the image failed in an earlier test (see its log)")
	}
	built.attempted = true

	unlock := flock(t, "ecr-credentials-imagetest.lock")
	defer unlock()
	goImg := goImage(t)
	root := testenv.ModuleRoot(t)
	ref := imageRepo + ":" + randomName("build-")
	start := time.Now()
	res := run(t, requireDocker(t), []string{"build",
		"--network", "none",
		"--build-arg", "GO_IMAGE=" + goImg,
		"--build-arg", "VERSION=" + buildVersion,
		"--build-arg", "COMMIT=" + buildCommit,
		"--build-arg", "DATE=" + buildDate,
		"-t", ref, "-f", filepath.Join(root, "Dockerfile"), root,
	}, cmdOpts{
		// This engine has no BuildKit; say so rather than let the CLI guess.
		env:     append(os.Environ(), "DOCKER_BUILDKIT=0"),
		timeout: 8 * time.Minute,
	})
	if res.code != 0 {
		t.Fatalf("docker build of the Dockerfile with GO_IMAGE=%s: %s", goImg, res)
	}
	built.ref = ref
	t.Logf("built %s in %s", ref, time.Since(start).Round(100*time.Millisecond))
	// Keep this build's steps as the cache of the next build; remove the
	// steps of earlier builds from other sources.
	keep := map[string]bool{}
	for _, m := range buildStepID.FindAllStringSubmatch(res.stdout, -1) {
		keep[m[1]] = true
	}
	pruneBuildCache(t, goImg, keep)
	return ref
}

// buildStepID matches the legacy builder's " ---> 0123456789ab" lines,
// which name the image each step produced.
var buildStepID = regexp.MustCompile(`(?m)^ ---> ([0-9a-f]{12})\s*$`)

// removeBuiltImage removes the image builtImage made, if any.
func removeBuiltImage() {
	built.Lock()
	defer built.Unlock()
	if built.ref != "" {
		dockerQuiet("rmi", built.ref)
		built.ref = ""
	}
}

// pruneBuildCache removes the untagged images built on top of root (the
// intermediate images the legacy builder keeps as its cache) except those
// whose short IDs are in keep. Only images descending from root, which
// only these tests use, are touched.
func pruneBuildCache(t testing.TB, root string, keep map[string]bool) {
	t.Helper()
	rootID := strings.TrimSpace(docker(t, "image", "inspect", "--format", "{{.Id}}", root))
	seen := map[string]bool{}
	var ids []string
	for _, id := range strings.Fields(docker(t, "image", "ls", "--all", "--quiet", "--no-trunc")) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return
	}
	type image struct {
		parent string
		tagged bool
	}
	images := map[string]image{}
	children := map[string][]string{}
	// Another process may remove an image between the listing and this
	// inspection; pruning is housekeeping, so give up quietly then.
	res := run(t, requireDocker(t), append([]string{"image", "inspect", "--format", "{{.Id}} {{.Parent}}. {{len .RepoTags}}"}, ids...), cmdOpts{})
	if res.code != 0 {
		t.Logf("not pruning the build cache: docker image inspect: %s", res)
		return
	}
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		var id, parent string
		var tags int
		if _, err := fmt.Sscanf(line, "%s %s %d", &id, &parent, &tags); err != nil {
			t.Logf("not pruning the build cache: docker image inspect printed %q: %v", line, err)
			return
		}
		parent = strings.TrimSuffix(parent, ".")
		images[id] = image{parent: parent, tagged: tags > 0}
		if parent != "" {
			children[parent] = append(children[parent], id)
		}
	}
	short := func(id string) string {
		id = strings.TrimPrefix(id, "sha256:")
		if len(id) > 12 {
			id = id[:12]
		}
		return id
	}
	var stale []string
	queue := append([]string(nil), children[rootID]...)
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		queue = append(queue, children[id]...)
		if len(children[id]) == 0 && !images[id].tagged && !keep[short(id)] {
			stale = append(stale, id)
		}
	}
	for _, id := range stale {
		// Removing a leaf also removes its untagged parents that have no
		// other children; a kept chain's steps therefore stay.
		dockerQuiet("rmi", id)
	}
	if len(stale) > 0 {
		t.Logf("removed %d stale build cache chain(s) on top of %s", len(stale), root)
	}
}

// removeImageAndBuildCache removes an old Go image and every build cache
// image made from it.
func removeImageAndBuildCache(t testing.TB, ref string) {
	t.Helper()
	pruneBuildCache(t, ref, nil)
	dockerQuiet("rmi", ref)
}
