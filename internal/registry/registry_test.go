package registry

import (
	"errors"
	"strings"
	"testing"
)

// priv builds the Registry a private host is expected to parse to.
func priv(host, account, region, partition string, fips, dual bool) Registry {
	return Registry{Host: host, AccountID: account, Region: region, Partition: partition, FIPS: fips, DualStack: dual}
}

func TestParseHostAccepts(t *testing.T) {
	const id = "123456789012"
	tests := []struct {
		name string
		in   string
		want Registry
	}{
		{"commercial", id + ".dkr.ecr.eu-west-1.amazonaws.com",
			priv(id+".dkr.ecr.eu-west-1.amazonaws.com", id, "eu-west-1", "aws", false, false)},
		{"commercial us-east-1", id + ".dkr.ecr.us-east-1.amazonaws.com",
			priv(id+".dkr.ecr.us-east-1.amazonaws.com", id, "us-east-1", "aws", false, false)},
		{"newer area il", id + ".dkr.ecr.il-central-1.amazonaws.com",
			priv(id+".dkr.ecr.il-central-1.amazonaws.com", id, "il-central-1", "aws", false, false)},
		{"newer area mx", id + ".dkr.ecr.mx-central-1.amazonaws.com",
			priv(id+".dkr.ecr.mx-central-1.amazonaws.com", id, "mx-central-1", "aws", false, false)},
		{"leading zero account", "012345678901.dkr.ecr.ap-southeast-2.amazonaws.com",
			priv("012345678901.dkr.ecr.ap-southeast-2.amazonaws.com", "012345678901", "ap-southeast-2", "aws", false, false)},
		{"fips", id + ".dkr.ecr-fips.us-east-2.amazonaws.com",
			priv(id+".dkr.ecr-fips.us-east-2.amazonaws.com", id, "us-east-2", "aws", true, false)},
		{"dual-stack", id + ".dkr-ecr.eu-west-1.on.aws",
			priv(id+".dkr-ecr.eu-west-1.on.aws", id, "eu-west-1", "aws", false, true)},
		{"dual-stack fips", id + ".dkr-ecr-fips.us-east-2.on.aws",
			priv(id+".dkr-ecr-fips.us-east-2.on.aws", id, "us-east-2", "aws", true, true)},
		{"govcloud west", id + ".dkr.ecr.us-gov-west-1.amazonaws.com",
			priv(id+".dkr.ecr.us-gov-west-1.amazonaws.com", id, "us-gov-west-1", "aws-us-gov", false, false)},
		{"govcloud east", id + ".dkr.ecr.us-gov-east-1.amazonaws.com",
			priv(id+".dkr.ecr.us-gov-east-1.amazonaws.com", id, "us-gov-east-1", "aws-us-gov", false, false)},
		{"govcloud fips", id + ".dkr.ecr-fips.us-gov-west-1.amazonaws.com",
			priv(id+".dkr.ecr-fips.us-gov-west-1.amazonaws.com", id, "us-gov-west-1", "aws-us-gov", true, false)},
		{"govcloud dual-stack fips", id + ".dkr-ecr-fips.us-gov-east-1.on.aws",
			priv(id+".dkr-ecr-fips.us-gov-east-1.on.aws", id, "us-gov-east-1", "aws-us-gov", true, true)},
		{"china beijing", id + ".dkr.ecr.cn-north-1.amazonaws.com.cn",
			priv(id+".dkr.ecr.cn-north-1.amazonaws.com.cn", id, "cn-north-1", "aws-cn", false, false)},
		{"china ningxia", id + ".dkr.ecr.cn-northwest-1.amazonaws.com.cn",
			priv(id+".dkr.ecr.cn-northwest-1.amazonaws.com.cn", id, "cn-northwest-1", "aws-cn", false, false)},
		{"china dual-stack", id + ".dkr-ecr.cn-north-1.on.amazonwebservices.com.cn",
			priv(id+".dkr-ecr.cn-north-1.on.amazonwebservices.com.cn", id, "cn-north-1", "aws-cn", false, true)},
		{"european sovereign cloud", id + ".dkr.ecr.eusc-de-east-1.amazonaws.eu",
			priv(id+".dkr.ecr.eusc-de-east-1.amazonaws.eu", id, "eusc-de-east-1", "aws-eusc", false, false)},
		{"iso", id + ".dkr.ecr.us-iso-east-1.c2s.ic.gov",
			priv(id+".dkr.ecr.us-iso-east-1.c2s.ic.gov", id, "us-iso-east-1", "aws-iso", false, false)},
		{"iso fips", id + ".dkr.ecr-fips.us-iso-west-1.c2s.ic.gov",
			priv(id+".dkr.ecr-fips.us-iso-west-1.c2s.ic.gov", id, "us-iso-west-1", "aws-iso", true, false)},
		{"iso-b", id + ".dkr.ecr.us-isob-east-1.sc2s.sgov.gov",
			priv(id+".dkr.ecr.us-isob-east-1.sc2s.sgov.gov", id, "us-isob-east-1", "aws-iso-b", false, false)},
		{"iso-e", id + ".dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk",
			priv(id+".dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", id, "eu-isoe-west-1", "aws-iso-e", false, false)},
		{"iso-f", id + ".dkr.ecr.us-isof-south-1.csp.hci.ic.gov",
			priv(id+".dkr.ecr.us-isof-south-1.csp.hci.ic.gov", id, "us-isof-south-1", "aws-iso-f", false, false)},
		{"public", "public.ecr.aws",
			Registry{Host: "public.ecr.aws", Region: "us-east-1", Partition: "aws", Public: true}},
		{"public dual-stack", "ecr-public.aws.com",
			Registry{Host: "ecr-public.aws.com", Region: "us-east-1", Partition: "aws", Public: true, DualStack: true}},
		{"public with repository", "public.ecr.aws/nginx/nginx:1.27",
			Registry{Host: "public.ecr.aws", Region: "us-east-1", Partition: "aws", Public: true}},
		{"public with https", "https://public.ecr.aws/",
			Registry{Host: "public.ecr.aws", Region: "us-east-1", Partition: "aws", Public: true}},

		// Normalisation.
		{"https scheme", "https://" + id + ".dkr.ecr.eu-west-1.amazonaws.com",
			priv(id+".dkr.ecr.eu-west-1.amazonaws.com", id, "eu-west-1", "aws", false, false)},
		{"upper-case scheme", "HTTPS://" + id + ".dkr.ecr.eu-west-1.amazonaws.com",
			priv(id+".dkr.ecr.eu-west-1.amazonaws.com", id, "eu-west-1", "aws", false, false)},
		{"trailing slash", id + ".dkr.ecr.eu-west-1.amazonaws.com/",
			priv(id+".dkr.ecr.eu-west-1.amazonaws.com", id, "eu-west-1", "aws", false, false)},
		{"repository path and tag", "https://" + id + ".dkr.ecr.eu-west-1.amazonaws.com/team/app:1.2",
			priv(id+".dkr.ecr.eu-west-1.amazonaws.com", id, "eu-west-1", "aws", false, false)},
		{"digest reference", id + ".dkr.ecr.eu-west-1.amazonaws.com/app@sha256:" + strings.Repeat("a", 64),
			priv(id+".dkr.ecr.eu-west-1.amazonaws.com", id, "eu-west-1", "aws", false, false)},
		{"upper case host", id + ".DKR.ECR.EU-WEST-1.AMAZONAWS.COM",
			priv(id+".dkr.ecr.eu-west-1.amazonaws.com", id, "eu-west-1", "aws", false, false)},
		{"mixed case public", "Public.ECR.aws",
			Registry{Host: "public.ecr.aws", Region: "us-east-1", Partition: "aws", Public: true}},
		{"surrounding space", "  " + id + ".dkr.ecr.eu-west-1.amazonaws.com\t",
			priv(id+".dkr.ecr.eu-west-1.amazonaws.com", id, "eu-west-1", "aws", false, false)},
		{"fully qualified trailing dot", id + ".dkr.ecr.eu-west-1.amazonaws.com.",
			priv(id+".dkr.ecr.eu-west-1.amazonaws.com", id, "eu-west-1", "aws", false, false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHost(tt.in)
			if err != nil {
				t.Fatalf("ParseHost(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseHost(%q)\n got  %+v\n want %+v", tt.in, got, tt.want)
			}
			if got.String() != tt.want.Host || got.URL() != "https://"+tt.want.Host {
				t.Errorf("String/URL = %q, %q", got.String(), got.URL())
			}
		})
	}
}

