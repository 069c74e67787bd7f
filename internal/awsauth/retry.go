package awsauth

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// The retry policy, in numbers. A failed login fails a whole pipeline, so
// every transient failure is retried until the overall deadline (the
// `timeout` setting, carried by the context) runs out; MaxAttempts is only
// a safety bound for very long deadlines.
const (
	// MaxAttempts bounds the attempts of one AWS call (first try
	// included). With the default two-minute timeout the deadline ends
	// retrying long before this many attempts.
	MaxAttempts = 100
	// BaseDelay is the first backoff ceiling after a 5xx, a reset
	// connection or a timed-out attempt; each retry doubles it. Throttling
	// errors start at one second instead (the SDK's rule).
	BaseDelay = 100 * time.Millisecond
	// MaxBackoff caps the backoff ceiling. The delay is drawn uniformly
	// below the ceiling ("full jitter"), so jobs throttled together spread
	// out instead of retrying in lockstep.
	MaxBackoff = 5 * time.Second
	// MaxAttemptTimeout bounds one HTTP attempt (connect, TLS, request and
	// answer); AttemptTimeout shortens it for short deadlines, so that a
	// hung connection is abandoned and retried, not waited on until the
	// whole deadline is gone.
	MaxAttemptTimeout = 30 * time.Second
	// MinAttemptTimeout is the shortest attempt timeout AttemptTimeout gives.
	MinAttemptTimeout = time.Second
)

// NewRetryer is the retry policy for every AWS call: the SDK's standard
// retryer, which retries throttling (Throttling, ThrottlingException, HTTP
// 429), 5xx answers, timed-out attempts, reset or refused connections and
// clock-skew signature errors (after correcting the skew from the
// answer's Date header), and never access denied or validation errors;
// tuned with more attempts (the deadline ends retrying), a short first
// delay, capped exponential backoff with full jitter, and STS's
// IDPCommunicationError as transient. Client-side retry quotas are off: a
// short-lived process gains nothing from them, and they would turn a
// throttling storm into failures.
func NewRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = MaxAttempts
		o.MaxBackoff = MaxBackoff
		o.BaseDelay = BaseDelay
		o.RateLimiter = ratelimit.None
		o.Retryables = append(o.Retryables, retry.RetryableErrorCode{Codes: map[string]struct{}{
			"IDPCommunicationError": {}, // STS could not reach the OIDC provider: transient
		}})
	})
}

// AttemptTimeout is how long one HTTP attempt may take when ctx carries
// the overall deadline: AttemptTimeoutFor the time left.
func AttemptTimeout(ctx context.Context) time.Duration {
	if deadline, ok := ctx.Deadline(); ok {
		return AttemptTimeoutFor(time.Until(deadline))
	}
	return MaxAttemptTimeout
}

// AttemptTimeoutFor is how long one HTTP attempt may take within an
// overall deadline of total: a quarter of it, so that a few attempts fit,
// but no more than MaxAttemptTimeout and no less than MinAttemptTimeout.
func AttemptTimeoutFor(total time.Duration) time.Duration {
	return max(min(total/4, MaxAttemptTimeout), MinAttemptTimeout)
}

// NewHTTPClient is the HTTP client of every AWS call made under ctx,
// through proxy (the run's decision; nil: the environment's): the SDK's
// client (so AWS_CA_BUNDLE still applies) with each attempt bounded by
// AttemptTimeout(ctx). A bounded attempt fails as a timeout, which the
// retryer retries.
func NewHTTPClient(ctx context.Context, proxy *Proxy) *awshttp.BuildableClient {
	attempt := AttemptTimeout(ctx)
	return awshttp.NewBuildableClient().
		WithTimeout(attempt).
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = min(d.Timeout, attempt) }).
		WithTransportOptions(func(tr *http.Transport) {
			tr.TLSHandshakeTimeout = min(tr.TLSHandshakeTimeout, attempt)
			tr.Proxy = proxy.Func()
		})
}
