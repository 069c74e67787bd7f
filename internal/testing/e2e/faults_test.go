package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// op names one emulated operation, as awsfake.Call records it.
type op struct{ service, operation string }

var (
	opIDToken = op{"oidc", "IDToken"}
	opAssume  = op{"sts", "AssumeRoleWithWebIdentity"}
	opECR     = op{"ecr", "GetAuthorizationToken"}
)

// runBound is how long a run may take beyond its own `timeout` setting
// before the harness kills it and fails the test: the program must stop by
// itself.
const runBound = 30 * time.Second

// TestFaults runs the GitHub action against an emulator that misbehaves:
// every run either succeeds (and the retries show in the emulator's call
// log) or fails within its `timeout` with one clear error naming what it
// was waiting for, having written nothing.
func TestFaults(t *testing.T) {
	many := 100000 // a fault that outlasts any run
	tests := []struct {
		name    string
		opts    awsfake.Options
		faults  []awsfake.Fault
		latency time.Duration
		timeout string
		// success: the failed calls each operation must show (each then
		// succeeds exactly once)
		retried map[op]int
		// failure
		code  string
		inMsg []string
	}{
		{name: "latency on every call", latency: 400 * time.Millisecond, timeout: "20s",
			retried: map[op]int{opIDToken: 0, opAssume: 0, opECR: 0}},
		{name: "burst of 500 from STS", timeout: "20s",
			faults:  []awsfake.Fault{{Service: "sts", Kind: awsfake.FaultInternalError, Count: 3}},
			retried: map[op]int{opIDToken: 0, opAssume: 3, opECR: 0}},
		{name: "burst of 503 from ECR", timeout: "20s",
			faults:  []awsfake.Fault{{Service: "ecr", Kind: awsfake.FaultUnavailable, Count: 4}},
			retried: map[op]int{opAssume: 0, opECR: 4}},
		{name: "ECR ThrottlingException", timeout: "20s",
			faults:  []awsfake.Fault{{Service: "ecr", Kind: awsfake.FaultThrottle, Count: 2}},
			retried: map[op]int{opAssume: 0, opECR: 2}},
		{name: "STS Throttling", timeout: "20s",
			faults:  []awsfake.Fault{{Service: "sts", Kind: awsfake.FaultThrottle, Count: 2}},
			retried: map[op]int{opAssume: 2, opECR: 0}},
		{name: "connection resets", timeout: "20s",
			faults: []awsfake.Fault{
				{Service: "oidc", Kind: awsfake.FaultReset, Count: 1},
				{Service: "sts", Kind: awsfake.FaultReset, Count: 2},
				{Service: "ecr", Kind: awsfake.FaultReset, Count: 2},
			},
			retried: map[op]int{opIDToken: 1, opAssume: 2, opECR: 2}},
		{name: "OIDC token endpoint down for a while", timeout: "20s",
			faults:  []awsfake.Fault{{Service: "oidc", Kind: awsfake.FaultUnavailable, Count: 4}},
			retried: map[op]int{opIDToken: 4, opAssume: 0}},
		{name: "STS cannot reach the OIDC provider", timeout: "20s",
			faults:  []awsfake.Fault{{Service: "sts", Kind: awsfake.FaultError, Code: "IDPCommunicationError", Count: 2}},
			retried: map[op]int{opAssume: 2, opECR: 0}},
		{name: "a hung STS connection is abandoned and retried", timeout: "8s",
			faults:  []awsfake.Fault{{Service: "sts", Kind: awsfake.FaultHang, Count: 1}},
			retried: map[op]int{opAssume: 1, opECR: 0}},
		{name: "a hung ECR connection is abandoned and retried", timeout: "8s",
			faults:  []awsfake.Fault{{Service: "ecr", Kind: awsfake.FaultHang, Count: 1}},
			retried: map[op]int{opAssume: 0, opECR: 1}},
		{name: "a hung token request is abandoned and retried", timeout: "8s",
			faults:  []awsfake.Fault{{Service: "oidc", Kind: awsfake.FaultHang, Count: 1}},
			retried: map[op]int{opIDToken: 1, opAssume: 0}},
		{name: "everything at once", timeout: "30s",
			faults: []awsfake.Fault{
				{Service: "oidc", Kind: awsfake.FaultUnavailable, Count: 2},
				{Service: "sts", Kind: awsfake.FaultReset, Count: 1},
				{Service: "sts", Kind: awsfake.FaultInternalError, Count: 1},
				{Service: "ecr", Kind: awsfake.FaultThrottle, Count: 1},
				{Service: "ecr", Kind: awsfake.FaultUnavailable, Count: 1},
			},
			latency: 100 * time.Millisecond,
			retried: map[op]int{opIDToken: 2, opAssume: 2, opECR: 2}},
		{name: "clock 20 minutes ahead", opts: awsfake.Options{Now: func() time.Time { return time.Now().Add(20 * time.Minute) }}, timeout: "20s",
			retried: map[op]int{opAssume: 0, opECR: 1}}, // one signature refused, then signed with the corrected clock
		{name: "clock 20 minutes behind", opts: awsfake.Options{Now: func() time.Time { return time.Now().Add(-20 * time.Minute) }}, timeout: "20s",
			retried: map[op]int{opAssume: 0, opECR: 1}},

		{name: "OIDC token endpoint down for good", timeout: "3s",
			faults: []awsfake.Fault{{Service: "oidc", Kind: awsfake.FaultUnavailable, Count: many}},
			code:   "id-token-request-failed", inMsg: []string{"requesting the GitHub OIDC token", "HTTP 503", "re-run"}},
		{name: "STS failing for good", timeout: "3s",
			faults: []awsfake.Fault{{Service: "sts", Kind: awsfake.FaultUnavailable, Count: many}},
			code:   "timeout", inMsg: []string{"gave up waiting for STS AssumeRoleWithWebIdentity", "`timeout` setting"}},
		{name: "STS resetting every connection", timeout: "3s",
			faults: []awsfake.Fault{{Service: "sts", Kind: awsfake.FaultReset, Count: many}},
			code:   "timeout", inMsg: []string{"gave up waiting for STS AssumeRoleWithWebIdentity"}},
		{name: "ECR throttling for good", timeout: "3s",
			faults: []awsfake.Fault{{Service: "ecr", Kind: awsfake.FaultThrottle, Count: many}},
			code:   "timeout", inMsg: []string{"gave up waiting for ECR GetAuthorizationToken in region eu-west-1", "`timeout` setting"}},
		{name: "ECR hanging for good", timeout: "3s",
			faults: []awsfake.Fault{{Service: "ecr", Kind: awsfake.FaultHang, Count: many}},
			code:   "timeout", inMsg: []string{"gave up waiting for ECR GetAuthorizationToken in region eu-west-1"}},
		{name: "everything too slow", latency: 5 * time.Second, timeout: "3s",
			code: "id-token-request-failed", inMsg: []string{"requesting the GitHub OIDC token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newEmulatorFixture(t, tt.opts)
			for _, fault := range tt.faults {
				f.fake.Inject(fault)
			}
			f.fake.SetLatency(tt.latency)
			r := newRunner(t)
			env := f.githubEnv(r, map[string]string{"role-to-assume": roleARN, "aws-region": region, "verify": "false", "timeout": tt.timeout})
			limit, err := time.ParseDuration(tt.timeout)
			must(t, err)
			res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Timeout: limit + runBound})
			assertNoLeaks(t, f.fake, res)
			calls := f.fake.Calls()

			if tt.code != "" {
				wantGitHubFailure(t, res, tt.code, tt.inMsg...)
				assertStepUntouched(t, r)
				return
			}
			if res.ExitCode != 0 {
				t.Fatalf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
			}
			for o, want := range tt.retried {
				failed, ok := tally(calls, o.service, o.operation)
				// The emulator logs what it answered: on a loaded machine the
				// client may give up on a slow attempt (the per-attempt
				// timeout) that the emulator still completes, and retry; so
				// successes are "at least one".
				if failed != want || ok < 1 {
					t.Errorf("%s %s: %d failed and %d successful calls, want %d failed then a success", o.service, o.operation, failed, ok, want)
				}
				t.Logf("%s %s: %d retries", o.service, o.operation, failed)
			}
			out := readFileCommands(t, r.output)
			if out["password"] == "" || !contains(f.fake.Issued(), out["password"]) {
				t.Errorf("no password from the emulator in the outputs")
			}
			cfg, err := os.ReadFile(filepath.Join(r.homeDir, ".docker", "config.json"))
			if err != nil || !strings.Contains(string(cfg), out["registry"]) {
				t.Errorf("docker login not written (%v)", err)
			}
		})
	}
}

