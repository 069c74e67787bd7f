// Command load simulates a busy organization logging in to one ECR
// registry: thousands of GitHub Actions jobs, arriving in bursts (a
// workflow run starts a matrix of jobs at once), each running the action
// in-process (internal/app.Main with its own runner files) against the AWS
// emulator, with ECR's real GetAuthorizationToken quota (20 per second
// sustained, bursts of 200, per account and region) switched on. It
// reports how many jobs succeeded, how often ECR throttled them, the
// retries per job and the latency percentiles.
//
// Everything stays on loopback and the run is bounded: it stops by itself
// after the last job, or at -deadline.
//
//	go run ./internal/devtools/load            # 2,000 jobs at 25 per second
//	go run ./internal/devtools/load -quick     # 400 jobs at 80 per second (what the test runs)
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/app"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
)

// Options shape one simulation.
type Options struct {
	Jobs      int     // invocations in total
	Rate      float64 // mean job arrivals per second
	MaxMatrix int     // a workflow run starts 1..MaxMatrix jobs at once
	Limit     awsfake.RateLimit
	Deadline  time.Duration // the whole simulation stops after this
	Timeout   string        // the action's timeout setting
	Seed      uint64
}

// Quick is the simulation the test runs: short, but long enough to drain
// ECR's burst of 200 and be throttled.
var Quick = Options{Jobs: 400, Rate: 80, MaxMatrix: 8, Limit: awsfake.ECRGetAuthorizationTokenLimit, Deadline: 3 * time.Minute, Timeout: "2m", Seed: 1}

// Full is the documented run: 2,000 jobs, a little above ECR's sustained
// rate for over a minute.
var Full = Options{Jobs: 2000, Rate: 25, MaxMatrix: 8, Limit: awsfake.ECRGetAuthorizationTokenLimit, Deadline: 8 * time.Minute, Timeout: "2m", Seed: 1}

// Report is what a simulation measured.
type Report struct {
	Jobs, Succeeded int
	Failures        []string // the first error line of each failed job (no secrets: they are masked)
	Elapsed         time.Duration
	Latencies       []time.Duration // per successful job, sorted
	// Calls and failed calls per "service operation".
	Calls, Failed map[string]int
	Throttled     int         // ECR ThrottlingException answers
	Retries       map[int]int // ECR retries per job -> number of jobs
}

// Percentile returns the p-th percentile (0..100) of the successful jobs'
// latency.
func (r *Report) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(r.Latencies)))) - 1
	return r.Latencies[max(0, min(i, len(r.Latencies)-1))]
}

// Print writes the report for people.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "jobs: %d, succeeded: %d, failed: %d, in %s\n", r.Jobs, r.Succeeded, len(r.Failures), r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "latency: p50 %s, p95 %s, p99 %s, max %s\n", r.Percentile(50).Round(time.Millisecond), r.Percentile(95).Round(time.Millisecond),
		r.Percentile(99).Round(time.Millisecond), r.Percentile(100).Round(time.Millisecond))
	fmt.Fprintf(w, "ECR throttled %d calls; GetAuthorizationToken retries per job:", r.Throttled)
	var ks []int
	for k := range r.Retries {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	for _, k := range ks {
		fmt.Fprintf(w, " %d:%d", k, r.Retries[k])
	}
	fmt.Fprintln(w)
	var ops []string
	for op := range r.Calls {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		fmt.Fprintf(w, "  %-40s %6d calls, %6d failed\n", op, r.Calls[op], r.Failed[op])
	}
	for i, f := range r.Failures {
		if i == 5 {
			fmt.Fprintf(w, "  ... and %d more failures\n", len(r.Failures)-5)
			break
		}
		fmt.Fprintf(w, "  failure: %s\n", f)
	}
}

const (
	account = "123456789012"
	region  = "eu-west-1"
	roleARN = "arn:aws:iam::123456789012:role/org-ecr-push"
)

// processEnv is what the AWS SDK reads from the process environment (it
// does not use app.Env): the emulator's endpoints, and nothing of the
// host's AWS configuration. Set it once before Run.
func processEnv(fake *awsfake.Server, scratch string) map[string]string {
	env := map[string]string{
		"AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
		"AWS_SESSION_TOKEN": "", "AWS_ROLE_ARN": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_REGION": "",
		"AWS_DEFAULT_REGION": "", "AWS_CA_BUNDLE": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
	}
	for k, v := range fake.Env() {
		env[k] = v
	}
	env["AWS_CONFIG_FILE"] = filepath.Join(scratch, "no-aws-config")
	env["AWS_SHARED_CREDENTIALS_FILE"] = filepath.Join(scratch, "no-aws-credentials")
	return env
}

