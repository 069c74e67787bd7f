package imagetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// modulePath is the main package the credential helper is built from.
const modulePath = "github.com/ecr-credentials/ecr-credentials"

// helperSetup is a host where the docker CLI is configured to use our
// binary as the credential helper of one registry.
type helperSetup struct {
	f         *fixture
	path      string // PATH with the helper's directory first
	home      string
	config    string // DOCKER_CONFIG
	cache     string // ECR_CREDENTIALS_CACHE_DIR
	bundle    string // the emulator's (and the registry's) CA
	tokenFile string
}

// env is the docker CLI's environment, which it hands to the helper: the
// helper's settings (role, token file, region, the emulator's endpoints,
// the alias that makes the loopback registry stand for the role's ECR
// registry, the token cache) and nothing of the host's AWS setup.
func (h *helperSetup) env(role string) []string {
	env := []string{
		"PATH=" + h.path,
		"HOME=" + h.home,
		"DOCKER_CONFIG=" + h.config,
		"SSL_CERT_FILE=" + h.bundle,
		"AWS_ROLE_ARN=" + role,
		"AWS_WEB_IDENTITY_TOKEN_FILE=" + h.tokenFile,
		"AWS_REGION=" + region,
		"AWS_CONFIG_FILE=/nonexistent/aws-config",
		"AWS_SHARED_CREDENTIALS_FILE=/nonexistent/aws-credentials",
		"AWS_EC2_METADATA_DISABLED=true",
		"ECR_CREDENTIALS_REGISTRY_ALIASES=" + h.f.host + "=" + account + ".dkr.ecr." + region + ".amazonaws.com",
		"ECR_CREDENTIALS_CACHE_DIR=" + h.cache,
	}
	if d := os.Getenv("DOCKER_HOST"); d != "" {
		env = append(env, "DOCKER_HOST="+d)
	}
	for k, v := range h.f.fake.Env() {
		if strings.HasPrefix(k, "AWS_ENDPOINT_URL") {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// awsCalls counts the emulator's STS and ECR calls from index from on, by
// "service Operation ErrorCode".
func awsCalls(fake *awsfake.Server, from int) (map[string]int, int) {
	calls := fake.Calls()
	n := map[string]int{}
	for _, c := range calls[from:] {
		n[strings.TrimSpace(c.Service+" "+c.Operation+" "+c.ErrorCode)]++
	}
	return n, len(calls)
}

// TestDockerCLIWithCredentialHelper: the host's docker CLI, with a
// config.json that names our binary (docker-credential-ecr-credentials on
// PATH) as the credential helper of the registry, pushes an image and pulls
// it back (issue 6). The CLI runs the helper, the helper exchanges the
// token file for the role and asks ECR (the emulator) for the password,
// and the daemon logs in with it. The pull is served from the helper's
// token cache: no AWS call. With a role that does not trust the token the
// push fails, and says why.
func TestDockerCLIWithCredentialHelper(t *testing.T) {
	dockerBin := requireDocker(t)
	f := newFixture(t)
	dir := t.TempDir()
	h := &helperSetup{f: f, home: filepath.Join(dir, "home"), config: filepath.Join(dir, "docker-config"),
		cache: filepath.Join(dir, "cache"), bundle: filepath.Join(dir, "ca-bundle.pem"), tokenFile: filepath.Join(dir, "token")}
	helperDir := filepath.Join(dir, "bin")
	for _, d := range []string{h.home, h.config, helperDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(testenv.BuildBinary(t, modulePath), filepath.Join(helperDir, "docker-credential-ecr-credentials")); err != nil {
		t.Fatal(err)
	}
	h.path = helperDir + string(os.PathListSeparator) + os.Getenv("PATH")
	if err := os.WriteFile(h.bundle, f.bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	token, err := f.fake.MintIDToken("sts.amazonaws.com", awsfake.WithSubject("repo:octo-org/octo-repo:ref:refs/heads/main"),
		awsfake.WithLifetime(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	config := `{"credHelpers": {"` + f.host + `": "ecr-credentials"}}` + "\n"
	if err := os.WriteFile(filepath.Join(h.config, "config.json"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}

	// An image of one file, unique to this run, made with docker import.
	image := f.host + "/imagetest/helper:" + randomName("t")
	tw := newTarStream(t)
	content := filepath.Join(dir, "hello.txt")
	if err := os.WriteFile(content, []byte(randomName("pushed through the credential helper ")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tw.file("hello.txt", content, 0o644)
	if res := tw.pipeTo(t, dockerBin, []string{"import", "-", image}); res.code != 0 {
		t.Fatalf("docker import: %s", res)
	}
	t.Cleanup(func() { dockerQuiet("rmi", image) })
	dockerCLI := func(role string, args ...string) cmdResult {
		t.Helper()
		res := run(t, dockerBin, args, cmdOpts{env: h.env(role), secret: true})
		f.assertNoSecretAtAll(t, "docker "+args[0], res, token)
		return res
	}

	// Push: the helper asks AWS once.
	_, mark := awsCalls(f.fake, 0)
	if res := dockerCLI(roleARN, "push", image); res.code != 0 {
		t.Fatalf("docker push through the credential helper: %s", f.redact(res))
	}
	calls, mark := awsCalls(f.fake, mark)
	if calls["sts AssumeRoleWithWebIdentity"] != 1 || calls["ecr GetAuthorizationToken"] != 1 {
		t.Errorf("docker push made the AWS calls %v, want one AssumeRoleWithWebIdentity and one GetAuthorizationToken", calls)
	}
	for name, mode := range map[string]os.FileMode{h.cache: os.ModeDir | 0o700, filepath.Join(h.cache, "tokens.json"): 0o600} {
		if fi, err := os.Stat(name); err != nil || fi.Mode() != mode {
			t.Errorf("token cache %s: %v, want mode %v", name, err, mode)
		}
	}

	// Pull, after removing the local copy: the cache answers.
	docker(t, "rmi", image)
	if res := dockerCLI(roleARN, "pull", image); res.code != 0 {
		t.Fatalf("docker pull through the credential helper: %s", f.redact(res))
	}
	if calls, _ := awsCalls(f.fake, mark); len(calls) != 0 {
		t.Errorf("docker pull made the AWS calls %v; the helper's token cache should have answered", calls)
	}
	if digests := strings.TrimSpace(docker(t, "image", "inspect", "--format", "{{range .RepoDigests}}{{.}} {{end}}", image)); !strings.HasPrefix(digests, f.host+"/imagetest/helper@sha256:") {
		t.Errorf("the pulled image has repo digests %q, want one from %s", digests, f.host)
	}

	// A role that does not trust the token: the push fails and says why.
	// The cache holds the other role's password, which must not be used.
	refused := f.host + "/imagetest/helper:" + randomName("refused-")
	docker(t, "tag", image, refused)
	t.Cleanup(func() { dockerQuiet("rmi", refused) })
	_, mark = awsCalls(f.fake, 0)
	res := dockerCLI(otherRepoRole, "push", refused)
	if res.code == 0 {
		t.Fatalf("docker push with role %s, which does not trust the token, worked", otherRepoRole)
	}
	out := res.stdout + res.stderr
	for _, want := range []string{"assume-role-denied", otherRepoRole} {
		if !strings.Contains(out, want) {
			t.Errorf("the failed push does not say %q: %s", want, f.redact(res))
		}
	}
	calls, _ = awsCalls(f.fake, mark)
	if calls["sts AssumeRoleWithWebIdentity AccessDenied"] == 0 || calls["ecr GetAuthorizationToken"] != 0 {
		t.Errorf("the push with the wrong role made the AWS calls %v, want a refused AssumeRoleWithWebIdentity and no GetAuthorizationToken", calls)
	}
}
