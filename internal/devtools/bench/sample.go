package main

import (
	"fmt"
	"time"
)

// scenario is one measured situation.
type scenario struct {
	Latency    time.Duration // added before every response
	Registries int           // registries to log in to, each in its own region
}

// roundTrips is the number of round trips no client can avoid: the OIDC
// token, STS, then ECR (one call per region, all at once), and, when the
// registry is checked, one authenticated GET /v2/ (all registries at once).
func roundTrips(checksRegistry bool) int {
	if checksRegistry {
		return 4
	}
	return 3
}

// sample is one run of one contender.
type sample struct {
	Wall time.Duration // first process start to last process exit
	// Ideal is roundTrips x latency: the wall time of a client with no cost
	// of its own.
	Ideal time.Duration
	// Server is the time some request was being served (emulator or
	// registry, latency included): the union of the calls' intervals.
	Server time.Duration
	// Cold is from starting the contender's main program to its first
	// request arriving at the emulator.
	Cold    time.Duration
	CPU     time.Duration // all processes, user + system
	MaxRSS  int64         // largest peak RSS of one process, bytes
	SumRSS  int64         // peak RSS summed over the processes, bytes
	Procs   int           // processes started
	Calls   int           // requests to the emulator and the registries
	Conns   int           // TCP connections opened (connection-level model only)
	Sequent int           // requests that did not overlap an earlier one
	// NoUsage: CPU and RSS are not the contender's (a container runs
	// outside the process tree).
	NoUsage bool
	// Timeline splits the main program's life at its requests, when they
	// do not overlap: gaps ("before sts") and requests ("sts") in order.
	Timeline []phase
}

// phase is one stretch of a timeline.
type phase struct {
	Label string
	D     time.Duration
}

// Overhead is Wall - Ideal.
func (s sample) Overhead() time.Duration { return s.Wall - s.Ideal }

// Client is Wall - Server: the time nobody was serving a request, i.e. the
// contender's own cost (process start, configuration, TLS, JSON, writes).
func (s sample) Client() time.Duration { return s.Wall - s.Server }

// measure builds a sample from a run's processes and the calls it made.
// main is the index of the process whose cold start counts.
func measure(ps []proc, main int, calls []call, ideal time.Duration) (sample, error) {
	if len(ps) == 0 {
		return sample{}, fmt.Errorf("no processes ran")
	}
	s := sample{Ideal: ideal, Procs: len(ps), Calls: len(calls)}
	start, end := ps[0].Start, ps[0].End
	for _, p := range ps {
		if p.Start.Before(start) {
			start = p.Start
		}
		if p.End.After(end) {
			end = p.End
		}
		s.CPU += p.CPU
		s.SumRSS += p.MaxRSS
		s.MaxRSS = max(s.MaxRSS, p.MaxRSS)
	}
	s.Wall = end.Sub(start)
	s.Server, s.Sequent = union(calls)
	cold := time.Duration(-1)
	for _, c := range calls {
		if !c.Start.Before(ps[main].Start) && !c.Start.After(ps[main].End) {
			cold = c.Start.Sub(ps[main].Start)
			break
		}
	}
	if cold < 0 {
		return sample{}, fmt.Errorf("%s made no request to the emulator or a registry", ps[main].Name)
	}
	s.Cold = cold
	s.Timeline = timeline(ps[main], calls)
	return s, nil
}

// union returns the total length of the union of the calls' intervals and
// the number of disjoint stretches (calls sorted by start).
func union(calls []call) (time.Duration, int) {
	var total time.Duration
	stretches := 0
	var curStart, curEnd time.Time
	for i, c := range calls {
		if i == 0 || c.Start.After(curEnd) {
			if i > 0 {
				total += curEnd.Sub(curStart)
			}
			curStart, curEnd = c.Start, c.End
			stretches++
			continue
		}
		if c.End.After(curEnd) {
			curEnd = c.End
		}
	}
	if len(calls) > 0 {
		total += curEnd.Sub(curStart)
	}
	return total, stretches
}

// timeline splits p's life at the calls made during it, or returns nil if
// they overlap (concurrent requests). The emulator logs a request's end
// after its answer is on the wire, so the next request may start a hair
// earlier; such overlaps count as no gap.
func timeline(p proc, calls []call) []phase {
	const slack = time.Millisecond
	var out []phase
	seen := map[string]int{}
	prev := p.Start
	for _, c := range calls {
		if c.Start.Before(p.Start) || c.End.After(p.End) {
			continue
		}
		gap := c.Start.Sub(prev)
		if gap < -slack {
			return nil
		}
		seen[c.Service]++
		label := c.Service
		if n := seen[c.Service]; n > 1 {
			label = fmt.Sprintf("%s #%d", c.Service, n)
		}
		start := c.Start
		if gap < 0 {
			start = prev
		}
		out = append(out, phase{"before " + label, max(gap, 0)}, phase{label, c.End.Sub(start)})
		prev = c.End
	}
	return append(out, phase{"exit", p.End.Sub(prev)})
}
