package registry

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse checks properties that hold for every input. Seeds live in
// testdata/fuzz/FuzzParse; run a search with
//
//	go test ./internal/registry -run '^$' -fuzz FuzzParse -fuzztime 30s
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, ref, defaultRegion string) {
		r, err := Parse(ref, defaultRegion)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q, %q) error %T is not *Error", ref, defaultRegion, err)
			}
			if r != (Registry{}) {
				t.Fatalf("Parse(%q, %q) returned %+v with an error", ref, defaultRegion, r)
			}
		} else {
			checkRegistry(t, r)
		}

		// The same text as a list must not panic, and every registry in it
		// obeys the same properties.
		list, err := ParseList(ref, defaultRegion)
		if err == nil {
			hosts := map[string]bool{}
			for _, r := range list {
				checkRegistry(t, r)
				if hosts[r.Host] {
					t.Fatalf("ParseList(%q) repeats %s", ref, r.Host)
				}
				hosts[r.Host] = true
			}
		}
	})
}

func checkRegistry(t *testing.T, r Registry) {
	t.Helper()
	h := r.Host
	if h == "" {
		t.Fatalf("empty Host in %+v", r)
	}
	if h != strings.ToLower(h) {
		t.Fatalf("Host %q is not lower-case", h)
	}
	if strings.ContainsAny(h, ":/@?# \t\r\n") {
		t.Fatalf("Host %q has a scheme, port, path or space", h)
	}
	if r.String() != h || r.URL() != "https://"+h {
		t.Fatalf("String/URL of %q: %q, %q", h, r.String(), r.URL())
	}
	back, err := ParseHost(h)
	if err != nil {
		t.Fatalf("Host %q does not re-parse: %v", h, err)
	}
	if back != r {
		t.Fatalf("Host %q re-parses to %+v, want %+v", h, back, r)
	}
	if r.Public {
		if r.AccountID != "" || r.Region != PublicRegion {
			t.Fatalf("public registry with account or region: %+v", r)
		}
		return
	}
	if !IsAccountID(r.AccountID) || !strings.HasPrefix(h, r.AccountID+".") {
		t.Fatalf("bad AccountID in %+v", r)
	}
	if p, _, ok := PartitionOf(r.Region); !ok || p != r.Partition {
		t.Fatalf("Region %q and Partition %q disagree", r.Region, r.Partition)
	}
	if _, err := ForAccount(r.AccountID, r.Region); err != nil {
		t.Fatalf("ForAccount(%q, %q) fails for a parsed registry: %v", r.AccountID, r.Region, err)
	}
}
