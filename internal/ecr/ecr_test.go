package ecr

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/registry"
)

func TestDecode(t *testing.T) {
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		token, want string
		ok          bool
	}{
		{enc("AWS:pass:with:colons"), "pass:with:colons", true},
		{enc("AWS:" + strings.Repeat("x", 2000)), strings.Repeat("x", 2000), true},
		{enc("AWS:"), "", false},
		{enc("bob:pw"), "", false},
		{enc("no-colon"), "", false},
		{"not base64!", "", false},
	}
	for _, tt := range tests {
		got, err := decode(tt.token)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("decode(%.20q) = %.20q, %v", tt.token, got, err)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("error echoes the password: %v", err)
		}
	}
}

func mustParse(t *testing.T, ref string) registry.Registry {
	t.Helper()
	r, err := registry.Parse(ref, "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestGroupByEndpoint(t *testing.T) {
	regs := []registry.Registry{
		mustParse(t, "111111111111"),
		mustParse(t, "222222222222"), // same region: same call
		mustParse(t, "333333333333.dkr.ecr.us-east-1.amazonaws.com"),
		mustParse(t, "111111111111.dkr.ecr-fips.us-east-1.amazonaws.com"), // FIPS endpoint: its own call
		mustParse(t, "public.ecr.aws"),
		mustParse(t, "ecr-public.aws.com"), // the same ECR Public call
	}
	groups := groupByEndpoint(regs)
	var got []string
	for _, g := range groups {
		got = append(got, g.describe())
	}
	want := []string{"region eu-west-1", "region us-east-1", "region us-east-1 (FIPS endpoint)", "ECR Public (public.ecr.aws)"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("groups = %q, want %q", got, want)
	}
	if len(groups[0].regs) != 2 || len(groups[3].regs) != 2 {
		t.Errorf("registries were not grouped per region: %+v", groups)
	}
}

func TestHostFor(t *testing.T) {
	own := mustParse(t, "123456789012")
	other := mustParse(t, "210987654321")
	fips := mustParse(t, "123456789012.dkr.ecr-fips.eu-west-1.amazonaws.com")
	pub := mustParse(t, "public.ecr.aws")
	const pe = "https://127.0.0.1:5443"
	tests := []struct {
		name   string
		reg    registry.Registry
		caller string
		self   bool
		want   string
	}{
		{"default registry: the proxyEndpoint", registry.Own("eu-west-1", false), "", true, "127.0.0.1:5443"},
		{"own account: the proxyEndpoint", own, "123456789012", false, "127.0.0.1:5443"},
		{"other account: its own host", other, "123456789012", false, other.Host},
		{"FIPS host kept", fips, "123456789012", false, fips.Host},
		{"public", pub, "123456789012", false, "public.ecr.aws"},
	}
	for _, tt := range tests {
		got, err := hostFor(tt.reg, pe, tt.caller, tt.self)
		if err != nil || got != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if _, err := hostFor(own, "", "123456789012", false); err == nil {
		t.Error("an empty proxyEndpoint was accepted")
	}
}

// TestProxyHostAcceptsOnlyHosts: ECR's proxyEndpoint becomes a config.json
// key, a variable and a helper setting, so only https://<DNS name or IP>
// with an optional port passes.
func TestProxyHostAcceptsOnlyHosts(t *testing.T) {
	for _, tt := range []struct {
		proxyEndpoint, want string // want "": refused
	}{
		{"https://123456789012.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"},
		{"https://123456789012.DKR.ecr.eu-west-1.amazonaws.com/", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"},
		{"https://127.0.0.1:5443", "127.0.0.1:5443"},
		{"https://[::1]:5443", "[::1]:5443"},
		{"https://[2001:db8::1]", "[2001:db8::1]"},
		{"https://registry-1.example:65535", "registry-1.example:65535"},
		{`https://a'$(id)"b;c&d!e=f,g<h>.example`, ""},
		{"https://a=b.example", ""},
		{"https://a,b.example", ""},
		{"https://a b.example", ""},
		{"https://a_b.example", ""},
		{"https://-a.example", ""},
		{"https://a-.example", ""},
		{"https://a..example", ""},
		{"https://" + strings.Repeat("a", 64) + ".example", ""},
		{"https://user:pw@registry.example", ""},
		{"https://registry.example/v2/", ""},
		{"https://registry.example?x=1", ""},
		{"https://registry.example#x", ""},
		{"https://registry.example:", ""},
		{"https://registry.example:0", ""},
		{"https://registry.example:65536", ""},
		{"https://registry.example:05443", ""},
		{"https://[fe80::1%25eth0]:5443", ""},
		{"http://registry.example", ""},
		{"registry.example", ""},
		{"https://", ""},
		{"", ""},
	} {
		got, err := proxyHost(tt.proxyEndpoint)
		if tt.want == "" {
			if err == nil {
				t.Errorf("proxyHost(%q) = %q, want an error", tt.proxyEndpoint, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("proxyHost(%q) = %q, %v; want %q", tt.proxyEndpoint, got, err, tt.want)
		}
	}
}
