package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// The STS and ECR connections are opened while the OIDC token is
// requested and the calls take them: no connection and no request more
// than the calls need, whatever the hosts.
func TestConnectionsOpenedAheadAreTheCallsOwn(t *testing.T) {
	for _, tc := range []struct {
		name          string
		twoHosts      bool // STS and ECR under two names
		proxy         bool // HTTPS_PROXY set
		proxyInput    bool // the http-proxy input set instead
		static        bool // static keys: nothing to wait for, nothing opened
		wantConns     int  // at the emulator: the token request's and the AWS calls'
		orConns       int  // another acceptable count
		opened, taken int
	}{
		// STS and ECR on one address: one connection opened; the ECR call
		// reuses it, or dials its own when the STS answer has not yet
		// given it back (the SDK's transport does that without us too).
		{name: "one host", wantConns: 2, orConns: 3, opened: 1, taken: 1},
		// Two addresses (the same emulator under two names): one each.
		{name: "two hosts", twoHosts: true, wantConns: 3, opened: 2, taken: 2},
		// Static keys: nothing to wait for, nothing opened; the identity
		// comes from sts:GetCallerIdentity before ECR.
		{name: "static keys", static: true, wantConns: 2, orConns: 1},
		// A proxy in the environment (loopback is never proxied, so the
		// run still reaches the emulator): nothing opened ahead.
		{name: "proxy configured", proxy: true, wantConns: 3, orConns: 2},
		// The http-proxy input is the same decision.
		{name: "http-proxy input", proxyInput: true, wantConns: 3, orConns: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A fixture each: the emulator logs a call after answering it,
			// so a previous run's last call may still be on its way.
			f := newFixture(t)
			r := newRunner(t)
			in := map[string]string{"role-to-assume": roleARN, "aws-region": region}
			if tc.static {
				key, err := f.fake.AddAccessKey(awsfake.AccessKey{UserARN: "arn:aws:iam::123456789012:user/ci", ECR: true})
				if err != nil {
					t.Fatal(err)
				}
				in = map[string]string{"aws-region": region, "aws-access-key-id": key.ID, "aws-secret-access-key": key.Secret}
			}
			if tc.proxyInput {
				in["http-proxy"] = "http://127.0.0.1:9"
			}
			env := f.githubEnv(r, in)
			env["RUNNER_DEBUG"] = "1"
			if tc.proxy {
				env["HTTPS_PROXY"] = "http://127.0.0.1:9"
			}
			if tc.twoHosts {
				port := f.fake.URL()[strings.LastIndex(f.fake.URL(), ":")+1:]
				env["AWS_ENDPOINT_URL_STS"], env["AWS_ENDPOINT_URL_ECR"] = "https://127.0.0.1:"+port, "https://localhost:"+port
			}
			res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env})
			if res.ExitCode != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.ExitCode, res.Stdout, res.Stderr)
			}
			var services []string
			want := "oidc sts ecr"
			if tc.static {
				want = "sts ecr"
			}
			// The emulator logs a call just after answering it.
			for deadline := time.Now().Add(10 * time.Second); len(f.fake.Calls()) < len(strings.Fields(want)) && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			// On a loaded machine the SDK now and then retries a call the
			// emulator did answer (seen as often with the program before
			// connections were opened ahead: 5 runs in 120), on a new
			// connection of its own. Such a retry is the call's, not ours:
			// it is counted, and allowed one connection more.
			retries := 0
			for _, c := range f.fake.Calls() {
				if n := len(services); n > 0 && services[n-1] == c.Service {
					retries++
					continue
				}
				services = append(services, c.Service)
			}
			if got := strings.Join(services, " "); got != want {
				t.Errorf("requests %q, want %q\nemulator log: %+v\nstdout:\n%s\nstderr:\n%s", got, want, f.fake.Calls(), res.Stdout, res.Stderr)
			}
			if got := f.fake.Connections() - retries; got != tc.wantConns && got != tc.orConns {
				t.Errorf("%d connections to the emulator (%d retried calls not counted), want %d", got, retries, tc.wantConns)
			}
			line := fmt.Sprintf("connections opened ahead for STS and ECR: %d, taken: %d, failed: 0", tc.opened, tc.taken)
			switch {
			case tc.opened == 0 && strings.Contains(res.Stdout, "connections opened ahead"):
				t.Errorf("connections were opened ahead, want none\nstdout:\n%s", res.Stdout)
			case tc.opened > 0 && !strings.Contains(res.Stdout, line):
				t.Errorf("no debug line %q\nstdout:\n%s", line, res.Stdout)
			}
		})
	}
}
