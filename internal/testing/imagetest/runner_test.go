package imagetest

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// The user GitHub-hosted runners run jobs as ("runner", uid 1001). The fake
// runner's directories belong to it, as on a hosted runner, while container
// actions run as root.
const runnerUID, runnerGID = 1001, 1001

// action is the part of action.yml the runner reads for a container action.
type action struct {
	Inputs map[string]struct {
		Default *scalar `yaml:"default"`
	} `yaml:"inputs"`
	Runs struct {
		Using          string            `yaml:"using"`
		Image          string            `yaml:"image"`
		Args           []string          `yaml:"args"`
		Env            map[string]string `yaml:"env"`
		Entrypoint     string            `yaml:"entrypoint"`
		PreEntrypoint  string            `yaml:"pre-entrypoint"`
		PostEntrypoint string            `yaml:"post-entrypoint"`
	} `yaml:"runs"`
}

// scalar is a YAML scalar's text as written, which is what the runner
// reads for an input's default whatever YAML type it has.
type scalar struct{ Value string }

func (s *scalar) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: an input default must be a scalar", n.Line)
	}
	s.Value = n.Value
	return nil
}

func loadAction(t testing.TB) *action {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.ModuleRoot(t), "action.yml"))
	if err != nil {
		t.Fatalf("read action.yml: %v", err)
	}
	var a action
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatalf("parse action.yml: %v", err)
	}
	if a.Runs.Using != "docker" || a.Runs.Image != "Dockerfile" {
		t.Fatalf("action.yml runs %q with image %q; these tests expect a container action built from Dockerfile", a.Runs.Using, a.Runs.Image)
	}
	if a.Runs.PreEntrypoint != "" {
		t.Fatalf("action.yml has a pre-entrypoint, which these tests do not run yet")
	}
	return &a
}

var expression = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// evaluate replaces each ${{ name }} in s with values[name], as the runner
// evaluates action.yml's defaults, args and env. Anything but a plain
// context lookup the test knows fails the test, so that a change to
// action.yml cannot slip past it.
func evaluate(t testing.TB, s string, values map[string]string) string {
	t.Helper()
	return expression.ReplaceAllStringFunc(s, func(m string) string {
		name := expression.FindStringSubmatch(m)[1]
		v, ok := values[name]
		if !ok {
			t.Fatalf("action.yml uses the expression %q, which this test cannot evaluate; teach evaluate its value", m)
		}
		return v
	})
}

// pathMapping is one host directory the runner mounts into a container.
type pathMapping struct{ host, container string }

// translate is the runner's ContainerInfo.TranslateToContainerPath: the
// first mapping whose host path equals the value or is a directory prefix
// of it wins; anything else is left alone.
func translate(value string, mappings []pathMapping) string {
	for _, m := range mappings {
		if value == m.host {
			return m.container
		}
		if strings.HasPrefix(value, m.host+"/") {
			return m.container + value[len(m.host):]
		}
	}
	return value
}

// fakeRunner lays out a runner's directories as a GitHub-hosted runner
// does (work/_temp is RUNNER_TEMP), owned by the runner user.
type fakeRunner struct {
	t         *testing.T
	base      string // mode 0755, so the runner user can reach what is below
	work      string // the runner's _work directory (mounted at /__w in job containers)
	temp      string // RUNNER_TEMP
	home      string // RUNNER_TEMP/_github_home, HOME of container steps
	workflow  string // RUNNER_TEMP/_github_workflow
	fileCmds  string // RUNNER_TEMP/_runner_file_commands
	workspace string // GITHUB_WORKSPACE
	userHome  string // the runner user's own HOME, for host steps
	bundle    string // CA bundle for the emulator and the registry
}

