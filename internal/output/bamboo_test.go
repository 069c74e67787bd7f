package output

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
)

// loadProperties reads a properties file by the rules of
// java.util.Properties.load (which Bamboo's Inject Bamboo variables task
// uses): comments, line continuations, key separators and escapes.
func loadProperties(t *testing.T, text string) map[string]string {
	t.Helper()
	// Join continued lines: a line ending in an odd number of backslashes.
	var logical []string
	cur := ""
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if cur != "" {
			line = strings.TrimLeft(line, " \t\f")
		}
		n := len(line) - len(strings.TrimRight(line, `\`))
		if n%2 == 1 {
			cur += line[:len(line)-1]
			continue
		}
		logical = append(logical, cur+line)
		cur = ""
	}
	props := map[string]string{}
	for _, line := range logical {
		line = strings.TrimLeft(line, " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		// The key ends at the first unescaped = : or white space.
		i := 0
		for i < len(line) {
			if line[i] == '\\' {
				i += 2
				continue
			}
			if strings.IndexByte("=: \t\f", line[i]) >= 0 {
				break
			}
			i++
		}
		key, rest := line[:min(i, len(line))], ""
		if i < len(line) {
			// White space, then at most one = or :, then white space.
			rest = strings.TrimLeft(line[i:], " \t\f")
			if rest != "" && (rest[0] == '=' || rest[0] == ':') {
				rest = strings.TrimLeft(rest[1:], " \t\f")
			}
		}
		props[unescapeProperty(t, key)] = unescapeProperty(t, rest)
	}
	return props
}

func unescapeProperty(t *testing.T, s string) string {
	t.Helper()
	var units []uint16
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			if c >= 0x80 {
				t.Fatalf("non-ASCII byte in a properties file (read as ISO-8859-1): %q", s)
			}
			units = append(units, uint16(c))
			continue
		}
		i++
		if i >= len(s) {
			break
		}
		switch s[i] {
		case 't':
			units = append(units, '\t')
		case 'n':
			units = append(units, '\n')
		case 'r':
			units = append(units, '\r')
		case 'f':
			units = append(units, '\f')
		case 'u':
			n, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				t.Fatalf("bad \\u escape in %q", s)
			}
			units = append(units, uint16(n))
			i += 4
		default:
			units = append(units, uint16(s[i]))
		}
	}
	return string(utf16.Decode(units))
}

func TestBambooFormat(t *testing.T) {
	logins := testLogins(t)
	f, ok := LookupFormat("bamboo")
	if !ok {
		t.Fatal("no bamboo format")
	}
	for _, tc := range []struct{ ns, want string }{
		{"", "custom.aws.ecr"},
		{"custom.aws.ecr", "custom.aws.ecr"},
		{"prod_ecr", "prod_ecr"},
	} {
		text, err := f.Render(logins, FormatOptions{BambooNamespace: tc.ns})
		if err != nil {
			t.Fatal(err)
		}
		got := loadProperties(t, text)
		l := logins[0]
		want := map[string]string{
			tc.want + ".username":                    "AWS",
			tc.want + ".password":                    l.Password,
			tc.want + ".authorizationToken.password": l.AuthorizationToken,
			tc.want + ".proxyEndpoint":               "https://111111111111.dkr.ecr.eu-west-1.amazonaws.com",
			tc.want + ".proxyEndpointDomain":         "111111111111.dkr.ecr.eu-west-1.amazonaws.com",
			tc.want + ".expirationDate":              "2026-11-26T05:00:00Z",
		}
		if len(got) != len(want) {
			t.Errorf("namespace %q: %d variables, want %d:\n%s", tc.ns, len(got), len(want), text)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("namespace %q: %s = %q, want %q", tc.ns, k, got[k], v)
			}
		}
		// Bamboo masks variables whose names end in "password": both
		// secrets must be among them.
		for k, v := range got {
			if (v == l.Password || v == l.AuthorizationToken) && !strings.HasSuffix(strings.ToLower(k), "password") {
				t.Errorf("secret in %s, which Bamboo would not mask", k)
			}
		}
	}
}

func TestPropertiesEscapeRoundTrip(t *testing.T) {
	for _, v := range []string{"", "plain", " lead", "a=b:c#d!e", `back\slash\`, "tab\tnl\ncr\rff\f", "päss ✓ 𝄞", "trail "} {
		text := propertiesEscape("k.ey", true) + "=" + propertiesEscape(v, false) + "\n"
		got := loadProperties(t, text)
		if got["k.ey"] != v || len(got) != 1 {
			t.Errorf("%q read back as %q", v, got)
		}
	}
	if got := loadProperties(t, propertiesEscape("a key=x", true)+"=v\n"); got["a key=x"] != "v" {
		t.Errorf("key with separators read back as %q", got)
	}
}
