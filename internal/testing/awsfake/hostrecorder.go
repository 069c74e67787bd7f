package awsfake

import (
	"errors"
	"net/http"
	"sync"
)

// HostRecorder is an HTTP client (an SDK's HTTPClient) that records the
// host of every request and sends nothing: for checking which endpoint a
// client would call.
type HostRecorder struct {
	mu    sync.Mutex
	hosts []string
}

// ErrNotSent is what HostRecorder answers every request with.
var ErrNotSent = errors.New("recorded, not sent")

// Do records r's host.
func (h *HostRecorder) Do(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hosts = append(h.hosts, r.URL.Host)
	return nil, ErrNotSent
}

// Hosts returns the hosts recorded so far, in order.
func (h *HostRecorder) Hosts() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.hosts...)
}
