package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// leakRun is one end-to-end scenario of TestNoSecretLeaks.
type leakRun struct {
	name string
	mode string // github, plugin, cli, helper
	// post runs the GitHub post step after the main one (with debug on).
	post bool
	// refresh: a GitHub run with refresh; after the main step the helper
	// it left is called as docker calls it, with debug on, once without
	// its cache (a new login) and once from it. helperFile lists the
	// secrets helper.json may hold (the README: static keys given as
	// settings, nothing else).
	refresh    bool
	helperFile []string
	set        map[string]string
	env        map[string]string
	args       []string
	exit       int
	// maskRegistry is false when registry passwords are deliberately not
	// announced to the runner (mask-password: false).
	noRegistryMask bool
	// wantMsg must appear in what the run showed.
	wantMsg string
	// date, if set, is the Date header of every emulator answer: one the
	// SDK cannot parse, and so logs a warning quoting.
	date string
}

// TestNoSecretLeaks runs every kind of end-to-end scenario, successes and
// failures, with debug output on, and checks what people and other
// processes can see:
//
//   - no secret the emulator issued (ID tokens, secret keys, session
//     tokens, registry passwords and authorization tokens) nor a static key
//     given as a setting appears unmasked in stdout, stderr, the step
//     summary, the state file or an error message;
//   - in GitHub mode every secret the run obtained is announced with
//     ::add-mask:: before the secrets obtained with it (the ID token before
//     the role's keys, the keys before the registry passwords);
//   - every file the run left that holds a secret is 0600 in a 0700
//     directory, and nothing secret was left in the temporary directory;
//   - nothing reached stdout or stderr but through the console
//     (checkOnlyConsole), also when STS and ECR answer with a Date header
//     the AWS SDK logs a warning about.
func TestNoSecretLeaks(t *testing.T) {
	f := newFixture(t)
	key, err := f.fake.AddAccessKey(awsfake.AccessKey{UserARN: "arn:aws:iam::123456789012:user/ci", ECR: true})
	must(t, err)
	must(t, f.fake.AddRole(awsfake.Role{ARN: "arn:aws:iam::123456789012:role/no-ecr", Subjects: []string{"repo:octo-org/*"}}))
	must(t, f.fake.AddRole(awsfake.Role{ARN: "arn:aws:iam::210987654321:role/chained", ECR: true, TrustedPrincipals: []string{roleARN}}))
	f.fake.MapRegistry("210987654321", region, f.reg.URL)
	f.fake.SetRegistryPassword("210987654321", region, f.password)
	token, err := f.fake.MintIDToken("sts.amazonaws.com", awsfake.WithSubject(subject))
	must(t, err)
	tokenFile := filepath.Join(t.TempDir(), "token")
	must(t, os.WriteFile(tokenFile, []byte(token), 0o600))
	static := []string{key.Secret, token}

	// A credential_process that prints a line of noise before valid JSON:
	// the SDK's process provider fails and quotes the whole output, keys
	// and all, in its error. None of it may show.
	proc := procKeys(t)
	static = append(static, proc.id, proc.secret, proc.session)
	procConfig := proc.config
	// A credential_process that talks on stderr (the SDK hands it the
	// process's own stderr, for prompts): a line of its keys and a
	// stop-commands, then valid keys the emulator accepts.
	talker := procTalker(t)
	static = append(static, talker.id, talker.secret)
	_, err = f.fake.AddAccessKey(awsfake.AccessKey{ID: talker.id, Secret: talker.secret, UserARN: "arn:aws:iam::123456789012:user/process", ECR: true})
	must(t, err)
	talkerEnv := map[string]string{"AWS_CONFIG_FILE": talker.config, "AWS_ROLE_ARN": "", "AWS_WEB_IDENTITY_TOKEN_FILE": ""}
	procEnv := func(kv ...string) map[string]string {
		m := map[string]string{"AWS_CONFIG_FILE": procConfig, "AWS_ROLE_ARN": "", "AWS_WEB_IDENTITY_TOKEN_FILE": ""}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}

	gh := map[string]string{"role-to-assume": roleARN, "aws-region": region}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	debugGH := map[string]string{"RUNNER_DEBUG": "1", "ACTIONS_STEP_DEBUG": "true"}
	runs := []leakRun{
		{name: "GitHub default, then the post step", mode: "github", set: gh, post: true},
		{name: "GitHub refresh, the helper as docker calls it, then the post step", mode: "github", set: with(gh, "refresh", "true"), env: debugGH, post: true, refresh: true},
		{name: "GitHub refresh with static keys", mode: "github", env: debugGH, post: true, refresh: true, helperFile: []string{key.Secret},
			set: map[string]string{"aws-region": region, "aws-access-key-id": key.ID, "aws-secret-access-key": key.Secret, "refresh": "true"}},
		{name: "GitHub RUNNER_DEBUG", mode: "github", set: gh, env: map[string]string{"RUNNER_DEBUG": "1"}},
		{name: "GitHub ACTIONS_STEP_DEBUG, every format, AWS credentials, many registries", mode: "github", env: map[string]string{"ACTIONS_STEP_DEBUG": "true"},
			set: with(gh, "registries", account+",210987654321.dkr.ecr.us-east-1.amazonaws.com,public.ecr.aws", "verify", "false",
				"formats", "ecs,dockerconfigjson,k8s-secret,dotenv", "export-aws-credentials", "true")},
		{name: "GitHub mask-password false", mode: "github", set: with(gh, "mask-password", "false"), env: debugGH, noRegistryMask: true},
		{name: "GitHub static keys", mode: "github", env: debugGH,
			set: map[string]string{"aws-region": region, "aws-access-key-id": key.ID, "aws-secret-access-key": key.Secret, "skip-logout": "true"}},
		{name: "GitHub role chain", mode: "github", env: debugGH, set: with(gh, "role-chain", "arn:aws:iam::210987654321:role/chained")},
		{name: "GitHub ECR denied", mode: "github", env: debugGH, exit: 1, set: with(gh, "role-to-assume", "arn:aws:iam::123456789012:role/no-ecr")},
		{name: "plugin token file", mode: "plugin", set: map[string]string{"role_arn": roleARN, "region": region, "web_identity_token_file": tokenFile,
			"debug": "true", "formats": "ecs,dotenv", "export_aws_credentials": "true"}},
		{name: "plugin static keys", mode: "plugin", set: map[string]string{"region": region, "access_key": key.ID, "secret_key": key.Secret, "debug": "true"}},
		{name: "plugin ECR denied", mode: "plugin", exit: 1, set: map[string]string{"role_arn": "arn:aws:iam::123456789012:role/no-ecr", "region": region,
			"web_identity_token_file": tokenFile, "debug": "true"}},
		{name: "CLI get-login-password", mode: "cli", args: []string{"get-login-password", "--debug"}},
		{name: "CLI env with AWS credentials", mode: "cli", args: []string{"env", "--debug", "--export-aws-credentials"}},
		{name: "CLI json", mode: "cli", args: []string{"json", "--debug", "--registries", account + ",public.ecr.aws"}},
		{name: "CLI login", mode: "cli", args: []string{"login", "--debug"}},
		{name: "CLI STS denied", mode: "cli", exit: 1, args: []string{"login", "--debug", "--role-arn", "arn:aws:iam::123456789012:role/other"}},
		{name: "credential helper", mode: "helper", env: map[string]string{"ECR_CREDENTIALS_DEBUG": "true"}},
		{name: "GitHub default chain, noisy credential_process", mode: "github", exit: 1, wantMsg: "credential_process of the shared config profile failed", set: map[string]string{"aws-region": region},
			env: procEnv("RUNNER_DEBUG", "1", "ACTIONS_STEP_DEBUG", "true")},
		{name: "plugin default chain, noisy credential_process", mode: "plugin", exit: 1, wantMsg: "credential_process of the shared config profile failed", set: map[string]string{"region": region, "debug": "true"},
			env: procEnv()},
		{name: "CLI json default chain, noisy credential_process", mode: "cli", exit: 1, wantMsg: "credential_process of the shared config profile failed", args: []string{"json", "--debug"}, env: procEnv()},
		{name: "credential helper default chain, noisy credential_process", mode: "helper", exit: 1, wantMsg: "credential_process of the shared config profile failed",
			env: procEnv("ECR_CREDENTIALS_DEBUG", "true", "ECR_CREDENTIALS_CACHE_DIR", "none")},

		// The AWS SDK warns about a Date header it cannot parse, quoting it:
		// the warning reaches the log through the console or not at all.
		{name: "GitHub, a Date header of ##[stop-commands]", mode: "github", set: with(gh, "export-aws-credentials", "true"), date: "##[stop-commands]ecr", post: true},
		{name: "GitHub role chain, a Date header of ##[add-mask]", mode: "github", set: with(gh, "role-chain", "arn:aws:iam::210987654321:role/chained"), env: debugGH, date: "##[add-mask]x"},
		{name: "plugin, a Date header of ##[warning]", mode: "plugin", date: "##[warning]x", set: map[string]string{"role_arn": roleARN, "region": region,
			"web_identity_token_file": tokenFile, "debug": "true", "export_aws_credentials": "true"}},
		{name: "CLI json, a Date header of ##[error]", mode: "cli", date: "##[error]x", args: []string{"json", "--debug"}},
		{name: "credential helper, a Date header of ::stop-commands::", mode: "helper", date: "::stop-commands::x", env: map[string]string{"ECR_CREDENTIALS_DEBUG": "true", "ECR_CREDENTIALS_CACHE_DIR": "none"}},

		// A credential_process writing to stderr: never past the console.
		{name: "GitHub default chain, credential_process talking on stderr", mode: "github", set: map[string]string{"aws-region": region, "verify": "false"},
			env: with(talkerEnv, "RUNNER_DEBUG", "1", "ACTIONS_STEP_DEBUG", "true")},
		{name: "plugin default chain, credential_process talking on stderr", mode: "plugin", set: map[string]string{"region": region, "debug": "true", "verify": "false"}, env: talkerEnv},
		{name: "CLI json default chain, credential_process talking on stderr", mode: "cli", args: []string{"json", "--debug"}, env: talkerEnv},
		{name: "credential helper default chain, credential_process talking on stderr", mode: "helper",
			env: with(talkerEnv, "ECR_CREDENTIALS_DEBUG", "true", "ECR_CREDENTIALS_CACHE_DIR", "none")},
	}

	for _, lr := range runs {
		t.Run(lr.name, func(t *testing.T) {
			tmp := t.TempDir() // TMPDIR of the run: must end up holding nothing secret
			issuedBefore, callsBefore := len(f.fake.Issued()), len(f.fake.Calls())
			var (
				res     testenv.Result
				r       *runner
				visible string   // what people can read
				roots   []string // where the run may have left files
			)
			opts := testenv.RunOptions{Timeout: runBound}
			switch lr.mode {
			case "github":
				r = newRunner(t)
				opts.Env = f.githubEnv(r, lr.set)
				opts.Env["GITHUB_PATH"] = filepath.Join(r.dir, "path")
				must(t, os.WriteFile(opts.Env["GITHUB_PATH"], nil, 0o644))
				roots = []string{r.homeDir}
			case "plugin":
				opts.Dir = t.TempDir()
				opts.Env = f.pluginEnv("drone", lr.set, map[string]string{"HOME": t.TempDir()})
				roots = []string{opts.Dir, opts.Env["HOME"]}
			case "cli", "helper":
				opts.Env = f.cliEnv(t)
				opts.Env["HOME"] = t.TempDir()
				opts.Args = lr.args
				roots = []string{opts.Env["HOME"]}
			}
			for k, v := range lr.env {
				if v == "" {
					delete(opts.Env, k)
				} else {
					opts.Env[k] = v
				}
			}
			opts.Env["TMPDIR"] = tmp
			roots = append(roots, tmp)
			if lr.date != "" {
				f.fake.SetDateHeader(func(time.Time) string { return lr.date })
				defer f.fake.SetDateHeader(nil)
			}
			var shown []testenv.Result // every run's streams, for checkOnlyConsole

			if lr.mode == "helper" {
				host := strings.TrimPrefix(f.reg.URL, "https://")
				opts.Env["ECR_CREDENTIALS_REGISTRY_ALIASES"] = host + "=" + account + ".dkr.ecr." + region + ".amazonaws.com"
				opts.Args = []string{"credential-helper", "get"}
				opts.Stdin = "https://" + host + "\n"
				if lr.exit != 0 {
					res = testenv.RunProgram(t, f.bin, opts)
					shown = append(shown, res)
					if res.ExitCode != lr.exit {
						t.Fatalf("helper get: exit %d, want %d\n%s", res.ExitCode, lr.exit, res.Stderr)
					}
					visible = res.Stdout + res.Stderr // docker shows the helper's answer
				}
				for i := 0; i < 2 && lr.exit == 0; i++ { // the second answer comes from the cache
					res = testenv.RunProgram(t, f.bin, opts)
					shown = append(shown, res)
					if res.ExitCode != 0 || !strings.Contains(res.Stdout, f.password) {
						t.Fatalf("helper get: exit %d\n%s", res.ExitCode, res.Stderr)
					}
					visible += res.Stderr
				}
			} else {
				res = testenv.RunProgram(t, f.bin, opts)
				shown = append(shown, res)
				if res.ExitCode != lr.exit {
					t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.ExitCode, lr.exit, res.Stdout, res.Stderr)
				}
			}

			issued := f.fake.Issued()
			mine := issued[issuedBefore:]
			secrets := append(append([]string(nil), issued...), static...)
			switch lr.mode {
			case "github":
				visible = withoutMaskCommands(res.Stdout) + res.Stderr + readAll(t, r.summary, r.state)
				checkMaskOrder(t, res.Stdout, mine, f.fake.IDTokenRequestToken(), lr.noRegistryMask, abandonedSessions(f.fake.Calls()[callsBefore:]))
				if t.Failed() {
					for _, c := range f.fake.Calls() { // no secrets in the call log
						t.Logf("call %s %s status=%d err=%q %s..%s", c.Service, c.Operation, c.Status, c.ErrorCode, c.Start.Format("15:04:05.000"), c.End.Format("15:04:05.000"))
					}
				}
				if lr.refresh {
					visible += f.leakCheckRefreshHelper(t, r, opts.Env, secrets, lr.helperFile)
				}
				if lr.post {
					opts.Env["STATE_receipt"] = readFileCommands(t, r.state)["receipt"]
					opts.Env["RUNNER_DEBUG"] = "1"
					opts.Args = []string{"post"}
					post := testenv.RunProgram(t, f.bin, opts)
					shown = append(shown, post)
					if post.ExitCode != 0 {
						t.Fatalf("post: exit %d\n%s", post.ExitCode, post.Stdout)
					}
					visible += post.Stdout + post.Stderr
				}
			case "plugin":
				visible = res.Stdout + res.Stderr
			case "cli":
				// stdout carries the result the user asked for; the log is stderr.
				visible = res.Stderr
				if lr.exit != 0 {
					visible += res.Stdout
				}
			}
			if lr.wantMsg != "" && !strings.Contains(visible, lr.wantMsg) {
				t.Errorf("the run did not say %q", lr.wantMsg)
			}
			if found := secretsIn(visible, secrets); len(found) != 0 {
				t.Errorf("secrets of lengths %v appear unmasked in what the run showed", found)
			}
			checkSecretFiles(t, roots, secrets)
			warned := false
			for _, res := range shown {
				warned = checkOnlyConsole(t, lr.mode, res) || warned
			}
			if lr.date != "" && !warned {
				t.Errorf("the SDK's warning about the Date header shows nowhere: the emulator's header did not reach it, or the console dropped it")
			}
		})
	}
}

