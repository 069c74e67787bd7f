package awsfake

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// containerCredentialsPath is where the container credentials endpoint
// answers, as the EKS Pod Identity Agent does at
// http://169.254.170.23/v1/credentials.
const containerCredentialsPath = "/v1/credentials"

// container is the workload the container credentials endpoint serves.
type container struct {
	roleARN, account, token, taskID string
	creds                           roleCredentials
}

// SetContainerRole makes the container credentials endpoint (on
// [Server.MetadataURL]) hand out credentials for roleARN, which must have
// been defined with AddRole (its ECR and ECRPublic flags are the
// permissions), to clients that present authToken. It models what
// AWS_CONTAINER_CREDENTIALS_FULL_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN
// or AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE point at in practice, the EKS
// Pod Identity Agent: GET with the token as the Authorization header (no
// scheme) returns AccessKeyId, SecretAccessKey, Token, AccountId,
// Expiration and, as ECS adds, RoleArn; a missing or wrong token is refused
// with 400 and a plain-text message, as the agent does.
//
// fullURI is the value for AWS_CONTAINER_CREDENTIALS_FULL_URI (plain HTTP
// on a loopback IP, which the SDKs accept); authToken, a secret listed by
// Issued, is also written to the file ContainerEnv names. Each call starts
// a new container: the previous token stops working. Call it after Start.
func (s *Server) SetContainerRole(roleARN string) (fullURI, authToken string, err error) {
	m := roleARNPattern.FindStringSubmatch(roleARN)
	if m == nil {
		return "", "", fmt.Errorf("awsfake: container role ARN %q is not of the form arn:aws:iam::123456789012:role/NAME", roleARN)
	}
	if _, ok := s.lookupRole(roleARN); !ok {
		return "", "", fmt.Errorf("awsfake: container role %s is not defined; call AddRole first", roleARN)
	}
	if s.metaURL == "" {
		return "", "", fmt.Errorf("awsfake: SetContainerRole needs the listener address; call it after Start")
	}
	c := &container{
		roleARN: roleARN,
		account: m[2],
		token:   base64.RawURLEncoding.EncodeToString(randomBytes(48)),
		taskID:  randomHex(32),
	}
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	// Write the token file atomically: a client may be reading it.
	file := s.containerTokenFile()
	tmp := file + ".new"
	if err := os.WriteFile(tmp, []byte(c.token), 0o600); err != nil {
		return "", "", fmt.Errorf("awsfake: write container token file: %w", err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return "", "", fmt.Errorf("awsfake: write container token file: %w", err)
	}
	s.addIssued(c.token)
	s.container = c
	return s.containerURI(), c.token, nil
}

// ContainerEnv returns what a client process needs, on top of Env, to take
// its credentials from the container credentials endpoint:
// AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
// (a file holding the token, as on EKS, so the environment holds no
// secret). It returns nil until SetContainerRole.
func (s *Server) ContainerEnv() map[string]string {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	if s.container == nil {
		return nil
	}
	return map[string]string{
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     s.containerURI(),
		"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": s.containerTokenFile(),
	}
}

func (s *Server) containerURI() string {
	return s.metaURL + containerCredentialsPath[1:]
}

func (s *Server) containerTokenFile() string {
	return filepath.Join(s.tmpDir, "container-authorization-token")
}

// serveContainerCredentials answers GET /v1/credentials.
func (s *Server) serveContainerCredentials(ex *exchange) {
	if ex.r.Method != http.MethodGet {
		ex.w.Header().Set("Allow", "GET")
		writeText(ex, http.StatusMethodNotAllowed, "MethodNotAllowed", "Method Not Allowed\n")
		return
	}
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	c := s.container
	if c == nil {
		writeText(ex, http.StatusNotFound, "NotFound", "awsfake: no container role; call SetContainerRole\n")
		return
	}
	auth := ex.r.Header.Get("Authorization")
	if auth == "" {
		writeText(ex, http.StatusBadRequest, "MissingAuthorization", "Service account token cannot be empty\n")
		return
	}
	if subtle.ConstantTimeCompare([]byte(auth), []byte(c.token)) != 1 {
		writeText(ex, http.StatusBadRequest, "InvalidTokenException", "(InvalidTokenException): The specified authorization token is invalid, fault: client\n")
		return
	}
	cred, err := s.currentCredentials(&c.creds, c.roleARN, c.taskID)
	if err != nil {
		writeText(ex, http.StatusInternalServerError, "InternalError", err.Error()+"\n")
		return
	}
	ex.call.AccessKeyID = cred.id
	out, err := json.Marshal(struct {
		AccessKeyID     string `json:"AccessKeyId"`
		SecretAccessKey string
		Token           string
		AccountID       string `json:"AccountId"`
		Expiration      string
		RoleArn         string
	}{cred.id, cred.secret, cred.sessionToken, c.account, cred.expires.UTC().Format(time.RFC3339), c.roleARN})
	if err != nil {
		panic(fmt.Sprintf("awsfake: marshal container credentials: %v", err))
	}
	ex.call.Status = http.StatusOK
	ex.w.Header().Set("Content-Type", "application/json")
	ex.w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	ex.w.WriteHeader(http.StatusOK)
	ex.w.Write(out) //nolint:errcheck // client gone
}
