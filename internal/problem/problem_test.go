package problem

import (
	"errors"
	"fmt"
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
