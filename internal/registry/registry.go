// Package registry turns the user's "registries" setting into precise Amazon
// ECR registry references.
//
// A reference is an AWS account ID (123456789012, which takes the default
// region), a private registry host in any AWS partition
// (123456789012.dkr.ecr.eu-west-1.amazonaws.com, with its FIPS and
// dual-stack variants), or ECR Public (public.ecr.aws, or its dual-stack
// host ecr-public.aws.com). Hosts may carry an https:// scheme and a
// repository path, which are dropped, and are normalised to lower case.
// Anything else is rejected with an *Error that names the item and the form
// expected. The parser only reads strings: it never resolves or contacts a
// host.
package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// Public registry hosts. public.ecr.aws is the ECR Public registry;
// ecr-public.aws.com is its dual-stack (IPv4 and IPv6) host, documented in
// "Making requests to Amazon ECR Public registries". The ECR Public API
// lives only in us-east-1.
const (
	PublicHost          = "public.ecr.aws"
	PublicDualStackHost = "ecr-public.aws.com"
	PublicRegion        = "us-east-1"
)

// Error reasons that recur.
const (
	expectedRefs = "use an account ID (123456789012), " +
		"a host like 123456789012.dkr.ecr.eu-west-1.amazonaws.com, or public.ecr.aws"
	notECR = "is not an Amazon ECR registry; " + expectedRefs
)

// Registry is one Amazon ECR registry. The zero value is not a registry;
// obtain one from Parse, ParseHost, ParseList or ForAccount.
type Registry struct {
	// Host is the canonical lower-case host name, the key of the registry's
	// entry in a docker config.json "auths" map, for example
	// "123456789012.dkr.ecr.eu-west-1.amazonaws.com" or "public.ecr.aws".
	Host string
	// AccountID is the 12-digit AWS account that owns a private registry;
	// it is empty for ECR Public.
	AccountID string
	// Region is the AWS Region whose ECR API issues the registry's
	// credentials; "us-east-1" for ECR Public.
	Region string
	// Partition is the AWS partition of Region: aws, aws-cn, aws-us-gov,
	// aws-iso, aws-iso-b, aws-iso-e, aws-iso-f or aws-eusc.
	Partition string
	// FIPS is true for a FIPS endpoint host (dkr.ecr-fips, dkr-ecr-fips).
	FIPS bool
	// DualStack is true for a host that serves IPv4 and IPv6
	// (dkr-ecr.<region>.on.aws, ecr-public.aws.com).
	DualStack bool
	// Public is true for ECR Public.
	Public bool
}

// String returns the registry's host.
func (r Registry) String() string { return r.Host }

// A Registry is made by its constructors (Parse, ParseHost, ForAccount,
// ForAccountDualStack, DualStackOf, Own) and changed by the With methods;
// no code outside this package writes one field by field (a test checks).

// Own is the registry of the credentials' own account in region, before
// ECR names its host (its proxyEndpoint): WithHost gives it that.
func Own(region string, dualStack bool) Registry {
	return Registry{Region: region, DualStack: dualStack}
}

// WithHost is r under another host name: an alias that stands for it, or
// the host ECR names for Own's registry.
func (r Registry) WithHost(host string) Registry {
	r.Host = host
	return r
}

// WithRegion is r with its credentials issued in region (for Own's
// registry when no region was known before the call).
func (r Registry) WithRegion(region string) Registry {
	r.Region = region
	return r
}

// URL returns the registry's base URL, "https://" followed by the host.
func (r Registry) URL() string { return "https://" + r.Host }

// IsAccountID reports whether s is exactly twelve ASCII digits, the form of
// an AWS account ID.
func IsAccountID(s string) bool {
	return len(s) == 12 && allDigits(s)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func accountDigitsReason(s string) string {
	return fmt.Sprintf("has %d digits, but AWS account IDs have exactly 12 "+
		"(in YAML, quote account IDs so that leading zeros are kept)", len(s))
}

// ForAccount returns the standard (IPv4, non-FIPS) private registry of an
// account in a region: <accountID>.dkr.ecr.<region>.<partition suffix>, for
// example 123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn.
func ForAccount(accountID, region string) (Registry, error) {
	if !IsAccountID(accountID) {
		if allDigits(accountID) {
			return Registry{}, &Error{Item: accountID, Reason: accountDigitsReason(accountID)}
		}
		return Registry{}, &Error{Item: accountID, Reason: "is not an AWS account ID; account IDs are 12 digits, like 123456789012"}
	}
	p, err := lookupRegion(region)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Item == "" {
			return Registry{}, &Error{Item: accountID, Reason: "is an account ID, which needs a region: " +
				"set the region, or give the full host such as " + accountID + ".dkr.ecr.eu-west-1.amazonaws.com"}
		}
		return Registry{}, &Error{Item: accountID, Reason: "cannot be used with the region: " + err.Error()}
	}
	return Registry{
		Host:      accountID + ".dkr.ecr." + region + "." + p.suffix,
		AccountID: accountID,
		Region:    region,
		Partition: p.id,
	}, nil
}

