package awsfake

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// findAWSCLIv2 returns an AWS CLI v2 binary. Debian's awscli package
// installs it as /usr/bin/aws; an `aws` earlier on PATH may be v1. Without
// one the test fails under CI=true and is skipped elsewhere.
func findAWSCLIv2(t *testing.T) string {
	t.Helper()
	candidates := []string{"/usr/bin/aws"}
	if p, err := exec.LookPath("aws"); err == nil {
		candidates = append(candidates, p)
	}
	var seen []string
	for _, c := range candidates {
		out, err := exec.Command(c, "--version").CombinedOutput()
		if err != nil {
			continue
		}
		version := strings.TrimSpace(string(out))
		if strings.HasPrefix(version, "aws-cli/2.") {
			return c
		}
		seen = append(seen, c+": "+version)
	}
	msg := "AWS CLI v2 not found (install Debian's awscli package); found: " + strings.Join(seen, "; ")
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// cliRun runs the AWS CLI with a clean environment: nothing from the host
// (no profile, no credentials, no IMDS), plus extra.
func cliRun(t *testing.T, aws string, extra map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	home := t.TempDir()
	env := []string{
		"PATH=/usr/bin:/bin",
		"HOME=" + home,
		"LANG=C.UTF-8",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "no-credentials"),
		"AWS_PAGER=",
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, aws, args...)
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func TestAWSCLIv2AcceptsEmulator(t *testing.T) {
	aws := findAWSCLIv2(t)
	s := startServer(t, Options{TLS: true})
	mustAddRole(t, s, Role{ARN: testRoleARN, Subjects: []string{"repo:octo-org/octo-repo:*"}, MaxSessionDuration: 2 * time.Hour, ECR: true, ECRPublic: true})
	s.SetRegistryPassword(testAccount, "eu-west-1", "cli-registry-pw")
	tok, err := s.MintIDToken("sts.amazonaws.com")
	if err != nil {
		t.Fatal(err)
	}
	base := map[string]string{"AWS_CA_BUNDLE": s.CAFile()}
	endpoint := []string{"--endpoint-url", s.URL()}

	out, errOut, err := cliRun(t, aws, base, append([]string{"sts", "assume-role-with-web-identity", "--region", "us-east-1",
		"--role-arn", testRoleARN, "--role-session-name", "cli-test", "--duration-seconds", "5400",
		"--web-identity-token", tok, "--output", "json"}, endpoint...)...)
	if err != nil {
		t.Fatalf("aws sts assume-role-with-web-identity: %v\n%s", err, errOut)
	}
	var res struct {
		Credentials                 struct{ AccessKeyId, SecretAccessKey, SessionToken, Expiration string }
		AssumedRoleUser             struct{ Arn string }
		SubjectFromWebIdentityToken string
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("CLI output is not JSON: %v", err)
	}
	if res.AssumedRoleUser.Arn != "arn:aws:sts::123456789012:assumed-role/ci-ecr/cli-test" || res.SubjectFromWebIdentityToken != DefaultSubject ||
		!strings.HasPrefix(res.Credentials.AccessKeyId, "ASIA") || res.Credentials.Expiration == "" {
		t.Fatalf("CLI parsed AssumedRoleUser %q, subject %q, key %q, expiration %q", res.AssumedRoleUser.Arn, res.SubjectFromWebIdentityToken, res.Credentials.AccessKeyId, res.Credentials.Expiration)
	}
	creds := map[string]string{
		"AWS_CA_BUNDLE":         s.CAFile(),
		"AWS_ACCESS_KEY_ID":     res.Credentials.AccessKeyId,
		"AWS_SECRET_ACCESS_KEY": res.Credentials.SecretAccessKey,
		"AWS_SESSION_TOKEN":     res.Credentials.SessionToken,
	}

	out, errOut, err = cliRun(t, aws, creds, append([]string{"ecr", "get-login-password", "--region", "eu-west-1"}, endpoint...)...)
	if err != nil {
		t.Fatalf("aws ecr get-login-password: %v\n%s", err, errOut)
	}
	if strings.TrimSpace(out) != "cli-registry-pw" {
		t.Errorf("ecr get-login-password printed %d chars, want the configured password", len(strings.TrimSpace(out)))
	}
	calls := s.Calls()
	if last := calls[len(calls)-1]; last.Service != "ecr" || last.Region != "eu-west-1" || last.AccessKeyID != res.Credentials.AccessKeyId || last.Status != 200 {
		t.Errorf("last call %+v", last)
	}

	out, errOut, err = cliRun(t, aws, creds, append([]string{"ecr-public", "get-login-password", "--region", "us-east-1"}, endpoint...)...)
	if err != nil {
		t.Fatalf("aws ecr-public get-login-password: %v\n%s", err, errOut)
	}
	pw := strings.TrimSpace(out)
	if len(pw) < 1500 || !strings.Contains(strings.Join(s.Issued(), "\n"), pw) {
		t.Errorf("ecr-public get-login-password printed %d chars that the emulator did not issue", len(pw))
	}

	// Rejections reach the CLI with their codes.
	bad := map[string]string{"AWS_CA_BUNDLE": s.CAFile(), "AWS_ACCESS_KEY_ID": res.Credentials.AccessKeyId,
		"AWS_SECRET_ACCESS_KEY": strings.Repeat("A", 40), "AWS_SESSION_TOKEN": res.Credentials.SessionToken}
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{bad, []string{"ecr", "get-login-password", "--region", "eu-west-1"}, "InvalidSignatureException"},
		{creds, []string{"ecr-public", "get-login-password", "--region", "eu-west-1"}, "UnsupportedCommandException"},
	} {
		_, errOut, err := cliRun(t, aws, tc.env, append(tc.args, endpoint...)...)
		if err == nil || !strings.Contains(errOut, tc.want) {
			t.Errorf("aws %s: err %v, stderr %q; want a failure naming %s", strings.Join(tc.args, " "), err, errOut, tc.want)
		}
	}
}

