package awsfake

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// syncBuffer is a bytes.Buffer safe for a writer and a poller.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// parseExports reads `export NAME=value` lines (values possibly single-quoted).
func parseExports(t *testing.T, out string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(line, "export ")
		if !ok {
			continue
		}
		k, v, _ := strings.Cut(rest, "=")
		if strings.HasPrefix(v, "'") {
			v = strings.ReplaceAll(strings.Trim(v, "'"), `'\''`, "'")
		}
		env[k] = v
	}
	return env
}

func TestMainServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	args := []string{
		"-tls",
		"-role", testRoleARN + "=repo:octo-org/*",
		"-role", testRoleARN + "=repo:other-org/*",
		"-map", testAccount + "/eu-west-1=https://127.0.0.1:5443",
		"-password", testAccount + "/eu-west-1=s3cret-registry-pw",
	}
	go func() { done <- Main(ctx, args, &stdout, &stderr) }()

	var env map[string]string
	for deadline := time.Now().Add(10 * time.Second); ; {
		env = parseExports(t, stdout.String())
		if env["AWS_ENDPOINT_URL"] != "" {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("Main returned early: %v\nstderr: %s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("Main printed no environment; stdout %q", stdout.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, k := range []string{"AWS_CA_BUNDLE", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "AWS_EC2_METADATA_DISABLED", "AWS_ENDPOINT_URL_STS"} {
		if env[k] == "" {
			t.Errorf("no export of %s in %q", k, stdout.String())
		}
	}
	if !strings.HasPrefix(env["AWS_ENDPOINT_URL"], "https://127.0.0.1:") {
		t.Errorf("AWS_ENDPOINT_URL %q, want https on loopback", env["AWS_ENDPOINT_URL"])
	}
	pem, err := os.ReadFile(env["AWS_CA_BUNDLE"])
	if err != nil {
		t.Fatalf("CA bundle: %v", err)
	}

	// Act as the action would: ID token, web identity, ECR.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest(http.MethodGet, env["ACTIONS_ID_TOKEN_REQUEST_URL"]+"&audience=sts.amazonaws.com", nil)
	req.Header.Set("Authorization", "Bearer "+env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"])
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var idt struct{ Value string }
	json.NewDecoder(resp.Body).Decode(&idt)
	resp.Body.Close()

	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("eu-west-1"), config.WithHTTPClient(hc), config.WithCredentialsProvider(aws.AnonymousCredentials{}))
	if err != nil {
		t.Fatal(err)
	}
	endpoint := func(o *sts.Options) { o.BaseEndpoint = aws.String(env["AWS_ENDPOINT_URL"]) }
	ar, err := sts.NewFromConfig(cfg, endpoint).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(testRoleARN), RoleSessionName: aws.String("cli"), WebIdentityToken: aws.String(idt.Value)})
	if err != nil {
		t.Fatalf("AssumeRoleWithWebIdentity against Main: %v", err)
	}
	c := ar.Credentials
	cfg.Credentials = staticCreds(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	out, err := ecr.NewFromConfig(cfg, func(o *ecr.Options) { o.BaseEndpoint = aws.String(env["AWS_ENDPOINT_URL"]) }).GetAuthorizationToken(ctx, nil)
	if err != nil {
		t.Fatalf("GetAuthorizationToken against Main: %v", err)
	}
	d := out.AuthorizationData[0]
	if _, pw := decodeAuthToken(t, *d.AuthorizationToken); pw != "s3cret-registry-pw" || *d.ProxyEndpoint != "https://127.0.0.1:5443" {
		t.Errorf("got %s and a %d-char password, want the -map and -password values", *d.ProxyEndpoint, len(pw))
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Main after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Main did not return after cancel")
	}
	if _, err := os.Stat(env["AWS_CA_BUNDLE"]); !os.IsNotExist(err) {
		t.Errorf("CA bundle left behind: %v", err)
	}
	logs := stderr.String()
	if !strings.Contains(logs, "sts AssumeRoleWithWebIdentity") || !strings.Contains(logs, "ecr GetAuthorizationToken") {
		t.Errorf("stderr does not log the calls: %q", logs)
	}
	for name, secret := range map[string]string{"password": "s3cret-registry-pw", "JWT": idt.Value, "secret key": *c.SecretAccessKey,
		"session token": *c.SessionToken, "authorization token": *d.AuthorizationToken} {
		if strings.Contains(stdout.String()+logs, secret) {
			t.Errorf("the %s appears in Main's output", name)
		}
	}
}

