// Command bench measures, side by side and against the same emulator,
// every way of logging a CI job in to Amazon ECR: this project's binary
// (bare, in its image, and as the native action: node, its launcher and
// the binary from the tool cache or a download; native.go), a shell step with the AWS CLI v2 and docker login, aws-actions/
// amazon-ecr-login (when its dist/index.js is given), and a naive
// aws-sdk-go-v2 step as a reference. It prints Markdown tables of median
// and spread: end-to-end wall time and its overhead above the unavoidable
// round trips, cold start, CPU time, peak RSS, multi-region fan-out, the
// cost of verify and of TLS, and binary and image size - in two network
// models: every answer delayed by the latency, and a connection-level model
// (netmodel.go) where real host names, our DNS server and a latency proxy
// per host make DNS, TCP and TLS set-up cost round trips too.
//
// Usage (from the repository root):
//
//	go run ./internal/devtools/bench                    # full run, a few minutes
//	go run ./internal/devtools/bench -quick             # a short run
//	go run ./internal/devtools/bench -ecr-login ~/amazon-ecr-login/dist/index.js \
//	    -configure-aws ~/configure-aws-credentials/dist/index.js
//	go run ./internal/devtools/bench -profile /tmp/prof   # where our time and memory go
//
// Everything runs on loopback: internal/testing/awsfake plays GitHub's OIDC
// issuer, STS and ECR; small stubs play the registries' /v2/ endpoint
// (the only part of a registry a login touches). Contenders whose tools are
// not installed are reported as such. See docs/benchmarks.md for how to
// read the tables.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if err == flag.ErrHelp {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(2)
	}
	if opts.ConnRuns > 0 && opts.ProfileDir == "" && !inMountNamespace() {
		// The connection model points /etc/resolv.conf at our DNS server:
		// only in a mount namespace of the benchmark's own.
		code, ok, why := reexecInMountNamespace(os.Args[1:])
		if ok {
			os.Exit(code)
		}
		opts.connWhy = why
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts.Out, opts.Progress = os.Stdout, os.Stderr
	if opts.ProfileDir != "" {
		err = profileOurs(ctx, opts, opts.ProfileDir, opts.ProfileRuns)
	} else {
		err = runBench(ctx, opts)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// options controls one benchmark run.
type options struct {
	Latencies     []time.Duration // per-request latencies of the main table
	Runs          int             // runs per row of the main table
	FanOut        []int           // registry counts of the fan-out table
	FanOutLatency time.Duration
	FanOutRuns    int
	Bin           string // our binary; empty: build it with the release flags
	AWS           string // AWS CLI v2
	ECRLogin      string // amazon-ecr-login's dist/index.js; empty: not measured
	ConfigureAWS  string // configure-aws-credentials' dist/index.js; empty: not measured
	// The connection-level model (netmodel.go): round trip, runs (0: not
	// measured) and fan-out counts.
	ConnLatency time.Duration
	ConnRuns    int
	ConnFanOut  []int
	connWhy     string // why the model cannot run (set by main)
	Image       string // image to measure; empty: build the scratch image; "-": skip
	// OursOnly measures our binary (bare and native), the naive and floor steps only
	// (no AWS CLI, peer actions or image): a quick loop while tuning.
	OursOnly    bool
	ProfileDir  string // if set: profile our program instead of benchmarking
	ProfileRuns int
	Out         io.Writer
	Progress    io.Writer
}

func defaultOptions() options {
	return options{
		Latencies:     []time.Duration{0, 20 * time.Millisecond, 80 * time.Millisecond},
		Runs:          7,
		FanOut:        []int{1, 5, 20},
		FanOutLatency: 20 * time.Millisecond,
		FanOutRuns:    5,
		AWS:           "/usr/bin/aws",
		ConnLatency:   20 * time.Millisecond,
		ConnRuns:      7,
		ConnFanOut:    []int{1, 20},
	}
}

// quickOptions is the short run: two latencies, two runs, a small fan-out.
func quickOptions(o options) options {
	o.Latencies = []time.Duration{0, 20 * time.Millisecond}
	o.Runs = 2
	o.FanOut = []int{1, 3}
	o.FanOutRuns = 2
	o.ConnRuns = 2
	o.ConnFanOut = []int{1, 3}
	return o
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := defaultOptions()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "short run: latencies 0,20ms, 2 runs, fan-out 1,3 (explicit flags still win)")
	latencies := fs.String("latencies", "0,20ms,80ms", "comma-separated per-request `latencies` of the main table")
	fs.IntVar(&o.Runs, "runs", o.Runs, "runs per row of the main table")
	fanOut := fs.String("fanout", "1,5,20", "comma-separated registry `counts` (each registry in its own region, at most 20)")
	fs.DurationVar(&o.FanOutLatency, "fanout-latency", o.FanOutLatency, "per-request latency of the fan-out table")
	fs.IntVar(&o.FanOutRuns, "fanout-runs", o.FanOutRuns, "runs per row of the fan-out table")
	fs.StringVar(&o.Bin, "bin", "", "our binary (`path`); default: build it like the Dockerfile does")
	fs.StringVar(&o.AWS, "aws", o.AWS, "AWS CLI v2 (`path`); an aws on PATH may be v1")
	fs.StringVar(&o.ECRLogin, "ecr-login", "", "`path` of aws-actions/amazon-ecr-login's dist/index.js (run with node); not measured without it")
	fs.StringVar(&o.ConfigureAWS, "configure-aws", "", "`path` of aws-actions/configure-aws-credentials' dist/index.js (run with node, then amazon-ecr-login); needs -ecr-login")
	fs.DurationVar(&o.ConnLatency, "conn-latency", o.ConnLatency, "round trip of the connection-level model")
	fs.IntVar(&o.ConnRuns, "conn-runs", o.ConnRuns, "runs per row of the connection-level model (0: skip it)")
	connFan := fs.String("conn-fanout", "1,20", "comma-separated registry `counts` of the connection-level model's fan-out")
	fs.StringVar(&o.Image, "image", "", "measure this docker `image` instead of building the scratch image from our binary; - skips the image")
	fs.BoolVar(&o.OursOnly, "ours-only", false, "measure only our binary (bare and as the native action), the naive reference step and the floor (no AWS CLI, peer actions or image)")
	fs.StringVar(&o.ProfileDir, "profile", "", "instead of the benchmark, profile our program (CPU over many fresh runs, heap, trace) into `dir`")
	fs.IntVar(&o.ProfileRuns, "profile-runs", 200, "runs merged into the CPU profile (about 3 samples each)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q; everything is a flag (see -h)", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *quick {
		q := quickOptions(o)
		if !set["runs"] {
			o.Runs = q.Runs
		}
		if !set["fanout-runs"] {
			o.FanOutRuns = q.FanOutRuns
		}
		if !set["latencies"] {
			o.Latencies = q.Latencies
		}
		if !set["fanout"] {
			o.FanOut = q.FanOut
		}
		if !set["conn-runs"] {
			o.ConnRuns = q.ConnRuns
		}
		if !set["conn-fanout"] {
			o.ConnFanOut = q.ConnFanOut
		}
	}
	var err error
	if set["latencies"] || !*quick {
		if o.Latencies, err = parseDurations(*latencies); err != nil {
			return o, fmt.Errorf("-latencies: %w", err)
		}
	}
	if set["fanout"] || !*quick {
		if o.FanOut, err = parseCounts(*fanOut); err != nil {
			return o, fmt.Errorf("-fanout: %w", err)
		}
	}
	if set["conn-fanout"] || !*quick {
		if o.ConnFanOut, err = parseCounts(*connFan); err != nil {
			return o, fmt.Errorf("-conn-fanout: %w", err)
		}
	}
	if o.ConnRuns < 0 || o.ConnRuns > 1000 || o.ConnLatency < 0 || o.ConnLatency > 10*time.Second {
		return o, fmt.Errorf("-conn-runs must be between 0 and 1000, -conn-latency between 0 and 10s")
	}
	if o.Runs < 1 || o.Runs > 1000 || o.FanOutRuns < 1 || o.FanOutRuns > 1000 {
		return o, fmt.Errorf("-runs and -fanout-runs must be between 1 and 1000")
	}
	if o.ProfileRuns < 1 || o.ProfileRuns > 10000 {
		return o, fmt.Errorf("-profile-runs must be between 1 and 10000")
	}
	if o.FanOutLatency < 0 || o.FanOutLatency > 10*time.Second {
		return o, fmt.Errorf("-fanout-latency %v: want 0 to 10s", o.FanOutLatency)
	}
	return o, nil
}

func parseDurations(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "0" {
			out = append(out, 0)
			continue
		}
		d, err := time.ParseDuration(f)
		if err != nil || d < 0 || d > 10*time.Second {
			return nil, fmt.Errorf("%q is not a latency between 0 and 10s (write 0, 20ms, 1s)", f)
		}
		out = append(out, d)
	}
	return out, nil
}

func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > len(regions) {
			return nil, fmt.Errorf("%q is not a registry count between 1 and %d", f, len(regions))
		}
		out = append(out, n)
	}
	return out, nil
}
