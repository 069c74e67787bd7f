package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// dist summarises repeated measurements of one quantity.
type dist struct {
	N           int
	Median      float64
	Min, Max    float64
	Q1, Q3      float64 // quartiles (linear interpolation)
	Unavailable bool    // no measurement
}

// summarize computes the distribution of xs.
func summarize(xs []float64) dist {
	if len(xs) == 0 {
		return dist{Unavailable: true}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return dist{N: len(s), Median: quantile(s, 0.5), Min: s[0], Max: s[len(s)-1], Q1: quantile(s, 0.25), Q3: quantile(s, 0.75)}
}

// quantile of sorted s by linear interpolation between closest ranks.
func quantile(s []float64, q float64) float64 {
	if len(s) == 1 {
		return s[0]
	}
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

// pick extracts one quantity from every sample.
func pick(ss []sample, f func(sample) float64) dist {
	xs := make([]float64, len(ss))
	for i, s := range ss {
		xs[i] = f(s)
	}
	return summarize(xs)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mb(b int64) float64         { return float64(b) / 1e6 }

// fmtMS renders a duration distribution in ms: "12.3 (11.9–13.0)".
func fmtMS(d dist) string {
	if d.Unavailable {
		return "–"
	}
	if d.N == 1 {
		return fmtNum(d.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", fmtNum(d.Median), fmtNum(d.Min), fmtNum(d.Max))
}

// fmtMedian renders only the median.
func fmtMedian(d dist) string {
	if d.Unavailable {
		return "–"
	}
	return fmtNum(d.Median)
}

// fmtNum keeps three significant figures for small numbers and whole
// numbers for large ones.
func fmtNum(x float64) string {
	a := math.Abs(x)
	switch {
	case a >= 100:
		return fmt.Sprintf("%.0f", x)
	case a >= 10:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}