func TestMainRejectsBadFlags(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-addr", "0.0.0.0:8080"}, "not a loopback"},
		{[]string{"-addr", "10.0.0.5:0"}, "not a loopback"},
		{[]string{"-role", "arn:aws:iam::1:role/x=*"}, "role ARN"},
		{[]string{"-role", "no-equals-sign"}, "ARN=subjectGlob"},
		{[]string{"-map", "us-east-1=https://x"}, "ACCOUNT/REGION"},
		{[]string{"-password", "123/us-east-1=pw"}, "12-digit"},
		{[]string{"-latency", "soon"}, "latency"},
		{[]string{"stray"}, "unexpected arguments"},
		{[]string{"-metadata-addr", "0.0.0.0:0"}, "not a loopback"},
		{[]string{"-instance-role", "arn:aws:iam::1:role/x"}, "role ARN"},
		{[]string{"-instance-role", testRoleARN, "-instance-region", "mars"}, "region"},
		{[]string{"-container-role", "arn:aws:iam::123456789012:user/u"}, "role ARN"},
	}
	for _, tc := range cases {
		var stdout, stderr bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := Main(ctx, tc.args, &stdout, &stderr)
		cancel()
		if err == nil || !strings.Contains(err.Error()+stderr.String(), tc.want) {
			t.Errorf("Main(%q) = %v (stderr %q), want an error mentioning %q", tc.args, err, stderr.String(), tc.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("Main(%q) printed an environment despite the error", tc.args)
		}
	}
}

// startMain runs Main in the background and returns the environment it
// printed, its stdout and stderr, and a stop function that checks Main
// returned cleanly.
func startMain(t *testing.T, args ...string) (env map[string]string, stdout, stderr *syncBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // also when the test fails before stop
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- Main(ctx, args, stdout, stderr) }()
	stop = func() {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Main after cancel: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Main did not return after cancel")
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		env = parseExports(t, stdout.String())
		if env["AWS_ENDPOINT_URL"] != "" {
			return env, stdout, stderr, stop
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("Main returned early: %v\nstderr: %s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("Main printed no environment; stdout %q", stdout.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMainMetadataEndpoints: -instance-role and -container-role print the
// variables of both endpoints, and what they hand out works against ECR.
func TestMainMetadataEndpoints(t *testing.T) {
	const containerRole = "arn:aws:iam::123456789012:role/container"
	env, stdout, stderr, stop := startMain(t,
		"-role", testRoleARN+"=repo:octo-org/*",
		"-instance-role", testRoleARN, "-instance-region", "eu-west-3",
		"-container-role", containerRole)
	for k, want := range map[string]string{
		"AWS_EC2_METADATA_DISABLED":              "^false$",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT":      `^http://127\.0\.0\.1:\d+/$`,
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     `^http://127\.0\.0\.1:\d+/v1/credentials$`,
		"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": `^/.+`,
	} {
		if !matches(want, env[k]) {
			t.Errorf("export %s=%q, want %s", k, env[k], want)
		}
	}
	ctx := context.Background()

	// The instance: region and credentials through the SDK's IMDS client.
	client := imds.New(imds.Options{Endpoint: env["AWS_EC2_METADATA_SERVICE_ENDPOINT"], ClientEnableState: imds.ClientEnabled})
	region, err := client.GetRegion(ctx, nil)
	if err != nil || region.Region != "eu-west-3" {
		t.Fatalf("IMDS region %v, %v; want eu-west-3", region, err)
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region.Region),
		config.WithCredentialsProvider(ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = client })))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ecr.NewFromConfig(cfg, func(o *ecr.Options) { o.BaseEndpoint = aws.String(env["AWS_ENDPOINT_URL"]) }).GetAuthorizationToken(ctx, nil); err != nil {
		t.Fatalf("ECR with instance credentials from Main: %v", err)
	}

	// The container: the token file and the full URI.
	token, err := os.ReadFile(env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"])
	if err != nil || len(token) == 0 {
		t.Fatalf("container token file: %v", err)
	}
	req, _ := http.NewRequest(http.MethodGet, env["AWS_CONTAINER_CREDENTIALS_FULL_URI"], nil)
	req.Header.Set("Authorization", string(token))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ AccessKeyId, RoleArn string }
	json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if resp.StatusCode != 200 || doc.RoleArn != containerRole || !strings.HasPrefix(doc.AccessKeyId, "ASIA") {
		t.Errorf("container credentials: HTTP %d, role %q, key %q", resp.StatusCode, doc.RoleArn, doc.AccessKeyId)
	}

	stop()
	logs := stderr.String()
	for _, want := range []string{"imds GetCredentials", "ecr GetAuthorizationToken", "ecs-credentials GetCredentials"} {
		if !strings.Contains(logs, want) {
			t.Errorf("stderr does not log %q: %q", want, logs)
		}
	}
	if strings.Contains(stdout.String()+logs, string(token)) {
		t.Error("the container token appears in Main's output")
	}
	if _, err := os.Stat(env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]); !os.IsNotExist(err) {
		t.Errorf("container token file left behind: %v", err)
	}
}
