package awsfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

const (
	ecrTargetPrefix       = "AmazonEC2ContainerRegistry_V20150921"
	ecrPublicTargetPrefix = "SpencerFrontendService"
	ecrPublicRegion       = "us-east-1"
)

// MapRegistry sets the proxyEndpoint returned for account/region, e.g.
// "https://127.0.0.1:5443", so a local registry stands in for the ECR host.
// Unmapped registries get the real form
// https://<account>.dkr.ecr.<region>.<partition DNS suffix>.
func (s *Server) MapRegistry(account, region, proxyEndpoint string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.registries[account+"/"+region] = proxyEndpoint
}

// SetRegistryPassword fixes the password handed out for account/region (so
// a local htpasswd registry accepts it). Otherwise every call returns a
// fresh random password shaped like ECR's (a ~1.9 KB base64 blob).
func (s *Server) SetRegistryPassword(account, region, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.passwords[account+"/"+region] = password
}

// SetPublicRegistryPassword fixes the password ECR Public hands out.
func (s *Server) SetPublicRegistryPassword(password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.publicPW = password
}

// SetSessionTTL caps the lifetime of the role sessions STS issues (0, the
// default: as requested), so that tests can see credentials expire within
// a minute although STS takes DurationSeconds of at least 900.
func (s *Server) SetSessionTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessionTTL = d
}

// SetTokenTTL sets the lifetime of ECR authorization tokens (default 12h).
func (s *Server) SetTokenTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenTTL = d
}

// RegistryPasswordValid reports whether password is one the emulator
// issued for account/region (ECR Public: account "" and region us-east-1)
// that has not expired by the emulator's clock: what a registry standing in
// for ECR should accept (testenv.RegistryOptions.Accept).
func (s *Server) RegistryPasswordValid(account, region, password string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.validPW[account+"/"+region+"/"+password]
	return ok && s.now().Before(exp)
}

// notePassword records an issued password's expiry (s.mu held).
func (s *Server) notePassword(account, region, password string, expires time.Time) {
	key := account + "/" + region + "/" + password
	if exp, ok := s.validPW[key]; !ok || exp.Before(expires) {
		s.validPW[key] = expires
	}
}

// ecrError is an awsJson error response.
type ecrError struct {
	code, message string
	status        int
}

func newECRError(code, msg string) *ecrError {
	status := http.StatusBadRequest
	switch code {
	case "ServerException", "InternalFailure":
		status = http.StatusInternalServerError
	case "ServiceUnavailableException", "ServiceUnavailable":
		status = http.StatusServiceUnavailable
	}
	return &ecrError{code: code, message: msg, status: status}
}

func ecrAuthError(a *authError) *ecrError {
	code := map[authFailure]string{
		authMissing:      "MissingAuthenticationTokenException",
		authIncomplete:   "IncompleteSignatureException",
		authBadSignature: "InvalidSignatureException",
		authUnknownKey:   "UnrecognizedClientException",
		authExpired:      "ExpiredTokenException",
	}[a.kind]
	return newECRError(code, a.msg)
}

func writeECRError(ex *exchange, e *ecrError) {
	ex.call.ErrorCode = e.code
	ex.w.Header().Set("x-amzn-ErrorType", e.code)
	writeAWSJSON(ex, e.status, map[string]string{"__type": e.code, "message": e.message})
}

func writeAWSJSON(ex *exchange, status int, v any) {
	out, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("awsfake: marshal JSON: %v", err))
	}
	ex.call.Status = status
	ex.w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	ex.w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	ex.w.WriteHeader(status)
	ex.w.Write(out) //nolint:errcheck // client gone
}

// epochSeconds renders a time the way AWS JSON services do (seconds with a
// fractional part).
type epochSeconds time.Time

func (t epochSeconds) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)), nil
}

type ecrAuthData struct {
	AuthorizationToken string       `json:"authorizationToken"`
	ExpiresAt          epochSeconds `json:"expiresAt"`
	ProxyEndpoint      string       `json:"proxyEndpoint,omitempty"`
}

