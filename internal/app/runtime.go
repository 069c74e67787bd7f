package app

import "runtime/debug"

// RunMemoryLimit is the heap size at which the garbage collector runs
// after TuneRuntime turned it off: far above what a login uses (under
// 10 MB with 20 registries), low enough to stay a good neighbour.
const RunMemoryLimit = 64 << 20

// TuneRuntime sets the Go runtime up for one short run: no garbage
// collection (a login allocates a few megabytes and exits, so collecting
// is wasted work: about a tenth of its CPU), with RunMemoryLimit as the
// backstop. A GOGC or GOMEMLIMIT the user set wins.
func TuneRuntime(getenv func(string) string) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(RunMemoryLimit)
}
