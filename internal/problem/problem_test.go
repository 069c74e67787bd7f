package problem

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
)

func TestError(t *testing.T) {
	tests := []struct {
		p    *Problem
		want string
	}{
		{&Problem{Code: InvalidSetting, Subject: `input "x"`, What: "bad", Fix: "Do y."}, `input "x": bad. Do y.`},
		{&Problem{Code: ECRFailed, What: "failed", Err: errors.New("Code: message ends."), Fix: "Retry."}, `failed: Code: message ends. Retry.`},
		{&Problem{Code: Timeout, What: "gave up"}, `gave up`},
		{&Problem{Code: Timeout, What: "gave up", Err: errors.New("deadline")}, `gave up: deadline`},
	}
	for _, tt := range tests {
		if got := tt.p.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestAs(t *testing.T) {
	p := New(ECRDenied, "", "denied", "Allow it.")
	wrapped := fmt.Errorf("context: %w", p)
	if got := As(wrapped); got != p {
		t.Errorf("As did not find the problem in the chain")
	}
	plain := errors.New("boom")
	got := As(plain)
	if got.Code != Internal || !errors.Is(got, plain) {
		t.Errorf("As(plain) = %+v", got)
	}
}

func TestFromContext(t *testing.T) {
	p := FromContext(fmt.Errorf("op: %w", context.DeadlineExceeded), "STS AssumeRole", "AWS_ENDPOINT_URL_STS")
	if p == nil || p.Code != Timeout || p.What != "gave up waiting for STS AssumeRole" || !strings.Contains(p.Fix, "AWS_ENDPOINT_URL_STS") {
		t.Errorf("deadline: %+v", p)
	}
	if p := FromContext(context.Canceled, "ECR", "x"); p == nil || p.Code != Timeout {
		t.Errorf("cancel: %+v", p)
	}
	if p := FromContext(errors.New("boom"), "ECR", "x"); p != nil {
		t.Errorf("a plain error became %+v", p)
	}
}

func TestJoinProblems(t *testing.T) {
	a := &Problem{Code: ECRDenied, What: "denied in eu-west-1"}
	b := &Problem{Code: ECRDenied, What: "denied in us-east-1"}
	c := &Problem{Code: Timeout, What: "gave up in ap-south-1"}
	if p := As(Join([]error{a, b})); p.Code != ECRDenied || !strings.Contains(p.What, "eu-west-1") || !strings.Contains(p.What, "us-east-1") {
		t.Errorf("same codes: %+v", p)
	}
	if p := As(Join([]error{a, c})); p.Code != ECRFailed {
		t.Errorf("mixed codes give %s, want ecr-failed", p.Code)
	}
	if err := Join([]error{a}); !errors.Is(err, a) {
		t.Errorf("one problem is returned as is")
	}
}

type apiErr struct{ code, msg string }

func (e apiErr) Error() string     { return e.code + ": " + e.msg }
func (e apiErr) ErrorCode() string { return e.code }

// TestSafeShowsOnlyTheClass: whatever a library error says, Safe shows a
// class of it and nothing it quoted, and errors.Is still sees the cause.
func TestSafeShowsOnlyTheClass(t *testing.T) {
	const secret = "AKIAQUOTEDSECRET1234 wJalrXUtnFEMI/K7MDENG"
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("parse failed of process output: %s: %w", secret, &json.SyntaxError{}), "not the JSON document"},
		{fmt.Errorf("refresh %s: %w", secret, context.DeadlineExceeded), "timed out"},
		{fmt.Errorf("call: %w", apiErr{"AccessDenied", secret}), "AWS error AccessDenied"},
		{fmt.Errorf("call: %w", apiErr{"code with " + secret, secret}), Withheld},
		{errors.New(secret), Withheld},
		{fmt.Errorf("x %s: %w", secret, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), "network error: dial tcp: connection refused"},
	} {
		s := Safe(tt.err)
		if strings.Contains(s.Error(), "AKIA") || strings.Contains(s.Error(), "wJalr") || !strings.Contains(s.Error(), tt.want) {
			t.Errorf("Safe(%q) = %q; want only %q", tt.err, s, tt.want)
		}
		if !errors.Is(s, tt.err) {
			t.Errorf("Safe(%q) does not unwrap to its cause", tt.err)
		}
		if p := Wrap(Internal, s, "what", "fix"); strings.Contains(p.Error(), "AKIA") {
			t.Errorf("a Problem around Safe shows the secret: %s", p)
		}
	}
}
