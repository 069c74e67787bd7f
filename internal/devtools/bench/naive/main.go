// Command naive is the benchmark's reference point: the straightforward
// GitHub step a Go programmer would write with aws-sdk-go-v2 and nothing
// else in mind. It fetches the job's OIDC token, assumes the role with STS,
// calls ECR GetAuthorizationToken in each region one after the other, and
// writes docker's config.json and amazon-ecr-login style step outputs.
//
// It reads INPUT_ROLE-TO-ASSUME, INPUT_AWS-REGION and INPUT_REGIONS (comma
// separated; default the one region) and the usual GitHub and AWS
// variables. It is not part of the product; `go run ./internal/devtools/bench`
// builds it with the product's release flags to show what our binary costs
// above the plain SDK.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	if err := login(context.Background()); err != nil {
		fmt.Printf("::error::%v\n", err)
		os.Exit(1)
	}
}

func login(ctx context.Context) error {
	role := os.Getenv("INPUT_ROLE-TO-ASSUME")
	region := os.Getenv("INPUT_AWS-REGION")
	regions := []string{region}
	if r := os.Getenv("INPUT_REGIONS"); r != "" {
		regions = strings.Split(r, ",")
	}

	token, err := idToken(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("::add-mask::%s\n", token)

	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	out, err := sts.NewFromConfig(cfg).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          aws.String(role),
		RoleSessionName:  aws.String("naive"),
		WebIdentityToken: aws.String(token),
	})
	if err != nil {
		return fmt.Errorf("assume role %s: %w", role, err)
	}
	c := out.Credentials
	fmt.Printf("::add-mask::%s\n::add-mask::%s\n", aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))

	auths := map[string]map[string]string{}
	var outputs strings.Builder
	for _, r := range regions {
		res, err := ecr.NewFromConfig(cfg, func(o *ecr.Options) { o.Region = r }).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
		if err != nil {
			return fmt.Errorf("ecr get-authorization-token in %s: %w", r, err)
		}
		if len(res.AuthorizationData) == 0 {
			return fmt.Errorf("ecr get-authorization-token in %s: no authorization data", r)
		}
		d := res.AuthorizationData[0]
		raw, err := base64.StdEncoding.DecodeString(aws.ToString(d.AuthorizationToken))
		if err != nil {
			return fmt.Errorf("decode the ECR token of %s: %w", r, err)
		}
		user, pass, _ := strings.Cut(string(raw), ":")
		fmt.Printf("::add-mask::%s\n", pass)
		host := strings.TrimPrefix(aws.ToString(d.ProxyEndpoint), "https://")
		auths[host] = map[string]string{"auth": aws.ToString(d.AuthorizationToken)}
		key := strings.NewReplacer(".", "_", ":", "_", "-", "_").Replace(host)
		if err := heredoc(&outputs, "docker_username_"+key, user); err != nil {
			return err
		}
		if err := heredoc(&outputs, "docker_password_"+key, pass); err != nil {
			return err
		}
	}

	dir := filepath.Join(os.Getenv("HOME"), ".docker")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("docker config: %w", err)
	}
	b, err := json.Marshal(map[string]any{"auths": auths})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		return fmt.Errorf("docker config: %w", err)
	}
	f, err := os.OpenFile(os.Getenv("GITHUB_OUTPUT"), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("step outputs: %w", err)
	}
	if _, err := f.WriteString(outputs.String()); err != nil {
		f.Close()
		return fmt.Errorf("step outputs: %w", err)
	}
	return f.Close()
}

// idToken asks the runner for the job's OIDC token.
func idToken(ctx context.Context) (string, error) {
	u := os.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL") + "&audience=" + url.QueryEscape("sts.amazonaws.com")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("OIDC token request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+os.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("OIDC token request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("OIDC token request: status %d", resp.StatusCode)
	}
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Value == "" {
		return "", errors.New("OIDC token request: no token in the answer")
	}
	return v.Value, nil
}

// heredoc appends name<<DELIM\nvalue\nDELIM as the runner expects.
func heredoc(b *strings.Builder, name, value string) error {
	r := make([]byte, 16)
	if _, err := rand.Read(r); err != nil {
		return err
	}
	d := "ghadelimiter_" + hex.EncodeToString(r)
	fmt.Fprintf(b, "%s<<%s\n%s\n%s\n", name, d, value, d)
	return nil
}
