package engines

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/imagetest"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/snapshot"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

const (
	modulePath = "github.com/ecr-credentials/ecr-credentials"
	// jobHome is the job user's home in the node job image (its
	// /etc/passwd), which the test mounts from a host directory.
	jobHome = "/root"
	// actToolCache is the docker volume act mounts at /opt/hostedtoolcache
	// (RUNNER_TOOL_CACHE) in every job container of the machine, kept
	// between runs (act pkg/runner/run_context.go GetBindsAndMounts).
	actToolCache = "act-toolcache"
)

// earlierConfig is the job's docker config.json before the native step: an
// earlier step's login to another registry, in docker's own formatting,
// which the post step must give back byte for byte.
const earlierConfig = "{\n\t\"auths\": {\n\t\t\"ghcr.io\": {\n\t\t\t\"auth\": \"b2N0bzpnaHBfZWFybGllcg==\"\n\t\t}\n\t}\n}\n"

// TestActNative runs testdata/act/native.yml with nektos/act (issue 23):
// the native form of the action (native/action.yml, runs.using node24,
// which act v0.2.89 runs with the `node` of the job container: see
// pkg/runner/action.go runActionImpl and run_context.go
// GetNodeToolFullPath) in a job image holding the host's node, its shared
// libraries, busybox and crane. The launcher fetches the binary from a
// snapshot release served on loopback (ECR_CREDENTIALS_DOWNLOAD_URL, with a
// checksums.json written for that release), checks it and keeps it in the
// job's tool cache; the binary logs in in the job's own
// ~/.docker/config.json, beside an earlier login; a later step pushes with
// that file; act runs the post step, which the launcher gives the binary's
// STATE_* and which restores config.json byte for byte.
//
// act's tool cache is one docker volume for every act run on the machine:
// each test run makes a release of a version of its own, so that the
// launcher finds no binary of another run there, and removes that
// version's directory from the volume at the end.
func TestActNative(t *testing.T) {
	bin := act.binary(t)
	f := newAccount(t)
	rel := newSnapshotRelease(t, imagetest.RandomName("v1.2.3-snapshot-"))
	image := nodeJobImage(t)
	cacheDir := "/opt/hostedtoolcache/ecr-credentials/" + strings.TrimPrefix(rel.Version, "v")
	t.Cleanup(func() {
		imagetest.DockerQuiet("run", "--rm", "--pull=never", "--network", "none", "-v", actToolCache+":/opt/hostedtoolcache", image,
			"sh", "-c", `rm -rf "$0"; rmdir /opt/hostedtoolcache/ecr-credentials 2>/dev/null; true`, cacheDir)
	})

	repo := actWorkflowRepo(t, "native.yml", "ecr-credentials-engines-native")
	must(t, rel.WriteAction(testenv.ModuleRoot(t), filepath.Join(repo, "native")))
	gitStub(t, repo)

	// The job's home, mounted from the host so that the test sees what the
	// post step left; an earlier login in its docker config.
	home := t.TempDir()
	must(t, os.Chmod(home, 0o700))
	dockerDir := filepath.Join(home, ".docker")
	must(t, os.Mkdir(dockerDir, 0o700))
	cfgPath := filepath.Join(dockerDir, "config.json")
	must(t, os.WriteFile(cfgPath, []byte(earlierConfig), 0o600))

	tag := imagetest.RandomName("t")
	env := f.stepEnv()
	env["PUSH_TAG"] = tag
	env["ECR_CREDENTIALS_DOWNLOAD_URL"] = rel.url()
	envFile := filepath.Join(t.TempDir(), "env")
	secretFile := filepath.Join(t.TempDir(), "secrets")
	must(t, os.WriteFile(envFile, []byte(dotenvLines(env)), 0o600))
	must(t, os.WriteFile(secretFile, []byte(dotenvLines(map[string]string{
		"AWS_ACCESS_KEY_ID": f.key.ID, "AWS_SECRET_ACCESS_KEY": f.key.Secret,
	})), 0o600))
	actHome := t.TempDir()
	must(t, os.WriteFile(filepath.Join(actHome, ".actrc"), []byte("-P ubuntu-latest="+image+"\n"), 0o644))

	args := []string{"push", "-W", filepath.Join(repo, ".github", "workflows", "native.yml"),
		"-P", "ubuntu-latest=" + image, "--pull=false", "--network", "host",
		"--no-cache-server", "--env-file", envFile, "--secret-file", secretFile, "--rm",
		"--container-options", "-v " + f.site + ":" + siteDir + ":ro -v " + f.resolvConf + ":/etc/resolv.conf:ro -v " + home + ":" + jobHome}
	start := time.Now()
	stdout, stderr, code := isolated(t, repo, engineEnv(actHome), 15*time.Minute, bin, args...)
	t.Logf("act ran the workflow in %s", time.Since(start).Round(100*time.Millisecond))
	log := stdout + stderr
	if code != 0 {
		t.Fatalf("act: exit %d\n%s", code, f.redact(log))
	}
	f.assertNoSecret(t, "act's log", log)

	// The launcher fetched the archive once, checked it and kept the
	// binary in act's tool cache; the binary edited the home's config in
	// place (no DOCKER_CONFIG), beside the earlier login.
	cached := cacheDir + "/" + rel.Platform.CacheArch + "/" + rel.Platform.Exe
	homeCfg := jobHome + "/.docker/config.json"
	for _, want := range []string{
		"Downloading " + rel.url() + "/" + rel.Archive,
		"verified (SHA-256 " + rel.BinarySHA256() + ") and kept in " + cached,
		"Docker login written to " + homeCfg,
		"later step DOCKER_CONFIG=(unset) HOME=" + jobHome,
		"home config holds " + f.host,
		"home config holds ghcr.io",
		"registry output=" + f.host,
		"password output=***",
		"Removed the docker login for " + f.host + " from " + homeCfg,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("act's log lacks %q:\n%s", want, f.redact(log))
		}
	}
	if got := rel.mirror.Requests(); len(got) != 1 || got[0] != "/releases/"+rel.Archive {
		t.Errorf("the release mirror was asked for %q, want only /releases/%s", got, rel.Archive)
	}
	f.assertPushed(t, f.host+"/engines/act-native:"+tag)
	// What the launcher kept in act's tool cache is the release's binary.
	sum := imagetest.Docker(t, "run", "--rm", "--pull=never", "--network", "none", "-v", actToolCache+":/opt/hostedtoolcache:ro", image, "sha256sum", cached)
	if got, _, _ := strings.Cut(strings.TrimSpace(sum), " "); got != rel.BinarySHA256() {
		t.Errorf("act's tool cache holds %s with SHA-256 %q, want the release's %s", cached, got, rel.BinarySHA256())
	}

	// After the post step: config.json as it was, and beside it nothing of
	// ours but the empty lock file every edit takes (internal/dockerconfig:
	// a flock lock file is not removed, which would race with the next).
	after, err := os.ReadFile(cfgPath)
	must(t, err)
	if string(after) != earlierConfig {
		t.Errorf("config.json after the post step:\n%s\nwant, byte for byte:\n%s", f.redact(string(after)), earlierConfig)
	}
	for _, name := range listDir(t, dockerDir) {
		switch name {
		case "config.json":
		case "config.json.lock":
			if st, err := os.Lstat(filepath.Join(dockerDir, name)); err != nil || !st.Mode().IsRegular() || st.Size() != 0 {
				t.Errorf("%s is not an empty regular file (%v)", name, err)
			}
		default:
			t.Errorf("after the post step %s holds %s", dockerDir, name)
		}
	}
}