// ForAccountDualStack returns the dual-stack (IPv4 and IPv6) private
// registry of an account in a region: <accountID>.dkr-ecr.<region>.<dual-stack
// suffix>, for example 123456789012.dkr-ecr.eu-west-1.on.aws. A partition
// without a known dual-stack registry host is an error.
func ForAccountDualStack(accountID, region string) (Registry, error) {
	std, err := ForAccount(accountID, region)
	if err != nil {
		return Registry{}, err
	}
	p, _ := lookupRegion(region)
	if p.dualSuffix == "" {
		return Registry{}, &Error{Item: accountID, Reason: "has no known dual-stack registry host in " + region + " (partition " + p.id + "); turn dual-stack off or give the host"}
	}
	std.Host = accountID + ".dkr-ecr." + region + "." + p.dualSuffix
	std.DualStack = true
	return std, nil
}

// DualStackOf returns the dual-stack registry of a standard private
// registry (the same one reached over IPv4 and IPv6); other registries are
// returned as they are.
func DualStackOf(r Registry) Registry {
	if r.Public || r.DualStack || r.FIPS {
		return r
	}
	if std, err := ForAccount(r.AccountID, r.Region); err != nil || std.Host != r.Host {
		return r // an alias or another spelling: the user's host stays
	}
	if d, err := ForAccountDualStack(r.AccountID, r.Region); err == nil {
		return d
	}
	return r
}

// Parse reads one registry reference: a 12-digit account ID, which gets
// defaultRegion, or anything ParseHost accepts, whose own region wins.
// defaultRegion is only consulted for account IDs.
func Parse(ref, defaultRegion string) (Registry, error) {
	item := strings.TrimSpace(ref)
	if item == "" {
		return Registry{}, &Error{Reason: "an empty registry was given; " + expectedRefs}
	}
	if allDigits(item) {
		return ForAccount(item, defaultRegion)
	}
	return ParseHost(item)
}

// ParseHost reads a registry host, optionally written as an https:// URL
// and followed by a repository path or image reference, which are dropped:
//
//	123456789012.dkr.ecr.eu-west-1.amazonaws.com
//	https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:1.2
//	123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com
//	123456789012.dkr-ecr.eu-west-1.on.aws
//	123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn
//	public.ecr.aws
//
// Letter case is normalised. A port, a user name or password, an unknown
// scheme, or a region that does not belong to the host's partition is an
// error.
func ParseHost(s string) (Registry, error) {
	item := strings.TrimSpace(s)
	host, err := hostOf(item)
	if err != nil {
		return Registry{}, err
	}
	return parseCanonicalHost(item, host)
}

