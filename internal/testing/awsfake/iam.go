package awsfake

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Role is an IAM role that web identities and other principals may assume.
type Role struct {
	// ARN is arn:<partition>:iam::<account>:role/<name>; the account decides
	// which ECR registry the role's sessions get.
	ARN string
	// Subjects are patterns the web identity token's `sub` must match, like
	// a trust policy's StringLike condition on
	// token.actions.githubusercontent.com:sub: `*` matches any run of
	// characters (including ':' and '/'), `?` exactly one. Empty: no web
	// identity may assume the role.
	Subjects []string
	// Audience is the `aud` the token must carry; default "sts.amazonaws.com".
	Audience string
	// MaxSessionDuration caps DurationSeconds; default 1h, at most 12h.
	MaxSessionDuration time.Duration
	// TrustedPrincipals are ARNs of roles or users allowed to call
	// sts:AssumeRole on this role (role chaining). "arn:aws:iam::<acct>:root"
	// trusts every principal of that account.
	TrustedPrincipals []string
	// ExternalID, if set, must be presented by AssumeRole callers.
	ExternalID string
	// ECR allows ecr:GetAuthorizationToken; ECRPublic allows
	// ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken.
	ECR, ECRPublic bool
}

// AccessKey is a long-lived IAM user access key (AKIA...) for static-key
// tests.
type AccessKey struct {
	ID      string // AKIA...; generated when empty
	Secret  string // generated when empty
	UserARN string // arn:aws:iam::<account>:user/<name>
	// ECR and ECRPublic grant the same permissions as on Role.
	ECR, ECRPublic bool
}

// credential is an access key the emulator accepts in SigV4 signatures.
type credential struct {
	id, secret, sessionToken string
	expires                  time.Time // zero for long-lived keys
	// principal is the IAM entity (role or user ARN) used for trust checks;
	// arn is what GetCallerIdentity reports.
	principal, arn, userID, account, partition string
	chained                                    bool // obtained through AssumeRole from another session
	ecr, ecrPublic                             bool
}

var (
	roleARNPattern    = regexp.MustCompile(`^arn:(aws[a-z-]*):iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$`)
	userARNPattern    = regexp.MustCompile(`^arn:(aws[a-z-]*):iam::(\d{12}):user/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$`)
	sessionNameRegexp = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	externalIDRegexp  = regexp.MustCompile(`^[\w+=,.@:/-]+$`) // length 2..1224 checked apart
	// Session tags, as STS documents them (lengths checked apart).
	tagKeyRegexp   = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	tagValueRegexp = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	// managedPolicyARN: an IAM policy ARN, AWS managed or an account's own.
	managedPolicyARN  = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/[\w+=,.@/-]+$`)
	registryIDPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern     = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$`)
)

