package awsauth

import (
	"net/http"
	"net/url"
	"testing"
)

func TestProxyBypass(t *testing.T) {
	proxy, _ := url.Parse("http://proxy.internal:3128")
	p := Proxy{URL: proxy, NoProxy: []string{"example.com", ".corp.internal", "10.0.0.0/8", "192.0.2.7", "sts.eu-west-1.amazonaws.com:8443", "[2001:db8::1]"}}
	for _, tc := range []struct {
		url    string
		direct bool
	}{
		{"https://api.ecr.eu-west-1.amazonaws.com", false},
		{"https://example.com", true},
		{"https://registry.example.com/v2/", true},
		{"https://notexample.com", false},
		{"https://a.corp.internal", true},
		{"https://corp.internal", true},
		{"https://10.1.2.3:443", true},
		{"https://11.1.2.3", false},
		{"https://192.0.2.7", true},
		{"https://sts.eu-west-1.amazonaws.com", false},
		{"https://sts.eu-west-1.amazonaws.com:8443", true},
		{"https://[2001:db8::1]", true},
		{"https://127.0.0.1:9000", true},
		{"https://localhost", true},
		{"https://EXAMPLE.COM.", true},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.Func()(&http.Request{URL: u})
		if err != nil {
			t.Fatal(err)
		}
		if (got == nil) != tc.direct || (got != nil && got.String() != proxy.String()) {
			t.Errorf("%s: proxy %v, want direct %v", tc.url, got, tc.direct)
		}
	}
	all := Proxy{URL: proxy, NoProxy: []string{"*"}}
	u, _ := url.Parse("https://sts.amazonaws.com")
	if got, _ := all.Func()(&http.Request{URL: u}); got != nil {
		t.Errorf("no-proxy * still proxies %s", u)
	}
}
