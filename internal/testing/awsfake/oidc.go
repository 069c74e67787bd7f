package awsfake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const jwksPath = "/.well-known/jwks"

// Claims are the GitHub Actions claims put into minted ID tokens (all are
// strings, as GitHub sends them). Empty fields take the defaults of a push
// to main in octo-org/octo-repo; Extra adds or overrides any claim.
type Claims struct {
	Sub                  string
	Repository           string
	RepositoryOwner      string
	RepositoryOwnerID    string
	RepositoryID         string
	RepositoryVisibility string
	Ref                  string
	RefType              string
	RefProtected         string
	SHA                  string
	RunID                string
	RunNumber            string
	RunAttempt           string
	Actor                string
	ActorID              string
	Workflow             string
	WorkflowRef          string
	WorkflowSHA          string
	JobWorkflowRef       string
	JobWorkflowSHA       string
	EventName            string
	HeadRef              string
	BaseRef              string
	Environment          string
	RunnerEnvironment    string
	Extra                map[string]any
}

// DefaultSubject is the `sub` of minted tokens unless changed.
const DefaultSubject = "repo:octo-org/octo-repo:ref:refs/heads/main"

func (c Claims) withDefaults() Claims {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&c.Repository, "octo-org/octo-repo")
	owner, _, _ := strings.Cut(c.Repository, "/")
	def(&c.RepositoryOwner, owner)
	def(&c.Ref, "refs/heads/main")
	def(&c.Sub, "repo:"+c.Repository+":ref:"+c.Ref)
	def(&c.RepositoryOwnerID, "71000001")
	def(&c.RepositoryID, "710000002")
	def(&c.RepositoryVisibility, "private")
	def(&c.RefType, "branch")
	def(&c.RefProtected, "false")
	def(&c.SHA, "0f7c5d1e4b2a39c8d6e5f4a3b2c1d0e9f8a7b6c5")
	def(&c.RunID, "9876543210")
	def(&c.RunNumber, "42")
	def(&c.RunAttempt, "1")
	def(&c.Actor, "octocat")
	def(&c.ActorID, "583231")
	def(&c.Workflow, "CI")
	def(&c.WorkflowRef, c.Repository+"/.github/workflows/ci.yml@"+c.Ref)
	def(&c.WorkflowSHA, c.SHA)
	def(&c.JobWorkflowRef, c.WorkflowRef)
	def(&c.JobWorkflowSHA, c.WorkflowSHA)
	def(&c.EventName, "push")
	def(&c.RunnerEnvironment, "github-hosted")
	return c
}

func (c Claims) toMap() jwt.MapClaims {
	c = c.withDefaults()
	m := jwt.MapClaims{
		"sub": c.Sub, "repository": c.Repository, "repository_owner": c.RepositoryOwner,
		"repository_owner_id": c.RepositoryOwnerID, "repository_id": c.RepositoryID,
		"repository_visibility": c.RepositoryVisibility, "ref": c.Ref, "ref_type": c.RefType,
		"ref_protected": c.RefProtected, "sha": c.SHA, "run_id": c.RunID, "run_number": c.RunNumber,
		"run_attempt": c.RunAttempt, "actor": c.Actor, "actor_id": c.ActorID, "workflow": c.Workflow,
		"workflow_ref": c.WorkflowRef, "workflow_sha": c.WorkflowSHA, "job_workflow_ref": c.JobWorkflowRef,
		"job_workflow_sha": c.JobWorkflowSHA, "event_name": c.EventName, "head_ref": c.HeadRef,
		"base_ref": c.BaseRef, "runner_environment": c.RunnerEnvironment,
	}
	if c.Environment != "" {
		m["environment"] = c.Environment
	}
	for k, v := range c.Extra {
		m[k] = v
	}
	return m
}

// SetClaims sets the claims of tokens minted from now on (by the ID-token
// endpoint and MintIDToken).
func (s *Server) SetClaims(c Claims) {
	extra := make(map[string]any, len(c.Extra))
	for k, v := range c.Extra {
		extra[k] = v
	}
	c.Extra = extra
	s.mu.Lock()
	defer s.mu.Unlock()
	s.claims = c
}

// IssuerURL is the `iss` of minted tokens. The issuer serves
// /.well-known/openid-configuration and the JWKS below it, like
// https://token.actions.githubusercontent.com.
func (s *Server) IssuerURL() string { return s.url + s.opts.IssuerPath }

