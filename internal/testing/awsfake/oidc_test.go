package awsfake

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func getJSON(t *testing.T, url, bearer string, v any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if v != nil && resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: decode: %v", url, err)
		}
	}
	return resp.StatusCode
}

// issuerKey fetches the signing key the way a relying party does:
// discovery document, then JWKS.
func issuerKey(t *testing.T, s *Server) (*rsa.PublicKey, string) {
	t.Helper()
	var disc struct {
		Issuer  string   `json:"issuer"`
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if code := getJSON(t, s.IssuerURL()+"/.well-known/openid-configuration", "", &disc); code != 200 {
		t.Fatalf("discovery: HTTP %d", code)
	}
	if disc.Issuer != s.IssuerURL() || len(disc.Algs) != 1 || disc.Algs[0] != "RS256" {
		t.Fatalf("discovery document %+v", disc)
	}
	var jwks struct {
		Keys []struct{ Kty, Kid, N, E, Alg string } `json:"keys"`
	}
	if code := getJSON(t, disc.JWKSURI, "", &jwks); code != 200 || len(jwks.Keys) != 1 {
		t.Fatalf("JWKS: HTTP %d, %d keys", code, len(jwks.Keys))
	}
	k := jwks.Keys[0]
	n, err1 := base64.RawURLEncoding.DecodeString(k.N)
	e, err2 := base64.RawURLEncoding.DecodeString(k.E)
	if err1 != nil || err2 != nil || k.Kty != "RSA" || k.Alg != "RS256" {
		t.Fatalf("JWKS key %+v", k)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, k.Kid
}

func TestIDTokenEndpoint(t *testing.T) {
	clock := &fakeClock{}
	clock.Advance(-48 * time.Hour) // issued times follow the emulator clock
	s := startServer(t, Options{Now: clock.Now})
	key, kid := issuerKey(t, s)

	if !strings.Contains(s.IDTokenRequestURL(), "?api-version=2.0") {
		t.Fatalf("request URL %q lacks GitHub's api-version query", s.IDTokenRequestURL())
	}
	var resp struct{ Value string }
	if code := getJSON(t, s.IDTokenRequestURL()+"&audience="+url.QueryEscape("sts.amazonaws.com"), s.IDTokenRequestToken(), &resp); code != 200 {
		t.Fatalf("ID token request: HTTP %d", code)
	}
	claims := jwt.MapClaims{}
	tok, err := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(clock.Now), jwt.WithIssuer(s.IssuerURL()), jwt.WithAudience("sts.amazonaws.com")).
		ParseWithClaims(resp.Value, claims, func(*jwt.Token) (any, error) { return key, nil })
	if err != nil {
		t.Fatalf("token does not verify with the published key: %v", err)
	}
	if tok.Header["kid"] != kid {
		t.Errorf("kid %v, JWKS has %s", tok.Header["kid"], kid)
	}
	for name, want := range map[string]string{
		"sub": DefaultSubject, "repository": "octo-org/octo-repo", "repository_owner": "octo-org",
		"ref": "refs/heads/main", "run_attempt": "1", "event_name": "push",
		"job_workflow_ref": "octo-org/octo-repo/.github/workflows/ci.yml@refs/heads/main",
	} {
		if claims[name] != want {
			t.Errorf("claim %s = %v, want %q", name, claims[name], want)
		}
	}
	iat, _ := claims.GetIssuedAt()
	exp, _ := claims.GetExpirationTime()
	if d := iat.Sub(clock.Now()); d < -5*time.Second || d > 5*time.Second || exp.Sub(iat.Time) != 5*time.Minute {
		t.Errorf("iat %v exp %v; want iat at the emulator's now and a 5 minute lifetime", iat, exp)
	}
	if !strings.Contains(strings.Join(s.Issued(), "\n"), resp.Value) {
		t.Error("the minted token is not in Issued()")
	}

	// Custom claims, and GitHub's default audience when none is asked for.
	s.SetClaims(Claims{Repository: "acme/app", Ref: "refs/tags/v1.2.3", Environment: "prod", Extra: map[string]any{"custom": "x"}})
	if code := getJSON(t, s.IDTokenRequestURL(), s.IDTokenRequestToken(), &resp); code != 200 {
		t.Fatalf("ID token request without audience: HTTP %d", code)
	}
	claims = jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(resp.Value, claims); err != nil {
		t.Fatal(err)
	}
	aud, _ := claims.GetAudience()
	if len(aud) != 1 || aud[0] != "https://github.com/acme" || claims["sub"] != "repo:acme/app:ref:refs/tags/v1.2.3" ||
		claims["environment"] != "prod" || claims["custom"] != "x" {
		t.Errorf("claims %v", claims)
	}

	for _, tc := range []struct {
		name, bearer string
		want         int
	}{{"no bearer", "", 401}, {"wrong bearer", "not-the-token", 403}} {
		if code := getJSON(t, s.IDTokenRequestURL()+"&audience=x", tc.bearer, nil); code != tc.want {
			t.Errorf("%s: HTTP %d, want %d", tc.name, code, tc.want)
		}
	}
}

func TestMintIDTokenOptions(t *testing.T) {
	clock := &fakeClock{}
	s := startServer(t, Options{Now: clock.Now})
	key, _ := issuerKey(t, s)
	parse := func(tok string) (jwt.MapClaims, error) {
		c := jwt.MapClaims{}
		_, err := jwt.NewParser(jwt.WithTimeFunc(clock.Now)).ParseWithClaims(tok, c, func(*jwt.Token) (any, error) { return key, nil })
		return c, err
	}
	cases := []struct {
		name  string
		opts  []TokenOption
		check func(jwt.MapClaims, error) bool
	}{
		{"expired", []TokenOption{Expired()}, func(_ jwt.MapClaims, err error) bool { return errorsIs(err, jwt.ErrTokenExpired) }},
		{"wrong key", []TokenOption{WithWrongKey()}, func(_ jwt.MapClaims, err error) bool { return errorsIs(err, jwt.ErrTokenSignatureInvalid) }},
		{"not yet valid", []TokenOption{WithIssuedAt(clock.Now().Add(time.Hour))}, func(_ jwt.MapClaims, err error) bool { return errorsIs(err, jwt.ErrTokenNotValidYet) }},
		{"issuer", []TokenOption{WithIssuer("https://elsewhere")}, func(c jwt.MapClaims, err error) bool { return err == nil && c["iss"] == "https://elsewhere" }},
		{"subject", []TokenOption{WithSubject("repo:o/r:environment:prod")}, func(c jwt.MapClaims, err error) bool { return err == nil && c["sub"] == "repo:o/r:environment:prod" }},
		{"lifetime", []TokenOption{WithLifetime(time.Hour)}, func(c jwt.MapClaims, err error) bool {
			exp, _ := c.GetExpirationTime()
			iat, _ := c.GetIssuedAt()
			return err == nil && exp.Sub(iat.Time) == time.Hour
		}},
	}
	for _, tc := range cases {
		tok, err := s.MintIDToken("aud", tc.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := parse(tok); !tc.check(c, err) {
			t.Errorf("%s: claims %v, err %v", tc.name, c, err)
		}
	}
}
