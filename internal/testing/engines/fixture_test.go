package engines

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/imagetest"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

const (
	account = "123456789012"
	region  = "eu-west-1"
	// siteDir is where every container of these pipelines sees the test's
	// files (CA bundle, image layer to push), mounted read-only.
	siteDir = "/ecr-test"
)

// fixture is one emulated AWS account whose ECR registry is a real
// password-protected registry (both TLS, on loopback), an IAM user whose
// static keys the pipelines use (act, Gitea and Woodpecker give no OIDC
// token), the image under test and an image for later steps (busybox sh
// and crane).
type fixture struct {
	fake       *awsfake.Server
	reg        *testenv.Registry
	host       string // the registry as image references name it
	password   string
	key        awsfake.AccessKey
	image      string // the ecr-credentials image (newFixture)
	stepImage  string // busybox + crane, for the job and later steps (newFixture)
	site       string // host directory mounted at siteDir
	resolvConf string // names only 127.0.0.1
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := newAccount(t)
	f.image = imagetest.BuiltImage(t)
	f.stepImage = "ecr-credentials-engines-step:" + imagetest.RandomName("t")
	links := map[string]string{}
	for _, l := range []string{"sh", "tail", "sleep", "cat", "sha256sum", "base64", "test", "ls", "env", "mkdir", "rm"} {
		links["bin/"+l] = "busybox"
	}
	imagetest.ImportImage(t, f.stepImage, map[string]string{
		"bin/busybox":         imagetest.StaticBusybox(t),
		"usr/local/bin/crane": testenv.Crane(t),
	}, links, "ENV PATH=/usr/local/bin:/bin", `CMD ["/bin/sh"]`)
	return f
}

// newAccount is a fixture without the images: the emulated account, its
// registry and the files mounted at siteDir.
func newAccount(t *testing.T) *fixture {
	t.Helper()
	imagetest.RequireDocker(t)
	pw := make([]byte, 1200)
	if _, err := rand.Read(pw); err != nil {
		t.Fatal(err)
	}
	f := &fixture{password: base64.StdEncoding.EncodeToString(pw)} // as long as ECR's
	f.fake = awsfake.New(awsfake.Options{TLS: true})
	if err := f.fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.fake.Close)
	key, err := f.fake.AddAccessKey(awsfake.AccessKey{UserARN: "arn:aws:iam::" + account + ":user/ci", ECR: true})
	if err != nil {
		t.Fatal(err)
	}
	f.key = key
	ca := testenv.NewCA(t)
	f.reg = testenv.StartRegistry(t, testenv.RegistryOptions{Password: f.password, TLS: true, CA: ca})
	f.host = f.reg.Addr
	f.fake.MapRegistry(account, region, f.reg.URL)
	f.fake.SetRegistryPassword(account, region, f.password)
	regCA, err := os.ReadFile(ca.CertFile)
	if err != nil {
		t.Fatal(err)
	}

	f.site, err = os.MkdirTemp("", "engines-site-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(f.site) })
	must(t, os.Chmod(f.site, 0o755))
	must(t, os.WriteFile(filepath.Join(f.site, "ca.pem"), append(append(f.fake.CertPEM(), '\n'), regCA...), 0o644))
	must(t, os.WriteFile(filepath.Join(f.site, "layer.tar"), layerTar(t, imagetest.RandomName("pushed by a later step ")+"\n"), 0o644))
	f.resolvConf = imagetest.LoopbackResolvConf(t, f.site)
	return f
}

// stepEnv is what every container of a pipeline gets: the emulator's
// endpoints in place of AWS's and the test CAs (imagetest.ContainerAWSEnv).
func (f *fixture) stepEnv() map[string]string {
	env := imagetest.ContainerAWSEnv(f.fake, siteDir+"/ca.pem")
	env["SSL_CERT_FILE"] = siteDir + "/ca.pem"
	return env
}

// secrets are the values no log may show unmasked.
func (f *fixture) secrets() []string {
	return append([]string{f.password, f.key.Secret}, f.fake.Issued()...)
}

// assertNoSecret checks that no secret appears in text.
func (f *fixture) assertNoSecret(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range f.secrets() {
		if len(s) >= 8 && strings.Contains(text, s) {
			t.Errorf("%s shows a secret (%d characters)", what, len(s))
		}
	}
}

// redact blanks the secrets in text, for failure messages.
func (f *fixture) redact(text string) string {
	for _, s := range f.secrets() {
		if len(s) >= 6 {
			text = strings.ReplaceAll(text, s, "***")
		}
	}
	return text
}

// assertPushed checks that the registry holds ref, read with the
// registry's password by a client of our own (crane on the host).
func (f *fixture) assertPushed(t *testing.T, ref string) {
	t.Helper()
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte("AWS:" + f.password))
	must(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{"`+f.host+`":{"auth":"`+auth+`"}}}`), 0o600))
	stdout, stderr, code := run(t, "", []string{"DOCKER_CONFIG=" + dir, "SSL_CERT_FILE=" + filepath.Join(f.site, "ca.pem"), "HOME=" + dir}, 2*time.Minute, testenv.Crane(t), "digest", ref)
	if code != 0 || !strings.HasPrefix(strings.TrimSpace(stdout), "sha256:") {
		t.Errorf("the registry does not hold %s (crane digest: exit %d, %s%s)", ref, code, stdout, f.redact(stderr))
	}
}

// layerTar returns an image layer: a tar of one file with content.
func layerTar(t *testing.T, content string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	h := &tar.Header{Name: "hello.txt", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(content)), ModTime: time.Unix(946684800, 0)}
	must(t, w.WriteHeader(h))
	_, err := w.Write([]byte(content))
	must(t, err)
	must(t, w.Close())
	return b.Bytes()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
