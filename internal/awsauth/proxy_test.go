package awsauth

import (
	"net/http"
	"net/url"
	"testing"
)

func TestProxyDecision(t *testing.T) {
	setting, _ := url.Parse("http://proxy.internal:3128")
	noProxy := []string{"example.com", ".corp.internal", "10.0.0.0/8", "192.0.2.7", "sts.eu-west-1.amazonaws.com:8443", "2001:db8::1", "[2001:db8::2]:8443"}
	environ := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, tc := range []struct {
		name    string
		proxy   *url.URL
		noProxy []string
		env     map[string]string
		url     string
		want    string // the proxy, "" for direct
	}{
		{"setting", setting, noProxy, nil, "https://api.ecr.eu-west-1.amazonaws.com", "http://proxy.internal:3128"},
		{"setting, plain http", setting, noProxy, nil, "http://registry.test/v2/", "http://proxy.internal:3128"},
		{"name", setting, noProxy, nil, "https://example.com", ""},
		{"subdomain", setting, noProxy, nil, "https://registry.example.com/v2/", ""},
		{"not a subdomain", setting, noProxy, nil, "https://notexample.com", "http://proxy.internal:3128"},
		{"leading dot: subdomains", setting, noProxy, nil, "https://a.corp.internal", ""},
		{"CIDR", setting, noProxy, nil, "https://10.1.2.3:443", ""},
		{"outside the CIDR", setting, noProxy, nil, "https://11.1.2.3", "http://proxy.internal:3128"},
		{"IP", setting, noProxy, nil, "https://192.0.2.7", ""},
		{"other port", setting, noProxy, nil, "https://sts.eu-west-1.amazonaws.com", "http://proxy.internal:3128"},
		{"host:port", setting, noProxy, nil, "https://sts.eu-west-1.amazonaws.com:8443", ""},
		{"IPv6", setting, noProxy, nil, "https://[2001:db8::1]", ""},
		{"IPv6 and port", setting, noProxy, nil, "https://[2001:db8::2]:8443", ""},
		{"loopback", setting, noProxy, nil, "https://127.0.0.1:9000", ""},
		{"localhost", setting, noProxy, nil, "https://localhost", ""},
		{"upper case", setting, noProxy, nil, "https://EXAMPLE.COM", ""},
		{"*", setting, []string{"*"}, nil, "https://sts.amazonaws.com", ""},
		{"environment", nil, nil, map[string]string{"HTTPS_PROXY": "http://env-proxy:8080", "NO_PROXY": "example.com"}, "https://sts.amazonaws.com", "http://env-proxy:8080"},
		{"environment, lower case", nil, nil, map[string]string{"https_proxy": "http://env-proxy:8080"}, "https://sts.amazonaws.com", "http://env-proxy:8080"},
		{"environment's NO_PROXY", nil, nil, map[string]string{"HTTPS_PROXY": "http://env-proxy:8080", "NO_PROXY": "example.com"}, "https://example.com", ""},
		{"the setting wins over the environment", setting, nil, map[string]string{"HTTPS_PROXY": "http://env-proxy:8080"}, "https://sts.amazonaws.com", "http://proxy.internal:3128"},
		{"no-proxy applies to the environment's proxy", nil, []string{"amazonaws.com"}, map[string]string{"HTTPS_PROXY": "http://env-proxy:8080", "NO_PROXY": "example.com"}, "https://sts.amazonaws.com", ""},
		{"no-proxy stands for NO_PROXY", nil, []string{"amazonaws.com"}, map[string]string{"HTTPS_PROXY": "http://env-proxy:8080", "NO_PROXY": "example.com"}, "https://example.com", "http://env-proxy:8080"},
		{"the setting with the environment's NO_PROXY", setting, nil, map[string]string{"NO_PROXY": "example.com"}, "https://example.com", ""},
		{"nothing", nil, nil, nil, "https://sts.amazonaws.com", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			p := NewProxy(tc.proxy, tc.noProxy, environ(tc.env))
			got, err := p.Func()(&http.Request{URL: u})
			if err != nil {
				t.Fatal(err)
			}
			gotS := "" // direct
			if got != nil {
				gotS = got.String()
			}
			if gotS != tc.want {
				t.Errorf("%s: proxy %q, want %q (\"\": direct)", tc.url, gotS, tc.want)
			}
			if wantConfigured := tc.proxy != nil || tc.env["HTTPS_PROXY"] != "" || tc.env["https_proxy"] != ""; p.Configured() != wantConfigured {
				t.Errorf("Configured() = %v, want %v", p.Configured(), wantConfigured)
			}
		})
	}
}
