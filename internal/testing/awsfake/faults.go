package awsfake

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
)

// FaultKind is what an injected fault does to a request.
type FaultKind int

const (
	// FaultInternalError answers HTTP 500 in the service's shape
	// (InternalFailure for STS, ServerException for ECR and ECR Public).
	FaultInternalError FaultKind = iota + 1
	// FaultUnavailable answers HTTP 503 (ServiceUnavailable /
	// ServiceUnavailableException).
	FaultUnavailable
	// FaultThrottle answers the service's throttling error: STS
	// `Throttling` (400), ECR `ThrottlingException` (400), OIDC and the
	// metadata endpoints HTTP 429.
	FaultThrottle
	// FaultReset drops the connection with a TCP reset, without a response.
	FaultReset
	// FaultHang never answers; the request is held until the client gives up
	// or the server closes.
	FaultHang
	// FaultError answers the error given by Fault.Code, Status and Message in
	// the service's shape (e.g. Code "IDPCommunicationError" for STS).
	FaultError
)

func (k FaultKind) String() string {
	switch k {
	case FaultInternalError:
		return "InternalError"
	case FaultUnavailable:
		return "Unavailable"
	case FaultThrottle:
		return "Throttle"
	case FaultReset:
		return "Reset"
	case FaultHang:
		return "Hang"
	case FaultError:
		return "Error"
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// Fault is a misbehaviour applied to upcoming requests.
type Fault struct {
	// Service limits the fault to "oidc", "sts", "ecr", "ecr-public",
	// "imds" or "ecs-credentials"; empty means any service.
	Service string
	Kind    FaultKind
	// Count is how many requests the fault affects; 0 means 1.
	Count int
	// Code, Status and Message describe the error for FaultError; Status
	// defaults to the one real STS answers the code with (403 for
	// AccessDenied, ...), else 400, and Message to a generic text.
	Code    string
	Status  int
	Message string
}

// Inject queues a fault. Faults are consumed in the order injected: each
// request takes the first queued fault whose Service matches it.
func (s *Server) Inject(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// takeFault removes one use of the first fault matching service.
func (s *Server) takeFault(service string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Service != "" && f.Service != service {
			continue
		}
		f.Count--
		if f.Count == 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		c := *f
		return &c
	}
	return nil
}

// applyFault applies a queued fault to the request; true if it did.
func (s *Server) applyFault(ex *exchange) bool {
	f := s.takeFault(ex.call.Service)
	if f == nil {
		return false
	}
	switch f.Kind {
	case FaultReset:
		ex.call.ErrorCode = "fault:Reset"
		resetConnection(ex.w)
		return true
	case FaultHang:
		ex.call.ErrorCode = "fault:Hang"
		select {
		case <-ex.r.Context().Done():
		case <-s.closing:
		}
		return true
	}
	code, status, msg := faultError(ex.call.Service, f)
	switch ex.call.Service {
	case "sts":
		writeSTSError(ex, &stsError{code: code, message: msg, status: status})
	case "ecr", "ecr-public":
		writeECRError(ex, &ecrError{code: code, message: msg, status: status})
	case "imds", "ecs-credentials":
		// The metadata endpoints answer errors in plain text.
		writeText(ex, status, code, msg)
	default:
		ex.call.ErrorCode = code
		writeJSON(ex, status, map[string]string{"message": msg})
	}
	return true
}

// faultError is the code, status and message a fault answers with.
func faultError(service string, f *Fault) (code string, status int, msg string) {
	isECR := service == "ecr" || service == "ecr-public"
	switch f.Kind {
	case FaultInternalError:
		if isECR {
			return "ServerException", http.StatusInternalServerError, "Internal server error (injected)."
		}
		return "InternalFailure", http.StatusInternalServerError, "An internal error occurred (injected)."
	case FaultUnavailable:
		if isECR {
			return "ServiceUnavailableException", http.StatusServiceUnavailable, "Service unavailable (injected)."
		}
		return "ServiceUnavailable", http.StatusServiceUnavailable, "Service unavailable (injected)."
	case FaultThrottle:
		switch {
		case isECR:
			return "ThrottlingException", http.StatusBadRequest, "Rate exceeded"
		case service == "sts":
			return "Throttling", http.StatusBadRequest, "Rate exceeded"
		}
		return "TooManyRequests", http.StatusTooManyRequests, "Rate limit exceeded (injected)."
	}
	code, status, msg = f.Code, f.Status, f.Message
	if code == "" {
		code = "InjectedFault"
	}
	if status == 0 {
		status = http.StatusBadRequest
		if s, ok := stsStatus[code]; ok && service == "sts" {
			status = s // the status real STS answers this code with
		}
	}
	if msg == "" {
		msg = "Injected fault " + code + "."
	}
	return code, status, msg
}

// resetConnection hijacks the connection and closes it with SO_LINGER 0 so
// the client sees a reset, not a clean close.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	raw := conn
	if tc, ok := conn.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		tcp.SetLinger(0) //nolint:errcheck // best effort
	}
	raw.Close()
}
