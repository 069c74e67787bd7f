package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/docs"
)

// TestMain runs the tests in a mount namespace of their own when it can
// (root, unshare), so that the quick run measures the connection-level
// model too (it points /etc/resolv.conf at the benchmark's DNS server).
func TestMain(m *testing.M) {
	if !inMountNamespace() {
		if code, ok, _ := reexecInMountNamespace(os.Args[1:]); ok {
			os.Exit(code)
		}
	}
	os.Exit(m.Run())
}

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		name string
		xs   []float64
		want dist
	}{
		{"empty", nil, dist{Unavailable: true}},
		{"one", []float64{4}, dist{N: 1, Median: 4, Min: 4, Max: 4, Q1: 4, Q3: 4}},
		{"odd, unsorted", []float64{9, 1, 5}, dist{N: 3, Median: 5, Min: 1, Max: 9, Q1: 3, Q3: 7}},
		{"even interpolates", []float64{4, 1, 3, 2}, dist{N: 4, Median: 2.5, Min: 1, Max: 4, Q1: 1.75, Q3: 3.25}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := summarize(tc.xs); got != tc.want {
				t.Errorf("summarize(%v) = %+v, want %+v", tc.xs, got, tc.want)
			}
		})
	}
	xs := []float64{3, 1, 2}
	summarize(xs)
	if xs[0] != 3 {
		t.Errorf("summarize sorted its argument in place")
	}
}

func TestFmtNum(t *testing.T) {
	for _, tc := range []struct {
		x    float64
		want string
	}{{0, "0.00"}, {1.234, "1.23"}, {12.34, "12.3"}, {123.4, "123"}, {-7.5, "-7.50"}} {
		if got := fmtNum(tc.x); got != tc.want {
			t.Errorf("fmtNum(%v) = %q, want %q", tc.x, got, tc.want)
		}
	}
	if got := fmtMS(summarize([]float64{2, 1, 30})); got != "2.00 (1.00–30.0)" {
		t.Errorf("fmtMS = %q", got)
	}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(ms float64) time.Time { return t0.Add(time.Duration(ms * float64(time.Millisecond))) }

func TestUnion(t *testing.T) {
	for _, tc := range []struct {
		name      string
		calls     []call
		total     time.Duration
		stretches int
	}{
		{"none", nil, 0, 0},
		{"one", []call{{Start: at(1), End: at(3)}}, 2 * time.Millisecond, 1},
		{"disjoint", []call{{Start: at(0), End: at(2)}, {Start: at(5), End: at(6)}}, 3 * time.Millisecond, 2},
		{"overlapping", []call{{Start: at(0), End: at(4)}, {Start: at(1), End: at(6)}, {Start: at(2), End: at(3)}}, 6 * time.Millisecond, 1},
		{"touching counts as one", []call{{Start: at(0), End: at(2)}, {Start: at(2), End: at(3)}}, 3 * time.Millisecond, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			total, n := union(tc.calls)
			if total != tc.total || n != tc.stretches {
				t.Errorf("union = %v in %d stretches, want %v in %d", total, n, tc.total, tc.stretches)
			}
		})
	}
}

