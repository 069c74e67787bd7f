package awsfake

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// IMDS protocol constants, as EC2 and the SDKs spell them.
const (
	imdsTokenHeader = "X-Aws-Ec2-Metadata-Token"
	imdsTTLHeader   = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
	imdsMaxTokenTTL = 21600 // seconds (6 hours)

	// roleCredentialLifetime is how long instance-profile and container
	// credentials are valid; a new set is handed out once less than
	// roleCredentialRefresh is left (EC2 makes new ones available well
	// before the old ones expire, and old ones stay valid until then).
	roleCredentialLifetime = 6 * time.Hour
	roleCredentialRefresh  = time.Hour

	// exampleAccount is the account of an instance without an instance
	// profile (the example account of the AWS documentation).
	exampleAccount = "111122223333"
)

// instance is the EC2 instance IMDS describes.
type instance struct {
	roleARN, roleName, account, region string
	id, imageID, privateIP, profileID  string
	launched                           time.Time
	creds                              roleCredentials
}

// roleCredentials are the rotating credentials of an instance profile or a
// container.
type roleCredentials struct {
	cred   *credential
	issued time.Time // emulator clock
}

// SetInstanceRole makes the instance metadata service (IMDS, on
// [Server.MetadataURL]) answer as an EC2 instance in region whose instance
// profile holds roleARN. The role must have been defined with AddRole: its
// ECR and ECRPublic flags are what the instance credentials may do, and STS
// GetCallerIdentity names them
// arn:aws:sts::<account>:assumed-role/<role>/<instance id>. roleARN "" is an
// instance without an instance profile (no credentials; its identity
// document names account 111122223333). Until the first call IMDS answers
// 404 to everything. It may be called before or after Start; a new role
// takes effect at the next credential request.
func (s *Server) SetInstanceRole(roleARN, region string) error {
	if !regionPattern.MatchString(region) {
		return fmt.Errorf("awsfake: instance region %q is not a region name like us-east-1", region)
	}
	account, name := exampleAccount, ""
	if roleARN != "" {
		m := roleARNPattern.FindStringSubmatch(roleARN)
		if m == nil {
			return fmt.Errorf("awsfake: instance role ARN %q is not of the form arn:aws:iam::123456789012:role/NAME", roleARN)
		}
		if _, ok := s.lookupRole(roleARN); !ok {
			return fmt.Errorf("awsfake: instance role %s is not defined; call AddRole first", roleARN)
		}
		account, name = m[2], m[3]
	}
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	in := s.instance
	if in == nil {
		in = &instance{
			id:        "i-" + randomHex(17),
			imageID:   "ami-" + randomHex(17),
			privateIP: fmt.Sprintf("172.31.%d.%d", randomBytes(1)[0]%64, randomBytes(1)[0]%250+2),
			launched:  s.now().UTC().Truncate(time.Second),
		}
		s.instance = in
	}
	if in.roleARN != roleARN {
		in.creds = roleCredentials{}
		in.profileID = "AIPA" + randomKeySuffix() + "X"
	}
	in.roleARN, in.roleName, in.account, in.region = roleARN, name, account, region
	return nil
}

// SetIMDSv1 allows (true) or forbids (false, the default, like an instance
// with HttpTokens=required) metadata requests without an IMDSv2 session
// token. A request with an invalid token is refused either way.
func (s *Server) SetIMDSv1(enabled bool) {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	s.imdsV1 = enabled
}

// IMDSEndpoint is the value for AWS_EC2_METADATA_SERVICE_ENDPOINT (or
// --ec2-metadata-service-endpoint), the same as MetadataURL: plain HTTP on
// loopback, with the trailing slash the AWS CLI needs to join paths.
func (s *Server) IMDSEndpoint() string { return s.metaURL }

// IMDSEnv returns what a client process needs, on top of Env, to take its
// credentials and region from the emulated instance:
// AWS_EC2_METADATA_SERVICE_ENDPOINT and AWS_EC2_METADATA_DISABLED=false
// (overriding Env's true). It returns nil until SetInstanceRole and Start.
func (s *Server) IMDSEnv() map[string]string {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	if s.instance == nil || s.metaURL == "" {
		return nil
	}
	return map[string]string{
		"AWS_EC2_METADATA_SERVICE_ENDPOINT": s.metaURL,
		"AWS_EC2_METADATA_DISABLED":         "false",
	}
}

