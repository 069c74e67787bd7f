package awsfake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// authFailure classifies why a SigV4 check failed; each protocol maps it to
// its own error code and status.
type authFailure int

const (
	authMissing      authFailure = iota + 1 // no Authorization header
	authIncomplete                          // header present but malformed
	authBadSignature                        // signature, scope or date wrong
	authUnknownKey                          // access key or session token unknown
	authExpired                             // session credentials expired
)

// authError is a failed SigV4 check with a message for people.
type authError struct {
	kind authFailure
	msg  string
}

func (e *authError) Error() string { return e.msg }

// sigv4Scope is what a verified signature tells about the caller.
type sigv4Scope struct {
	keyID, region string
	cred          *credential // nil unless the signature verified
}

const (
	sigv4Algorithm   = "AWS4-HMAC-SHA256"
	sigv4TimeFormat  = "20060102T150405Z"
	sigv4MaxSkew     = 15 * time.Minute
	badSignatureText = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// parsedAuth is the Authorization header split into its parts.
type parsedAuth struct {
	keyID, date, region, service string
	signedHeaders                []string
	signature                    string
}

func parseAuthorization(h string) (*parsedAuth, *authError) {
	alg, rest, _ := strings.Cut(h, " ")
	if alg != sigv4Algorithm {
		return nil, &authError{authIncomplete, fmt.Sprintf("Unsupported AWS 'algorithm': '%s'. Sign requests with %s (SigV4).", alg, sigv4Algorithm)}
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, &authError{authIncomplete, fmt.Sprintf("Authorization header part %q is not a key=value pair.", part)}
		}
		fields[k] = v
	}
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if fields[k] == "" {
			return nil, &authError{authIncomplete, fmt.Sprintf("Authorization header requires '%s' parameter.", k)}
		}
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return nil, &authError{authIncomplete, fmt.Sprintf("Credential %q must have the form <key>/<YYYYMMDD>/<region>/<service>/aws4_request.", redactScope(fields["Credential"]))}
	}
	return &parsedAuth{
		keyID: scope[0], date: scope[1], region: scope[2], service: scope[3],
		signedHeaders: strings.Split(fields["SignedHeaders"], ";"),
		signature:     fields["Signature"],
	}, nil
}

// redactScope keeps the key id out of messages (it is not secret, but
// messages stay short and uniform).
func redactScope(c string) string {
	if _, rest, ok := strings.Cut(c, "/"); ok {
		return "<key>/" + rest
	}
	return c
}

// verifySigV4 checks the request's SigV4 header signature against the
// emulator's credentials, for the given signing service, with the emulator
// clock. The body must be the full request body. The scope is non-nil
// whenever the Authorization header could be parsed (even on failure), so
// the caller can log the key id and region.
func (s *Server) verifySigV4(r *http.Request, body []byte, service string) (*sigv4Scope, *authError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if r.URL.Query().Get("X-Amz-Signature") != "" {
			return nil, &authError{authIncomplete, "Presigned (query string) requests are not supported here; sign with the Authorization header."}
		}
		return nil, &authError{authMissing, "Missing Authentication Token"}
	}
	a, aerr := parseAuthorization(h)
	if aerr != nil {
		return nil, aerr
	}
	scope := &sigv4Scope{keyID: a.keyID, region: a.region}
	if a.service != service {
		return scope, &authError{authBadSignature, fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", service)}
	}
	if !regionPattern.MatchString(a.region) {
		return scope, &authError{authBadSignature, "Credential should be scoped to a valid region. "}
	}
	signed := map[string]bool{}
	for _, sh := range a.signedHeaders {
		signed[sh] = true
	}
	if !signed["host"] {
		return scope, &authError{authBadSignature, "'Host' must be a 'SignedHeader' in the AWS Authorization."}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" || !signed["x-amz-date"] {
		return scope, &authError{authIncomplete, "Authorization header requires existence of a signed 'X-Amz-Date' header."}
	}
	t, err := time.Parse(sigv4TimeFormat, amzDate)
	if err != nil {
		return scope, &authError{authIncomplete, fmt.Sprintf("X-Amz-Date %q is not in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z'.", amzDate)}
	}
	if a.date != amzDate[:8] {
		return scope, &authError{authBadSignature, fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", a.date, amzDate[:8], amzDate)}
	}
	now := s.now().UTC()
	if t.Before(now.Add(-sigv4MaxSkew)) {
		return scope, &authError{authBadSignature, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			amzDate, now.Add(-sigv4MaxSkew).Format(sigv4TimeFormat), now.Format(sigv4TimeFormat))}
	}
	if t.After(now.Add(sigv4MaxSkew)) {
		return scope, &authError{authBadSignature, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)",
			amzDate, now.Add(sigv4MaxSkew).Format(sigv4TimeFormat), now.Format(sigv4TimeFormat))}
	}

	cred := s.lookupCredential(a.keyID)
	if cred == nil || r.Header.Get("X-Amz-Security-Token") != cred.sessionToken {
		return scope, &authError{authUnknownKey, "The security token included in the request is invalid."}
	}
	if !cred.expires.IsZero() && !now.Before(cred.expires) {
		return scope, &authError{authExpired, "The security token included in the request is expired"}
	}

	want := sigv4Signature(cred.secret, a, amzDate, canonicalRequest(r, body, a.signedHeaders))
	got, err := hex.DecodeString(a.signature)
	if err != nil || !hmac.Equal(got, want) {
		return scope, &authError{authBadSignature, badSignatureText}
	}
	scope.cred = cred
	return scope, nil
}

// canonicalRequest builds the SigV4 canonical request (non-S3 rules: the
// path is URI-encoded once more, the payload hash is computed from the body
// actually received).
func canonicalRequest(r *http.Request, body []byte, signedHeaders []string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.URL))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery))
	b.WriteByte('\n')
	for _, h := range signedHeaders {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')
	sum := sha256.Sum256(body)
	b.WriteString(hex.EncodeToString(sum[:]))
	return b.String()
}

func canonicalURI(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		segs[i] = uriEncode(seg)
	}
	return strings.Join(segs, "/")
}

func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type kv struct{ k, v string }
	var pairs []kv
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			dk, dv = k, v
		}
		pairs = append(pairs, kv{uriEncode(dk), uriEncode(dv)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.k + "=" + p.v
	}
	return strings.Join(out, "&")
}

func canonicalHeaderValue(r *http.Request, name string) string {
	switch name {
	case "host":
		return r.Host
	case "content-length":
		if v := r.Header.Get("Content-Length"); v != "" {
			return v
		}
		if r.ContentLength >= 0 {
			return strconv.FormatInt(r.ContentLength, 10)
		}
	}
	vals := r.Header.Values(name)
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

// uriEncode percent-encodes everything except RFC 3986 unreserved characters.
func uriEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func sigv4Signature(secret string, a *parsedAuth, amzDate, canonical string) []byte {
	sum := sha256.Sum256([]byte(canonical))
	stringToSign := strings.Join([]string{
		sigv4Algorithm, amzDate,
		strings.Join([]string{a.date, a.region, a.service, "aws4_request"}, "/"),
		hex.EncodeToString(sum[:]),
	}, "\n")
	k := hmacSHA256([]byte("AWS4"+secret), a.date)
	k = hmacSHA256(k, a.region)
	k = hmacSHA256(k, a.service)
	k = hmacSHA256(k, "aws4_request")
	return hmacSHA256(k, stringToSign)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
