package inputs

import (
	"errors"
	"regexp"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/ecr-credentials/ecr-credentials/internal/problem"
	"github.com/ecr-credentials/ecr-credentials/internal/registry"
)

// ParseRoleARN parses an IAM role ARN.
func ParseRoleARN(v string) (RoleARN, error) {
	const fix = "Use the full role ARN, e.g. arn:aws:iam::123456789012:role/my-role (copy it from the IAM console)."
	a, err := arn.Parse(v)
	if err != nil {
		return RoleARN{}, bad(fix, "%q is not an ARN", v)
	}
	if a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") || len(a.Resource) <= len("role/") {
		return RoleARN{}, bad(fix, "%q is not an IAM role ARN", v)
	}
	if !registry.IsAccountID(a.AccountID) {
		return RoleARN{}, bad(fix, "%q has no 12-digit account ID", v)
	}
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return RoleARN{}, bad(fix, "%q contains white space or control characters, which no role name has", v)
	}
	return RoleARN{ARN: v, Partition: a.Partition, AccountID: a.AccountID, Name: a.Resource[strings.LastIndexByte(a.Resource, '/')+1:]}, nil
}

// parseIdentity reads what follows `=` in a registries entry: a role ARN
// or profile:<name>.
func parseIdentity(v string) (Identity, error) {
	if name, ok := strings.CutPrefix(v, "profile:"); ok {
		if len(name) > maxProfileName || !profileRe.MatchString(name) {
			return Identity{}, bad("Write profile:<name> with the name of a profile in the AWS config file, e.g. profile:dev.", "%q is not an AWS profile name", shorten(name))
		}
		return Identity{Profile: name}, nil
	}
	if v == "" {
		return Identity{}, bad("After = give a role ARN (arn:aws:iam::222222222222:role/pull) or profile:<name>, or drop the =.", "nothing follows =")
	}
	a, err := ParseRoleARN(v)
	if err != nil {
		var inv *invalid
		if errors.As(err, &inv) {
			return Identity{}, bad("After = give a role ARN (arn:aws:iam::222222222222:role/pull) or profile:<name>.", "%s", inv.what)
		}
		return Identity{}, err
	}
	return Identity{Role: a}, nil
}

// ParseBool accepts the YAML 1.2 booleans GitHub uses (true, True, TRUE,
// false, ...) and the common yes/no, on/off, 1/0.
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, bad("Use true or false.", "%q is not a boolean", v)
}

var (
	envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// profileRe: at most maxProfileName long (checked apart: a counted
	// repetition compiles to one instruction per count: half a millisecond at
	// every start).
	profileRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@+-]*$`)
	dnsLabel  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
	// bambooNamespace: Bamboo variable names, dot-separated.
	bambooNamespace = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)
)

// maxProfileName is the longest AWS profile name accepted.
const maxProfileName = 128

// shorten keeps error messages short when a value is long (it may be a
// secret pasted into the wrong setting).
func shorten(s string) string { return problem.Shorten(s, 40) }

func validSourceIdentity(s string) bool {
	return validSessionName(s) && !strings.HasPrefix(strings.ToLower(s), "aws:")
}

func validSessionName(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !sessionNameChar(r) {
			return false
		}
	}
	return true
}

func sessionNameChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+=,.@-_", r)
}

// SanitizeSessionName turns any string into a valid role session name.
func SanitizeSessionName(s string) string {
	out := make([]byte, 0, 64)
	for _, r := range s {
		if sessionNameChar(r) {
			out = append(out, byte(r))
		} else {
			out = append(out, '-')
		}
		if len(out) == 64 {
			break
		}
	}
	for len(out) < 2 {
		out = append(out, '-')
	}
	return string(out)
}

func validEnvPrefix(s string) bool {
	if s == "" || strings.HasPrefix(s, "GITHUB_") || strings.HasPrefix(s, "RUNNER_") {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'A' && r <= 'Z', r == '_':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