// NormalizeHost is the host a registry reference names, the one way every
// part of the program reads one (a registries entry, a registry-aliases
// name, a server URL docker hands the credential helper): white space
// around it, an http:// or https:// scheme (any letter case), a path,
// query or fragment, and a trailing dot are dropped, and letters
// lower-cased; a port, a user name and another scheme stay, for the
// caller to accept or refuse. "" when no host is left.
//
//	HTTPS://Proxy.Internal:5443/v2/team/app:1.2 -> proxy.internal:5443
func NormalizeHost(ref string) string {
	s := strings.ToLower(strings.TrimSpace(ref))
	scheme := ""
	if i := schemeEnd(s); i >= 0 {
		if s[:i] != "https" && s[:i] != "http" {
			scheme = s[:i+3] // kept, for the caller to refuse
		}
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if s = strings.TrimSuffix(s, "."); s == "" {
		return ""
	}
	return scheme + s
}

// hostOf extracts the lower-case host from item (NormalizeHost), rejecting
// a scheme other than https and what a registry host cannot carry.
func hostOf(item string) (string, error) {
	if item == "" {
		return "", &Error{Reason: "an empty registry host was given; " + expectedRefs}
	}
	rest := item
	if i := schemeEnd(rest); i >= 0 {
		scheme := strings.ToLower(rest[:i])
		if scheme != "https" {
			return "", &Error{Item: redactUserinfo(item), Reason: fmt.Sprintf(
				"starts with %q, but Amazon ECR registries are served over HTTPS only; write the host alone or with https://",
				problem.Shorten(rest[:i+3], maxShownItem))}
		}
	}
	host := NormalizeHost(item)
	if strings.Contains(host, "@") {
		return "", &Error{Item: redactUserinfo(item), Reason: "contains a user name or password; give only the registry host"}
	}
	port := ""
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host, "]") {
		host, port = host[:i], host[i:]
	}
	host = strings.TrimSuffix(host, ".")
	if port != "" {
		if _, perr := parseCanonicalHost(item, host); perr == nil {
			return "", &Error{Item: item, Reason: fmt.Sprintf(
				"has a port (%s), but Amazon ECR registries use the standard HTTPS port only; remove %q",
				problem.Shorten(port, maxShownItem), problem.Shorten(port, maxShownItem))}
		}
		return "", &Error{Item: item, Reason: notECR}
	}
	if host == "" {
		return "", &Error{Item: item, Reason: "has no host name; " + expectedRefs}
	}
	return host, nil
}

// schemeEnd returns the index of "://" when s starts with a URL scheme
// (before any "/"), or -1.
func schemeEnd(s string) int {
	i := strings.Index(s, "://")
	if i < 0 || strings.Contains(s[:i], "/") {
		return -1
	}
	return i
}

// parseCanonicalHost parses a lower-case host without scheme, port or
// path. item is what the user wrote, for error messages.
func parseCanonicalHost(item, host string) (Registry, error) {
	for _, c := range []byte(host) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return Registry{}, &Error{Item: item, Reason: notECR}
		}
	}
	switch host {
	case PublicHost:
		return Registry{Host: host, Region: PublicRegion, Partition: PartitionAWS, Public: true}, nil
	case PublicDualStackHost:
		return Registry{Host: host, Region: PublicRegion, Partition: PartitionAWS, Public: true, DualStack: true}, nil
	case "gallery.ecr.aws":
		return Registry{}, &Error{Item: item, Reason: "is the ECR Public Gallery website; the ECR Public registry is public.ecr.aws"}
	}

	suffix, dual, ok := matchSuffix(host)
	if !ok {
		return Registry{}, &Error{Item: item, Reason: notECR}
	}
	labels := strings.Split(strings.TrimSuffix(host, "."+suffix), ".")
	form := expectedForm(suffix, dual)

	// IPv4 hosts: <id>.dkr.ecr[-fips].<region>.<suffix>
	// Dual-stack: <id>.dkr-ecr[-fips].<region>.<suffix>
	var account, service, region string
	switch {
	case !dual && len(labels) == 4 && labels[1] == "dkr":
		account, service, region = labels[0], "dkr."+labels[2], labels[3]
	case dual && len(labels) == 3:
		account, service, region = labels[0], labels[1], labels[2]
	default:
		return Registry{}, &Error{Item: item, Reason: "is not an Amazon ECR registry host; registry hosts look like " + form}
	}
	var fips bool
	switch service {
	case "dkr.ecr", "dkr-ecr":
	case "dkr.ecr-fips", "dkr-ecr-fips":
		fips = true
	default:
		return Registry{}, &Error{Item: item, Reason: "is not an Amazon ECR registry host; registry hosts look like " + form}
	}
	if !IsAccountID(account) {
		if allDigits(account) {
			return Registry{}, &Error{Item: item, Reason: "has an account ID that " + accountDigitsReason(account)}
		}
		return Registry{}, &Error{Item: item, Reason: "does not start with a 12-digit AWS account ID; registry hosts look like " + form}
	}
	p, err := lookupRegion(region)
	if err != nil {
		return Registry{}, &Error{Item: item, Reason: fmt.Sprintf("names %q, which is not an AWS Region; registry hosts look like %s", region, form)}
	}
	want := p.suffix
	if dual {
		want = p.dualSuffix
	}
	if want != suffix {
		if want == "" {
			return Registry{}, &Error{Item: item, Reason: fmt.Sprintf(
				"names region %s of partition %s, for which no dual-stack registry host is known; use %s.dkr.ecr.%s.%s",
				region, p.id, account, region, p.suffix)}
		}
		return Registry{}, &Error{Item: item, Reason: fmt.Sprintf(
			"names region %s of partition %s, whose registry hosts end in .%s, not .%s",
			region, p.id, want, suffix)}
	}
	return Registry{
		Host:      host,
		AccountID: account,
		Region:    region,
		Partition: p.id,
		FIPS:      fips,
		DualStack: dual,
	}, nil
}