func TestMeasure(t *testing.T) {
	ps := []proc{
		{Name: "curl", Start: at(0), End: at(10), CPU: 2 * time.Millisecond, MaxRSS: 5e6},
		{Name: "aws", Start: at(10), End: at(100), CPU: 80 * time.Millisecond, MaxRSS: 60e6},
		{Name: "docker", Start: at(100), End: at(130), CPU: 10 * time.Millisecond, MaxRSS: 30e6},
	}
	calls := []call{
		{Service: "oidc", Start: at(5), End: at(6)},
		{Service: "sts", Start: at(70), End: at(90)},
		{Service: "registry", Start: at(110), End: at(120)},
	}
	s, err := measure(ps, 1, calls, 60*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	want := sample{Wall: 130 * time.Millisecond, Ideal: 60 * time.Millisecond, Server: 31 * time.Millisecond,
		Cold: 60 * time.Millisecond, CPU: 92 * time.Millisecond, MaxRSS: 60e6, SumRSS: 95e6, Procs: 3, Calls: 3, Sequent: 3}
	s.Timeline = nil
	if s.Wall != want.Wall || s.Ideal != want.Ideal || s.Server != want.Server || s.Cold != want.Cold || s.CPU != want.CPU ||
		s.MaxRSS != want.MaxRSS || s.SumRSS != want.SumRSS || s.Procs != want.Procs || s.Calls != want.Calls || s.Sequent != want.Sequent {
		t.Errorf("measure = %+v\nwant      %+v", s, want)
	}
	if s.Overhead() != 70*time.Millisecond || s.Client() != 99*time.Millisecond {
		t.Errorf("overhead %v, own time %v", s.Overhead(), s.Client())
	}
	if _, err := measure(ps, 2, calls[:2], 0); err == nil {
		t.Errorf("a main process without requests was measured")
	}
}

func TestTimeline(t *testing.T) {
	p := proc{Start: at(0), End: at(50)}
	for _, tc := range []struct {
		name  string
		calls []call
		want  string
	}{
		{"sequential", []call{{Service: "oidc", Start: at(10), End: at(12)}, {Service: "sts", Start: at(15), End: at(20)}, {Service: "registry", Start: at(30), End: at(31)}, {Service: "registry", Start: at(32), End: at(33)}},
			"before oidc 10ms, oidc 2ms, before sts 3ms, sts 5ms, before registry 10ms, registry 1ms, before registry #2 1ms, registry #2 1ms, exit 17ms"},
		{"a hair of overlap is no gap", []call{{Service: "oidc", Start: at(10), End: at(12)}, {Service: "sts", Start: at(11.9), End: at(20)}},
			"before oidc 10ms, oidc 2ms, before sts 0s, sts 8ms, exit 30ms"},
		{"concurrent requests have no timeline", []call{{Service: "ecr", Start: at(10), End: at(20)}, {Service: "ecr", Start: at(11), End: at(21)}}, ""},
		{"requests of other processes are left out", []call{{Service: "oidc", Start: at(-5), End: at(-1)}, {Service: "sts", Start: at(10), End: at(20)}},
			"before sts 10ms, sts 10ms, exit 30ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var parts []string
			for _, ph := range timeline(p, tc.calls) {
				parts = append(parts, ph.Label+" "+ph.D.String())
			}
			if got := strings.Join(parts, ", "); got != tc.want {
				t.Errorf("timeline = %s\nwant       %s", got, tc.want)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	d := defaultOptions()
	q := quickOptions(d)
	for _, tc := range []struct {
		name    string
		args    []string
		check   func(o options) bool
		wantErr string
	}{
		{"defaults", nil, func(o options) bool {
			return o.Runs == d.Runs && equalDurations(o.Latencies, d.Latencies) && len(o.FanOut) == 3 && o.FanOut[2] == 20
		}, ""},
		{"quick", []string{"-quick"}, func(o options) bool {
			return o.Runs == q.Runs && equalDurations(o.Latencies, q.Latencies) && len(o.FanOut) == len(q.FanOut) && o.FanOutRuns == q.FanOutRuns
		}, ""},
		{"explicit flags beat quick", []string{"-quick", "-runs", "4", "-latencies", "5ms"}, func(o options) bool {
			return o.Runs == 4 && equalDurations(o.Latencies, []time.Duration{5 * time.Millisecond}) && o.FanOutRuns == q.FanOutRuns
		}, ""},
		{"latencies", []string{"-latencies", "0, 1ms,80ms"}, func(o options) bool {
			return equalDurations(o.Latencies, []time.Duration{0, time.Millisecond, 80 * time.Millisecond})
		}, ""},
		{"bad latency", []string{"-latencies", "20"}, nil, "not a latency"},
		{"negative latency", []string{"-latencies", "-1ms"}, nil, "not a latency"},
		{"too many registries", []string{"-fanout", "1,21"}, nil, "registry count"},
		{"zero runs", []string{"-runs", "0"}, nil, "between 1 and 1000"},
		{"stray argument", []string{"now"}, nil, "unexpected arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags(tc.args, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(o) {
				t.Errorf("options %+v", o)
			}
		})
	}
	if _, err := parseFlags([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

func TestCheckDockerConfig(t *testing.T) {
	l := &lab{stubs: []*stub{{host: "127.0.0.1:5001"}, {host: "127.0.0.1:5002"}}, hosts: []string{"127.0.0.1:5001", "127.0.0.1:5002"}, passwords: []string{"pw-one", "pw-two"}}
	auth := func(pw string) string { return base64.StdEncoding.EncodeToString([]byte("AWS:" + pw)) }
	for _, tc := range []struct {
		name    string
		config  string // "" means no file
		n       int
		wantErr bool
	}{
		{"both", `{"auths":{"127.0.0.1:5001":{"auth":"` + auth("pw-one") + `"},"127.0.0.1:5002":{"auth":"` + auth("pw-two") + `"}}}`, 2, false},
		{"scheme in the key, as docker login https://... writes it", `{"auths":{"https://127.0.0.1:5001":{"auth":"` + auth("pw-one") + `"}}}`, 1, false},
		{"only the first asked for", `{"auths":{"127.0.0.1:5001":{"auth":"` + auth("pw-one") + `"}}}`, 1, false},
		{"second missing", `{"auths":{"127.0.0.1:5001":{"auth":"` + auth("pw-one") + `"}}}`, 2, true},
		{"wrong password", `{"auths":{"127.0.0.1:5001":{"auth":"` + auth("pw-two") + `"}}}`, 1, true},
		{"not JSON", `{"auths":`, 1, true},
		{"no file", "", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.config != "" {
				if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(tc.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := checkDockerConfig(l, dir, tc.n)
			if (err != nil) != tc.wantErr {
				t.Errorf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), "pw-one") || strings.Contains(err.Error(), "pw-two")) {
				t.Errorf("the error shows a password: %v", err)
			}
		})
	}
}

func TestCheckOutputs(t *testing.T) {
	l := &lab{stubs: []*stub{{host: "127.0.0.1:5001"}}, hosts: []string{"127.0.0.1:5001"}, passwords: []string{"pw-one"}}
	file := filepath.Join(t.TempDir(), "output")
	good := "docker_password_127_0_0_1_5001<<EOF\npw-one\nEOF\n"
	for _, tc := range []struct {
		name, content string
		wantErr       bool
	}{
		{"right", good, false},
		{"wrong", strings.Replace(good, "pw-one", "pw-two", 1), true},
		{"absent", "registry<<EOF\n127.0.0.1:5001\nEOF\n", true},
	} {
		if err := os.WriteFile(file, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := checkOutputs(l, file, 1); (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v, want error %v", tc.name, err, tc.wantErr)
		}
	}
}

func TestParsers(t *testing.T) {
	if tok, err := parseToken([]byte(`{"value":"eyJ.x.y"}`)); err != nil || tok != "eyJ.x.y" {
		t.Errorf("parseToken = %q, %v", tok, err)
	}
	for _, bad := range []string{``, `{}`, `{"value":""}`, `<html>`} {
		if _, err := parseToken([]byte(bad)); err == nil {
			t.Errorf("parseToken(%q) succeeded", bad)
		}
	}
	c, err := parseCreds([]byte("ASIAX\tsecret\tsession\n"))
	if err != nil || c != (awsCreds{"ASIAX", "secret", "session"}) {
		t.Errorf("parseCreds = %+v, %v", c, err)
	}
	if _, err := parseCreds([]byte("None\n")); err == nil {
		t.Errorf("parseCreds accepted a single field")
	}
	p, err := parseReportFile(t, "100 250 3000 4000 2048\n")
	if err != nil || !p.Start.Equal(time.Unix(0, 100)) || !p.End.Equal(time.Unix(0, 250)) || p.CPU != 7000 || p.MaxRSS != 2048*1024 {
		t.Errorf("readReport = %+v, %v", p, err)
	}
	if _, err := parseReportFile(t, "garbage"); err == nil {
		t.Errorf("readReport accepted garbage")
	}
}

func parseReportFile(t *testing.T, content string) (proc, error) {
	path := filepath.Join(t.TempDir(), "report")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return readReport(path)
}

// TestTargets checks the verdicts against the thresholds on both
// sides of each.
func TestTargets(t *testing.T) {
	mk := func(wall, ideal time.Duration, rss int64) []sample {
		return []sample{{Wall: wall, Ideal: ideal, MaxRSS: rss, Procs: 1}}
	}
	build := func(overhead time.Duration, fanout20 time.Duration, rss, bin, image int64, cliWall time.Duration) *results {
		lat := 20 * time.Millisecond
		ideal := 3 * lat
		return &results{
			Opts: options{Latencies: []time.Duration{lat}, FanOut: []int{1, 20}, FanOutLatency: lat},
			Main: []row{
				{Contender: oursName, Scenario: scenario{lat, 1}, Samples: mk(ideal+overhead, ideal, rss)},
				{Contender: "AWS CLI v2 + docker login", Scenario: scenario{lat, 1}, Samples: mk(cliWall, 4*lat, 70e6)},
			},
			FanOut: []row{
				{Contender: oursName, Scenario: scenario{lat, 1}, Samples: mk(100*time.Millisecond, ideal, rss)},
				{Contender: oursName, Scenario: scenario{lat, 20}, Samples: mk(fanout20, ideal, rss)},
			},
			OurBin: bin,
			Image:  imageSize{Size: image},
		}
	}
	verdicts := func(r *results) string {
		var v []string
		for _, tr := range targets(r) {
			v = append(v, strings.Trim(tr.verdict, "*"))
		}
		return strings.Join(v, " ")
	}
	good := build(4*time.Millisecond, 125*time.Millisecond, 14e6, 9e6, 11e6, 700*time.Millisecond)
	if got := verdicts(good); got != "met met met met met met" {
		t.Errorf("all within targets: %s", got)
	}
	bad := build(6*time.Millisecond, 135*time.Millisecond, 16e6, 11e6, 13e6, 600*time.Millisecond)
	if got := verdicts(bad); got != "missed missed missed missed missed missed" {
		t.Errorf("all beyond targets: %s", got)
	}
	noCLI := build(4*time.Millisecond, 125*time.Millisecond, 14e6, 9e6, 11e6, 0)
	noCLI.Main = noCLI.Main[:1]
	noCLI.Image = imageSize{Missing: "not measured: no docker"}
	if got := verdicts(noCLI); got != "met met met met not measured not measured" {
		t.Errorf("without the AWS CLI and docker: %s", got)
	}
}

// TestLauncherIsolatesRSS checks the reason the launch helper exists: a
// program it starts reports its own peak RSS, not this (large) process's.
func TestLauncherIsolatesRSS(t *testing.T) {
	root, err := moduleRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "launch")
	if err := buildPlain(context.Background(), root, "./internal/devtools/bench/launch", bin); err != nil {
		t.Fatal(err)
	}
	ballast := make([]byte, 200<<20) // make this process big
	for i := 0; i < len(ballast); i += 4096 {
		ballast[i] = 1
	}
	l := &lab{dir: t.TempDir()}
	l.ln = &launcher{bin: bin, dir: l.dir}
	_, p, err := l.ln.run(context.Background(), l, spec{Name: "true", Path: "/bin/true", Env: baseEnv(t.TempDir(), nil)})
	if err != nil {
		t.Fatal(err)
	}
	if p.MaxRSS <= 0 || p.MaxRSS > 50e6 {
		t.Errorf("/bin/true through the launcher: peak RSS %d bytes; want a few MB, not this process's 200+ MB", p.MaxRSS)
	}
	if p.End.Before(p.Start) || p.CPU < 0 {
		t.Errorf("report %+v", p)
	}
	runtime.KeepAlive(ballast)

	// Exit codes pass through, and a failure quotes stderr.
	_, _, err = l.ln.run(context.Background(), l, spec{Name: "sh", Path: "/bin/sh", Args: []string{"-c", "echo oops >&2; exit 3"}, Env: baseEnv(t.TempDir(), nil)})
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 || !strings.Contains(err.Error(), "oops") {
		t.Errorf("exit 3: err = %v", err)
	}
}

// TestQuickRun runs the benchmark command's quick mode end to end, so that
// it cannot rot: every contender that is installed must log in for real
// (the command checks the docker config and outputs of every run), and the
// report must have its tables. It asserts nothing about speed.
func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("the quick benchmark takes about a minute")
	}
	opts, err := parseFlags([]string{"-quick"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	opts.ECRLogin = os.Getenv("ECR_BENCH_ECR_LOGIN")         // aws-actions/amazon-ecr-login's dist/index.js, if available
	opts.ConfigureAWS = os.Getenv("ECR_BENCH_CONFIGURE_AWS") // and configure-aws-credentials'
	if !inMountNamespace() && os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but the tests do not run in a mount namespace of their own (need root and unshare from util-linux), so the connection-level model cannot run")
	}
	var out, progress bytes.Buffer
	opts.Out, opts.Progress = &out, &progress
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := runBench(ctx, opts); err != nil {
		t.Fatalf("bench: %v\nprogress:\n%s", err, progress.String())
	}
	report := out.String()
	t.Logf("report:\n%s", report)

	_, awsMissing := findAWSCLIv2(ctx, opts.AWS)
	if _, err := exec.LookPath("curl"); err != nil && awsMissing == "" {
		awsMissing = "curl not installed"
	}
	if awsMissing != "" && os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but the AWS CLI contender cannot run: %s (apt-get install awscli curl)", awsMissing)
	}
	_, nodeErr := exec.LookPath("node")
	if nodeErr != nil && os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but the native action's contender cannot run: node is not installed (apt-get install nodejs)")
	}
	number := `[0-9.]+ \([0-9.]+–[0-9.]+\)` // median (min–max)
	expect := []string{
		`\| 0 ms \| ecr-credentials \| ` + number,
		`\| 20\.0 ms \| ecr-credentials \| ` + number,
		`\| 20\.0 ms \| ecr-credentials, verify on \| ` + number,
		`\| 20\.0 ms \| naive aws-sdk-go-v2 step \(reference\) \| ` + number,
		`\| 20\.0 ms \| floor: the network work alone \(reference\) \| ` + number,
		`\| 3 \| ecr-credentials \| ` + number + ` \| [0-9.]+× \|`,
		`### Where the time goes`,
		`\| before oidc \| [0-9.]+ \|`,
		`\| 0 ms \| plain HTTP instead of HTTPS \| ` + number,
		`\| 20\.0 ms \| one CA bundle file \(SSL_CERT_DIR empty: no certificate directory read\) \| ` + number,
		`\| 20\.0 ms \| garbage collector off \(GOGC=off\) \| ` + number,
		`\| ecr-credentials binary \(static, stripped\) \| [0-9.]+ MB \|`,
		`\| overhead above the ideal round trips ≤ 5 ms .* \| (met|\*\*missed\*\*) \|`,
		`\| peak RSS ≤ 15 MB .* \| [0-9.]+ MB \| (met|\*\*missed\*\*) \|`,
		`launcher's floor, measured with /bin/true, is [0-9.]+ MB`,
		`\| per-answer model, 20 ms: overhead over the 3 round trips ≤ 10 ms \| [0-9.]+ ms \(floor: ideal \+ [0-9.]+\) \| (met|\*\*missed\*\*) \|`,
		`\| binary ≤ 11 MB \| [0-9.]+ MB \| (met|\*\*missed\*\*) \|`,
	}
	if inMountNamespace() {
		// Our binary and the naive step at one registry: 3 requests on 3
		// connections (DNS, TCP and TLS each, through the proxies);
		// with verify one more of each.
		expect = append(expect,
			`\| ecr-credentials \| `+number+` \| 120 \| .* \| 3 \| 3 \| 1\.0× \|`,
			`\| ecr-credentials, verify on \| `+number+` \| 140 \| .* \| 4 \| 4 \| [0-9.]+× \|`,
			`\| naive aws-sdk-go-v2 step \(reference\) \| `+number+` \| 120 \| .* \| 3 \| 3 \| [0-9.]+× \|`,
			`\| floor: the network work alone \(reference\) \| `+number+` \| 120 \| .* \| 3 \| 3 \| [0-9.]+× \|`,
			`\| 3 \| ecr-credentials \| `+number+` \| [0-9.]+× \| .* \| 5 \| 5 \|`,
			`\| connection model, 20\.0 ms, one registry: wall ≤ ideal \+ 8 ms \| [0-9.]+ ms = ideal 120 \+ [0-9.]+ \(floor: ideal \+ [0-9.]+\) \| (met|\*\*missed\*\*) \|`,
			`Our DNS server answered [0-9]+ queries\.`, // and no name it did not know
		)
		if nodeErr == nil {
			// The native step: node, the launcher (no request of its
			// own with the binary cached) and our binary's 3; its first
			// run downloads the archive once more, on a connection of its
			// own.
			expect = append(expect,
				`\| ecr-credentials native \(node \+ launcher, cached binary\) \| `+number+` \| 120 \| .* \| 3 \| 3 \| [0-9.]+× \|`,
				`\| ecr-credentials native, first run \(download \+ verify\) \| `+number+` \| 120 \| .* \| 4 \| 4 \| [0-9.]+× \|`,
				`\| connection model, 20\.0 ms: the native step's launcher adds ≤ 30\.0 ms over the bare binary \| [+-][0-9.]+ ms \(.*\) \| (met|\*\*missed\*\*) \|`,
				`\| connection model, 20\.0 ms: the launcher's own work \(native − bare binary − node alone\) ≤ 30\.0 ms \| -?[0-9.]+ ms \([0-9.]+ − [0-9.]+ − [0-9.]+\) \| (met|\*\*missed\*\*) \|`,
				`\| connection model: the native step's first run \(download and verify; no target\) \| [0-9.]+ ms = cached [+-][0-9.]+ \(archive [0-9.]+ MB\).* \| reported \|`,
				`node alone \(.node -e 0., started the same way\): wall `+number,
			)
		} else {
			expect = append(expect, `- ecr-credentials native \(node \+ launcher, cached binary\): node not installed`)
		}
	} else {
		expect = append(expect, `Not measured: needs root`)
	}
	if awsMissing == "" {
		expect = append(expect, `\| 20\.0 ms \| AWS CLI v2[^|]* \| `+number, `≥ 10× faster than the AWS CLI path at 20 ms \| [0-9.]+× \| (met|\*\*missed\*\*)`)
	} else {
		expect = append(expect, `- AWS CLI v2 \+ docker login: .*not`)
	}
	if opts.ECRLogin == "" {
		expect = append(expect, `- AWS CLI sts \+ amazon-ecr-login \(node\): not available: pass -ecr-login`)
	}
	for _, e := range expect {
		if !regexp.MustCompile(e).MatchString(report) {
			t.Errorf("the report lacks %s", e)
		}
	}
	// ECR passwords are long base64 blobs; none may reach the report.
	if m := regexp.MustCompile(`[A-Za-z0-9+/=]{200,}`).FindString(report + progress.String()); m != "" {
		t.Errorf("the report holds a secret-like blob of %d characters", len(m))
	}
}

// TestProfileMode runs -profile with a couple of runs: the wrapper builds,
// the profiles are written and merged, and the top of the CPU profile is
// printed.
func TestProfileMode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the profiling wrapper")
	}
	dir := t.TempDir()
	var out bytes.Buffer
	opts := defaultOptions()
	opts.Out, opts.Progress = &out, io.Discard
	if err := profileOurs(context.Background(), opts, dir, 2); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"cpu.pprof", "heap.pprof", "trace.out", "memstats.txt"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, want := range []string{"## Profile of ecr-credentials (2 fresh processes", "VmHWM:", "flat%"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("profile output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestTargets23 checks the native action's verdicts on both sides of each
// threshold, and that a missing row is "not measured", never a verdict.
func TestTargets23(t *testing.T) {
	rtt := 20 * time.Millisecond
	sc := scenario{Latency: rtt, Registries: 1}
	mk := func(name string, wall time.Duration) row {
		return row{Contender: name, Scenario: sc, Samples: []sample{{Wall: wall, Ideal: 6 * rtt, CPU: wall / 2, MaxRSS: 20e6, Procs: 1}}}
	}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, tc := range []struct {
		name string
		rows []row
		node time.Duration // node alone; 0: not measured
		want string        // the four verdicts
	}{
		{"within both targets", []row{mk(oursName, ms(150)), mk(nativeName, ms(180)), mk(nativeFirstName, ms(400)), mk(peerActionsName, ms(720))}, ms(20), "met met met reported"},
		{"launcher 1 ms over, peers 1 ms short", []row{mk(oursName, ms(150)), mk(nativeName, ms(181)), mk(nativeFirstName, ms(400)), mk(peerActionsName, ms(723))}, ms(20), "missed met missed reported"},
		{"node's start alone over, the launcher's own work within", []row{mk(oursName, ms(150)), mk(nativeName, ms(240)), mk(nativeFirstName, ms(400)), mk(peerActionsName, ms(960))}, ms(60), "missed met met reported"},
		{"the launcher's own work 1 ms over", []row{mk(oursName, ms(150)), mk(nativeName, ms(241)), mk(nativeFirstName, ms(400)), mk(peerActionsName, ms(964))}, ms(60), "missed missed met reported"},
		{"without the peers", []row{mk(oursName, ms(150)), mk(nativeName, ms(160)), mk(nativeFirstName, ms(400))}, ms(5), "met met not measured reported"},
		{"without the first run or node alone", []row{mk(oursName, ms(150)), mk(nativeName, ms(200)), mk(peerActionsName, ms(900))}, 0, "missed not measured met not measured"},
		{"native not measured", []row{mk(oursName, ms(150)), mk(peerActionsName, ms(900))}, ms(60), "not measured not measured not measured not measured"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &results{Opts: options{ConnLatency: rtt}, Conn: tc.rows, NativeArchive: 4e6}
			if tc.node > 0 {
				r.NodeAlone = []sample{{Wall: tc.node, CPU: tc.node, MaxRSS: 40e6, Procs: 1}}
			}
			var v []string
			for _, tr := range targets23(r) {
				v = append(v, strings.Trim(tr.verdict, "*"))
			}
			if got := strings.Join(v, " "); got != tc.want {
				t.Errorf("verdicts %q, want %q (%+v)", got, tc.want, targets23(r))
			}
		})
	}
}

// TestPrepareNative checks the benchmark's release of a binary: the
// checkout's checksums.json names this platform's archive and the binary's
// SHA-256, and the tool cache holds the binary where the launcher looks
// (internal/testing/snapshot checks the archives themselves).
func TestPrepareNative(t *testing.T) {
	root, err := moduleRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runnerPlatform(runtime.GOOS, runtime.GOARCH); err != nil {
		t.Skipf("no native build for this machine: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "ecr-credentials")
	content := []byte("\x7fELF a stand-in for the binary")
	if err := os.WriteFile(bin, content, 0o755); err != nil {
		t.Fatal(err)
	}
	rel, err := prepareNative(root, bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(rel.action, "checksums.json"))
	if err != nil {
		t.Fatal(err)
	}
	var data docs.NativeData
	if err := json.Unmarshal(b, &data); err != nil {
		t.Fatal(err)
	}
	a, ok := data.Archives[rel.Platform.Key]
	if data.Version != nativeVersion || !ok || a.Name != rel.Archive || a.BinarySHA256 != sha256Hex(content) {
		t.Fatalf("checksums.json: %s", b)
	}
	cached := filepath.Join(rel.toolCache, "ecr-credentials", strings.TrimPrefix(nativeVersion, "v"), rel.Platform.CacheArch, "ecr-credentials")
	if got, err := os.ReadFile(cached); err != nil || !bytes.Equal(got, content) {
		t.Errorf("tool cache %s: %v", cached, err)
	}
	for _, f := range []string{"action.yml", "launcher.js", "main.js", "post.js"} {
		if _, err := os.Stat(filepath.Join(rel.action, f)); err != nil {
			t.Errorf("the action's checkout lacks %s: %v", f, err)
		}
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
