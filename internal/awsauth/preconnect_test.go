package awsauth

import "testing"

func TestProxyConfigured(t *testing.T) {
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		t.Setenv(k, "")
	}
	if ProxyConfigured() {
		t.Fatal("no proxy variable set, but ProxyConfigured says one is")
	}
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		t.Run(k, func(t *testing.T) {
			t.Setenv(k, "http://127.0.0.1:3128")
			if !ProxyConfigured() {
				t.Errorf("%s set, but ProxyConfigured says none is", k)
			}
		})
	}
}