func (s *Server) serveECR(ex *exchange) {
	service := ex.call.Service
	scope, aerr := s.verifySigV4(ex.r, ex.body, service)
	if scope != nil {
		ex.call.Region, ex.call.AccessKeyID = scope.region, scope.keyID
	}
	if aerr != nil {
		writeECRError(ex, ecrAuthError(aerr))
		return
	}
	if ex.call.Operation != "GetAuthorizationToken" {
		writeECRError(ex, newECRError("UnknownOperationException", fmt.Sprintf("The emulator does not implement %s; only GetAuthorizationToken.", ex.call.Operation)))
		return
	}
	if s.throttleECR(ex, scope) {
		return
	}
	var in struct {
		RegistryIDs []string `json:"registryIds"`
	}
	if len(ex.body) > 0 {
		if err := json.Unmarshal(ex.body, &in); err != nil {
			writeECRError(ex, newECRError("SerializationException", "The request body is not valid JSON for GetAuthorizationToken."))
			return
		}
	}
	var (
		out  any
		eerr *ecrError
	)
	if service == "ecr-public" {
		out, eerr = s.ecrPublicToken(scope)
	} else {
		out, eerr = s.ecrToken(scope, in.RegistryIDs)
	}
	if eerr != nil {
		writeECRError(ex, eerr)
		return
	}
	writeAWSJSON(ex, http.StatusOK, out)
}

func (s *Server) ecrToken(scope *sigv4Scope, registryIDs []string) (any, *ecrError) {
	c := scope.cred
	if !c.ecr {
		return nil, newECRError("AccessDeniedException", fmt.Sprintf("User: %s is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action", c.arn))
	}
	for i, id := range registryIDs {
		if !registryIDPattern.MatchString(id) {
			return nil, newECRError("ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at 'registryIds.%d.member' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]{12}", id, i+1))
		}
	}
	if len(registryIDs) == 0 {
		registryIDs = []string{c.account}
	}
	s.mu.Lock()
	ttl := s.tokenTTL
	s.mu.Unlock()
	expires := s.now().Add(ttl)
	fresh := ""
	var data []ecrAuthData
	for _, acct := range registryIDs {
		key := acct + "/" + scope.region
		s.mu.Lock()
		pw, fixed := s.passwords[key]
		endpoint, mapped := s.registries[key]
		s.mu.Unlock()
		if !fixed {
			if fresh == "" {
				fresh = randomECRPassword(expires)
			}
			pw = fresh
		}
		if !mapped {
			endpoint = fmt.Sprintf("https://%s.dkr.ecr.%s.%s", acct, scope.region, dnsSuffix(scope.region))
		}
		token := base64.StdEncoding.EncodeToString([]byte("AWS:" + pw))
		s.addIssued(pw, token)
		s.mu.Lock()
		s.notePassword(acct, scope.region, pw, expires)
		s.mu.Unlock()
		data = append(data, ecrAuthData{AuthorizationToken: token, ExpiresAt: epochSeconds(expires), ProxyEndpoint: endpoint})
	}
	return map[string]any{"authorizationData": data}, nil
}

func (s *Server) ecrPublicToken(scope *sigv4Scope) (any, *ecrError) {
	c := scope.cred
	if scope.region != ecrPublicRegion {
		return nil, newECRError("UnsupportedCommandException", "GetAuthorizationToken command is only supported in us-east-1.")
	}
	if !c.ecrPublic {
		return nil, newECRError("AccessDeniedException", fmt.Sprintf("User: %s is not authorized to perform: ecr-public:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr-public:GetAuthorizationToken action", c.arn))
	}
	s.mu.Lock()
	ttl, pw := s.tokenTTL, s.publicPW
	s.mu.Unlock()
	expires := s.now().Add(ttl)
	if pw == "" {
		pw = randomECRPassword(expires)
	}
	token := base64.StdEncoding.EncodeToString([]byte("AWS:" + pw))
	s.addIssued(pw, token)
	s.mu.Lock()
	s.notePassword("", ecrPublicRegion, pw, expires)
	s.mu.Unlock()
	return map[string]any{"authorizationData": ecrAuthData{AuthorizationToken: token, ExpiresAt: epochSeconds(expires)}}, nil
}

// randomECRPassword mimics the shape of real ECR passwords: base64 of a JSON
// envelope holding an encrypted payload and data key, about 1.9 KB.
func randomECRPassword(expires time.Time) string {
	envelope, _ := json.Marshal(map[string]any{
		"payload":    base64.StdEncoding.EncodeToString(randomBytes(800)),
		"datakey":    base64.StdEncoding.EncodeToString(randomBytes(180)),
		"version":    "2",
		"type":       "DATA_KEY",
		"expiration": expires.Unix(),
	})
	return base64.StdEncoding.EncodeToString(envelope)
}
