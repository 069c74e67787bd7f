package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
)

// contender is one way of getting a CI job logged in to ECR.
type contender interface {
	// Name labels the contender's rows.
	Name() string
	// ChecksRegistry says whether a login talks to the registry (docker
	// login does; our binary only with verify).
	ChecksRegistry(sc scenario) bool
	// Run logs in once in a fresh directory and reports what it cost. It
	// fails unless the login really happened (right passwords in the
	// docker config and outputs).
	Run(ctx context.Context, l *lab, sc scenario, dir string) (sample, error)
}

// tools are the external programs the contenders use; empty paths are
// missing, with the reason in the matching *Missing field.
type tools struct {
	AWS, AWSMissing       string // AWS CLI v2
	Docker, DockerMissing string // docker CLI with a reachable daemon
	Curl, CurlMissing     string
	Node, NodeMissing     string
}

// findTools looks for the external programs.
func findTools(ctx context.Context, awsPath string) tools {
	var t tools
	t.AWS, t.AWSMissing = findAWSCLIv2(ctx, awsPath)
	if p, err := exec.LookPath("docker"); err != nil {
		t.DockerMissing = "docker CLI not installed"
	} else {
		c, cancel := context.WithTimeout(ctx, 15*time.Second)
		out, err := exec.CommandContext(c, p, "version", "--format", "{{.Server.Version}}").CombinedOutput()
		cancel()
		if err != nil {
			t.DockerMissing = "docker daemon not reachable: " + firstLine(string(out))
		} else {
			t.Docker = p
		}
	}
	if p, err := exec.LookPath("curl"); err != nil {
		t.CurlMissing = "curl not installed (the shell step fetches the OIDC token with it)"
	} else {
		t.Curl = p
	}
	if p, err := exec.LookPath("node"); err != nil {
		t.NodeMissing = "node not installed"
	} else {
		t.Node = p
	}
	return t
}

// findAWSCLIv2 checks that path is the AWS CLI v2 (Debian's awscli package
// installs it as /usr/bin/aws; an `aws` on PATH may be v1).
func findAWSCLIv2(ctx context.Context, path string) (string, string) {
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(c, path, "--version").CombinedOutput()
	if err != nil {
		return "", "AWS CLI v2 not installed at " + path + " (Debian package awscli)"
	}
	v := firstLine(string(out))
	if !strings.HasPrefix(v, "aws-cli/2.") {
		return "", path + " is not the AWS CLI v2 (" + v + ")"
	}
	return path, ""
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// runDir makes the per-run files: HOME, a docker config directory and the
// GitHub file command files.
type runDir struct {
	root, home, docker                   string
	output, env, state, summary, workdir string
}

// step is a GitHub step in this run directory, with inputs.
func (r *runDir) step(inputs map[string]string) ghrunner.Step {
	return ghrunner.Step{Files: ghrunner.StepFiles{Output: r.output, Env: r.env, State: r.state, Summary: r.summary},
		Temp: r.root, Inputs: inputs}
}

func newRunDir(dir string) (*runDir, error) {
	r := &runDir{root: dir, home: filepath.Join(dir, "home"), docker: filepath.Join(dir, "home", ".docker"),
		output: filepath.Join(dir, "output"), env: filepath.Join(dir, "env"),
		state: filepath.Join(dir, "state"), summary: filepath.Join(dir, "summary"), workdir: filepath.Join(dir, "work")}
	for _, d := range []string{r.home, r.workdir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("run directory: %w", err)
		}
	}
	for _, f := range []string{r.output, r.env, r.state, r.summary} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			return nil, fmt.Errorf("run directory: %w", err)
		}
	}
	return r, nil
}

// checkLogin reports whether a GitHub step in r left the login of the
// first n registry stubs where later steps take it: its docker config and
// its step outputs.
func (r *runDir) checkLogin(l *lab, n int) error {
	if err := checkDockerConfig(l, r.docker, n); err != nil {
		return err
	}
	return checkOutputs(l, r.output, n)
}