// routeMetadata names the service and operation of a request to the
// metadata listener.
func routeMetadata(r *http.Request) (service, op string) {
	p := r.URL.Path
	if p == containerCredentialsPath {
		return "ecs-credentials", "GetCredentials"
	}
	if p != "/latest" && !strings.HasPrefix(p, "/latest/") {
		return "unknown", ""
	}
	// IMDS serves leaves with and without a trailing slash (the AWS CLI
	// asks for placement/availability-zone/).
	p = strings.TrimRight(p, "/")
	switch p {
	case "/latest/api/token":
		return "imds", "GetToken"
	case "/latest/meta-data/iam/security-credentials":
		return "imds", "GetRoleName"
	case "/latest/meta-data/iam/info":
		return "imds", "GetIAMInfo"
	case "/latest/meta-data/placement/region":
		return "imds", "GetRegion"
	case "/latest/meta-data/placement/availability-zone":
		return "imds", "GetAvailabilityZone"
	case "/latest/meta-data/instance-id":
		return "imds", "GetInstanceID"
	case "/latest/dynamic/instance-identity/document":
		return "imds", "GetInstanceIdentityDocument"
	}
	if name, ok := strings.CutPrefix(p, "/latest/meta-data/iam/security-credentials/"); ok && !strings.Contains(name, "/") {
		return "imds", "GetCredentials"
	}
	return "imds", "GetMetadata"
}

// serveIMDS answers like IMDS with HttpTokens=required (or optional after
// SetIMDSv1(true)): text/plain bodies, 401 without a valid session token.
func (s *Server) serveIMDS(ex *exchange) {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	in := s.instance
	if in == nil {
		writeText(ex, http.StatusNotFound, "NotFound", "404 - Not Found (awsfake: no instance; call SetInstanceRole)\n")
		return
	}
	now := s.now()
	if ex.call.Operation == "GetToken" {
		s.imdsPutToken(ex, now)
		return
	}
	if ex.r.Method != http.MethodGet && ex.r.Method != http.MethodHead {
		ex.w.Header().Set("Allow", "GET, HEAD")
		writeText(ex, http.StatusMethodNotAllowed, "MethodNotAllowed", "405 - Method Not Allowed\n")
		return
	}
	if tok := ex.r.Header.Get(imdsTokenHeader); tok != "" {
		exp, ok := s.lookupIMDSToken(tok)
		if !ok || !now.Before(exp) {
			writeText(ex, http.StatusUnauthorized, "Unauthorized", "401 - Unauthorized\n")
			return
		}
		ex.w.Header().Set(imdsTTLHeader, strconv.Itoa(int(exp.Sub(now)/time.Second)))
	} else if !s.imdsV1 {
		writeText(ex, http.StatusUnauthorized, "Unauthorized", "401 - Unauthorized\n")
		return
	}

	notFound := func() { writeText(ex, http.StatusNotFound, "NotFound", "404 - Not Found\n") }
	switch ex.call.Operation {
	case "GetRoleName":
		if in.roleARN == "" {
			notFound()
			return
		}
		writeText(ex, http.StatusOK, "", in.roleName)
	case "GetCredentials":
		name := strings.TrimRight(ex.r.URL.Path, "/")
		name = name[strings.LastIndex(name, "/")+1:]
		if in.roleARN == "" || name != in.roleName {
			notFound()
			return
		}
		c, err := s.currentCredentials(&in.creds, in.roleARN, in.id)
		if err != nil {
			writeText(ex, http.StatusInternalServerError, "InternalError", err.Error()+"\n")
			return
		}
		ex.call.AccessKeyID = c.id
		writeTextJSON(ex, struct {
			Code            string
			LastUpdated     string
			Type            string
			AccessKeyID     string `json:"AccessKeyId"`
			SecretAccessKey string
			Token           string
			Expiration      string
		}{"Success", imdsTime(in.creds.issued), "AWS-HMAC", c.id, c.secret, c.sessionToken, imdsTime(c.expires)})
	case "GetIAMInfo":
		if in.roleARN == "" {
			notFound()
			return
		}
		partition := roleARNPattern.FindStringSubmatch(in.roleARN)[1]
		writeTextJSON(ex, struct {
			Code               string
			LastUpdated        string
			InstanceProfileArn string
			InstanceProfileID  string `json:"InstanceProfileId"`
		}{"Success", imdsTime(now), fmt.Sprintf("arn:%s:iam::%s:instance-profile/%s", partition, in.account, in.roleName), in.profileID})
	case "GetRegion":
		writeText(ex, http.StatusOK, "", in.region)
	case "GetAvailabilityZone":
		writeText(ex, http.StatusOK, "", in.region+"a")
	case "GetInstanceID":
		writeText(ex, http.StatusOK, "", in.id)
	case "GetInstanceIdentityDocument":
		writeTextJSON(ex, map[string]any{
			"accountId":               in.account,
			"architecture":            "x86_64",
			"availabilityZone":        in.region + "a",
			"billingProducts":         nil,
			"devpayProductCodes":      nil,
			"marketplaceProductCodes": nil,
			"imageId":                 in.imageID,
			"instanceId":              in.id,
			"instanceType":            "t3.micro",
			"kernelId":                nil,
			"pendingTime":             imdsTime(in.launched),
			"privateIp":               in.privateIP,
			"ramdiskId":               nil,
			"region":                  in.region,
			"version":                 "2017-09-30",
		})
	default:
		notFound()
	}
}