// IDTokenRequestURL is the value for ACTIONS_ID_TOKEN_REQUEST_URL. Like
// GitHub's it already carries a query (api-version=2.0), so clients must
// append `&audience=...`. A GET with `Authorization: Bearer
// <IDTokenRequestToken>` answers {"value":"<jwt>"}; a missing bearer gets
// 401, a wrong one 403.
func (s *Server) IDTokenRequestURL() string {
	return s.url + s.opts.IssuerPath + s.planPath + "?api-version=2.0"
}

// IDTokenRequestToken is the value for ACTIONS_ID_TOKEN_REQUEST_TOKEN.
func (s *Server) IDTokenRequestToken() string { return s.reqToken }

// mintConfig collects TokenOptions.
type mintConfig struct {
	issuer   string
	key      *rsa.PrivateKey
	issuedAt time.Time
	lifetime time.Duration
	expired  bool
	extra    map[string]any
}

// TokenOption changes one token minted by MintIDToken.
type TokenOption func(*mintConfig)

// Expired mints a token whose `exp` has already passed (by the emulator
// clock).
func Expired() TokenOption { return func(c *mintConfig) { c.expired = true } }

// WithIssuer sets `iss` (a wrong issuer is one STS has no provider for).
func WithIssuer(iss string) TokenOption { return func(c *mintConfig) { c.issuer = iss } }

// WithWrongKey signs with a key the issuer does not publish (bad signature;
// the header still names the issuer's key id).
func WithWrongKey() TokenOption {
	return func(c *mintConfig) {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(fmt.Sprintf("awsfake: generate key: %v", err))
		}
		c.key = k
	}
}

// WithSubject sets `sub`.
func WithSubject(sub string) TokenOption { return WithClaim("sub", sub) }

// WithLifetime sets exp-iat (default 5 minutes, like GitHub).
func WithLifetime(d time.Duration) TokenOption { return func(c *mintConfig) { c.lifetime = d } }

// WithIssuedAt sets `iat` (nbf is 10 minutes earlier, exp iat+lifetime); a
// time in the future makes a token that is not yet valid.
func WithIssuedAt(t time.Time) TokenOption { return func(c *mintConfig) { c.issuedAt = t } }

// WithClaim sets any claim, overriding the configured Claims.
func WithClaim(name string, value any) TokenOption {
	return func(c *mintConfig) { c.extra[name] = value }
}

