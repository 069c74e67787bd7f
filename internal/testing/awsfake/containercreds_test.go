package awsfake

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestContainerCredentialsDriveSDK: with Env plus the container variables
// (the token inline or in a file), the SDK's default chain takes its
// credentials from the endpoint and uses them against ECR and STS.
func TestContainerCredentialsDriveSDK(t *testing.T) {
	cases := []struct {
		name string
		env  func(s *Server, fullURI, token string) map[string]string
	}{
		{"token in AWS_CONTAINER_AUTHORIZATION_TOKEN", func(s *Server, fullURI, token string) map[string]string {
			return map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": fullURI, "AWS_CONTAINER_AUTHORIZATION_TOKEN": token}
		}},
		{"token file from ContainerEnv", func(s *Server, _, _ string) map[string]string { return s.ContainerEnv() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, Options{TLS: true})
			mustAddRole(t, s, Role{ARN: testRoleARN, ECR: true})
			if s.ContainerEnv() != nil {
				t.Fatalf("ContainerEnv() = %v before SetContainerRole, want nil", s.ContainerEnv())
			}
			fullURI, token, err := s.SetContainerRole(testRoleARN)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(fullURI, "http://127.0.0.1:") || !strings.HasSuffix(fullURI, "/v1/credentials") {
				t.Errorf("full URI %q, want plain HTTP on loopback ending in /v1/credentials", fullURI)
			}
			s.SetRegistryPassword(testAccount, "us-west-2", "container-registry-pw")
			envText, _ := json.Marshal(s.ContainerEnv())
			if strings.Contains(string(envText), token) {
				t.Error("ContainerEnv() holds the token itself, want only its file")
			}
			setEnv(t, s.Env(), map[string]string{"AWS_REGION": "us-west-2"}, tc.env(s, fullURI, token))
			ctx := context.Background()

			cfg, err := config.LoadDefaultConfig(ctx)
			if err != nil {
				t.Fatalf("LoadDefaultConfig: %v", err)
			}
			creds, err := cfg.Credentials.Retrieve(ctx)
			if err != nil {
				t.Fatalf("retrieve container credentials: %v", err)
			}
			if creds.Source != endpointcreds.ProviderName || !strings.HasPrefix(creds.AccessKeyID, "ASIA") || creds.AccountID != testAccount {
				t.Errorf("credentials from %q, key %q, account %q; want container credentials of %s", creds.Source, creds.AccessKeyID, creds.AccountID, testAccount)
			}
			if d := time.Until(creds.Expires); d < 5*time.Hour || d > 6*time.Hour+time.Minute {
				t.Errorf("credentials expire in %v, want about 6h", d)
			}
			out, err := ecr.NewFromConfig(cfg).GetAuthorizationToken(ctx, nil)
			if err != nil {
				t.Fatalf("ECR with container credentials: %v", err)
			}
			if _, pw := decodeAuthToken(t, *out.AuthorizationData[0].AuthorizationToken); pw != "container-registry-pw" {
				t.Errorf("ECR returned a %d-char password, want the configured one", len(pw))
			}
			id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, nil)
			if err != nil {
				t.Fatalf("STS with container credentials: %v", err)
			}
			if !regexp.MustCompile(`^arn:aws:sts::123456789012:assumed-role/ci-ecr/[0-9a-f]{32}$`).MatchString(*id.Arn) {
				t.Errorf("GetCallerIdentity = %s, want a session named after the task", *id.Arn)
			}
			var fetched []Call
			for _, c := range s.Calls() {
				if c.Service == "ecs-credentials" {
					fetched = append(fetched, c)
				}
			}
			if len(fetched) != 1 || fetched[0].Operation != "GetCredentials" || fetched[0].Status != 200 || fetched[0].AccessKeyID != creds.AccessKeyID {
				t.Errorf("ecs-credentials calls %+v, want one GetCredentials handing out %s", fetched, creds.AccessKeyID)
			}
			if !strings.Contains(strings.Join(s.Issued(), "\n"), token) {
				t.Error("Issued() lacks the container authorization token")
			}
		})
	}
}