// TestAWSCLIv2UsesIMDS: the AWS CLI, given only the IMDS endpoint, takes
// its region (from the availability zone) and credentials from the
// emulated instance over plain HTTP, and uses them against the HTTPS API.
func TestAWSCLIv2UsesIMDS(t *testing.T) {
	aws := findAWSCLIv2(t)
	s := startServer(t, Options{TLS: true})
	mustAddRole(t, s, Role{ARN: testRoleARN, ECR: true})
	if err := s.SetInstanceRole(testRoleARN, "eu-central-1"); err != nil {
		t.Fatal(err)
	}
	s.SetRegistryPassword(testAccount, "eu-central-1", "cli-imds-pw")
	env := map[string]string{"AWS_CA_BUNDLE": s.CAFile()}
	for k, v := range s.IMDSEnv() {
		env[k] = v
	}
	endpoint := []string{"--endpoint-url", s.URL()}

	out, errOut, err := cliRun(t, aws, env, append([]string{"sts", "get-caller-identity", "--output", "json"}, endpoint...)...)
	if err != nil {
		t.Fatalf("aws sts get-caller-identity with IMDS credentials: %v\n%s", err, errOut)
	}
	var id struct{ Arn, Account string }
	if err := json.Unmarshal([]byte(out), &id); err != nil {
		t.Fatalf("CLI output is not JSON: %v", err)
	}
	if !strings.HasPrefix(id.Arn, "arn:aws:sts::123456789012:assumed-role/ci-ecr/i-") {
		t.Errorf("CLI identity %q, want the instance role session", id.Arn)
	}
	var handedOut string
	for _, c := range s.Calls() {
		if c.Service == "imds" && c.Operation == "GetCredentials" {
			handedOut = c.AccessKeyID
		}
	}
	calls := s.Calls()
	if last := calls[len(calls)-1]; last.Service != "sts" || last.Region != "eu-central-1" || last.AccessKeyID == "" || last.AccessKeyID != handedOut {
		t.Errorf("last call %+v, want STS signed in eu-central-1 with the key IMDS handed out (%s)", last, handedOut)
	}

	out, errOut, err = cliRun(t, aws, env, append([]string{"ecr", "get-login-password"}, endpoint...)...)
	if err != nil {
		t.Fatalf("aws ecr get-login-password with IMDS credentials: %v\n%s", err, errOut)
	}
	if strings.TrimSpace(out) != "cli-imds-pw" {
		t.Errorf("ecr get-login-password printed %d chars, want the configured password", len(strings.TrimSpace(out)))
	}

	// An instance without an instance profile gives the CLI no credentials.
	if err := s.SetInstanceRole("", "eu-central-1"); err != nil {
		t.Fatal(err)
	}
	_, errOut, err = cliRun(t, aws, env, append([]string{"sts", "get-caller-identity"}, endpoint...)...)
	if err == nil || !strings.Contains(errOut, "Unable to locate credentials") {
		t.Errorf("without an instance profile: err %v, stderr %q; want the CLI to find no credentials", err, errOut)
	}
	assertNoSecrets(t, s, "CLI error output", errOut)
}