// checkDockerConfig reports whether config.json in dir logs in to the
// first n registry stubs with the passwords ECR handed out.
func checkDockerConfig(l *lab, dir string, n int) error {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return fmt.Errorf("docker config: %w", err)
	}
	var cfg struct {
		Auths map[string]struct {
			Auth string `json:"auth"`
		} `json:"auths"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("docker config: %w", err)
	}
	got := map[string]string{}
	for k, v := range cfg.Auths {
		k = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(k, "https://"), "http://"), "/")
		got[k] = v.Auth
	}
	for i := range n {
		want := base64.StdEncoding.EncodeToString([]byte("AWS:" + l.passwords[i]))
		if got[l.hosts[i]] != want {
			return fmt.Errorf("docker config has no working login for the %s registry (%s)", regions[i], l.hosts[i])
		}
	}
	return nil
}

// checkOutputs reports whether the GitHub step outputs carry the password
// of every one of the first n registries under amazon-ecr-login's names.
func checkOutputs(l *lab, file string, n int) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("step outputs: %w", err)
	}
	out, err := ghrunner.ParseFileCommands(b)
	if err != nil {
		return fmt.Errorf("step outputs: %w", err)
	}
	for i := range n {
		key := strings.NewReplacer(".", "_", ":", "_", "-", "_").Replace(l.hosts[i])
		if out["docker_password_"+key] != l.passwords[i] {
			return fmt.Errorf("step outputs lack the password of the %s registry (%s)", regions[i], l.hosts[i])
		}
	}
	return nil
}

// ecrHost is the real host name of the account's registry in region (never
// resolved: the emulator maps it to a stub).
func ecrHost(region string) string { return account + ".dkr.ecr." + region + ".amazonaws.com" }

// githubEnv is the environment the GitHub runner gives a step, pointed at
// the lab: file command files, the OIDC request endpoint, endpoint
// overrides and the CA bundle as SSL_CERT_FILE (not AWS_CA_BUNDLE, which no
// real runner sets).
func githubEnv(l *lab, r *runDir) map[string]string {
	env := r.step(nil).Env()
	maps.Copy(env, l.awsEnv())
	env["SSL_CERT_FILE"] = l.bundle
	return env
}

// ours is this project's binary as the GitHub container action runs it.
type ours struct {
	bin    string
	verify bool // the verify setting: check the login against the registry
	// extraEnv is added to the environment (the profiling wrapper's files).
	extraEnv map[string]string
	label    string // overrides Name
}

func (o *ours) Name() string {
	if o.label != "" {
		return o.label
	}
	if o.verify {
		return "ecr-credentials, verify on"
	}
	return "ecr-credentials"
}
func (o *ours) ChecksRegistry(scenario) bool { return o.verify }
func (o *ours) inputs(sc scenario) map[string]string {
	in := map[string]string{
		// what the runner fills in from action.yml's defaults
		"INPUT_AUDIENCE":              "sts.amazonaws.com",
		"INPUT_ROLE-DURATION-SECONDS": "3600",
		"INPUT_DOCKER-LOGIN":          "true",
		"INPUT_EXPORT-ENV":            "true",
		"INPUT_ENV-PREFIX":            "ECR_",
		"INPUT_MASK-PASSWORD":         "true",
		// the workflow's with:
		"INPUT_ROLE-TO-ASSUME": roleARN,
		"INPUT_AWS-REGION":     homeRegion,
		"INPUT_VERIFY":         fmt.Sprint(o.verify),
	}
	if sc.Registries > 1 {
		hosts := make([]string, sc.Registries)
		for i := range hosts {
			hosts[i] = ecrHost(regions[i])
		}
		in["INPUT_REGISTRIES"] = strings.Join(hosts, ",")
	}
	return in
}

func (o *ours) Run(ctx context.Context, l *lab, sc scenario, dir string) (sample, error) {
	r, err := newRunDir(dir)
	if err != nil {
		return sample{}, err
	}
	env := githubEnv(l, r)
	maps.Copy(env, o.inputs(sc))
	maps.Copy(env, o.extraEnv)
	m := l.mark()
	_, p, err := l.ln.run(ctx, l, spec{Name: "ecr-credentials", Path: o.bin, Env: baseEnv(r.home, env), Dir: r.workdir})
	if err != nil {
		return sample{}, err
	}
	if err := r.checkLogin(l, sc.Registries); err != nil {
		return sample{}, err
	}
	return measure([]proc{p}, 0, l.since(m), l.ideal(o.verify, sc.Latency))
}

// program is a contender that is one program of the benchmark's own, run
// as a GitHub step that reads INPUT_ROLE-TO-ASSUME, INPUT_AWS-REGION and
// INPUT_REGIONS: naive and floor.
type program struct{ name, bin string }

func (p *program) Name() string                 { return p.name }
func (p *program) ChecksRegistry(scenario) bool { return false }
func (p *program) Run(ctx context.Context, l *lab, sc scenario, dir string) (sample, error) {
	r, err := newRunDir(dir)
	if err != nil {
		return sample{}, err
	}
	env := githubEnv(l, r)
	env["INPUT_ROLE-TO-ASSUME"] = roleARN
	env["INPUT_AWS-REGION"] = homeRegion
	env["INPUT_REGIONS"] = strings.Join(regions[:sc.Registries], ",")
	m := l.mark()
	_, pr, err := l.ln.run(ctx, l, spec{Name: p.name, Path: p.bin, Env: baseEnv(r.home, env), Dir: r.workdir})
	if err != nil {
		return sample{}, err
	}
	if err := r.checkLogin(l, sc.Registries); err != nil {
		return sample{}, err
	}
	return measure([]proc{pr}, 0, l.since(m), l.ideal(false, sc.Latency))
}

// naive is the reference: a plain aws-sdk-go-v2 step (see naive/main.go).
type naive struct{ program }

// floor is the network work of a login and nothing else (see floor/main.go):
// what the model costs above its ideal for any client.
type floor struct{ program }

// tokenStep is the shell step's OIDC token request with curl, as GitHub
// documents it.
func tokenStep(t tools, l *lab, home string) spec {
	return spec{Name: "curl (OIDC token)", Path: t.Curl, Env: baseEnv(home, nil),
		Args: []string{"-sS", "--fail", "--cacert", l.bundle,
			"-H", "Authorization: Bearer " + l.fake.IDTokenRequestToken(),
			l.tokenURL() + "&audience=sts.amazonaws.com"}}
}

func parseToken(out []byte) (string, error) {
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(out, &v); err != nil || v.Value == "" {
		return "", errors.New("the OIDC token endpoint answered without a token")
	}
	return v.Value, nil
}

// assumeRoleStep is `aws sts assume-role-with-web-identity`, printing the
// three credential parts as text like a script would ask for.
func assumeRoleStep(t tools, l *lab, home, token string) spec {
	return spec{Name: "aws sts assume-role-with-web-identity", Path: t.AWS,
		Env: baseEnv(home, map[string]string{"AWS_CA_BUNDLE": l.bundle}),
		Args: append(append([]string{"sts", "assume-role-with-web-identity", "--region", homeRegion}, l.endpointArgs()...),
			"--role-arn", roleARN, "--role-session-name", "bench", "--duration-seconds", "3600",
			"--web-identity-token", token,
			"--query", "Credentials.[AccessKeyId,SecretAccessKey,SessionToken]", "--output", "text")}
}

type awsCreds struct{ id, secret, session string }

// assumeWithCLI runs the shell steps both AWS CLI contenders start with:
// curl for the OIDC token, then aws sts assume-role-with-web-identity.
func assumeWithCLI(ctx context.Context, l *lab, t tools, home string) (awsCreds, []proc, error) {
	out, tokProc, err := l.ln.run(ctx, l, tokenStep(t, l, home))
	if err != nil {
		return awsCreds{}, nil, err
	}
	token, err := parseToken(out)
	if err != nil {
		return awsCreds{}, nil, err
	}
	out, stsProc, err := l.ln.run(ctx, l, assumeRoleStep(t, l, home, token))
	if err != nil {
		return awsCreds{}, nil, err
	}
	creds, err := parseCreds(out)
	if err != nil {
		return awsCreds{}, nil, err
	}
	return creds, []proc{tokProc, stsProc}, nil
}

func parseCreds(out []byte) (awsCreds, error) {
	f := strings.Fields(string(out))
	if len(f) != 3 {
		return awsCreds{}, errors.New("aws sts printed no credentials")
	}
	return awsCreds{f[0], f[1], f[2]}, nil
}

func (c awsCreds) env() map[string]string {
	return map[string]string{"AWS_ACCESS_KEY_ID": c.id, "AWS_SECRET_ACCESS_KEY": c.secret, "AWS_SESSION_TOKEN": c.session}
}

// awsCLI is a shell step with the AWS CLI v2 and the docker CLI:
//
//	TOKEN=$(curl ... "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=sts.amazonaws.com" | jq -r .value)
//	eval $(aws sts assume-role-with-web-identity ... --query Credentials... --output text)
//	for each region: aws ecr get-login-password --region R | docker login -u AWS --password-stdin HOST
type awsCLI struct{ t tools }

func (a *awsCLI) Name() string {
	if a.t.Docker == "" {
		return "AWS CLI v2 (without docker login: " + a.t.DockerMissing + ")"
	}
	return "AWS CLI v2 + docker login"
}
func (a *awsCLI) ChecksRegistry(scenario) bool { return a.t.Docker != "" }

func (a *awsCLI) Run(ctx context.Context, l *lab, sc scenario, dir string) (sample, error) {
	r, err := newRunDir(dir)
	if err != nil {
		return sample{}, err
	}
	m := l.mark()
	creds, ps, err := assumeWithCLI(ctx, l, a.t, r.home)
	if err != nil {
		return sample{}, err
	}
	for i := range sc.Registries {
		env := creds.env()
		env["AWS_CA_BUNDLE"] = l.bundle
		getPW := spec{Name: "aws ecr get-login-password", Path: a.t.AWS, Env: baseEnv(r.home, env),
			Args: append([]string{"ecr", "get-login-password", "--region", regions[i]}, l.endpointArgs()...)}
		if a.t.Docker == "" {
			out, p, err := l.ln.run(ctx, l, getPW)
			if err != nil {
				return sample{}, err
			}
			if strings.TrimSpace(string(out)) != l.passwords[i] {
				return sample{}, fmt.Errorf("aws ecr get-login-password printed a wrong password for %s", regions[i])
			}
			ps = append(ps, p)
			continue
		}
		login := spec{Name: "docker login", Path: l.dockerCLI(a.t), Env: baseEnv(r.home, map[string]string{"SSL_CERT_FILE": l.bundle}),
			Args: []string{"--config", r.docker, "login", "--username", "AWS", "--password-stdin", l.hosts[i]}}
		_, pp, err := l.ln.pipeline(ctx, l, getPW, login)
		if err != nil {
			return sample{}, err
		}
		ps = append(ps, pp...)
	}
	if a.t.Docker != "" {
		if err := checkDockerConfig(l, r.docker, sc.Registries); err != nil {
			return sample{}, err
		}
	}
	return measure(ps, 1, l.since(m), l.ideal(a.ChecksRegistry(sc), sc.Latency))
}

// ecrLogin is aws-actions/amazon-ecr-login's dist/index.js run with node
// after `aws sts assume-role-with-web-identity` (standing in for
// configure-aws-credentials), one step per region.
type ecrLogin struct {
	t     tools
	index string // path of dist/index.js
}

func (e *ecrLogin) Name() string                 { return "AWS CLI sts + amazon-ecr-login (node)" }
func (e *ecrLogin) ChecksRegistry(scenario) bool { return true }

func (e *ecrLogin) Run(ctx context.Context, l *lab, sc scenario, dir string) (sample, error) {
	r, err := newRunDir(dir)
	if err != nil {
		return sample{}, err
	}
	m := l.mark()
	creds, ps, err := assumeWithCLI(ctx, l, e.t, r.home)
	if err != nil {
		return sample{}, err
	}
	more, err := ecrLoginSteps(ctx, l, e.t, e.index, r, creds, sc.Registries)
	if err != nil {
		return sample{}, err
	}
	return measure(append(ps, more...), 2, l.since(m), l.ideal(true, sc.Latency))
}

// ecrLoginSteps runs amazon-ecr-login once per region of the first n
// (one step each, as it logs in to one region per step) and checks the
// docker config and the outputs they left.
func ecrLoginSteps(ctx context.Context, l *lab, t tools, index string, r *runDir, creds awsCreds, n int) ([]proc, error) {
	var ps []proc
	for i := range n {
		p, err := runECRLogin(ctx, l, t, index, r, creds, regions[i])
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	if err := r.checkLogin(l, n); err != nil {
		return nil, err
	}
	return ps, nil
}

// runECRLogin runs amazon-ecr-login's dist/index.js with node for one
// region, with the credentials in the environment, as the runner runs a
// JavaScript action step.
func runECRLogin(ctx context.Context, l *lab, t tools, index string, r *runDir, creds awsCreds, region string) (proc, error) {
	env := creds.env()
	maps.Copy(env, r.step(map[string]string{
		"mask-password": "true",
		"registry-type": "private",
		"skip-logout":   "false",
		"registries":    "",
		"http-proxy":    "",
	}).Env())
	maps.Copy(env, map[string]string{
		"PATH":                filepath.Dir(l.dockerCLI(t)) + ":/usr/local/bin:/usr/bin:/bin",
		"SSL_CERT_FILE":       l.bundle, // for the docker shim of the connection model
		"DOCKER_CONFIG":       r.docker,
		"AWS_REGION":          region,
		"NODE_EXTRA_CA_CERTS": l.extraCAs,
	})
	l.endpointEnv(env, "ECR")
	_, p, err := l.ln.run(ctx, l, spec{Name: "node amazon-ecr-login", Path: t.Node, Args: []string{index}, Env: baseEnv(r.home, env), Dir: r.workdir})
	return p, err
}

// peerActions is the pair most workflows run: aws-actions/configure-aws-
// credentials (its dist/index.js under node: OIDC token, STS, credentials
// exported through GITHUB_ENV), then amazon-ecr-login once per region
// with those credentials.
type peerActions struct {
	t                tools
	configure, login string // the two dist/index.js
}

const peerActionsName = "configure-aws-credentials + amazon-ecr-login (node)"

func (c *peerActions) Name() string                 { return peerActionsName }
func (c *peerActions) ChecksRegistry(scenario) bool { return true }

func (c *peerActions) Run(ctx context.Context, l *lab, sc scenario, dir string) (sample, error) {
	r, err := newRunDir(dir)
	if err != nil {
		return sample{}, err
	}
	fake := l.awsEnv()
	env := map[string]string{
		"PATH":                           "/usr/local/bin:/usr/bin:/bin",
		"GITHUB_ACTIONS":                 "true",
		"GITHUB_REPOSITORY":              "octo-org/octo-repo",
		"GITHUB_WORKFLOW":                "CI",
		"GITHUB_ACTION":                  "__aws-actions_configure-aws-credentials",
		"GITHUB_ACTOR":                   "octocat",
		"GITHUB_SHA":                     "0f7c5d1e4b2a39c8d6e5f4a3b2c1d0e9f8a7b6c5",
		"GITHUB_RUN_ID":                  "9001",
		"GITHUB_WORKSPACE":               r.workdir,
		"GITHUB_OUTPUT":                  r.output,
		"GITHUB_ENV":                     r.env,
		"GITHUB_STATE":                   r.state,
		"RUNNER_TEMP":                    r.root,
		"ACTIONS_ID_TOKEN_REQUEST_URL":   fake["ACTIONS_ID_TOKEN_REQUEST_URL"],
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": fake["ACTIONS_ID_TOKEN_REQUEST_TOKEN"],
		"NODE_EXTRA_CA_CERTS":            l.extraCAs,
		"INPUT_ROLE-TO-ASSUME":           roleARN,
		"INPUT_AWS-REGION":               homeRegion,
		"INPUT_AUDIENCE":                 "sts.amazonaws.com",
	}
	l.endpointEnv(env, "STS")
	m := l.mark()
	_, p, err := l.ln.run(ctx, l, spec{Name: "node configure-aws-credentials", Path: c.t.Node, Args: []string{c.configure}, Env: baseEnv(r.home, env), Dir: r.workdir})
	if err != nil {
		return sample{}, err
	}
	ps := []proc{p}
	b, err := os.ReadFile(r.env)
	if err != nil {
		return sample{}, err
	}
	exported, err := ghrunner.ParseFileCommands(b)
	if err != nil {
		return sample{}, fmt.Errorf("configure-aws-credentials' GITHUB_ENV: %w", err)
	}
	creds := awsCreds{exported["AWS_ACCESS_KEY_ID"], exported["AWS_SECRET_ACCESS_KEY"], exported["AWS_SESSION_TOKEN"]}
	if creds.id == "" || creds.session == "" {
		return sample{}, errors.New("configure-aws-credentials exported no session credentials")
	}
	more, err := ecrLoginSteps(ctx, l, c.t, c.login, r, creds, sc.Registries)
	if err != nil {
		return sample{}, err
	}
	return measure(append(ps, more...), 0, l.since(m), l.ideal(true, sc.Latency))
}

// inImage is our image started the way the GitHub runner starts a
// container action (docker run with the step's environment and the
// runner's directories mounted), with a prebuilt image: the cost of
// starting a container on top of the program. CPU and RSS of the
// container are not the docker CLI's, so they are not reported.
type inImage struct {
	docker, image string
}

func (c *inImage) Name() string                 { return "ecr-credentials in its image (docker run)" }
func (c *inImage) ChecksRegistry(scenario) bool { return false }

func (c *inImage) Run(ctx context.Context, l *lab, sc scenario, dir string) (sample, error) {
	r, err := newRunDir(dir)
	if err != nil {
		return sample{}, err
	}
	env := githubEnv(l, r)
	maps.Copy(env, (&ours{}).inputs(sc))
	env["HOME"] = r.home
	args := []string{"run", "--rm", "--network", "host",
		"-v", r.root + ":" + r.root, "-v", l.dir + ":" + l.dir + ":ro", "--workdir", r.workdir}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		args = append(args, "-e", k) // the value comes from the docker CLI's environment, not argv
	}
	if l.net != nil {
		args = append(args, "-v", l.net.resolv+":/etc/resolv.conf:ro") // our DNS, as for every contender
	}
	args = append(args, c.image)
	m := l.mark()
	_, p, err := l.ln.run(ctx, l, spec{Name: "docker run", Path: c.docker, Args: args, Env: baseEnv(r.home, env), Dir: r.workdir})
	if err != nil {
		return sample{}, err
	}
	if err := r.checkLogin(l, sc.Registries); err != nil {
		return sample{}, err
	}
	s, err := measure([]proc{p}, 0, l.since(m), l.ideal(false, sc.Latency))
	s.NoUsage = true
	return s, err
}
