package awsfake

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// stsError is an STS (awsQuery) error response.
type stsError struct {
	code, message string
	status        int
}

func (e *stsError) Error() string { return e.code + ": " + e.message }

// stsStatus is the HTTP status real STS uses per error code.
var stsStatus = map[string]int{
	"AccessDenied":               http.StatusForbidden,
	"IDPRejectedClaim":           http.StatusForbidden,
	"MissingAuthenticationToken": http.StatusForbidden,
	"SignatureDoesNotMatch":      http.StatusForbidden,
	"InvalidClientTokenId":       http.StatusForbidden,
	"ExpiredToken":               http.StatusForbidden,
	"IncompleteSignature":        http.StatusBadRequest,
	"InternalFailure":            http.StatusInternalServerError,
	"ServiceUnavailable":         http.StatusServiceUnavailable,
}

func newSTSError(code, msg string) *stsError {
	status, ok := stsStatus[code]
	if !ok {
		status = http.StatusBadRequest // ValidationError, InvalidIdentityToken, ExpiredTokenException, ...
	}
	return &stsError{code: code, message: msg, status: status}
}

// queryAction returns the awsQuery Action of a request (form body or URL).
func queryAction(r *http.Request, body []byte) string {
	if a := r.URL.Query().Get("Action"); a != "" {
		return a
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return ""
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return v.Get("Action")
}

func stsParams(ex *exchange) url.Values {
	v := ex.r.URL.Query()
	if strings.HasPrefix(ex.r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if form, err := url.ParseQuery(string(ex.body)); err == nil {
			for k, vals := range form {
				v[k] = append(v[k], vals...)
			}
		}
	}
	return v
}

func (s *Server) serveSTS(ex *exchange) {
	p := stsParams(ex)
	var (
		result any
		serr   *stsError
	)
	for i := 1; p.Has(fmt.Sprintf("Tags.member.%d.Key", i)); i++ {
		ex.call.Tags = append(ex.call.Tags, p.Get(fmt.Sprintf("Tags.member.%d.Key", i))+"="+p.Get(fmt.Sprintf("Tags.member.%d.Value", i)))
	}
	for i := 1; p.Has(fmt.Sprintf("PolicyArns.member.%d.arn", i)); i++ {
		ex.call.PolicyARNs = append(ex.call.PolicyARNs, p.Get(fmt.Sprintf("PolicyArns.member.%d.arn", i)))
	}
	ex.call.STSParams = map[string]string{}
	for k := range p {
		if k != "WebIdentityToken" {
			ex.call.STSParams[k] = strings.Join(p[k], "\x00")
		}
	}
	switch ex.call.Operation {
	case "AssumeRoleWithWebIdentity":
		result, serr = s.assumeRoleWithWebIdentity(p)
	case "AssumeRole", "GetCallerIdentity":
		scope, aerr := s.verifySigV4(ex.r, ex.body, "sts")
		if scope != nil {
			ex.call.Region, ex.call.AccessKeyID = scope.region, scope.keyID
		}
		if aerr != nil {
			serr = stsAuthError(aerr)
			break
		}
		if ex.call.Operation == "AssumeRole" {
			result, serr = s.assumeRole(p, scope.cred)
		} else {
			c := scope.cred
			result = &getCallerIdentityResult{Arn: c.arn, UserID: c.userID, Account: c.account}
		}
	default:
		serr = newSTSError("InvalidAction", fmt.Sprintf("Could not find operation %s for version 2011-06-15", ex.call.Operation))
	}
	if serr != nil {
		writeSTSError(ex, serr)
		return
	}
	writeSTSResult(ex, result)
}

func stsAuthError(a *authError) *stsError {
	code := map[authFailure]string{
		authMissing:      "MissingAuthenticationToken",
		authIncomplete:   "IncompleteSignature",
		authBadSignature: "SignatureDoesNotMatch",
		authUnknownKey:   "InvalidClientTokenId",
		authExpired:      "ExpiredToken",
	}[a.kind]
	msg := a.msg
	if a.kind == authMissing {
		msg = "Request is missing Authentication Token"
	}
	return newSTSError(code, msg)
}

// Response shapes (element names as real STS sends them).
type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type assumedRoleUser struct {
	Arn           string `xml:"Arn"`
	AssumedRoleID string `xml:"AssumedRoleId"`
}

type assumeRoleWithWebIdentityResult struct {
	XMLName                     xml.Name        `xml:"AssumeRoleWithWebIdentityResult"`
	SubjectFromWebIdentityToken string          `xml:"SubjectFromWebIdentityToken"`
	Audience                    string          `xml:"Audience"`
	AssumedRoleUser             assumedRoleUser `xml:"AssumedRoleUser"`
	Credentials                 stsCredentials  `xml:"Credentials"`
	PackedPolicySize            *int            `xml:"PackedPolicySize,omitempty"`
	Provider                    string          `xml:"Provider"`
}

type assumeRoleResult struct {
	XMLName          xml.Name        `xml:"AssumeRoleResult"`
	SourceIdentity   string          `xml:"SourceIdentity,omitempty"`
	AssumedRoleUser  assumedRoleUser `xml:"AssumedRoleUser"`
	Credentials      stsCredentials  `xml:"Credentials"`
	PackedPolicySize *int            `xml:"PackedPolicySize,omitempty"`
}

type getCallerIdentityResult struct {
	XMLName xml.Name `xml:"GetCallerIdentityResult"`
	Arn     string   `xml:"Arn"`
	UserID  string   `xml:"UserId"`
	Account string   `xml:"Account"`
}

func writeSTSResult(ex *exchange, result any) {
	name := ex.call.Operation
	reqID := ex.w.Header().Get("x-amzn-RequestId")
	type metadata struct {
		RequestID string `xml:"RequestId"`
	}
	resp := struct {
		XMLName  xml.Name
		Xmlns    string   `xml:"xmlns,attr"`
		Result   any      `xml:",any"`
		Metadata metadata `xml:"ResponseMetadata"`
	}{XMLName: xml.Name{Local: name + "Response"}, Xmlns: stsNamespace, Result: result, Metadata: metadata{reqID}}
	writeXML(ex, http.StatusOK, resp)
}

func writeSTSError(ex *exchange, e *stsError) {
	ex.call.ErrorCode = e.code
	typ := "Sender"
	if e.status >= 500 {
		typ = "Receiver"
	}
	type errBody struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	resp := struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		Error     errBody  `xml:"Error"`
		RequestID string   `xml:"RequestId"`
	}{Xmlns: stsNamespace, Error: errBody{typ, e.code, e.message}, RequestID: ex.w.Header().Get("x-amzn-RequestId")}
	writeXML(ex, e.status, resp)
}

