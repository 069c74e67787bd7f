// Command profiled is our program (internal/app.Main, exactly as main.go
// runs it) wrapped in profilers, for `go run ./internal/devtools/bench -profile DIR`:
// the product binary has no profiling hooks, and a login lasts only tens of
// milliseconds, so the benchmark runs this wrapper many times in fresh
// processes and merges what it records.
//
// ECR_BENCH_CPUPROFILE names the CPU profile to write (at the default
// 100 Hz: the kernel delivers profiling signals no faster than its tick,
// so a higher rate would only understate the time per sample; a run is
// short, so the benchmark merges many); ECR_BENCH_TRACE names a
// runtime/trace file; ECR_BENCH_MEMPROFILE names a heap profile written at
// exit with every allocation sampled; ECR_BENCH_MEMSTATS names a file that
// gets, at exit, the memory lines of /proc/self/status (peak, anonymous and
// file-backed RSS) and the Go runtime's memory statistics. Unset variables
// turn that profiler off.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"

	"github.com/ecr-credentials/ecr-credentials/internal/app"
)

func main() {
	os.Exit(profiled())
}

func profiled() int {
	if path := os.Getenv("ECR_BENCH_MEMSTATS"); path != "" {
		defer writeMemStats(path)
	}
	if path := os.Getenv("ECR_BENCH_MEMPROFILE"); path != "" {
		runtime.MemProfileRate = 1
		defer writeHeap(path)
	}
	if path := os.Getenv("ECR_BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "profiled: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "profiled: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if path := os.Getenv("ECR_BENCH_TRACE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "profiled: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			fmt.Fprintf(os.Stderr, "profiled: %v\n", err)
			return 1
		}
		defer trace.Stop()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return app.Main(ctx, app.Env{
		Args:    os.Args,
		Getenv:  os.Getenv,
		Environ: os.Environ(),
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
	})
}

func writeHeap(path string) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "profiled: %v\n", err)
		return
	}
	defer f.Close()
	runtime.GC() // the profile shows allocations as of the last collection
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		fmt.Fprintf(os.Stderr, "profiled: %v\n", err)
	}
}

func writeMemStats(path string) {
	var b strings.Builder
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmHWM") || strings.HasPrefix(line, "VmRSS") || strings.HasPrefix(line, "Rss") {
				b.WriteString(strings.Join(strings.Fields(line), " ") + "\n")
			}
		}
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	fmt.Fprintf(&b, "TotalAlloc: %d kB\nHeapSys: %d kB\nHeapInuse: %d kB\nStackSys: %d kB\nSys: %d kB\nNumGC: %d\n",
		m.TotalAlloc>>10, m.HeapSys>>10, m.HeapInuse>>10, m.StackSys>>10, m.Sys>>10, m.NumGC)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		fmt.Fprintf(os.Stderr, "profiled: %v\n", err)
	}
}
