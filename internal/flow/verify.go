package flow

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/awsauth"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
	"github.com/ecr-credentials/ecr-credentials/internal/verify"
)

// verifyAll checks every login against its registry, all at once, and
// reports the first registry (in the order given) that refused. It takes
// the registry connections conns opened ahead, and closes those it leaves.
func verifyAll(ctx context.Context, logins []Login, timeout time.Duration, conns *ahead, proxy *awsauth.Proxy) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tr, done := conns.transportForVerify(proxy) // takes the connections opened ahead
	defer done()
	// Each attempt is bounded, so that a hung one is retried (see verify).
	client := &http.Client{Timeout: awsauth.AttemptTimeoutFor(timeout), Transport: tr}
	errs := make([]error, len(logins))
	var wg sync.WaitGroup
	for i, l := range logins {
		wg.Go(func() {
			errs[i] = verify.Registry(ctx, client, l.Registry.Host, l.Username, l.Password)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return verifyProblem(logins[i].Registry.Host, err)
		}
	}
	return nil
}

// verifyProblem tells a registry that could not be reached from one that
// refused the credentials or answered as no registry does.
func verifyProblem(host string, err error) *problem.Problem {
	var v *verify.Error
	kind := verify.Unexpected
	if errors.As(err, &v) {
		kind = v.Kind
	}
	switch kind {
	case verify.Unreachable:
		return &problem.Problem{Code: problem.RegistryUnreachable, Err: err,
			What: "could not reach " + host + " to check the new credentials",
			Fix:  "Check network access to the registry and the proxy settings (http-proxy, no-proxy, HTTPS_PROXY, NO_PROXY), raise timeout, or set verify: false to skip this check."}
	case verify.Rejected:
		return &problem.Problem{Code: problem.VerifyFailed, Err: err,
			What: host + " refused the new credentials",
			Fix:  "Check that the role may pull from this registry (ecr:GetAuthorizationToken and the repository policy) and that the registry host is the account's, or set verify: false to skip this check."}
	}
	return &problem.Problem{Code: problem.VerifyFailed, Err: err,
		What: "the check of the new credentials at " + host + " failed",
		Fix:  "Check the registry host and its certificate, or set verify: false to skip this check."}
}
