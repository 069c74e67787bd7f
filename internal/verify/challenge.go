package verify

import "strings"

// challenge is one authentication challenge from a WWW-Authenticate
// header (RFC 7235): a scheme (lower-cased) and its auth-params (names
// lower-cased).
type challenge struct {
	scheme string
	params map[string]string
}

// parseChallenges parses every challenge in the given WWW-Authenticate
// header values. One value may hold several comma-separated challenges,
// e.g. `Bearer realm="https://a/token",service="s", Basic realm="r"`.
// Malformed parts are skipped rather than failing the whole header.
func parseChallenges(values []string) []challenge {
	var out []challenge
	for _, v := range values {
		p := &headerParser{s: v}
		for {
			p.skip(" \t,")
			if p.done() {
				break
			}
			scheme := p.token()
			if scheme == "" {
				p.i++ // skip a stray byte
				continue
			}
			ch := challenge{scheme: strings.ToLower(scheme), params: map[string]string{}}
			p.skip(" \t")
			if !p.peekParamAhead() {
				// token68 credentials or nothing: not used by registries.
				for !p.done() && p.peek() != ',' {
					p.i++
				}
			}
			for p.peekParamAhead() {
				name := p.token()
				p.skip(" \t")
				p.consume('=')
				p.skip(" \t")
				var val string
				if p.peek() == '"' {
					val = p.quoted()
				} else {
					val = p.token()
				}
				ch.params[strings.ToLower(name)] = val
				p.skip(" \t")
				if !p.consume(',') {
					break
				}
				p.skip(" \t,")
			}
			out = append(out, ch)
		}
	}
	return out
}

// headerParser is a cursor over a header value.
type headerParser struct {
	s string
	i int
}

func (p *headerParser) done() bool { return p.i >= len(p.s) }

func (p *headerParser) peek() byte {
	if p.done() {
		return 0
	}
	return p.s[p.i]
}

func (p *headerParser) skip(set string) {
	for !p.done() && strings.IndexByte(set, p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *headerParser) consume(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

// isTokenChar reports whether c is an RFC 7230 tchar.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func (p *headerParser) token() string {
	start := p.i
	for !p.done() && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// quoted reads a quoted-string starting at '"', handling backslash escapes.
func (p *headerParser) quoted() string {
	p.i++ // opening quote
	var b strings.Builder
	for !p.done() {
		c := p.s[p.i]
		p.i++
		switch c {
		case '\\':
			if !p.done() {
				b.WriteByte(p.s[p.i])
				p.i++
			}
		case '"':
			return b.String()
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// peekParamAhead reports whether the cursor is at `name=value` (an
// auth-param) rather than at the scheme of the next challenge or at
// token68 credentials such as `abc123==`.
func (p *headerParser) peekParamAhead() bool {
	save := p.i
	defer func() { p.i = save }()
	if p.token() == "" {
		return false
	}
	p.skip(" \t")
	if !p.consume('=') {
		return false
	}
	p.skip(" \t")
	c := p.peek()
	return c == '"' || isTokenChar(c)
}