func TestParseHostRejects(t *testing.T) {
	const id = "123456789012"
	tests := []struct {
		name string
		in   string
		// every string in want must appear in the error message
		want []string
	}{
		{"empty", "", []string{"empty", "public.ecr.aws"}},
		{"blank", "   ", []string{"empty"}},
		{"docker hub", "docker.io", []string{`"docker.io" is not an Amazon ECR registry`, "123456789012.dkr.ecr.eu-west-1.amazonaws.com"}},
		{"docker hub index", "https://index.docker.io/v1/", []string{"is not an Amazon ECR registry"}},
		{"ghcr", "ghcr.io/owner/image", []string{`"ghcr.io/owner/image" is not an Amazon ECR registry`}},
		{"other host", "foo.example.com", []string{`"foo.example.com" is not an Amazon ECR registry; use an account ID (123456789012), a host like 123456789012.dkr.ecr.eu-west-1.amazonaws.com, or public.ecr.aws`}},
		{"look-alike suffix", id + ".dkr.ecr.eu-west-1.amazonaws.com.evil.example", []string{"is not an Amazon ECR registry"}},
		{"look-alike prefix", id + ".dkr.ecr.eu-west-1.notamazonaws.com", []string{"is not an Amazon ECR registry"}},
		{"11-digit account", "12345678901.dkr.ecr.eu-west-1.amazonaws.com", []string{"11 digits", "exactly 12"}},
		{"13-digit account", "1234567890123.dkr.ecr.eu-west-1.amazonaws.com", []string{"13 digits"}},
		{"account with letters", "12345678901a.dkr.ecr.eu-west-1.amazonaws.com", []string{"12-digit AWS account ID"}},
		{"missing account", "dkr.ecr.eu-west-1.amazonaws.com", []string{"registry hosts look like 123456789012.dkr.ecr.eu-west-1.amazonaws.com"}},
		{"api endpoint", "api.ecr.eu-west-1.amazonaws.com", []string{"registry hosts look like"}},
		{"ecr api host with account", id + ".ecr.eu-west-1.amazonaws.com", []string{"registry hosts look like"}},
		{"wrong service label", id + ".dkr.ecs.eu-west-1.amazonaws.com", []string{"registry hosts look like"}},
		{"missing region", id + ".dkr.ecr.amazonaws.com", []string{"registry hosts look like"}},
		{"extra label", id + ".dkr.ecr.eu-west-1.extra.amazonaws.com", []string{"registry hosts look like"}},
		{"dual-stack label on ipv4 suffix", id + ".dkr-ecr.eu-west-1.amazonaws.com", []string{"registry hosts look like"}},
		{"ipv4 labels on dual-stack suffix", id + ".dkr.ecr.eu-west-1.on.aws", []string{"registry hosts look like 123456789012.dkr-ecr.eu-west-1.on.aws"}},
		{"bad region", id + ".dkr.ecr.eu-wst.amazonaws.com", []string{`"eu-wst"`, "not an AWS Region"}},
		{"unknown area", id + ".dkr.ecr.xx-east-1.amazonaws.com", []string{`"xx-east-1"`}},
		{"china region on commercial suffix", id + ".dkr.ecr.cn-north-1.amazonaws.com", []string{"cn-north-1", "aws-cn", ".amazonaws.com.cn"}},
		{"commercial region on china suffix", id + ".dkr.ecr.eu-west-1.amazonaws.com.cn", []string{"partition aws", "end in .amazonaws.com, not .amazonaws.com.cn"}},
		{"govcloud region on china suffix", id + ".dkr.ecr.us-gov-west-1.amazonaws.com.cn", []string{"aws-us-gov"}},
		{"iso region on commercial suffix", id + ".dkr.ecr.us-iso-east-1.amazonaws.com", []string{"aws-iso", ".c2s.ic.gov"}},
		{"iso-b region on iso suffix", id + ".dkr.ecr.us-isob-east-1.c2s.ic.gov", []string{"aws-iso-b", ".sc2s.sgov.gov"}},
		{"eusc region on commercial suffix", id + ".dkr.ecr.eusc-de-east-1.amazonaws.com", []string{"aws-eusc", ".amazonaws.eu"}},
		{"commercial region on eusc suffix", id + ".dkr.ecr.eu-west-1.amazonaws.eu", []string{"end in .amazonaws.com"}},
		{"china region on global dual-stack", id + ".dkr-ecr.cn-north-1.on.aws", []string{".on.amazonwebservices.com.cn"}},
		{"commercial region on china dual-stack", id + ".dkr-ecr.eu-west-1.on.amazonwebservices.com.cn", []string{"end in .on.aws"}},
		{"eusc dual-stack unknown", id + ".dkr-ecr.eusc-de-east-1.on.aws", []string{"no dual-stack registry host is known", id + ".dkr.ecr.eusc-de-east-1.amazonaws.eu"}},
		{"iso dual-stack unknown", id + ".dkr-ecr.us-iso-east-1.on.aws", []string{"no dual-stack registry host is known"}},
		{"port 443", id + ".dkr.ecr.eu-west-1.amazonaws.com:443", []string{"port (:443)", `remove ":443"`}},
		{"port with scheme and path", "https://" + id + ".dkr.ecr.eu-west-1.amazonaws.com:5000/repo", []string{"port (:5000)"}},
		{"public with port", "public.ecr.aws:443", []string{"port"}},
		{"non-ecr host with port", "localhost:5000", []string{"is not an Amazon ECR registry"}},
		{"http scheme", "http://" + id + ".dkr.ecr.eu-west-1.amazonaws.com", []string{`"http://"`, "HTTPS only"}},
		{"oci scheme", "oci://" + id + ".dkr.ecr.eu-west-1.amazonaws.com/chart", []string{`"oci://"`}},
		{"docker scheme", "docker://public.ecr.aws", []string{`"docker://"`}},
		{"scheme only", "https://", []string{"no host name"}},
		{"userinfo", "https://AWS@" + id + ".dkr.ecr.eu-west-1.amazonaws.com", []string{"REDACTED@", "user name or password"}},
		{"ipv6 literal", "[::1]:5000", []string{"is not an Amazon ECR registry"}},
		{"ipv4 literal", "127.0.0.1", []string{"is not an Amazon ECR registry"}},
		{"space inside", id + ".dkr.ecr.eu-west-1 .amazonaws.com", []string{"is not an Amazon ECR registry"}},
		{"underscore", id + ".dkr.ecr.eu_west_1.amazonaws.com", []string{"is not an Amazon ECR registry"}},
		{"unicode", id + ".dkr.ecr.eu-west-1.amazonaws.cöm", []string{"is not an Amazon ECR registry"}},
		{"public gallery", "gallery.ecr.aws/nginx/nginx", []string{"ECR Public Gallery", "public.ecr.aws"}},
		{"public subdomain", "x.public.ecr.aws", []string{"is not an Amazon ECR registry"}},
		{"account ID is not a host", id, []string{"is not an Amazon ECR registry"}},
		{"double dot", id + ".dkr.ecr..eu-west-1.amazonaws.com", []string{"registry hosts look like"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHost(tt.in)
			if err == nil {
				t.Fatalf("ParseHost(%q) = %+v, want an error", tt.in, got)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("ParseHost(%q) error %T is not *Error: %v", tt.in, err, err)
			}
			if got != (Registry{}) {
				t.Errorf("ParseHost(%q) returned %+v with the error", tt.in, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ParseHost(%q) error %q does not contain %q", tt.in, err, w)
				}
			}
		})
	}
}

