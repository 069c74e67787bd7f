package awsfake

import (
	"net/http"
	"sync"
	"time"
)

// RateLimit is a token bucket: up to Burst requests at once, refilled at
// Rate requests per second. The zero value means no limit.
type RateLimit struct {
	Rate  float64 // sustained requests per second
	Burst int     // bucket size: requests allowed at once after a quiet spell
}

// ECRGetAuthorizationTokenLimit is Amazon ECR's service quota for
// GetAuthorizationToken: 20 requests per second sustained, bursts of 200,
// per account and region.
var ECRGetAuthorizationTokenLimit = RateLimit{Rate: 20, Burst: 200}

// SetECRRateLimit limits GetAuthorizationToken of ECR and ECR Public with
// one token bucket per service, calling account and region, as AWS does.
// A request over the limit gets ECR's real throttling answer: HTTP 400
// with {"__type":"ThrottlingException","message":"Rate exceeded"}, which
// Calls records with ErrorCode "ThrottlingException". Buckets start full.
// The limit runs on the real clock, not Options.Now. The zero RateLimit
// (the default) turns limiting off; a Rate with a Burst below 1 gets a
// Burst of 1, and a Burst without a Rate never refills. Setting a limit
// starts every bucket afresh.
func (s *Server) SetECRRateLimit(l RateLimit) {
	s.ecrLimit.set(l, time.Now)
}

// throttleECR answers a throttled GetAuthorizationToken and reports
// whether it did. scope must be verified.
func (s *Server) throttleECR(ex *exchange, scope *sigv4Scope) bool {
	if s.ecrLimit.allow(ex.call.Service + "/" + scope.cred.account + "/" + scope.region) {
		return false
	}
	writeECRError(ex, &ecrError{code: "ThrottlingException", message: "Rate exceeded", status: http.StatusBadRequest})
	return true
}

// rateLimiter keeps one token bucket per key. The zero value allows
// everything.
type rateLimiter struct {
	mu      sync.Mutex
	limit   RateLimit
	now     func() time.Time
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func (l *rateLimiter) set(limit RateLimit, now func() time.Time) {
	if limit.Rate > 0 && limit.Burst < 1 {
		limit.Burst = 1
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.limit, l.now, l.buckets = limit, now, map[string]*bucket{}
}

// allow takes a token from key's bucket if there is one.
func (l *rateLimiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limit.Rate <= 0 && l.limit.Burst <= 0 {
		return true
	}
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: float64(l.limit.Burst), last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(float64(l.limit.Burst), b.tokens+elapsed.Seconds()*l.limit.Rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
