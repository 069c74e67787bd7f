// Command floor is the benchmark's floor: the network work of a login and
// nothing else, to show what the model itself costs above its ideal. It
// fetches the job's OIDC token while it opens the STS connection and the ECR
// connection of every region (internal/preconnect; crypto/tls verifies the
// servers with the system's roots, as ours does), then sends
// AssumeRoleWithWebIdentity and, in every region at once, a SigV4-signed
// GetAuthorizationToken, as raw HTTP requests, and writes docker's config.json and the step outputs the benchmark checks. No
// SDK configuration, no retries, no settings, no masking, no transaction: a
// login nobody should ship, and no faster login is possible with Go's HTTP
// and TLS.
//
// It reads INPUT_ROLE-TO-ASSUME, INPUT_AWS-REGION, INPUT_REGIONS (comma
// separated) and the GitHub variables; AWS_ENDPOINT_URL_STS and
// AWS_ENDPOINT_URL_ECR override AWS's endpoints.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/ecr-credentials/ecr-credentials/internal/preconnect"
)

func main() {
	if err := login(context.Background()); err != nil {
		fmt.Printf("::error::%v\n", err)
		os.Exit(1)
	}
}

func login(ctx context.Context) error {
	role, home := os.Getenv("INPUT_ROLE-TO-ASSUME"), os.Getenv("INPUT_AWS-REGION")
	regions := []string{home}
	if r := os.Getenv("INPUT_REGIONS"); r != "" {
		regions = strings.Split(r, ",")
	}
	pool := preconnect.New(nil)
	tr := &http.Transport{ForceAttemptHTTP2: true, DialTLSContext: pool.DialTLSContext(func() *tls.Config {
		return &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
	}, nil)}
	client := &http.Client{Transport: tr, Timeout: time.Minute}

	type answer struct {
		token string
		err   error
	}
	tokenC := make(chan answer, 1)
	go func() {
		t, err := idToken(ctx, client)
		tokenC <- answer{t, err}
	}()
	stsURL := endpoint("STS", "sts."+home+".amazonaws.com")
	ecrURLs := make([]string, len(regions))
	open := func(u string) {
		p, _ := url.Parse(u)
		pool.Open(ctx, p.Host+":"+portOf(p), &tls.Config{NextProtos: []string{"h2", "http/1.1"}})
	}
	open(stsURL)
	for i, r := range regions {
		ecrURLs[i] = endpoint("ECR", "api.ecr."+r+".amazonaws.com")
		open(ecrURLs[i])
	}
	a := <-tokenC
	if a.err != nil {
		return a.err
	}

	form := url.Values{"Action": {"AssumeRoleWithWebIdentity"}, "Version": {"2011-06-15"}, "RoleArn": {role},
		"RoleSessionName": {"floor"}, "WebIdentityToken": {a.token}}
	var st struct {
		Creds struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string
			SessionToken    string
		} `xml:"AssumeRoleWithWebIdentityResult>Credentials"`
	}
	body, err := call(client, http.MethodPost, stsURL, "application/x-www-form-urlencoded", []byte(form.Encode()), nil)
	if err != nil {
		return fmt.Errorf("sts: %w", err)
	}
	if err := xml.Unmarshal(body, &st); err != nil || st.Creds.SecretAccessKey == "" {
		return fmt.Errorf("sts: no credentials in the answer")
	}
	creds := aws.Credentials{AccessKeyID: st.Creds.AccessKeyID, SecretAccessKey: st.Creds.SecretAccessKey, SessionToken: st.Creds.SessionToken}

	auths := map[string]map[string]string{}
	var outputs strings.Builder
	var mu sync.Mutex
	errs := make([]error, len(regions))
	var wg sync.WaitGroup
	for i, r := range regions {
		wg.Go(func() {
			sign := func(req *http.Request, payload []byte) error {
				sum := sha256.Sum256(payload)
				req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken")
				return v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ecr", r, time.Now())
			}
			body, err := call(client, http.MethodPost, ecrURLs[i], "application/x-amz-json-1.1", []byte("{}"), sign)
			var out struct {
				Data []struct {
					Token string `json:"authorizationToken"`
					Proxy string `json:"proxyEndpoint"`
				} `json:"authorizationData"`
			}
			if err == nil {
				err = json.Unmarshal(body, &out)
			}
			if err == nil && len(out.Data) == 0 {
				err = errors.New("no authorization data")
			}
			if err != nil {
				errs[i] = fmt.Errorf("ecr %s: %w", r, err)
				return
			}
			raw, _ := base64.StdEncoding.DecodeString(out.Data[0].Token)
			user, pass, _ := strings.Cut(string(raw), ":")
			host := strings.TrimPrefix(out.Data[0].Proxy, "https://")
			key := strings.NewReplacer(".", "_", ":", "_", "-", "_").Replace(host)
			mu.Lock()
			defer mu.Unlock()
			auths[host] = map[string]string{"auth": out.Data[0].Token}
			fmt.Fprintf(&outputs, "docker_username_%s<<EOF_floor\n%s\nEOF_floor\ndocker_password_%s<<EOF_floor\n%s\nEOF_floor\n", key, user, key, pass)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	dir := filepath.Join(os.Getenv("HOME"), ".docker")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, _ := json.Marshal(map[string]any{"auths": auths})
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		return err
	}
	f, err := os.OpenFile(os.Getenv("GITHUB_OUTPUT"), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(outputs.String())
	return errors.Join(err, f.Close())
}

// endpoint is AWS_ENDPOINT_URL_<service>, else https://host.
func endpoint(service, host string) string {
	if u := os.Getenv("AWS_ENDPOINT_URL_" + service); u != "" {
		return strings.TrimSuffix(u, "/") + "/"
	}
	return "https://" + host + "/"
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	return "443"
}

// call sends one request and returns the body of a 200 answer.
func call(client *http.Client, method, u, contentType string, payload []byte, sign func(*http.Request, []byte) error) ([]byte, error) {
	req, err := http.NewRequest(method, u, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	if sign != nil {
		if err := sign(req, payload); err != nil {
			return nil, err
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return body, err
}

// idToken asks the runner for the job's OIDC token.
func idToken(ctx context.Context, client *http.Client) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, os.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL")+"&audience=sts.amazonaws.com", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+os.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("OIDC token request: %w", err)
	}
	defer resp.Body.Close()
	var v struct {
		Value string `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.Value == "" {
		return "", fmt.Errorf("OIDC token request: status %d, no token", resp.StatusCode)
	}
	return v.Value, nil
}