func TestErrorNeverRepeatsCredentials(t *testing.T) {
	const secret = "s3cr3t-Passw0rd"
	for _, in := range []string{
		"https://AWS:" + secret + "@123456789012.dkr.ecr.eu-west-1.amazonaws.com",
		"AWS:" + secret + "@public.ecr.aws/x",
		"oci://user:" + secret + "@public.ecr.aws",
		"http://user:" + secret + "@example.com/a@b",
	} {
		_, err := ParseHost(in)
		if err == nil {
			t.Fatalf("ParseHost(%q) accepted a URL with credentials", in)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error repeats the password: %v", err)
		}
		var e *Error
		if errors.As(err, &e) && strings.Contains(e.Item, secret) {
			t.Errorf("Error.Item repeats the password: %q", e.Item)
		}
	}
}

func TestErrorShortensLongItems(t *testing.T) {
	blob := "eyJhbGciOiJSUzI1NiJ9." + strings.Repeat("QUJD", 300)
	_, err := ParseHost(blob)
	if err == nil {
		t.Fatal("a long blob was accepted")
	}
	msg := err.Error()
	if strings.Contains(msg, blob[100:200]) {
		t.Errorf("error repeats the long item: %.120s...", msg)
	}
	if !strings.Contains(msg, "(1221 characters)") {
		t.Errorf("error does not give the item's length: %.200s", msg)
	}
	// The Item field keeps the whole text for callers that need it.
	var e *Error
	if !errors.As(err, &e) || e.Item != blob {
		t.Errorf("Error.Item was changed")
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, ref, region string
		wantHost          string
		wantErr           string
	}{
		{"account with default region", "123456789012", "eu-west-1", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", ""},
		{"account padded", " 123456789012 ", "eu-west-1", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", ""},
		{"account in china", "123456789012", "cn-northwest-1", "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn", ""},
		{"account in govcloud", "123456789012", "us-gov-east-1", "123456789012.dkr.ecr.us-gov-east-1.amazonaws.com", ""},
		{"account in eusc", "123456789012", "eusc-de-east-1", "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", ""},
		{"account in iso-f", "123456789012", "us-isof-east-1", "123456789012.dkr.ecr.us-isof-east-1.csp.hci.ic.gov", ""},
		{"host region wins", "123456789012.dkr.ecr.ap-south-1.amazonaws.com", "eu-west-1", "123456789012.dkr.ecr.ap-south-1.amazonaws.com", ""},
		{"host needs no default region", "123456789012.dkr.ecr.ap-south-1.amazonaws.com", "", "123456789012.dkr.ecr.ap-south-1.amazonaws.com", ""},
		{"public needs no region", "public.ecr.aws", "", "public.ecr.aws", ""},
		{"public ignores default region", "public.ecr.aws", "eu-west-1", "public.ecr.aws", ""},
		{"account without region", "123456789012", "", "", `"123456789012" is an account ID, which needs a region`},
		{"account with bad region", "123456789012", "Europe", "", `"Europe" is not an AWS Region name`},
		{"account with unknown region", "123456789012", "xx-east-1", "", "not a Region of any AWS partition"},
		{"11 digits", "12345678901", "eu-west-1", "", `"12345678901" has 11 digits`},
		{"13 digits", "1234567890123", "eu-west-1", "", `"1234567890123" has 13 digits`},
		{"empty", "", "eu-west-1", "", "empty registry"},
		{"docker hub", "docker.io", "eu-west-1", "", "is not an Amazon ECR registry"},
		{"arn", "arn:aws:ecr:eu-west-1:123456789012:repository/app", "eu-west-1", "", "is not an Amazon ECR registry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.ref, tt.region)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Parse(%q, %q) = %+v, want error containing %q", tt.ref, tt.region, got, tt.wantErr)
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Errorf("error %T is not *Error", err)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Parse(%q, %q) error %q does not contain %q", tt.ref, tt.region, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q, %q): %v", tt.ref, tt.region, err)
			}
			if got.Host != tt.wantHost {
				t.Errorf("Parse(%q, %q).Host = %q, want %q", tt.ref, tt.region, got.Host, tt.wantHost)
			}
		})
	}
}