// AddRole defines (or replaces) a role. It reports a malformed ARN or a
// MaxSessionDuration outside IAM's 1h..12h range.
func (s *Server) AddRole(r Role) error {
	if !roleARNPattern.MatchString(r.ARN) {
		return fmt.Errorf("awsfake: role ARN %q is not of the form arn:aws:iam::123456789012:role/NAME", r.ARN)
	}
	if r.Audience == "" {
		r.Audience = "sts.amazonaws.com"
	}
	if r.MaxSessionDuration == 0 {
		r.MaxSessionDuration = time.Hour
	}
	if r.MaxSessionDuration < time.Hour || r.MaxSessionDuration > 12*time.Hour {
		return fmt.Errorf("awsfake: role %s: MaxSessionDuration %v is outside 1h..12h", r.ARN, r.MaxSessionDuration)
	}
	r.Subjects = append([]string(nil), r.Subjects...)
	r.TrustedPrincipals = append([]string(nil), r.TrustedPrincipals...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[r.ARN] = r
	return nil
}

// AddAccessKey registers a long-lived user access key and returns it with
// any generated ID and secret filled in. The secret counts as issued.
func (s *Server) AddAccessKey(k AccessKey) (AccessKey, error) {
	m := userARNPattern.FindStringSubmatch(k.UserARN)
	if m == nil {
		return k, fmt.Errorf("awsfake: user ARN %q is not of the form arn:aws:iam::123456789012:user/NAME", k.UserARN)
	}
	if k.ID == "" {
		k.ID = "AKIA" + randomKeySuffix()
	}
	if k.Secret == "" {
		k.Secret = randomSecretKey()
	}
	c := &credential{
		id: k.ID, secret: k.Secret,
		principal: k.UserARN, arn: k.UserARN, userID: "AIDA" + randomKeySuffix(),
		account: m[2], partition: m[1],
		ecr: k.ECR, ecrPublic: k.ECRPublic,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds[k.ID] = c
	s.issued = append(s.issued, k.Secret)
	return k, nil
}

// issueSession creates temporary credentials for a role session.
func (s *Server) issueSession(role Role, sessionName string, expires time.Time, chained bool) *credential {
	m := roleARNPattern.FindStringSubmatch(role.ARN)
	partition, account, name := m[1], m[2], m[3]
	roleID := "AROA" + base32.StdEncoding.EncodeToString(randomBytes(15))[:17]
	s.mu.Lock()
	if ttl := s.sessionTTL; ttl > 0 && expires.After(s.now().Add(ttl)) {
		expires = s.now().Add(ttl)
	}
	s.mu.Unlock()
	c := &credential{
		id:           "ASIA" + randomKeySuffix(),
		secret:       randomSecretKey(),
		sessionToken: randomSessionToken(),
		expires:      expires,
		principal:    role.ARN,
		arn:          fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", partition, account, name, sessionName),
		userID:       roleID + ":" + sessionName,
		account:      account,
		partition:    partition,
		chained:      chained,
		ecr:          role.ECR,
		ecrPublic:    role.ECRPublic,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds[c.id] = c
	s.issued = append(s.issued, c.secret, c.sessionToken)
	return c
}

func (s *Server) lookupCredential(id string) *credential {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creds[id]
}

func (s *Server) lookupRole(arn string) (Role, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.roles[arn]
	return r, ok
}

// trusts reports whether principal (a role or user ARN) may assume role.
func (r Role) trusts(principal string) bool {
	for _, p := range r.TrustedPrincipals {
		if p == principal || p == "*" {
			return true
		}
		if acct, ok := strings.CutSuffix(p, ":root"); ok && strings.HasPrefix(principal, acct+":") {
			return true
		}
	}
	return false
}

// matchesSubject reports whether sub matches one of the role's patterns.
func (r Role) matchesSubject(sub string) bool {
	for _, p := range r.Subjects {
		if globMatch(p, sub) {
			return true
		}
	}
	return false
}

// globMatch implements IAM StringLike matching: `*` any run, `?` one char.
func globMatch(pattern, s string) bool {
	p, str := []rune(pattern), []rune(s)
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(str) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == str[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// dnsSuffix is the partition's DNS suffix for a region.
func dnsSuffix(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "amazonaws.com.cn"
	case strings.HasPrefix(region, "us-isob-"):
		return "sc2s.sgov.gov"
	case strings.HasPrefix(region, "us-isof-"):
		return "csp.hci.ic.gov"
	case strings.HasPrefix(region, "us-iso-"):
		return "c2s.ic.gov"
	case strings.HasPrefix(region, "eu-isoe-"):
		return "cloud.adc-e.uk"
	case strings.HasPrefix(region, "eusc-"):
		return "amazonaws.eu"
	}
	return "amazonaws.com"
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("awsfake: crypto/rand: %v", err))
	}
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n))[:n] }

func randomUUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// randomKeySuffix is 16 characters of A-Z2-7, the shape of access key IDs.
func randomKeySuffix() string {
	return base32.StdEncoding.EncodeToString(randomBytes(10))
}

// randomSecretKey has the length and alphabet of a secret access key.
func randomSecretKey() string {
	return base64.StdEncoding.EncodeToString(randomBytes(30))[:40]
}

// randomSessionToken has the look and size of an STS session token.
func randomSessionToken() string {
	return "IQoJb3JpZ2luX2VjE" + base64.StdEncoding.EncodeToString(randomBytes(600))
}