// snapshotRelease is a snapshot release of this checkout (the host
// platform's archive holds the real binary, the others placeholders),
// served over HTTP on loopback.
type snapshotRelease struct {
	*snapshot.Release
	mirror *snapshot.Mirror
	srv    *httptest.Server
}

func newSnapshotRelease(t *testing.T, version string) *snapshotRelease {
	t.Helper()
	binary, err := os.ReadFile(testenv.BuildBinary(t, modulePath, "release"))
	must(t, err)
	s, err := snapshot.Make(t.TempDir(), version, binary, "linux", runtime.GOARCH)
	must(t, err)
	r := &snapshotRelease{Release: s, mirror: s.Mirror()}
	r.srv = httptest.NewServer(r.mirror)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *snapshotRelease) url() string { return r.srv.URL + "/releases" }

// nodeJobImage makes a job image in which act can run a node action: the
// host's node with the shared libraries ldd lists for it, busybox-static
// for the shell and the few commands the workflow's run: step uses, crane
// for the push, and an /etc/passwd naming root's home (Docker sets HOME
// from it, as in act's usual Ubuntu job images). A missing node or ldd
// fails the test under CI=true.
func nodeJobImage(t *testing.T) string {
	t.Helper()
	node := testenv.RequireTool(t, "node")
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("node --version: %v", err)
	}
	t.Logf("the job image's node is the host's, %s (act runs node24 actions with whatever node the job image has)", strings.TrimSpace(string(out)))
	passwd := filepath.Join(t.TempDir(), "passwd")
	must(t, os.WriteFile(passwd, []byte("root:x:0:0:root:"+jobHome+":/bin/sh\n"), 0o644))
	files := map[string]string{
		"bin/busybox":         imagetest.StaticBusybox(t),
		"usr/local/bin/crane": testenv.Crane(t),
		"usr/bin/node":        node,
		"etc/passwd":          passwd,
	}
	for _, lib := range sharedLibraries(t, node) {
		files[strings.TrimPrefix(lib, "/")] = lib
	}
	links := map[string]string{}
	for _, l := range []string{"sh", "cat", "grep", "ls", "env", "mkdir", "rm", "test", "tail", "sleep", "sha256sum"} {
		links["bin/"+l] = "busybox"
	}
	ref := "ecr-credentials-engines-node:" + imagetest.RandomName("t")
	imagetest.ImportImage(t, ref, files, links, "ENV PATH=/usr/local/bin:/usr/bin:/bin", `CMD ["/bin/sh"]`)
	return ref
}

// lddLine is one line of ldd's output that names a file: "libc.so.6 =>
// /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2
// (0x...)".
var lddLine = regexp.MustCompile(`^\s*(?:\S+\s+=>\s+)?(/\S+)\s+\(0x[0-9a-f]+\)\s*$`)

// sharedLibraries lists the absolute paths of the shared libraries (and
// the dynamic loader) bin needs, as ldd prints them; a library ldd cannot
// find fails the test.
func sharedLibraries(t *testing.T, bin string) []string {
	t.Helper()
	ldd := testenv.RequireTool(t, "ldd")
	out, err := exec.Command(ldd, bin).CombinedOutput()
	if err != nil {
		t.Fatalf("ldd %s: %v\n%s", bin, err, out)
	}
	var libs []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "not found") {
			t.Fatalf("ldd %s: %s", bin, strings.TrimSpace(l))
		}
		if m := lddLine.FindStringSubmatch(l); m != nil {
			libs = append(libs, m[1])
		}
	}
	if len(libs) == 0 {
		t.Fatalf("ldd %s named no libraries:\n%s", bin, out)
	}
	sort.Strings(libs)
	return libs
}