func newFakeRunner(t *testing.T, bundle []byte) *fakeRunner {
	t.Helper()
	base, err := os.MkdirTemp("", "imagetest-runner-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	r := &fakeRunner{t: t, base: base, work: filepath.Join(base, "work")}
	r.temp = filepath.Join(r.work, "_temp")
	r.home = filepath.Join(r.temp, "_github_home")
	r.workflow = filepath.Join(r.temp, "_github_workflow")
	r.fileCmds = filepath.Join(r.temp, "_runner_file_commands")
	r.workspace = filepath.Join(r.work, "octo-repo", "octo-repo")
	r.userHome = filepath.Join(base, "home", "runner")
	for _, d := range []string{r.home, r.workflow, r.fileCmds, r.workspace, r.userHome} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r.writeFile(filepath.Join(r.workflow, "event.json"), []byte(`{"ref":"refs/heads/main","repository":{"full_name":"octo-org/octo-repo"}}`+"\n"), 0o644)
	r.writeFile(filepath.Join(r.workspace, "README.md"), []byte("checked out\n"), 0o644)
	r.bundle = filepath.Join(base, "ca-bundle.pem")
	if err := os.WriteFile(r.bundle, bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	r.chownTree(filepath.Join(base, "work"))
	r.chownTree(filepath.Join(base, "home"))
	return r
}

// writeFile writes a file owned by the runner user.
func (r *fakeRunner) writeFile(name string, data []byte, mode fs.FileMode) {
	r.t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(name, data, mode); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Chmod(name, mode); err != nil {
		r.t.Fatal(err)
	}
	r.chownTree(filepath.Dir(name))
}

func (r *fakeRunner) chownTree(dir string) {
	r.t.Helper()
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, runnerUID, runnerGID)
	})
	if err != nil {
		r.t.Fatalf("chown the runner's files: %v", err)
	}
}

// containerActionMounts are the mounts of ContainerActionHandler, in the
// order TranslateToContainerPath tries them (AddPathTranslateMapping
// inserts at the front, so the last one added comes first).
func (r *fakeRunner) containerActionMounts() []pathMapping {
	return []pathMapping{
		{r.workspace, "/github/workspace"},
		{r.fileCmds, "/github/file_commands"},
		{r.workflow, "/github/workflow"},
		{r.home, "/github/home"},
		{r.temp, "/github/runner_temp"},
	}
}

// jobContainerMounts are the mounts of a job container
// (ContainerOperationProvider.MountWellKnownDirectories) that matter here,
// in translation order: _github_workflow and _github_home are inserted
// before the work directory, which the constructor added.
func (r *fakeRunner) jobContainerMounts() []pathMapping {
	return []pathMapping{
		{r.workflow, "/github/workflow"},
		{r.home, "/github/home"},
		{r.work, "/__w"},
	}
}

// step is one step's file command files (FileCommandManager.InitializeFiles
// makes a new set for every step), by their host paths.
type step struct {
	output, env, state, summary, path string
}

func (r *fakeRunner) newStep() *step {
	r.t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		r.t.Fatal(err)
	}
	id := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
	s := &step{
		output:  filepath.Join(r.fileCmds, "set_output_"+id),
		env:     filepath.Join(r.fileCmds, "set_env_"+id),
		state:   filepath.Join(r.fileCmds, "save_state_"+id),
		summary: filepath.Join(r.fileCmds, "step_summary_"+id),
		path:    filepath.Join(r.fileCmds, "add_path_"+id),
	}
	for _, p := range []string{s.output, s.env, s.state, s.summary, s.path} {
		r.writeFile(p, nil, 0o644)
	}
	return s
}

func (s *step) read(t *testing.T, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := ghrunner.ParseFileCommands(b)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(file), err)
	}
	return kv
}

// containerBundle is where the tests mount the CA bundle in containers.
const containerBundle = "/etc/ssl/certs/imagetest-ca-bundle.pem"

// stage is one run of the action's container.
type stage struct {
	entrypoint string            // "" for the image's own (the main stage)
	inputs     map[string]string // with: values (defaults come from action.yml)
	env        map[string]string // the job's environment (emulator, STATE_*, ...)
	step       *step
}

