package oidc

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// unsigned makes a JWT with claims and a bogus signature: ReadClaims does
// not verify, so it must read it all the same.
func unsigned(t *testing.T, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc(b) + "." + enc([]byte("not-a-signature"))
}

func TestReadClaims(t *testing.T) {
	tests := []struct {
		name     string
		claims   map[string]any
		aud      []string
		provider string
		by       string
	}{
		{"github.com", map[string]any{"iss": "https://token.actions.githubusercontent.com", "sub": "repo:o/r:ref:refs/heads/main", "aud": "sts.amazonaws.com", "job_workflow_ref": "o/r/.github/workflows/ci.yml@refs/heads/main"},
			[]string{"sts.amazonaws.com"}, "token.actions.githubusercontent.com", "GitHub Actions"},
		{"GHES", map[string]any{"iss": "https://GHES.example.com/_services/token/", "sub": "repo:o/r:ref:x", "aud": []string{"sts.amazonaws.com", "other"}},
			[]string{"sts.amazonaws.com", "other"}, "ghes.example.com/_services/token", "GitHub Enterprise Server"},
		{"Forgejo", map[string]any{"iss": "https://code.example.org/api/actions", "sub": "repo:o-1/r-2:ref:refs/heads/main", "aud": "sts.amazonaws.com"},
			[]string{"sts.amazonaws.com"}, "code.example.org/api/actions", "Forgejo Actions"},
		{"GitLab self-managed", map[string]any{"iss": "https://gitlab.example.com", "sub": "project_path:g/p:ref_type:branch:ref:main", "aud": "sts.amazonaws.com", "project_path": "g/p"},
			[]string{"sts.amazonaws.com"}, "gitlab.example.com", "GitLab CI"},
		{"plain http issuer", map[string]any{"iss": "http://127.0.0.1:8080", "sub": "x", "aud": "y"}, []string{"y"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ReadClaims(unsigned(t, tt.claims))
			if err != nil {
				t.Fatal(err)
			}
			if c.Issuer != tt.claims["iss"] || c.Subject != tt.claims["sub"] || !slices.Equal(c.Audience, tt.aud) {
				t.Errorf("claims %+v", c)
			}
			if w, _ := tt.claims["job_workflow_ref"].(string); c.JobWorkflowRef != w {
				t.Errorf("job_workflow_ref %q, want %q", c.JobWorkflowRef, w)
			}
			if got := c.ProviderPath(); got != tt.provider {
				t.Errorf("provider path %q, want %q", got, tt.provider)
			}
			if got := c.IssuedBy(); got != tt.by {
				t.Errorf("issued by %q, want %q", got, tt.by)
			}
		})
	}
}

func TestReadClaimsErrorHidesToken(t *testing.T) {
	for _, bad := range []string{"", "a.b", "secretsecret.%%%.sig", "eyJhbGciOiJub25lIn0.bm90IGpzb24.c2ln"} {
		_, err := ReadClaims(bad)
		if err == nil {
			t.Errorf("%q read as a JWT", bad)
			continue
		}
		if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("the error quotes the token: %v", err)
		}
	}
}