// sdkDateWarning is how the AWS SDK begins its warning about a Date
// header it cannot parse.
const sdkDateWarning = "failed to parse response Date header"

// checkOnlyConsole checks that nothing reached stdout or stderr but
// through the console, which breaks the runner's legacy "##[" marker,
// escapes a leading "::" of a value and writes every line of its own:
//
//   - in GitHub and plugin mode the console writes to stdout only, so
//     stderr is empty (the CLI and the credential helper log to stderr,
//     their stdout carries the result);
//   - no line carries "##[", which the runner acts on anywhere in a line;
//   - in GitHub mode every workflow command the runner would act on is
//     one the console writes, never stop-commands;
//   - the SDK's warning about a Date header, if any, is a debug line of
//     the console; checkOnlyConsole reports whether there was one.
func checkOnlyConsole(t *testing.T, mode string, res testenv.Result) bool {
	t.Helper()
	if (mode == "github" || mode == "plugin") && res.Stderr != "" {
		t.Errorf("%s mode wrote to stderr, where the console never writes: %q", mode, abbreviateLines(res.Stderr))
	}
	all := res.Stdout + "\n" + res.Stderr
	warned := false
	for _, line := range strings.FieldsFunc(all, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if strings.Contains(line, "##[") {
			t.Errorf("a line carries the runner's legacy command marker ##[: %q", abbreviateLines(line))
		}
		if strings.Contains(line, sdkDateWarning) {
			warned = true
			if !strings.HasPrefix(line, "::debug::") && !strings.HasPrefix(line, "DEBUG: ") {
				t.Errorf("the SDK's warning reached the log but not as a console debug line: %q", abbreviateLines(line))
			}
		}
	}
	if mode == "github" {
		for _, c := range ghrunner.ParseWorkflowCommands(all) {
			switch strings.ToLower(c.Name) {
			case "add-mask", "debug", "notice", "warning", "error":
			default:
				t.Errorf("line %d: the runner would act on a %q command the console never writes", c.Line, c.Name)
			}
		}
	}
	return warned
}