func writeXML(ex *exchange, status int, v any) {
	out, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("awsfake: marshal XML: %v", err))
	}
	ex.call.Status = status
	ex.w.Header().Set("Content-Type", "text/xml")
	ex.w.Header().Set("Content-Length", strconv.Itoa(len(out)+1))
	ex.w.WriteHeader(status)
	ex.w.Write(append(out, '\n')) //nolint:errcheck // client gone
}

// sessionParams are the validated parameters shared by the AssumeRole calls.
type sessionParams struct {
	roleARN, sessionName string
	duration             time.Duration
	durationSet          bool
	policySize           *int
}

func validateSessionParams(p url.Values) (*sessionParams, *stsError) {
	sp := &sessionParams{roleARN: p.Get("RoleArn"), sessionName: p.Get("RoleSessionName"), duration: time.Hour}
	var problems []string
	if len(sp.roleARN) < 20 {
		problems = append(problems, fmt.Sprintf("Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20", sp.roleARN))
	}
	if !sessionNameRegexp.MatchString(sp.sessionName) {
		problems = append(problems, fmt.Sprintf("Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64", sp.sessionName))
	}
	if d := p.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must be an integer", d))
		case n < 900:
			problems = append(problems, fmt.Sprintf("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", n))
		case n > 43200:
			problems = append(problems, fmt.Sprintf("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200", n))
		default:
			sp.duration, sp.durationSet = time.Duration(n)*time.Second, true
		}
	}
	var policyARNs []string
	for i := 1; p.Has(fmt.Sprintf("PolicyArns.member.%d.arn", i)); i++ {
		a := p.Get(fmt.Sprintf("PolicyArns.member.%d.arn", i))
		policyARNs = append(policyARNs, a)
		if len(a) < 20 || len(a) > 2048 {
			problems = append(problems, fmt.Sprintf("Value '%s' at 'policyArns.%d.member.arn' failed to satisfy constraint: Member must have length greater than or equal to 20", a, i))
		}
	}
	if len(policyARNs) > 10 {
		problems = append(problems, "Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to 10")
	}
	if len(problems) > 0 {
		return nil, newSTSError("ValidationError", fmt.Sprintf("%d validation error%s detected: %s", len(problems), plural(len(problems)), strings.Join(problems, "; ")))
	}
	for _, a := range policyARNs {
		if !managedPolicyARN.MatchString(a) {
			return nil, newSTSError("InvalidParameterValue", fmt.Sprintf("The policy ARN %s is not a valid IAM managed policy ARN.", a))
		}
	}
	// The packed size: the inline policy, the managed policy ARNs and the
	// session tags share one compressed budget (modelled as 2048 bytes).
	packed := len(p.Get("Policy"))
	for _, a := range policyARNs {
		packed += len(a)
	}
	for i := 1; p.Has(fmt.Sprintf("Tags.member.%d.Key", i)); i++ {
		packed += len(p.Get(fmt.Sprintf("Tags.member.%d.Key", i))) + len(p.Get(fmt.Sprintf("Tags.member.%d.Value", i)))
	}
	if packed > 2048 {
		return nil, newSTSError("PackedPolicyTooLarge", fmt.Sprintf("Packed size of consumed session policies and session tags exceeds the limit: %d%% of the allowed size.", packed*100/2048))
	}
	if pol := p.Get("Policy"); pol != "" {
		if !json.Valid([]byte(pol)) {
			return nil, newSTSError("MalformedPolicyDocument", "The session policy is not valid JSON.")
		}
	}
	if packed > 0 {
		size := min(100, packed*100/2048+1)
		sp.policySize = &size
	}
	return sp, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (s *Server) assumeRoleWithWebIdentity(p url.Values) (any, *stsError) {
	sp, serr := validateSessionParams(p)
	if serr != nil {
		return nil, serr
	}
	token := p.Get("WebIdentityToken")
	if len(token) < 4 {
		return nil, newSTSError("ValidationError", "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4")
	}
	id, serr := s.verifyWebIdentity(token)
	if serr != nil {
		return nil, serr
	}
	role, ok := s.lookupRole(sp.roleARN)
	if !ok {
		return nil, newSTSError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
	}
	if !contains(id.audience, role.Audience) {
		return nil, newSTSError("InvalidIdentityToken", "Incorrect token audience")
	}
	if !role.matchesSubject(id.sub) {
		return nil, newSTSError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
	}
	if sp.duration > role.MaxSessionDuration {
		return nil, newSTSError("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	c := s.issueSession(role, sp.sessionName, s.now().Add(sp.duration), false)
	return &assumeRoleWithWebIdentityResult{
		SubjectFromWebIdentityToken: id.sub,
		Audience:                    role.Audience,
		AssumedRoleUser:             assumedRoleUser{Arn: c.arn, AssumedRoleID: c.userID},
		Credentials:                 credentialsXML(c),
		PackedPolicySize:            sp.policySize,
		Provider:                    strings.TrimPrefix(strings.TrimPrefix(id.issuer, "https://"), "http://"),
	}, nil
}

func (s *Server) assumeRole(p url.Values, caller *credential) (any, *stsError) {
	sp, serr := validateSessionParams(p)
	if serr != nil {
		return nil, serr
	}
	src := p.Get("SourceIdentity")
	if src != "" && !sessionNameRegexp.MatchString(src) {
		return nil, newSTSError("ValidationError", fmt.Sprintf("1 validation error detected: Value '%s' at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64", src))
	}
	ext := p.Get("ExternalId")
	if ext != "" && (len(ext) < 2 || len(ext) > 1224 || !externalIDRegexp.MatchString(ext)) {
		return nil, newSTSError("ValidationError", "1 validation error detected: Value at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]* and have length between 2 and 1224")
	}
	for i := 1; p.Has(fmt.Sprintf("Tags.member.%d.Key", i)); i++ {
		if i > 50 {
			return nil, newSTSError("ValidationError", "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
		}
		key, value := p.Get(fmt.Sprintf("Tags.member.%d.Key", i)), p.Get(fmt.Sprintf("Tags.member.%d.Value", i))
		if key == "" {
			return nil, newSTSError("ValidationError", fmt.Sprintf("1 validation error detected: Value at 'tags.%d.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1", i))
		}
		if !tagKeyRegexp.MatchString(key) || utf8.RuneCountInString(key) > 128 {
			return nil, newSTSError("ValidationError", fmt.Sprintf("1 validation error detected: Value '%s' at 'tags.%d.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+ and have length less than or equal to 128", key, i))
		}
		if !tagValueRegexp.MatchString(value) || utf8.RuneCountInString(value) > 256 {
			return nil, newSTSError("ValidationError", fmt.Sprintf("1 validation error detected: Value '%s' at 'tags.%d.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]* and have length less than or equal to 256", value, i))
		}
		for j := 1; j < i; j++ {
			if strings.EqualFold(p.Get(fmt.Sprintf("Tags.member.%d.Key", j)), key) {
				return nil, newSTSError("InvalidParameterValue", "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
			}
		}
	}
	denied := newSTSError("AccessDenied", fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.arn, sp.roleARN))
	role, ok := s.lookupRole(sp.roleARN)
	if !ok || !role.trusts(caller.principal) || (role.ExternalID != "" && role.ExternalID != ext) {
		return nil, denied
	}
	chained := !caller.expires.IsZero() && strings.Contains(caller.principal, ":role/")
	if chained && sp.durationSet && sp.duration > time.Hour {
		return nil, newSTSError("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if sp.duration > role.MaxSessionDuration {
		return nil, newSTSError("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	c := s.issueSession(role, sp.sessionName, s.now().Add(sp.duration), chained)
	return &assumeRoleResult{
		SourceIdentity:   src,
		AssumedRoleUser:  assumedRoleUser{Arn: c.arn, AssumedRoleID: c.userID},
		Credentials:      credentialsXML(c),
		PackedPolicySize: sp.policySize,
	}, nil
}

func credentialsXML(c *credential) stsCredentials {
	return stsCredentials{
		AccessKeyID: c.id, SecretAccessKey: c.secret, SessionToken: c.sessionToken,
		Expiration: c.expires.UTC().Format(time.RFC3339),
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