// TestFaultsOtherModes: a plugin step and a CLI run fail as clearly and
// leave as little behind as the GitHub action: an expired token, and an
// endpoint that never recovers within the timeout.
func TestFaultsOtherModes(t *testing.T) {
	t.Parallel()
	f := newEmulatorFixture(t, awsfake.Options{})
	expired, err := f.fake.MintIDToken("sts.amazonaws.com", awsfake.WithSubject(subject), awsfake.Expired())
	must(t, err)
	expiredFile := filepath.Join(t.TempDir(), "token")
	must(t, os.WriteFile(expiredFile, []byte(expired), 0o600))

	t.Run("plugin: expired web identity token", func(t *testing.T) {
		workspace := t.TempDir()
		env := f.pluginEnv("drone", map[string]string{"role_arn": roleARN, "region": region, "web_identity_token_file": expiredFile, "verify": "false"}, nil)
		res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Dir: workspace, Timeout: runBound})
		wantPlainFailure(t, res, res.Stdout, "invalid-identity-token", "had expired", "check the runner's clock")
		assertNoLeaksAtAll(t, f.fake, res, expired)
		if entries, _ := os.ReadDir(workspace); len(entries) != 0 {
			t.Errorf("a failed run wrote into the workspace: %v", entries)
		}
	})
	t.Run("CLI: ECR throttling for good", func(t *testing.T) {
		f := newEmulatorFixture(t, awsfake.Options{})
		f.fake.Inject(awsfake.Fault{Service: "ecr", Kind: awsfake.FaultThrottle, Count: 100000})
		env := f.cliEnv(t)
		home := t.TempDir()
		env["HOME"] = home
		before := takeSnapshot(t, home)
		res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env, Args: []string{"login", "--verify=false", "--timeout", "3s"}, Timeout: 3*time.Second + runBound})
		wantPlainFailure(t, res, res.Stderr, "timeout", "gave up waiting for ECR GetAuthorizationToken")
		if res.Stdout != "" {
			t.Errorf("a failed login printed to stdout: %q", res.Stdout)
		}
		assertNoLeaksAtAll(t, f.fake, res)
		if d := before.diff(takeSnapshot(t, home)); len(d) != 0 {
			t.Errorf("a failed login changed HOME: %v", d)
		}
	})
}
