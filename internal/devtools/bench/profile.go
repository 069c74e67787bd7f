package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// profileOurs runs our program wrapped in profilers
// (./internal/devtools/bench/profiled) at zero latency over TLS, one registry,
// verify off: runs times under the CPU profiler, plus one run for the heap
// profile and one for the trace and memory statistics. It leaves in dir
// cpu.pprof (the CPU profiles merged), heap.pprof, trace.out and
// memstats.txt, and prints a summary and the top of the CPU profile.
func profileOurs(ctx context.Context, opts options, dir string, runs int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("profile directory: %w", err)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "ecr-bench-profile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "profiled")
	fmt.Fprintf(opts.Progress, "bench: building the profiling wrapper\n")
	if err := buildRelease(ctx, root, "./internal/devtools/bench/profiled", bin); err != nil {
		return err
	}
	launchBin := filepath.Join(tmp, "launch")
	if err := buildPlain(ctx, root, "./internal/devtools/bench/launch", launchBin); err != nil {
		return err
	}
	l, err := newLab(true, 1, launchBin, false)
	if err != nil {
		return err
	}
	defer l.close()

	var profiles []string
	var samples []sample
	for i := range runs + 2 {
		env := map[string]string{}
		switch {
		case i == 0:
			// warm-up, and the heap profile (sampling every allocation slows the run)
			env["ECR_BENCH_MEMPROFILE"] = filepath.Join(dir, "heap.pprof")
		case i == 1:
			env["ECR_BENCH_TRACE"] = filepath.Join(dir, "trace.out")
			env["ECR_BENCH_MEMSTATS"] = filepath.Join(dir, "memstats.txt")
		default:
			p := filepath.Join(tmp, "cpu-"+strconv.Itoa(i)+".pprof")
			env["ECR_BENCH_CPUPROFILE"] = p
			profiles = append(profiles, p)
		}
		s, err := runOnce(ctx, l, &ours{bin: bin, extraEnv: env}, scenario{Registries: 1}, filepath.Join(tmp, "run"))
		if err != nil {
			return err
		}
		if i >= 2 {
			samples = append(samples, s)
		}
	}
	merged := filepath.Join(dir, "cpu.pprof")
	out, err := os.Create(merged)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, goCommand(), append([]string{"tool", "pprof", "-proto"}, profiles...)...)
	cmd.Stdout, cmd.Stderr = out, opts.Progress
	err = cmd.Run()
	out.Close()
	if err != nil {
		return fmt.Errorf("merge CPU profiles: %w", err)
	}
	p := func(format string, args ...any) { fmt.Fprintf(opts.Out, format, args...) }
	memstats, err := os.ReadFile(filepath.Join(dir, "memstats.txt"))
	if err != nil {
		return fmt.Errorf("memory statistics: %w", err)
	}
	p("## Profile of ecr-credentials (%d fresh processes, TLS, 0 ms latency, verify off)\n\n", len(samples))
	p("Per run: wall %s ms, own time %s ms, CPU %s ms, cold start %s ms (median, range).\n\n",
		fmtMS(pick(samples, func(s sample) float64 { return ms(s.Wall) })),
		fmtMS(pick(samples, func(s sample) float64 { return ms(s.Client()) })),
		fmtMS(pick(samples, func(s sample) float64 { return ms(s.CPU) })),
		fmtMS(pick(samples, func(s sample) float64 { return ms(s.Cold) })))
	p("Files in %s: cpu.pprof (all runs merged; `go tool pprof -top -cum %s`), heap.pprof (one run, every allocation; `go tool pprof -sample_index=alloc_space -top %s`), trace.out (one run; `go tool trace %s`).\n\n",
		dir, merged, filepath.Join(dir, "heap.pprof"), filepath.Join(dir, "trace.out"))
	p("Memory at exit of one run (/proc/self/status and runtime.MemStats):\n\n```\n%s```\n\n", memstats)
	for _, args := range [][]string{
		{"-top", "-cum", "-nodecount", "45"},
	} {
		cmd := exec.CommandContext(ctx, goCommand(), append(append([]string{"tool", "pprof"}, args...), merged)...)
		b, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("go tool pprof: %w\n%s", err, b)
		}
		p("```\n%s```\n", b)
	}
	return nil
}
