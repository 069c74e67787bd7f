package verify

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestRealRegistry checks Registry against a real docker-registry
// (distribution) with htpasswd auth over TLS from a private CA.
func TestRealRegistry(t *testing.T) {
	pw := strings.Repeat("eyJwYXlsb2FkIjoiQUFBQUFBQUFBQUFBQUFBQUFBIn0", 40) // ECR-sized
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{Password: pw, TLS: true})
	open := testenv.StartRegistry(t, testenv.RegistryOptions{TLS: true})
	untrusting := &http.Client{Transport: &http.Transport{Proxy: nil}} // system roots only

	tests := []struct {
		name     string
		reg      *testenv.Registry
		client   *http.Client
		password string
		want     error // nil for success
	}{
		{"right password", reg, reg.HTTPClient(), pw, nil},
		{"wrong last byte", reg, reg.HTTPClient(), pw[:len(pw)-1] + "X", ErrRejected},
		{"private CA not trusted", reg, untrusting, pw, ErrTLS},
		{"registry without auth", open, open.HTTPClient(), pw, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Registry(context.Background(), tt.client, tt.reg.Addr, testenv.DefaultRegistryUser, tt.password)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Registry: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Registry error = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), tt.password) {
				t.Fatal("error text contains the password")
			}
		})
	}
}