// matchSuffix finds the longest known registry DNS suffix of host.
func matchSuffix(host string) (suffix string, dual, ok bool) {
	for _, p := range partitions {
		for _, c := range []struct {
			s    string
			dual bool
		}{{p.suffix, false}, {p.dualSuffix, true}} {
			if c.s == "" || len(c.s) <= len(suffix) {
				continue
			}
			if strings.HasSuffix(host, "."+c.s) {
				suffix, dual, ok = c.s, c.dual, true
			}
		}
	}
	return suffix, dual, ok
}

// expectedForm describes the registry host form that goes with a suffix.
func expectedForm(suffix string, dual bool) string {
	example := ""
	for _, p := range partitions {
		if p.suffix == suffix && !dual || p.dualSuffix == suffix && dual {
			example = p.example
			break
		}
	}
	if dual {
		return fmt.Sprintf("123456789012.dkr-ecr.%s.%s (dkr-ecr-fips for FIPS)", example, suffix)
	}
	return fmt.Sprintf("123456789012.dkr.ecr.%s.%s (dkr.ecr-fips for FIPS)", example, suffix)
}

// ParseList reads the registries setting: references separated by commas
// or newlines, or a JSON array of strings (Woodpecker passes list settings
// as JSON). Items are trimmed, empty items are dropped, and registries that
// repeat a Host are kept once, in first-seen order. Account IDs get
// defaultRegion. An empty setting yields an empty list. The error names the
// first bad item.
func ParseList(s, defaultRegion string) ([]Registry, error) {
	items, err := SplitList(s)
	if err != nil {
		return nil, err
	}
	out := make([]Registry, 0, len(items))
	seen := make(map[string]bool, len(items))
	for _, item := range items {
		r, err := Parse(item, defaultRegion)
		if err != nil {
			return nil, err
		}
		if seen[r.Host] {
			continue
		}
		seen[r.Host] = true
		out = append(out, r)
	}
	return out, nil
}

// SplitList returns the non-empty, trimmed items of a list setting: any list
// setting (registries, role-chain, formats, ...), so every list is written
// the same way: items separated by commas or new lines, or a JSON array of
// strings, as Woodpecker passes YAML lists. A value
// that starts with "[" must be a JSON array whose elements are strings or
// whole numbers (a YAML list of unquoted account IDs arrives as JSON
// numbers); a null element counts as an empty item.
func SplitList(s string) ([]string, error) {
	if trimmed := strings.TrimSpace(s); strings.HasPrefix(trimmed, "[") {
		return splitJSON(trimmed)
	}
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' })
	items := make([]string, 0, len(fields))
	for _, f := range fields {
		if f = strings.TrimSpace(f); f != "" {
			items = append(items, f)
		}
	}
	return items, nil
}

func splitJSON(s string) ([]string, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var raw []json.RawMessage
	err := dec.Decode(&raw)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("unexpected text after the closing ]")
		}
	}
	if err != nil {
		return nil, &Error{Reason: "the list starts with \"[\" but is not a JSON array of strings (" + jsonProblem(err) +
			"); write a JSON array such as [\"123456789012\", \"public.ecr.aws\"], or separate the items with commas or newlines"}
	}
	items := make([]string, 0, len(raw))
	for _, el := range raw {
		var str string
		if json.Unmarshal(el, &str) == nil {
			if str = strings.TrimSpace(str); str != "" {
				items = append(items, str)
			}
			continue
		}
		if num := string(bytes.TrimSpace(el)); num != "" && strings.Trim(num, "0123456789") == "" {
			items = append(items, num)
			continue
		}
		return nil, &Error{Item: string(el), Reason: "is not a string; write each item as a string, for example \"123456789012\""}
	}
	return items, nil
}

// jsonProblem describes a JSON decoding error without quoting the input.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return "it is not an array"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "it ends too early"
	default:
		return err.Error()
	}
}
