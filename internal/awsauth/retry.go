package awsauth

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// NewRetryer is the retry policy for every AWS call: the SDK's standard
// retryer (throttling, 5xx, timeouts, connection resets; never access
// denied or validation errors) with more attempts and a longer cap than the
// default, because one failed login fails a whole pipeline. The overall
// deadline is the context's. Client-side retry rate limiting is off: a
// single short-lived process gains nothing from it.
func NewRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 8
		o.MaxBackoff = 5 * time.Second
		o.RateLimiter = ratelimit.None
		o.Retryables = append(o.Retryables, retry.RetryableErrorCode{Codes: map[string]struct{}{
			"IDPCommunicationError": {}, // STS could not reach the OIDC provider: transient
		}})
	})
}
