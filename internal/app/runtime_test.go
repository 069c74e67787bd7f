package app

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestTuneRuntime(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       map[string]string
		wantGC    int
		wantLimit int64
	}{
		{name: "nothing set: GC off with a limit", wantGC: -1, wantLimit: RunMemoryLimit},
		{name: "GOGC set", env: map[string]string{"GOGC": "100"}, wantGC: 100, wantLimit: math.MaxInt64},
		{name: "GOMEMLIMIT set", env: map[string]string{"GOMEMLIMIT": "1GiB"}, wantGC: 100, wantLimit: math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prevGC, prevLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
			defer func() { debug.SetGCPercent(prevGC); debug.SetMemoryLimit(prevLimit) }()
			TuneRuntime(func(k string) string { return tc.env[k] })
			if gc := debug.SetGCPercent(100); gc != tc.wantGC {
				t.Errorf("GC percent %d, want %d", gc, tc.wantGC)
			}
			if limit := debug.SetMemoryLimit(-1); limit != tc.wantLimit {
				t.Errorf("memory limit %d, want %d", limit, tc.wantLimit)
			}
		})
	}
}
