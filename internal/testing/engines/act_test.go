package engines

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/imagetest"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// actionYAML is the repository's action.yml with the image under test in
// place of `image: Dockerfile` (act builds a Dockerfile with no build
// arguments, so it would pull the default base images): the same inputs,
// defaults, args and post-entrypoint.
func actionYAML(t *testing.T, image string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.ModuleRoot(t), "action.yml"))
	must(t, err)
	const from = "\n  image: Dockerfile\n"
	if !strings.Contains(string(data), from) {
		t.Fatalf("action.yml has no %q line to point at the built image", strings.TrimSpace(from))
	}
	return []byte(strings.Replace(string(data), from, "\n  image: docker://"+image+"\n", 1))
}

// TestAct runs testdata/act/ecr.yml with nektos/act (issue 13), with the
// workspace bind-mounted (--bind: the host directory itself, so the test
// looks at it afterwards) and in a volume (act's default: the checkout
// step copies the directory in), on a job image made locally, with
// secrets and the emulator's endpoints given as act gives them. The
// action must write its login where the later step finds it (the
// workspace; act has no /github/home), export DOCKER_CONFIG, mask the
// password in act's log, and its post step, which act gives no saved
// state, must still remove the login.
func TestAct(t *testing.T) {
	bin := act.binary(t)
	f := newFixture(t)
	for _, bind := range []bool{true, false} {
		name := map[bool]string{true: "bind", false: "volume"}[bind]
		t.Run(name, func(t *testing.T) { runAct(t, f, bin, bind) })
	}
}

func runAct(t *testing.T, f *fixture, bin string, bind bool) {
	repo := actWorkflowRepo(t, "ecr.yml", "ecr-credentials-engines")
	must(t, os.MkdirAll(filepath.Join(repo, "action"), 0o755))
	must(t, os.WriteFile(filepath.Join(repo, "action", "action.yml"), actionYAML(t, f.image), 0o644))
	gitStub(t, repo)

	tag := imagetest.RandomName("t")
	env := f.stepEnv()
	env["PUSH_TAG"] = tag
	envFile := filepath.Join(t.TempDir(), "env")
	secretFile := filepath.Join(t.TempDir(), "secrets")
	must(t, os.WriteFile(envFile, []byte(dotenvLines(env)), 0o600))
	must(t, os.WriteFile(secretFile, []byte(dotenvLines(map[string]string{
		"AWS_ACCESS_KEY_ID": f.key.ID, "AWS_SECRET_ACCESS_KEY": f.key.Secret,
	})), 0o600))
	home := t.TempDir()
	// Without a config file act asks which default image to use.
	must(t, os.WriteFile(filepath.Join(home, ".actrc"), []byte("-P ubuntu-latest="+f.stepImage+"\n"), 0o644))

	args := []string{"push", "-W", filepath.Join(repo, ".github", "workflows", "ecr.yml"),
		"-P", "ubuntu-latest=" + f.stepImage, "--pull=false", "--network", "host",
		"--no-cache-server", "--env-file", envFile, "--secret-file", secretFile,
		"--container-options", "-v " + f.site + ":" + siteDir + ":ro -v " + f.resolvConf + ":/etc/resolv.conf:ro"}
	if bind {
		args = append(args, "--bind")
	}
	start := time.Now()
	stdout, stderr, code := isolated(t, repo, engineEnv(home), 10*time.Minute, bin, args...)
	t.Logf("act ran the workflow in %s", time.Since(start).Round(100*time.Millisecond))
	log := stdout + stderr
	if code != 0 {
		t.Fatalf("act: exit %d\n%s", code, f.redact(log))
	}
	f.assertNoSecret(t, "act's log", log)

	dockerConfig := filepath.Join(repo, ".ecr-credentials-docker")
	for _, want := range []string{
		"Docker login written to " + filepath.Join(dockerConfig, "config.json"),
		"exported DOCKER_CONFIG=" + dockerConfig + " ",
		"later step DOCKER_CONFIG=" + dockerConfig,
		"registry output=" + f.host,
		"password output=***",
		"No saved step state",
		"Removed the docker login for " + f.host + " from " + filepath.Join(dockerConfig, "config.json"),
	} {
		if !strings.Contains(log, want) {
			t.Errorf("act's log lacks %q:\n%s", want, f.redact(log))
		}
	}
	f.assertPushed(t, f.host+"/engines/act:"+tag)
	if bind {
		// The post step removed the login, the receipt and the backup.
		if left := listDir(t, dockerConfig); len(left) != 0 {
			t.Errorf("after the post step %s still holds %q", dockerConfig, left)
		}
	}
}

// engineEnv is the environment an engine runs with: the host's PATH and
// docker settings, HOME as given, nothing else of this process.
func engineEnv(home string) []string {
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
	for _, k := range []string{"DOCKER_HOST", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY"} {
		if v := os.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// dotenvLines renders env as sorted KEY=VALUE lines.
func dotenvLines(env map[string]string) string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + env[k] + "\n")
	}
	return b.String()
}

// listDir names what dir holds ("" entries for a missing dir: none).
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	must(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// gitStub makes dir an empty git repository on branch main, by hand (no
// git needed), so that act finds the ref and revision it reports.
func gitStub(t *testing.T, dir string) {
	t.Helper()
	g := filepath.Join(dir, ".git")
	for _, d := range []string{"objects", "refs/heads", "refs/tags"} {
		must(t, os.MkdirAll(filepath.Join(g, d), 0o755))
	}
	must(t, os.WriteFile(filepath.Join(g, "HEAD"), []byte("ref: refs/heads/main\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(g, "config"), []byte("[core]\n\trepositoryformatversion = 0\n\tbare = false\n"), 0o644))
}

// actWorkflowRepo makes a repository for act whose workflow is
// testdata/act/<file>, its `name: <name>` made unique: act names its
// containers after the workflow and job, so a unique name keeps
// concurrent test runs on one engine apart.
func actWorkflowRepo(t *testing.T, file, name string) string {
	t.Helper()
	repo := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(repo, ".github", "workflows"), 0o755))
	wf, err := os.ReadFile(filepath.Join("testdata", "act", file))
	must(t, err)
	line := "\nname: " + name + "\n"
	if !strings.Contains(string(wf), line) {
		t.Fatalf("testdata/act/%s lacks %q", file, strings.TrimSpace(line))
	}
	wf = []byte(strings.Replace(string(wf), line, "\nname: "+imagetest.RandomName(name+"-")+"\n", 1))
	must(t, os.WriteFile(filepath.Join(repo, ".github", "workflows", file), wf, 0o644))
	return repo
}