// MintIDToken mints a GitHub-style ID token for audience (empty: GitHub's
// default, https://github.com/<owner>), signed RS256 by the issuer key. The
// token counts as issued.
func (s *Server) MintIDToken(audience string, mods ...TokenOption) (string, error) {
	s.mu.Lock()
	claims := s.claims.toMap()
	s.mu.Unlock()
	cfg := mintConfig{issuer: s.IssuerURL(), key: s.signKey, issuedAt: s.now(), lifetime: 5 * time.Minute, extra: map[string]any{}}
	for _, m := range mods {
		m(&cfg)
	}
	if audience == "" {
		audience = fmt.Sprint("https://github.com/", claims["repository_owner"])
	}
	iat := cfg.issuedAt
	if cfg.expired {
		iat = s.now().Add(-cfg.lifetime - time.Minute)
	}
	claims["iss"] = cfg.issuer
	claims["aud"] = audience
	claims["jti"] = randomUUID()
	claims["iat"] = iat.Unix()
	claims["nbf"] = iat.Add(-10 * time.Minute).Unix()
	claims["exp"] = iat.Add(cfg.lifetime).Unix()
	for k, v := range cfg.extra {
		claims[k] = v
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = s.keyID
	tok.Header["x5t"] = s.keyThumbprint()
	signed, err := tok.SignedString(cfg.key)
	if err != nil {
		return "", fmt.Errorf("awsfake: sign ID token: %w", err)
	}
	s.addIssued(signed)
	return signed, nil
}

func (s *Server) keyThumbprint() string {
	sum := sha1.Sum(s.signKey.PublicKey.N.Bytes())
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (s *Server) serveOIDC(ex *exchange) {
	switch ex.call.Operation {
	case "Discovery":
		writeJSON(ex, http.StatusOK, map[string]any{
			"issuer":                                s.IssuerURL(),
			"jwks_uri":                              s.IssuerURL() + jwksPath,
			"subject_types_supported":               []string{"public", "pairwise"},
			"response_types_supported":              []string{"id_token"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"scopes_supported":                      []string{"openid"},
			"claims_supported": []string{"sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "sha",
				"repository", "repository_id", "repository_owner", "repository_owner_id", "run_id",
				"run_number", "run_attempt", "actor", "actor_id", "workflow", "workflow_ref",
				"workflow_sha", "job_workflow_ref", "job_workflow_sha", "event_name", "head_ref",
				"base_ref", "ref_type", "ref_protected", "environment", "runner_environment",
				"repository_visibility"},
		})
	case "JWKS":
		pub := s.signKey.PublicKey
		writeJSON(ex, http.StatusOK, map[string]any{"keys": []map[string]any{{
			"kty": "RSA", "alg": "RS256", "use": "sig", "kid": s.keyID, "x5t": s.keyThumbprint(),
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		}}})
	case "IDToken":
		auth := ex.r.Header.Get("Authorization")
		// The scheme is case-insensitive (RFC 9110); GitHub's docs write "bearer".
		scheme, bearer, ok := strings.Cut(auth, " ")
		ok = ok && strings.EqualFold(scheme, "Bearer")
		if !ok || bearer == "" {
			ex.call.ErrorCode = "Unauthorized"
			writeJSON(ex, http.StatusUnauthorized, map[string]string{"message": "Missing 'Authorization: Bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>' header."})
			return
		}
		if sha256.Sum256([]byte(bearer)) != sha256.Sum256([]byte(s.reqToken)) {
			ex.call.ErrorCode = "Forbidden"
			writeJSON(ex, http.StatusForbidden, map[string]string{"message": "The bearer token is not valid for this job."})
			return
		}
		tok, err := s.MintIDToken(ex.r.URL.Query().Get("audience"))
		if err != nil {
			ex.call.ErrorCode = "InternalError"
			writeJSON(ex, http.StatusInternalServerError, map[string]string{"message": err.Error()})
			return
		}
		writeJSON(ex, http.StatusOK, map[string]string{"value": tok})
	}
}

func writeJSON(ex *exchange, status int, v any) {
	ex.call.Status = status
	ex.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	ex.w.WriteHeader(status)
	json.NewEncoder(ex.w).Encode(v) //nolint:errcheck // client gone
}

// webIdentity is what STS learned from a verified token.
type webIdentity struct {
	sub      string
	audience []string
	issuer   string
}

// verifyWebIdentity checks a token the way STS does before trust evaluation:
// well-formed JWT, a known issuer, a valid RS256 signature, exp and nbf by
// the emulator clock.
func (s *Server) verifyWebIdentity(token string) (*webIdentity, *stsError) {
	var claims jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &claims); err != nil {
		return nil, newSTSError("InvalidIdentityToken", "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
	}
	iss, _ := claims.GetIssuer()
	if iss != s.IssuerURL() {
		return nil, newSTSError("InvalidIdentityToken", fmt.Sprintf("No OpenIDConnect provider found in your account for %s", iss))
	}
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation()).
		ParseWithClaims(token, &jwt.MapClaims{}, func(*jwt.Token) (any, error) { return &s.signKey.PublicKey, nil })
	if err != nil {
		msg := "The token's signature does not verify with the OpenID Connect provider's keys."
		if !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			msg = "The ID Token provided could not be verified."
		}
		return nil, newSTSError("InvalidIdentityToken", msg)
	}
	now := s.now()
	exp, _ := claims.GetExpirationTime()
	if exp == nil {
		return nil, newSTSError("InvalidIdentityToken", "The ID Token has no 'exp' claim.")
	}
	if !now.Before(exp.Time) {
		return nil, newSTSError("ExpiredTokenException", fmt.Sprintf("Token expired: current date/time %d must be before the expiration date/time %d", now.Unix(), exp.Unix()))
	}
	if nbf, _ := claims.GetNotBefore(); nbf != nil && now.Before(nbf.Time) {
		return nil, newSTSError("InvalidIdentityToken", fmt.Sprintf("Token is not yet valid: current date/time %d is before the not-before date/time %d", now.Unix(), nbf.Unix()))
	}
	sub, _ := claims.GetSubject()
	aud, _ := claims.GetAudience()
	return &webIdentity{sub: sub, audience: aud, issuer: iss}, nil
}