// runAction runs the image as ContainerActionHandler and
// DockerCommandManager.DockerRun do: every input as INPUT_<NAME> (declared
// defaults filled in), the job's environment, the step's file command
// paths, HOME set to _github_home, every value translated to its container
// path, passed as `-e NAME` with the value in the docker CLI's environment;
// the runner's mounts, working directory /github/workspace, --rm, the
// post-entrypoint for the post stage, and runs.args evaluated with the
// host's values (the runner does not translate args).
//
// Test-only differences: --network host instead of the job's network, so
// the container reaches the emulator and the registry on the host's
// loopback; /etc/resolv.conf pointing at 127.0.0.1, so that any DNS lookup
// fails at once; the test CA bundle mounted and named by SSL_CERT_FILE and
// AWS_CA_BUNDLE.
func (r *fakeRunner) runAction(ref string, a *action, st stage) cmdResult {
	t := r.t
	t.Helper()
	hostCtx := map[string]string{"runner.temp": r.temp, "github.workspace": r.workspace}
	inputs := map[string]string{}
	for name, in := range a.Inputs {
		if in.Default != nil {
			inputs[name] = evaluate(t, in.Default.Value, hostCtx)
		} else {
			inputs[name] = ""
		}
	}
	for name, v := range st.inputs {
		if _, ok := a.Inputs[name]; !ok {
			t.Fatalf("input %q is not declared in action.yml", name)
		}
		inputs[name] = v
	}
	exprCtx := map[string]string{}
	for k, v := range hostCtx {
		exprCtx[k] = v
	}
	for k, v := range inputs {
		exprCtx["inputs."+k] = v
	}

	env := ghrunner.Step{Files: ghrunner.StepFiles{Output: st.step.output, Env: st.step.env, State: st.step.state, Summary: st.step.summary},
		Temp: r.temp, Inputs: inputs}.Env()
	maps.Copy(env, map[string]string{
		"GITHUB_REPOSITORY_OWNER": "octo-org",
		"GITHUB_REF":              "refs/heads/main",
		"GITHUB_SHA":              "ffac537e6cbbf934b08745a378932722df287a53",
		"GITHUB_EVENT_NAME":       "push",
		"GITHUB_EVENT_PATH":       filepath.Join(r.workflow, "event.json"),
		"GITHUB_WORKSPACE":        r.workspace,
		"GITHUB_ACTION":           "ecr",
		"RUNNER_OS":               "Linux",
		"RUNNER_ARCH":             "X64",
		"RUNNER_WORKSPACE":        filepath.Dir(r.workspace),
		"GITHUB_PATH":             st.step.path,
	})
	for k, v := range st.env {
		env[k] = v
	}
	for k, v := range a.Runs.Env {
		if _, ok := env[k]; !ok {
			env[k] = evaluate(t, v, exprCtx)
		}
	}
	env["HOME"] = r.home
	mounts := r.containerActionMounts()
	for k, v := range env {
		env[k] = translate(v, mounts)
	}
	// Test-only: trust the test CAs; never read the host's AWS files.
	env["SSL_CERT_FILE"] = containerBundle
	env["AWS_CA_BUNDLE"] = containerBundle
	env["AWS_CONFIG_FILE"] = "/nonexistent/aws-config"
	env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/aws-credentials"
	env["AWS_EC2_METADATA_DISABLED"] = "true"

	resolv := loopbackResolvConf(t, r.base)

	name := randomName("imagetest-action-")
	t.Cleanup(func() { dockerQuiet("rm", "--force", name) })
	args := []string{"run", "--name", name, "--label", containerLabel, "--workdir", "/github/workspace", "--rm"}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-e", k)
	}
	args = append(args, "-e", "GITHUB_ACTIONS=true")
	if st.entrypoint != "" {
		args = append(args, "--entrypoint", st.entrypoint)
	}
	args = append(args, "--network", "host")
	if isSocket("/var/run/docker.sock") {
		args = append(args, "-v", "/var/run/docker.sock:/var/run/docker.sock")
	}
	for i := len(mounts) - 1; i >= 0; i-- { // the runner's mount order
		args = append(args, "-v", mounts[i].host+":"+mounts[i].container)
	}
	args = append(args, "-v", resolv+":/etc/resolv.conf:ro", "-v", r.bundle+":"+containerBundle+":ro")
	args = append(args, ref)
	for _, arg := range a.Runs.Args {
		args = append(args, evaluate(t, arg, exprCtx))
	}

	// The docker CLI's own environment: the container's values, on top of
	// what the CLI needs to reach the engine.
	cliEnv := []string{"PATH=" + os.Getenv("PATH")}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		cliEnv = append(cliEnv, "DOCKER_HOST="+h)
	}
	for _, k := range keys {
		cliEnv = append(cliEnv, k+"="+env[k])
	}
	return run(t, requireDocker(t), args, cmdOpts{env: cliEnv, timeout: 3 * time.Minute, secret: true,
		onTimeout: func() { dockerQuiet("rm", "--force", name) }})
}

func isSocket(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode()&fs.ModeSocket != 0
}

// runnerUser is the credential of the runner user for host steps, with the
// docker socket's group (hosted runners' user is in the docker group).
func runnerUser(t *testing.T) *syscall.Credential {
	t.Helper()
	cred := &syscall.Credential{Uid: runnerUID, Gid: runnerGID}
	if fi, err := os.Stat("/var/run/docker.sock"); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			cred.Groups = []uint32{st.Gid}
		}
	}
	return cred
}

// snapshot describes every file under dir (name, type, mode, owner, size
// and a hash of the content, never the content), to prove that a run
// changed nothing.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		fmt.Fprintf(&b, "%s %v %d:%d %d", strings.TrimPrefix(p, dir), fi.Mode(), st.Uid, st.Gid, fi.Size())
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " sha256:%x", sha256.Sum256(data))
		}
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