// imdsPutToken answers PUT /latest/api/token. Called with metaMu held.
func (s *Server) imdsPutToken(ex *exchange, now time.Time) {
	if ex.r.Method != http.MethodPut {
		ex.w.Header().Set("Allow", "PUT")
		writeText(ex, http.StatusMethodNotAllowed, "MethodNotAllowed", "405 - Method Not Allowed\n")
		return
	}
	// IMDS refuses token requests that went through a proxy.
	if ex.r.Header.Get("X-Forwarded-For") != "" {
		writeText(ex, http.StatusForbidden, "Forbidden", "403 - Forbidden\n")
		return
	}
	ttl, err := strconv.Atoi(ex.r.Header.Get(imdsTTLHeader))
	if err != nil || ttl < 1 || ttl > imdsMaxTokenTTL {
		writeText(ex, http.StatusBadRequest, "BadRequest", "400 - Bad Request\n")
		return
	}
	for t, exp := range s.imdsTokens {
		if !now.Before(exp) {
			delete(s.imdsTokens, t)
		}
	}
	tok := "AQAE" + base64.StdEncoding.EncodeToString(randomBytes(39))
	s.imdsTokens[tok] = now.Add(time.Duration(ttl) * time.Second)
	s.addIssued(tok)
	ex.w.Header().Set(imdsTTLHeader, strconv.Itoa(ttl))
	writeText(ex, http.StatusOK, "", tok)
}

// lookupIMDSToken finds a session token in constant time per candidate.
// Called with metaMu held.
func (s *Server) lookupIMDSToken(tok string) (time.Time, bool) {
	var exp time.Time
	found := false
	for t, e := range s.imdsTokens {
		if subtle.ConstantTimeCompare([]byte(t), []byte(tok)) == 1 {
			exp, found = e, true
		}
	}
	return exp, found
}

// currentCredentials returns the credentials to hand out for roleARN,
// issuing new ones (valid roleCredentialLifetime) when there are none yet
// or less than roleCredentialRefresh is left. Called with metaMu held.
func (s *Server) currentCredentials(rc *roleCredentials, roleARN, sessionName string) (*credential, error) {
	now := s.now()
	if rc.cred != nil && rc.cred.expires.Sub(now) > roleCredentialRefresh {
		return rc.cred, nil
	}
	role, ok := s.lookupRole(roleARN)
	if !ok {
		return nil, fmt.Errorf("awsfake: role %s is not defined", roleARN)
	}
	rc.cred = s.issueSession(role, sessionName, now.Add(roleCredentialLifetime), false)
	rc.issued = now
	return rc.cred, nil
}

// imdsTime formats a time as IMDS does: RFC 3339 in UTC, whole seconds.
func imdsTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// writeText sends a plain-text body; code, if set, goes to the call log as
// the error.
func writeText(ex *exchange, status int, code, body string) {
	ex.call.Status, ex.call.ErrorCode = status, code
	ex.w.Header().Set("Content-Type", "text/plain")
	ex.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	ex.w.WriteHeader(status)
	if ex.r.Method != http.MethodHead {
		ex.w.Write([]byte(body)) //nolint:errcheck // client gone
	}
}

// writeTextJSON sends a JSON document with IMDS's text/plain content type.
func writeTextJSON(ex *exchange, v any) {
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("awsfake: marshal IMDS JSON: %v", err))
	}
	writeText(ex, http.StatusOK, "", string(out))
}
