package output

import (
	"fmt"
	"strings"

	"github.com/ecr-credentials/ecr-credentials/internal/ecr"
)

// DefaultBambooNamespace is the namespace of the bamboo format's variables
// when bamboo-namespace is not set.
const DefaultBambooNamespace = "custom.aws.ecr"

// BambooVariables are the names, after the namespace, that Bamboo's "Amazon
// ECR Credentials Variables" task gives later tasks; the bamboo format writes
// exactly these. Bamboo masks a variable whose name ends in "password".
var BambooVariables = []string{"username", "password", "authorizationToken.password", "proxyEndpoint", "proxyEndpointDomain", "expirationDate"}

func bambooValue(name string, l ecr.Login) string {
	switch name {
	case "username":
		return l.Username
	case "password":
		return l.Password
	case "authorizationToken.password":
		return l.AuthorizationToken
	case "proxyEndpoint":
		return l.ProxyEndpoint
	case "proxyEndpointDomain":
		return l.Registry.Host
	case "expirationDate":
		return FormatTime(l.ExpiresAt)
	}
	panic("bamboo: unknown variable " + name)
}

// renderBamboo writes the first registry's login as a Java properties file
// (the format of Bamboo's "Inject Bamboo variables" task), one
// <namespace>.<name>=<value> line per variable.
func renderBamboo(logins []ecr.Login, o FormatOptions) (string, error) {
	ns := o.BambooNamespace
	if ns == "" {
		ns = DefaultBambooNamespace
	}
	var b strings.Builder
	for _, name := range BambooVariables {
		fmt.Fprintf(&b, "%s=%s\n", propertiesEscape(ns+"."+name, true), propertiesEscape(bambooValue(name, logins[0]), false))
	}
	return b.String(), nil
}

// bambooSecretParts: the password variables' values as escaped in the file.
func bambooSecretParts(logins []ecr.Login, _ FormatOptions) []string {
	l := logins[0]
	return []string{propertiesEscape(l.Password, false), propertiesEscape(l.AuthorizationToken, false)}
}

// propertiesEscape escapes s as java.util.Properties.store does: \ and the
// separators = : # ! get a backslash, control characters their escapes,
// a space a backslash in a key or at the start of a value, and anything
// outside printable ASCII a \uXXXX (UTF-16) escape.
func propertiesEscape(s string, key bool) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == ' ':
			if key || i == 0 {
				b.WriteByte('\\')
			}
			b.WriteByte(' ')
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\f':
			b.WriteString(`\f`)
		case strings.ContainsRune(`\=:#!`, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r > 0x7e:
			if r > 0xffff {
				r -= 0x10000
				fmt.Fprintf(&b, `\u%04X\u%04X`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			} else {
				fmt.Fprintf(&b, `\u%04X`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