// Run starts the emulator, sets the process environment for the SDK
// (setenv, e.g. os.Setenv), runs the simulation and reports.
func Run(ctx context.Context, o Options, setenv func(k, v string) error) (*Report, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Deadline)
	defer cancel()
	fake := awsfake.New(awsfake.Options{})
	if err := fake.AddRole(awsfake.Role{ARN: roleARN, Subjects: []string{"repo:octo-org/*"}, ECR: true}); err != nil {
		return nil, err
	}
	if err := fake.Start(); err != nil {
		return nil, err
	}
	defer fake.Close()
	fake.SetRegistryPassword(account, region, strings.Repeat("p", 64)) // skip generating 2,000 random passwords
	fake.SetECRRateLimit(o.Limit)

	scratch, err := os.MkdirTemp("", "ecr-credentials-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	for k, v := range processEnv(fake, scratch) {
		if err := setenv(k, v); err != nil {
			return nil, err
		}
	}

	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	meanMatrix := float64(1+o.MaxMatrix) / 2
	rep := &Report{Jobs: o.Jobs, Calls: map[string]int{}, Failed: map[string]int{}, Retries: map[int]int{}}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	start := time.Now()
	launched := 0
	for run := 0; launched < o.Jobs; run++ {
		matrix := min(1+rng.IntN(o.MaxMatrix), o.Jobs-launched)
		for j := range matrix {
			wg.Add(1)
			go func(id int) {
				defer wg.Done()
				t0 := time.Now()
				err := job(ctx, fake, scratch, id, o.Timeout)
				d := time.Since(t0)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					rep.Failures = append(rep.Failures, err.Error())
					return
				}
				rep.Succeeded++
				rep.Latencies = append(rep.Latencies, d)
			}(launched + j)
		}
		launched += matrix
		// Workflow runs arrive as a Poisson process.
		gap := time.Duration(rng.ExpFloat64() * meanMatrix / o.Rate * float64(time.Second))
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil, fmt.Errorf("load: deadline %s passed while starting jobs (%d of %d started)", o.Deadline, launched, o.Jobs)
		case <-time.After(gap):
		}
	}
	wg.Wait()
	rep.Elapsed = time.Since(start)
	sort.Slice(rep.Latencies, func(i, j int) bool { return rep.Latencies[i] < rep.Latencies[j] })

	perKey := map[string]int{}
	for _, c := range fake.Calls() {
		op := c.Service + " " + c.Operation
		rep.Calls[op]++
		if c.ErrorCode != "" || c.Status != 200 {
			rep.Failed[op]++
		}
		if c.Service == "ecr" && c.Operation == "GetAuthorizationToken" {
			if c.ErrorCode == "ThrottlingException" {
				rep.Throttled++
			}
			perKey[c.AccessKeyID]++ // each job has its own role session
		}
	}
	for _, n := range perKey {
		rep.Retries[n-1]++
	}
	return rep, nil
}

// job is one GitHub Actions job running the action.
func job(ctx context.Context, fake *awsfake.Server, scratch string, id int, timeout string) error {
	dir := filepath.Join(scratch, "job-"+strconv.Itoa(id))
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	files, err := ghrunner.NewStepFiles(dir)
	if err != nil {
		return err
	}
	env := ghrunner.Step{Files: files, Temp: dir, Home: home, RunID: strconv.Itoa(100000 + id), Defaults: true,
		Inputs: map[string]string{
			"role-to-assume": roleARN,
			"aws-region":     region,
			"verify":         "false", // no registry behind the emulated hosts
			"timeout":        timeout,
		}}.Env()
	env["ACTIONS_ID_TOKEN_REQUEST_URL"] = fake.IDTokenRequestURL()
	env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = fake.IDTokenRequestToken()
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	var out bytes.Buffer
	code := app.Main(ctx, app.Env{
		Args:    []string{"ecr-credentials"},
		Getenv:  func(k string) string { return env[k] },
		Environ: environ,
		Stdin:   strings.NewReader(""),
		Stdout:  &out,
		Stderr:  &out,
		Dir:     dir,
	})
	if code != app.ExitOK {
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(line, "::error") {
				return fmt.Errorf("job %d: exit %d: %s", id, code, line)
			}
		}
		return fmt.Errorf("job %d: exit %d", id, code)
	}
	return nil
}

func main() {
	o := Full
	quick := flag.Bool("quick", false, "run the short simulation the test runs (400 jobs at 80 per second)")
	flag.IntVar(&o.Jobs, "jobs", o.Jobs, "jobs in total")
	flag.Float64Var(&o.Rate, "rate", o.Rate, "mean job arrivals per second")
	flag.IntVar(&o.MaxMatrix, "matrix", o.MaxMatrix, "a workflow run starts 1 to this many jobs at once")
	flag.DurationVar(&o.Deadline, "deadline", o.Deadline, "stop the whole simulation after this long")
	flag.Parse()
	if *quick {
		o = Quick
	}
	fmt.Printf("%d jobs, %.0f per second on average in matrices of up to %d, against ECR's limit of %.0f/s (burst %d)\n",
		o.Jobs, o.Rate, o.MaxMatrix, o.Limit.Rate, o.Limit.Burst)
	rep, err := Run(context.Background(), o, os.Setenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rep.Print(os.Stdout)
	if rep.Succeeded != rep.Jobs {
		os.Exit(1)
	}
}