func TestForAccount(t *testing.T) {
	tests := []struct {
		account, region string
		want            Registry
		wantErr         string
	}{
		{"123456789012", "us-east-1", priv("123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012", "us-east-1", "aws", false, false), ""},
		{"000000000000", "ca-west-1", priv("000000000000.dkr.ecr.ca-west-1.amazonaws.com", "000000000000", "ca-west-1", "aws", false, false), ""},
		{"123456789012", "cn-north-1", priv("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "123456789012", "cn-north-1", "aws-cn", false, false), ""},
		{"123456789012", "us-gov-west-1", priv("123456789012.dkr.ecr.us-gov-west-1.amazonaws.com", "123456789012", "us-gov-west-1", "aws-us-gov", false, false), ""},
		{"123456789012", "us-iso-east-1", priv("123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "123456789012", "us-iso-east-1", "aws-iso", false, false), ""},
		{"123456789012", "us-isob-east-1", priv("123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "123456789012", "us-isob-east-1", "aws-iso-b", false, false), ""},
		{"123456789012", "eu-isoe-west-1", priv("123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", "123456789012", "eu-isoe-west-1", "aws-iso-e", false, false), ""},
		{"123456789012", "eusc-de-east-1", priv("123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "123456789012", "eusc-de-east-1", "aws-eusc", false, false), ""},
		{"12345678901", "us-east-1", Registry{}, "11 digits"},
		{"12345678901x", "us-east-1", Registry{}, "is not an AWS account ID"},
		{"", "us-east-1", Registry{}, "is not an AWS account ID"},
		{"123456789012", "", Registry{}, "needs a region"},
		{"123456789012", "US-EAST-1", Registry{}, "lower case"},
		{"123456789012", "us-east-1 ", Registry{}, "lower case without spaces"},
	}
	for _, tt := range tests {
		got, err := ForAccount(tt.account, tt.region)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ForAccount(%q, %q) = %+v, %v; want error containing %q", tt.account, tt.region, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ForAccount(%q, %q): %v", tt.account, tt.region, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ForAccount(%q, %q)\n got  %+v\n want %+v", tt.account, tt.region, got, tt.want)
		}
	}
}

// TestRoundTrip checks that the standard host ForAccount builds from a parsed
// host's account and region is the IPv4, non-FIPS host of the same registry,
// and that it parses back to the same account, region and partition.
func TestRoundTrip(t *testing.T) {
	const id = "210987654321"
	hosts := map[string]string{ // host -> standard host
		id + ".dkr.ecr.eu-west-1.amazonaws.com":                    id + ".dkr.ecr.eu-west-1.amazonaws.com",
		id + ".dkr.ecr-fips.us-east-1.amazonaws.com":               id + ".dkr.ecr.us-east-1.amazonaws.com",
		id + ".dkr-ecr.ap-northeast-1.on.aws":                      id + ".dkr.ecr.ap-northeast-1.amazonaws.com",
		id + ".dkr-ecr-fips.us-west-2.on.aws":                      id + ".dkr.ecr.us-west-2.amazonaws.com",
		id + ".dkr.ecr.us-gov-west-1.amazonaws.com":                id + ".dkr.ecr.us-gov-west-1.amazonaws.com",
		id + ".dkr-ecr.us-gov-east-1.on.aws":                       id + ".dkr.ecr.us-gov-east-1.amazonaws.com",
		id + ".dkr.ecr.cn-north-1.amazonaws.com.cn":                id + ".dkr.ecr.cn-north-1.amazonaws.com.cn",
		id + ".dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn": id + ".dkr.ecr.cn-northwest-1.amazonaws.com.cn",
		id + ".dkr.ecr.eusc-de-east-1.amazonaws.eu":                id + ".dkr.ecr.eusc-de-east-1.amazonaws.eu",
		id + ".dkr.ecr.us-iso-west-1.c2s.ic.gov":                   id + ".dkr.ecr.us-iso-west-1.c2s.ic.gov",
		id + ".dkr.ecr.us-isob-east-1.sc2s.sgov.gov":               id + ".dkr.ecr.us-isob-east-1.sc2s.sgov.gov",
		id + ".dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk":              id + ".dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk",
		id + ".dkr.ecr.us-isof-south-1.csp.hci.ic.gov":             id + ".dkr.ecr.us-isof-south-1.csp.hci.ic.gov",
	}
	for host, standard := range hosts {
		r, err := ParseHost(host)
		if err != nil {
			t.Errorf("ParseHost(%q): %v", host, err)
			continue
		}
		built, err := ForAccount(r.AccountID, r.Region)
		if err != nil {
			t.Errorf("ForAccount(%q, %q): %v", r.AccountID, r.Region, err)
			continue
		}
		if built.Host != standard {
			t.Errorf("ForAccount from %q built %q, want %q", host, built.Host, standard)
		}
		back, err := ParseHost(built.Host)
		if err != nil {
			t.Errorf("ParseHost(%q) of a built host: %v", built.Host, err)
			continue
		}
		if back != built {
			t.Errorf("built %+v re-parses to %+v", built, back)
		}
		if back.AccountID != r.AccountID || back.Region != r.Region || back.Partition != r.Partition {
			t.Errorf("%q and its standard host %q disagree: %+v vs %+v", host, built.Host, r, back)
		}
	}
}

func TestParseList(t *testing.T) {
	const id = "123456789012"
	std := func(region string) string { return id + ".dkr.ecr." + region + ".amazonaws.com" }
	tests := []struct {
		name    string
		in      string
		want    []string // hosts, in order
		wantErr string
	}{
		{"empty", "", nil, ""},
		{"blank lines", "\n \n\t\n", nil, ""},
		{"one account", id, []string{std("eu-west-1")}, ""},
		{"comma separated", id + ",public.ecr.aws," + std("us-east-2"),
			[]string{std("eu-west-1"), "public.ecr.aws", std("us-east-2")}, ""},
		{"spaces around commas", " " + id + " ,  public.ecr.aws ", []string{std("eu-west-1"), "public.ecr.aws"}, ""},
		{"newline separated with blank lines", "\n" + id + "\n\npublic.ecr.aws\n", []string{std("eu-west-1"), "public.ecr.aws"}, ""},
		{"crlf", id + "\r\npublic.ecr.aws\r\n", []string{std("eu-west-1"), "public.ecr.aws"}, ""},
		{"trailing and doubled commas", id + ",,public.ecr.aws,", []string{std("eu-west-1"), "public.ecr.aws"}, ""},
		{"mixed commas and newlines", id + ",\n210987654321\npublic.ecr.aws",
			[]string{std("eu-west-1"), "210987654321.dkr.ecr.eu-west-1.amazonaws.com", "public.ecr.aws"}, ""},
		{"duplicates keep first", "public.ecr.aws," + id + ",https://PUBLIC.ecr.aws/x," + std("eu-west-1") + "/repo," + id,
			[]string{"public.ecr.aws", std("eu-west-1")}, ""},
		{"account and host in other region are distinct", id + "," + std("us-west-2"),
			[]string{std("eu-west-1"), std("us-west-2")}, ""},
		{"json array", `["` + id + `", "public.ecr.aws"]`, []string{std("eu-west-1"), "public.ecr.aws"}, ""},
		{"json array padded", "  [ \"" + id + "\" ]  ", []string{std("eu-west-1")}, ""},
		{"json array with empties", `["", " ", "public.ecr.aws"]`, []string{"public.ecr.aws"}, ""},
		{"json empty array", `[]`, nil, ""},
		{"json number account", `[` + id + `, "public.ecr.aws"]`, []string{std("eu-west-1"), "public.ecr.aws"}, ""},
		{"json host with comma inside stays one item", `["a,b"]`, nil, `"a,b" is not an Amazon ECR registry`},
		{"bad item named", id + ",docker.io,public.ecr.aws", nil, `"docker.io" is not an Amazon ECR registry`},
		{"first bad item named", "ghcr.io,docker.io", nil, `"ghcr.io"`},
		{"bad json", `["` + id + `", ]`, nil, "not a JSON array of strings"},
		{"unterminated json", `["` + id + `"`, nil, "ends too early"},
		{"json trailing text", `["` + id + `"] public.ecr.aws`, nil, "unexpected text after the closing ]"},
		{"json object item", `[{"registry": "x"}]`, nil, "is not a string"},
		{"json bool item", `[true]`, nil, `"true" is not a string`},
		{"json null item is empty", `[null, "public.ecr.aws"]`, []string{"public.ecr.aws"}, ""},
		{"json fractional number", `[1.5]`, nil, "is not a string"},
		{"json number lost leading zero", `[12345678901]`, nil, "11 digits"},
		{"json nested array", `[["public.ecr.aws"]]`, nil, "is not a string"},
		{"json not an array", `[`, nil, "not a JSON array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseList(tt.in, "eu-west-1")
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseList(%q) = %v, want error containing %q", tt.in, got, tt.wantErr)
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Errorf("error %T is not *Error", err)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseList(%q) error %q does not contain %q", tt.in, err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("ParseList(%q) returned %v with an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseList(%q): %v", tt.in, err)
			}
			var hosts []string
			for _, r := range got {
				hosts = append(hosts, r.Host)
			}
			if strings.Join(hosts, " ") != strings.Join(tt.want, " ") {
				t.Errorf("ParseList(%q) hosts = %q, want %q", tt.in, hosts, tt.want)
			}
		})
	}
}

func TestParseListNeedsRegionOnlyForAccounts(t *testing.T) {
	if _, err := ParseList("public.ecr.aws,123456789012.dkr.ecr.eu-west-1.amazonaws.com", ""); err != nil {
		t.Errorf("hosts without default region: %v", err)
	}
	_, err := ParseList("public.ecr.aws,123456789012", "")
	if err == nil || !strings.Contains(err.Error(), `"123456789012" is an account ID, which needs a region`) {
		t.Errorf("account without default region: got %v", err)
	}
}

func TestErrorWrapsForCaller(t *testing.T) {
	_, err := ParseList("foo.example.com", "eu-west-1")
	wrapped := errors.Join(err) // any wrapping keeps the *Error reachable
	var e *Error
	if !errors.As(wrapped, &e) {
		t.Fatalf("errors.As did not find *Error in %v", wrapped)
	}
	if e.Item != "foo.example.com" {
		t.Errorf("Item = %q, want the bad item", e.Item)
	}
	if strings.Contains(e.Reason, "foo.example.com") {
		t.Errorf("Reason repeats the item: %q", e.Reason)
	}
	want := `registries: "foo.example.com" is not an Amazon ECR registry; use an account ID (123456789012), ` +
		`a host like 123456789012.dkr.ecr.eu-west-1.amazonaws.com, or public.ecr.aws`
	if got := "registries: " + err.Error(); got != want {
		t.Errorf("prefixed message\n got  %s\n want %s", got, want)
	}
}

func TestForAccountDualStack(t *testing.T) {
	for _, tc := range []struct{ account, region, want, wantErr string }{
		{"123456789012", "eu-west-1", "123456789012.dkr-ecr.eu-west-1.on.aws", ""},
		{"123456789012", "us-gov-west-1", "123456789012.dkr-ecr.us-gov-west-1.on.aws", ""},
		{"123456789012", "cn-north-1", "123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn", ""},
		{"123456789012", "us-iso-east-1", "", "no known dual-stack registry host"},
		{"12345678901", "eu-west-1", "", "exactly 12"},
	} {
		r, err := ForAccountDualStack(tc.account, tc.region)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s %s: err %v, want %q", tc.account, tc.region, err, tc.wantErr)
			}
			continue
		}
		if err != nil || r.Host != tc.want || !r.DualStack || r.AccountID != tc.account || r.Region != tc.region {
			t.Errorf("%s %s = %+v, %v; want host %s", tc.account, tc.region, r, err, tc.want)
			continue
		}
		// The host it names parses back to the same registry.
		if back, err := ParseHost(r.Host); err != nil || back != r {
			t.Errorf("ParseHost(%s) = %+v, %v; want %+v", r.Host, back, err, r)
		}
		std, _ := ForAccount(tc.account, tc.region)
		if got := DualStackOf(std); got != r {
			t.Errorf("DualStackOf(%s) = %s, want %s", std.Host, got.Host, r.Host)
		}
	}
	for _, h := range []string{"public.ecr.aws", "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com"} {
		r, _ := ParseHost(h)
		if got := DualStackOf(r); got != r {
			t.Errorf("DualStackOf(%s) = %s, want it unchanged", h, got.Host)
		}
	}
}

// TestNormalizeHost: one reading of a host for registries entries, alias
// names and the server URLs docker hands the credential helper. Before,
// inputs.normalizeHost, hostOf and app.helperHost each had their own and
// disagreed on the cases marked; the answer here is the one all now give.
func TestNormalizeHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"},
		{"  HTTPS://123456789012.DKR.ECR.eu-west-1.amazonaws.com/  ", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"},
		{"http://127.0.0.1:5443", "127.0.0.1:5443"},
		{"proxy.internal:5443", "proxy.internal:5443"},
		// A path is dropped (inputs kept it: an alias written as an image
		// reference was not found, and the helper's erase missed the
		// cached password of a server URL with a path).
		{"https://proxy.internal/v2/", "proxy.internal"},
		{"proxy.internal/team/app:1.2", "proxy.internal"},
		// A query or fragment is dropped (inputs and the helper kept it).
		{"proxy.internal?x=1#y", "proxy.internal"},
		// A trailing dot is dropped (inputs and the helper kept it: the
		// same host under two names).
		{"proxy.internal.", "proxy.internal"},
		{"Proxy.Internal./v2", "proxy.internal"},
		// A user name stays for the caller to refuse.
		{"user@proxy.internal", "user@proxy.internal"},
		// Another scheme stays for the caller to refuse (ParseHost: HTTPS
		// only; an alias or a helper host has no "/"); the helper read
		// this as the host "ftp:".
		{"ftp://proxy.internal/v2", "ftp://proxy.internal"},
		{"", ""},
		{"https://", ""},
	}
	for _, tt := range tests {
		if got := NormalizeHost(tt.in); got != tt.want {
			t.Errorf("NormalizeHost(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
