package registry

import (
	"fmt"
	"strings"

	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// maxShownItem bounds how much of a rejected item an error message repeats.
// A registry host is at most 253 characters; anything much longer is not a
// host at all (possibly a token pasted into the wrong setting), so only its
// start is shown.
const maxShownItem = 256

// Error reports a registry reference, region or list that cannot be used.
// Its message names the offending item and says which form is expected, and
// does not name the setting it came from, so callers can prefix that:
//
//	fmt.Errorf("registries: %w", err)
type Error struct {
	// Item is the rejected text as the user wrote it, with any user name
	// or password in a URL replaced by "REDACTED". It is empty when the
	// problem is not tied to one item (for example a malformed JSON list).
	Item string
	// Reason says what is wrong with Item and what to write instead.
	Reason string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Item == "" {
		return e.Reason
	}
	return fmt.Sprintf("%q %s", problem.Shorten(e.Item, maxShownItem), e.Reason)
}

// redactUserinfo replaces a "user:password@" part in front of a host with
// "REDACTED@" so that a credential pasted as part of a URL is never repeated
// in an error message.
func redactUserinfo(item string) string {
	rest := item
	prefix := ""
	if i := schemeEnd(rest); i >= 0 {
		prefix, rest = rest[:i+3], rest[i+3:]
	}
	authority := rest
	if i := strings.IndexByte(authority, '/'); i >= 0 {
		authority = authority[:i]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return item
	}
	return prefix + "REDACTED" + rest[at:]
}
