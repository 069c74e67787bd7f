package main

import (
	"bytes"
	"context"
	"testing"
)

// TestQuickLoad runs the short simulation end to end: every job must get
// its login, through backoff, although ECR throttled many of them.
func TestQuickLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("the quick simulation takes about a minute")
	}
	rep, err := Run(context.Background(), Quick, func(k, v string) error { t.Setenv(k, v); return nil })
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	rep.Print(&b)
	t.Logf("\n%s", b.String())
	if rep.Succeeded != rep.Jobs || len(rep.Failures) != 0 {
		t.Errorf("%d of %d jobs succeeded", rep.Succeeded, rep.Jobs)
	}
	if rep.Throttled == 0 {
		t.Errorf("ECR never throttled: the simulation did not reach the rate limit, so it proves nothing about backoff")
	}
	// Every job made exactly one successful GetAuthorizationToken, after
	// its retries: the calls add up.
	jobs, retries := 0, 0
	for n, count := range rep.Retries {
		jobs += count
		retries += n * count
	}
	if jobs != rep.Jobs {
		t.Errorf("GetAuthorizationToken calls came from %d role sessions, want one per job (%d)", jobs, rep.Jobs)
	}
	if got := rep.Calls["ecr GetAuthorizationToken"]; got != rep.Jobs+retries || rep.Failed["ecr GetAuthorizationToken"] != rep.Throttled {
		t.Errorf("%d GetAuthorizationToken calls, %d failed, %d throttled; want %d jobs + %d retries, all failures throttling",
			got, rep.Failed["ecr GetAuthorizationToken"], rep.Throttled, rep.Jobs, retries)
	}
	if n := rep.Calls["sts AssumeRoleWithWebIdentity"]; n != rep.Jobs {
		t.Errorf("%d AssumeRoleWithWebIdentity calls for %d jobs", n, rep.Jobs)
	}
}
