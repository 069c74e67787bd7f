package flow

import (
	"context"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ecr-credentials/ecr-credentials/internal/awsauth"
	"github.com/ecr-credentials/ecr-credentials/internal/ecr"
	"github.com/ecr-credentials/ecr-credentials/internal/preconnect"
)

// ahead is what a run opens while the OIDC token request is in flight
// (see internal/preconnect): the connections of the STS and ECR calls,
// which the SDK's transport takes, and, when the login will be verified,
// those of the registries, which verify's transport takes. Only a web
// identity run waits for anything, so only it opens connections ahead.
type ahead struct {
	aws        *preconnect.Pool
	registries *preconnect.Pool
	// verifyTransport takes the registries' connections.
	verifyTransport *http.Transport
	opener          *awsauth.Opener
}

// openAhead prepares the pools; nil when nothing is opened ahead (no
// token to wait for, or proxy names a proxy, which carries the requests).
func openAhead(base awsauth.Base, verify bool, proxy *awsauth.Proxy) *ahead {
	if base.Kind != awsauth.WebIdentity || proxy.Configured() {
		return nil
	}
	a := &ahead{aws: awsauth.NewPool()}
	if verify {
		a.registries = awsauth.NewPool()
		a.verifyTransport, a.opener = awsauth.RegistryTransport(a.registries, proxy)
	}
	return a
}

// pool is the AWS calls' pool (nil when nothing is opened ahead).
func (a *ahead) pool() *preconnect.Pool {
	if a == nil {
		return nil
	}
	return a.aws
}

// warm opens, once the SDK configuration is loaded, the connections of
// the ECR calls of req and of the registries it will log in to.
func (a *ahead) warm(req ecr.Request) func(ctx context.Context, cfg aws.Config, open *awsauth.Opener) {
	if a == nil {
		return nil
	}
	return func(ctx context.Context, cfg aws.Config, open *awsauth.Opener) {
		next := ecr.Predict(ctx, cfg, req)
		for _, u := range next.Endpoints {
			open.Open(ctx, u)
		}
		for _, h := range next.Hosts {
			a.opener.OpenHost(ctx, h) // nil opener (no verify): nothing
		}
	}
}

// doneWithAWS closes the AWS connections no call took.
func (a *ahead) doneWithAWS() {
	if a != nil {
		a.aws.Close()
	}
}

// transportForVerify is the transport verify uses (through proxy), and a
// function to call when verify is done.
func (a *ahead) transportForVerify(proxy *awsauth.Proxy) (*http.Transport, func()) {
	if a == nil || a.verifyTransport == nil {
		return awsauth.Transport(proxy), func() {}
	}
	return a.verifyTransport, a.registries.Close
}

// close closes every connection no call took.
func (a *ahead) close() {
	if a != nil {
		a.aws.Close()
		a.registries.Close()
	}
}