// TestContainerCredentialsRejected: a missing, wrong or replaced token is
// refused with HTTP 400 as the EKS Pod Identity Agent does; the SDK's
// error carries the status and no secret.
func TestContainerCredentialsRejected(t *testing.T) {
	s := startServer(t, Options{})
	mustAddRole(t, s, Role{ARN: testRoleARN, ECR: true})
	fullURI, oldToken, err := s.SetContainerRole(testRoleARN)
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := s.SetContainerRole(testRoleARN) // a new container: oldToken is dead
	if err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(t.TempDir(), "empty-token")
	if err := os.WriteFile(emptyFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		env      map[string]string
		wantCode string
	}{
		{"no token", map[string]string{}, "MissingAuthorization"},
		{"empty token file", map[string]string{"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": emptyFile}, "MissingAuthorization"},
		{"wrong token", map[string]string{"AWS_CONTAINER_AUTHORIZATION_TOKEN": strings.Repeat("x", len(token))}, "InvalidTokenException"},
		{"token of the previous container", map[string]string{"AWS_CONTAINER_AUTHORIZATION_TOKEN": oldToken}, "InvalidTokenException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			setEnv(t, s.Env(), map[string]string{"AWS_REGION": "us-east-1", "AWS_CONTAINER_CREDENTIALS_FULL_URI": fullURI}, tc.env)
			ctx := context.Background()
			cfg, err := config.LoadDefaultConfig(ctx)
			if err != nil {
				t.Fatalf("LoadDefaultConfig: %v", err)
			}
			_, err = cfg.Credentials.Retrieve(ctx)
			if err == nil || statusOf(err) != http.StatusBadRequest {
				t.Fatalf("err %v (HTTP %d), want HTTP 400", err, statusOf(err))
			}
			assertNoSecrets(t, s, "SDK error", err.Error())
			calls := s.Calls()
			if last := calls[len(calls)-1]; last.Service != "ecs-credentials" || last.ErrorCode != tc.wantCode || last.AccessKeyID != "" {
				t.Errorf("logged %+v, want ecs-credentials refused with %s", last, tc.wantCode)
			}
		})
	}

	// Raw protocol: GET only; the document carries what the SDKs and the
	// AWS CLI read.
	req, _ := http.NewRequest(http.MethodPost, fullURI, nil)
	req.Header.Set("Authorization", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: HTTP %d, want 405", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodGet, fullURI, nil)
	req.Header.Set("Authorization", token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]string
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET: HTTP %d, %s, %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	for _, k := range []string{"AccessKeyId", "SecretAccessKey", "Token", "AccountId", "Expiration", "RoleArn"} {
		if doc[k] == "" {
			t.Errorf("credential document lacks %s", k)
		}
	}
	if doc["RoleArn"] != testRoleARN {
		t.Errorf("RoleArn %q, want %q", doc["RoleArn"], testRoleARN)
	}
}

func TestSetContainerRoleValidation(t *testing.T) {
	s := New(Options{})
	mustAddRole(t, s, Role{ARN: testRoleARN})
	if _, _, err := s.SetContainerRole(testRoleARN); err == nil || !strings.Contains(err.Error(), "after Start") {
		t.Errorf("SetContainerRole before Start: %v, want an error saying to call it after Start", err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cases := []struct{ role, wantErr string }{
		{"arn:aws:iam::123456789012:user/deployer", "not of the form"},
		{"arn:aws:iam::123456789012:role/undefined", "AddRole first"},
		{testRoleARN, ""},
	}
	for _, tc := range cases {
		_, _, err := s.SetContainerRole(tc.role)
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("SetContainerRole(%q) = %v, want error containing %q", tc.role, err, tc.wantErr)
		}
	}
	file := s.ContainerEnv()["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file %s: %v, mode %v; want a 0600 file", file, err, fi)
	}
}