// abbreviateLines shortens s for a message (it may be long, never secret:
// the caller scans for secrets separately).
func abbreviateLines(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// leakCheckRefreshHelper checks what a refresh login left in r's home:
// helper.json is 0600 and holds no secret but allowed; the helper, run as
// docker runs it in a later step (stepEnv without the inputs, debug on),
// answers with the registry password and no other secret on stdout, once
// after a new login (no cache: an STS call) and once from its cache. It
// returns the helper's stderr, which the caller checks with the rest of
// what people can see.
func (f *fixture) leakCheckRefreshHelper(t *testing.T, r *runner, stepEnv map[string]string, secrets, allowed []string) string {
	t.Helper()
	dir := filepath.Join(r.homeDir, ".docker", "ecr-credentials-refresh")
	settings := filepath.Join(dir, "helper.json")
	st, err := os.Stat(settings)
	if err != nil {
		t.Fatalf("the refresh login left no helper.json: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("helper.json has mode %v, want 0600", st.Mode().Perm())
	}
	b, err := os.ReadFile(settings)
	must(t, err)
	var others []string
	for _, s := range secrets {
		if !contains(allowed, s) {
			others = append(others, s)
		}
	}
	if found := secretsIn(string(b), others); len(found) != 0 {
		t.Errorf("helper.json holds secrets of lengths %v the README does not say it holds", found)
	}
	for _, s := range allowed {
		if !strings.Contains(string(b), s) {
			t.Errorf("helper.json lacks a %d-char secret the helper needs to log in again", len(s))
		}
	}

	env := map[string]string{"ECR_CREDENTIALS_DEBUG": "true"}
	for k, v := range stepEnv {
		if !strings.HasPrefix(k, "INPUT_") && !strings.HasPrefix(k, "STATE_") {
			env[k] = v
		}
	}
	host := strings.TrimPrefix(f.reg.URL, "https://")
	var shown string
	for _, cache := range []string{"none", ""} {
		env["ECR_CREDENTIALS_CACHE_DIR"] = cache
		if cache == "" {
			delete(env, "ECR_CREDENTIALS_CACHE_DIR")
		}
		calls := len(f.fake.Calls())
		res := testenv.RunProgram(t, filepath.Join(dir, "bin", "docker-credential-ecr-credentials"),
			testenv.RunOptions{Env: env, Args: []string{"get"}, Stdin: "https://" + host + "\n", Timeout: runBound})
		if res.ExitCode != 0 {
			t.Fatalf("helper get (cache %q): exit %d\n%s", cache, res.ExitCode, res.Stderr)
		}
		var answer struct{ ServerURL, Username, Secret string }
		if err := json.Unmarshal([]byte(res.Stdout), &answer); err != nil || answer.Secret != f.password {
			t.Errorf("helper get (cache %q): not the registry password as docker reads it (%v)", cache, err)
		}
		if found := secretsIn(strings.ReplaceAll(res.Stdout, f.password, ""), secrets); len(found) != 0 {
			t.Errorf("the helper's answer to docker holds secrets of lengths %v beside the password", found)
		}
		if cache == "none" && len(f.fake.Calls()) == calls {
			t.Errorf("the helper without its cache made no AWS call: no new login was checked")
		}
		shown += res.Stderr
	}
	return shown
}

// noisyProcess is a credential_process that prints noise before keys.
type noisyProcess struct{ id, secret, session, config string }

func procKeys(t *testing.T) noisyProcess {
	t.Helper()
	p := noisyProcess{id: "AKIA" + strings.ToUpper(randomHex(t, 8)), secret: randomHex(t, 20), session: "IQoJ" + randomHex(t, 60)}
	dir := t.TempDir()
	script := filepath.Join(dir, "creds.sh")
	must(t, os.WriteFile(script, []byte("#!/bin/sh\necho 'getting credentials...'\n"+
		`echo '{"Version":1,"AccessKeyId":"`+p.id+`","SecretAccessKey":"`+p.secret+`","SessionToken":"`+p.session+`"}'`+"\n"), 0o700))
	p.config = filepath.Join(dir, "config")
	must(t, os.WriteFile(p.config, []byte("[default]\ncredential_process = "+script+"\n"), 0o600))
	return p
}

// procTalker is a credential_process that writes its keys and a
// stop-commands to stderr before answering with them on stdout.
func procTalker(t *testing.T) noisyProcess {
	t.Helper()
	p := noisyProcess{id: "AKIA" + strings.ToUpper(randomHex(t, 8)), secret: randomHex(t, 20)}
	dir := t.TempDir()
	script := filepath.Join(dir, "creds.sh")
	must(t, os.WriteFile(script, []byte("#!/bin/sh\necho '##[stop-commands]proc' >&2\necho 'keys: "+p.id+" "+p.secret+"' >&2\n"+
		`echo '{"Version":1,"AccessKeyId":"`+p.id+`","SecretAccessKey":"`+p.secret+`"}'`+"\n"), 0o700))
	p.config = filepath.Join(dir, "config")
	must(t, os.WriteFile(p.config, []byte("[default]\ncredential_process = "+script+"\n"), 0o600))
	return p
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// withoutMaskCommands drops the ::add-mask:: lines, which carry secrets to
// the runner and are never shown.
func withoutMaskCommands(stdout string) string {
	var keep []string
	for _, line := range strings.Split(stdout, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "::add-mask::") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// checkMaskOrder checks that every secret the run obtained (mine, in the
// order the emulator issued them) was announced with ::add-mask::, and in
// dependency order: ID tokens before role credentials, role credentials
// before registry passwords and tokens. The request token is the runner's
// own secret, masked by the runner.
func checkMaskOrder(t *testing.T, stdout string, mine []string, requestToken string, noRegistryMask bool, abandoned int) {
	t.Helper()
	pos := map[string]int{}
	for i, line := range strings.Split(stdout, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "::add-mask::"); ok {
			if _, seen := pos[v]; !seen {
				pos[v] = i
			}
		}
	}
	// Registry secrets: base64("AWS:"+password) and the password.
	registry := map[string]bool{}
	for _, s := range mine {
		if b, err := base64.StdEncoding.DecodeString(s); err == nil && strings.HasPrefix(string(b), "AWS:") {
			registry[s], registry[strings.TrimPrefix(string(b), "AWS:")] = true, true
		}
	}
	stage := func(s string) int {
		switch {
		case registry[s]:
			return 2
		case strings.HasPrefix(s, "eyJ") && strings.Count(s, ".") == 2:
			return 0
		}
		return 1
	}
	last := map[int]int{0: -1, 1: -1, 2: -1} // latest mask line per stage
	first := map[int]int{0: 1 << 30, 1: 1 << 30, 2: 1 << 30}
	for _, s := range mine {
		if s == requestToken || (noRegistryMask && registry[s]) {
			continue
		}
		p, ok := pos[s]
		if !ok && stage(s) == 1 && abandoned > 0 {
			// STS issued these to an attempt the client gave up on and
			// retried: the run never received them (the scan for unmasked
			// secrets still covers them). Each session is a secret key and
			// a session token.
			abandoned--
			t.Logf("a %d-char session secret went to an attempt the client retried", len(s))
			ok = true
			p = -1
		}
		if !ok {
			t.Errorf("a secret the run obtained (%d chars, stage %d) was never masked with ::add-mask::", len(s), stage(s))
			continue
		}
		if p < 0 {
			continue
		}
		st := stage(s)
		last[st] = max(last[st], p)
		first[st] = min(first[st], p)
	}
	if last[0] >= 0 && first[1] < 1<<30 && last[0] > first[1] {
		t.Errorf("an ID token was masked after the role credentials it was exchanged for")
	}
	if last[1] >= 0 && first[2] < 1<<30 && last[1] > first[2] {
		t.Errorf("role credentials were masked after the registry passwords they fetched")
	}
	if noRegistryMask {
		for _, v := range ghrunner.MaskedValues(stdout) {
			if registry[v] {
				t.Errorf("mask-password: false, yet a registry secret was masked")
			}
		}
	}
}

// checkSecretFiles walks what a run may have written: every file holding
// a secret must be 0600 in a 0700 directory, and no secret may be in the
// temporary directory (the last root) at all.
func checkSecretFiles(t *testing.T, roots []string, secrets []string) {
	t.Helper()
	tmp := roots[len(roots)-1]
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if len(secretsIn(string(b), secrets)) == 0 {
				return nil
			}
			if root == tmp {
				t.Errorf("%s in the temporary directory holds a secret", p)
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			dir, err := os.Stat(filepath.Dir(p))
			if err != nil {
				return err
			}
			if info.Mode().Perm() != 0o600 || dir.Mode().Perm() != 0o700 {
				t.Errorf("%s holds a secret with mode %v in a directory with mode %v; want 0600 in 0700", p, info.Mode().Perm(), dir.Mode().Perm())
			}
			return nil
		})
		if err != nil {
			t.Fatalf("walk %s: %v", root, err)
		}
	}
}

// abandonedSessions counts the secrets of STS sessions a run cannot have
// received: when the emulator logs more successful calls of one STS
// operation for one role than the run needed (one), the client gave up on
// an answered attempt (a lost connection, say) and retried. Each such
// session is two secrets (secret key and session token).
func abandonedSessions(calls []awsfake.Call) int {
	n := map[string]int{}
	for _, c := range calls {
		if c.Service == "sts" && c.Status == 200 && strings.HasPrefix(c.Operation, "AssumeRole") {
			n[c.Operation]++
		}
	}
	extra := 0
	for _, k := range n {
		extra += k - 1
	}
	return 2 * extra
}
