package engines

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/imagetest"
)

// pipelineValues fill in testdata/<engine>/pipeline.yml.
type pipelineValues struct {
	Image, StepImage string
	Site, ResolvConf string
	KeyID, Secret    string
	Workspace, Tag   string
}

// writePipeline renders testdata/<engine>/pipeline.yml into dir/name.
func writePipeline(t *testing.T, engineDir, dir, name string, v pipelineValues) string {
	t.Helper()
	tmpl, err := template.ParseFiles(filepath.Join("testdata", engineDir, "pipeline.yml"))
	must(t, err)
	var b bytes.Buffer
	must(t, tmpl.Execute(&b, v))
	p := filepath.Join(dir, name)
	must(t, os.WriteFile(p, b.Bytes(), 0o600))
	return p
}

// assertPluginRun checks what a plugin pipeline left: the session named
// for the CI, no secret in the log, the later step's push in the registry
// and the password it loaded from ecr.env.
func assertPluginRun(t *testing.T, f *fixture, ci, log, image string) {
	t.Helper()
	f.assertNoSecret(t, ci+"'s log", log)
	sum := sha256.Sum256([]byte(f.password))
	for _, want := range []string{
		"as a " + ci + " plugin",
		"; session " + ci + "-23)",
		"Docker login written to ",
		"later step ECR_REGISTRY=" + f.host,
		hex.EncodeToString(sum[:]), // the later step loaded the password
	} {
		if !strings.Contains(log, want) {
			t.Errorf("%s's log lacks %q:\n%s", ci, want, f.redact(log))
		}
	}
	f.assertPushed(t, image)
}

// TestWoodpecker runs testdata/woodpecker/pipeline.yml with
// `woodpecker-cli exec --backend-engine docker` (issue 13): the image as a
// plugin with settings, then a later step that loads ecr.env and pushes
// with the workspace's docker login. The workspace is the pipeline file's
// directory (exec bind-mounts it), so the test looks at it afterwards.
func TestWoodpecker(t *testing.T) {
	bin := woodpecker.binary(t)
	f := newFixture(t)
	ws := t.TempDir()
	tag := imagetest.RandomName("t")
	file := writePipeline(t, "woodpecker", ws, ".woodpecker.yml", pipelineValues{
		Image: f.image, StepImage: f.stepImage, Site: f.site, ResolvConf: f.resolvConf,
		KeyID: f.key.ID, Secret: f.key.Secret, Workspace: "/woodpecker/src", Tag: tag,
	})
	args := []string{"exec", "--backend-engine", "docker", "--repo-trusted", "--pipeline-number", "23",
		"--repo", "octo-org/octo-repo", "--prefix", imagetest.RandomName("engines-wp-")}
	for k, v := range f.stepEnv() {
		args = append(args, "--env", k+"="+v)
	}
	start := time.Now()
	stdout, stderr, code := isolated(t, ws, engineEnv(t.TempDir()), 10*time.Minute, bin, append(args, file)...)
	t.Logf("woodpecker-cli exec ran the pipeline in %s", time.Since(start).Round(100*time.Millisecond))
	log := stdout + stderr
	if code != 0 {
		t.Fatalf("woodpecker-cli exec: exit %d\n%s", code, f.redact(log))
	}
	assertPluginRun(t, f, "Woodpecker", log, f.host+"/engines/woodpecker:"+tag)
	for _, name := range []string{".docker/config.json", ".ecr-credentials/ecr.env"} {
		if fi, err := os.Stat(filepath.Join(ws, name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("workspace %s: %v (mode %v), want a 0600 file", name, err, fi)
		}
	}
}

// TestDrone runs testdata/drone/pipeline.yml with `drone-runner-docker
// exec` (issue 13), clone disabled: the image as a plugin with settings,
// then a later step that loads ecr.env and pushes with the workspace's
// docker login.
func TestDrone(t *testing.T) {
	bin := drone.binary(t)
	f := newFixture(t)
	dir := t.TempDir()
	tag := imagetest.RandomName("t")
	writePipeline(t, "drone", dir, ".drone.yml", pipelineValues{
		Image: f.image, StepImage: f.stepImage, Site: f.site, ResolvConf: f.resolvConf,
		KeyID: f.key.ID, Secret: f.key.Secret, Workspace: "/drone/src", Tag: tag,
	})
	args := []string{"exec", "--repo-trusted", "--build-number", "23", "--repo-namespace", "octo-org", "--stage-name", "ecr"}
	for k, v := range f.stepEnv() {
		args = append(args, "--environ", k+"="+v)
	}
	start := time.Now()
	stdout, stderr, code := isolated(t, dir, engineEnv(t.TempDir()), 10*time.Minute, bin, append(args, ".drone.yml")...)
	t.Logf("drone-runner-docker exec ran the pipeline in %s", time.Since(start).Round(100*time.Millisecond))
	log := stdout + stderr
	if code != 0 {
		t.Fatalf("drone-runner-docker exec: exit %d\n%s", code, f.redact(log))
	}
	assertPluginRun(t, f, "Drone", log, f.host+"/engines/drone:"+tag)
}
