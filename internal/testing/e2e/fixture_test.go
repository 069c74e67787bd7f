// Package e2e runs the built program the way CIs run it, against the AWS
// emulator and a real local registry, inside a network namespace of its own
// (see testenv.IsolateNetwork): a stray request to a real AWS host fails at
// once instead of leaving the machine.
package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

func TestMain(m *testing.M) {
	if testenv.Short() {
		return
	}
	os.Exit(testenv.IsolateNetwork(m))
}

const (
	account  = "123456789012"
	region   = "eu-west-1"
	roleARN  = "arn:aws:iam::123456789012:role/github-ecr"
	subject  = "repo:octo-org/octo-repo:ref:refs/heads/main"
	modulePk = "github.com/ecr-credentials/ecr-credentials"
)

// fixture is one emulated AWS account with a registry that really checks
// the password ECR hands out.
type fixture struct {
	fake     *awsfake.Server
	reg      *testenv.Registry
	bin      string
	password string
	bundle   string // PEM file trusting the emulator's and the registry's CAs
	ca       *testenv.CA
}

// ecrLikePassword makes a password shaped like ECR's: a long base64 blob.
func ecrLikePassword(t *testing.T) string {
	b := make([]byte, 1200)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, awsfake.Options{TLS: true})
}

// newFixtureWith is newFixture with an emulator configured by opts.
func newFixtureWith(t *testing.T, opts awsfake.Options) *fixture {
	t.Helper()
	f := &fixture{bin: testenv.BuildBinary(t, modulePk), password: ecrLikePassword(t)}
	f.fake = awsfake.New(opts)
	if err := f.fake.AddRole(awsfake.Role{ARN: roleARN, Subjects: []string{"repo:octo-org/octo-repo:*"}, ECR: true, ECRPublic: true}); err != nil {
		t.Fatal(err)
	}
	if err := f.fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.fake.Close)
	ca := testenv.NewCA(t, proxiedRegistry) // the name only a test's proxy knows
	f.ca = ca
	f.reg = testenv.StartRegistry(t, testenv.RegistryOptions{Password: f.password, TLS: true, CA: ca})
	f.fake.MapRegistry(account, region, f.reg.URL)
	f.fake.SetRegistryPassword(account, region, f.password)

	a, err := os.ReadFile(f.fake.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(ca.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	f.bundle = filepath.Join(t.TempDir(), "bundle.pem")
	if err := os.WriteFile(f.bundle, append(append(a, '\n'), b...), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// runner is the file-command side of one GitHub step.
type runner struct {
	dir                                  string
	output, env, state, summary, homeDir string
}

func newRunner(t *testing.T) *runner {
	d := t.TempDir()
	r := &runner{dir: d,
		output: filepath.Join(d, "output"), env: filepath.Join(d, "env"),
		state: filepath.Join(d, "state"), summary: filepath.Join(d, "summary"),
		homeDir: filepath.Join(d, "home")}
	for _, p := range []string{r.output, r.env, r.state, r.summary} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(r.homeDir, 0o755); err != nil {
		t.Fatal(err)
	}
	return r
}

// githubEnv is the environment the runner gives a container action step.
func (f *fixture) githubEnv(r *runner, inputs map[string]string) map[string]string {
	step := ghrunner.Step{Files: ghrunner.StepFiles{Output: r.output, Env: r.env, State: r.state, Summary: r.summary},
		Temp: r.dir, Home: r.homeDir, Defaults: true}
	env := step.Env()
	for k, v := range f.fake.Env() {
		env[k] = v
	}
	// The registry's CA and the emulator's CA both have to be trusted.
	env["SSL_CERT_FILE"] = f.bundle
	for k, v := range inputs {
		env[ghrunner.InputVar(k)] = v
	}
	return env
}

func readFileCommands(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := ghrunner.ParseFileCommands(b)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return kv
}
