package imagetest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// newExpiringFixture is newFixture where ECR behaves as it does for real:
// every GetAuthorizationToken hands out a new password that lives ttl
// (and role sessions live ttl too), and the registry accepts exactly the
// passwords the emulator issued that have not expired.
func newExpiringFixture(t *testing.T, ttl time.Duration) *fixture {
	t.Helper()
	f := &fixture{fake: awsfake.New(awsfake.Options{TLS: true})}
	if err := f.fake.AddRole(awsfake.Role{ARN: roleARN, Subjects: []string{"repo:octo-org/octo-repo:*"}, ECR: true}); err != nil {
		t.Fatal(err)
	}
	f.fake.SetTokenTTL(ttl)
	f.fake.SetSessionTTL(ttl)
	if err := f.fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.fake.Close)
	backend := make([]byte, 48)
	if _, err := rand.Read(backend); err != nil {
		t.Fatal(err)
	}
	ca := testenv.NewCA(t)
	f.reg = testenv.StartRegistry(t, testenv.RegistryOptions{Password: base64.StdEncoding.EncodeToString(backend), TLS: true, CA: ca,
		Accept: func(p string) bool { return f.fake.RegistryPasswordValid(account, region, p) }})
	f.host = f.reg.Addr
	f.fake.MapRegistry(account, region, f.reg.URL)
	regCA, err := os.ReadFile(ca.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	f.bundle = append(append(f.fake.CertPEM(), '\n'), regCA...)
	return f
}

// registryAccepts reports whether the registry takes password (GET /v2/).
func registryAccepts(t *testing.T, f *fixture, password string) bool {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.reg.URL+"/v2/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("AWS", password)
	resp, err := f.reg.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// TestRefreshLoginOutlivesTheToken (issue 14, part 1): with refresh the
// container action leaves docker-credential-ecr-credentials on GITHUB_PATH
// (its host path, owned by the runner user) and names it in credHelpers
// beside the auths entry. The emulator issues role sessions and passwords
// that live a minute, and the registry takes only unexpired ones. Once the
// main stage's password has expired (the registry refuses it), a later
// host step's `docker push` still works: docker runs the helper, which
// logs in again (a new token request, AssumeRoleWithWebIdentity and
// GetAuthorizationToken in the call log). The post stage removes the
// entries and the helper; a push after it fails.
func TestRefreshLoginOutlivesTheToken(t *testing.T) {
	dockerBin := requireDocker(t)
	ref := builtImage(t)
	act := loadAction(t)
	f := newExpiringFixture(t, time.Minute)
	r := newFakeRunner(t, f.bundle)
	inputs := map[string]string{"role-to-assume": roleARN, "aws-region": region, "refresh": "true"}

	main := r.newStep()
	res := r.runAction(ref, act, stage{inputs: inputs, env: f.jobEnv(), step: main})
	if res.code != 0 {
		t.Fatalf("main stage: %s", f.redact(res))
	}
	f.assertNoLeaks(t, res)
	outputs := main.read(t, main.output)
	password := outputs["password"]
	env := main.read(t, main.env)
	dockerDir := filepath.Join(r.home, ".docker")
	if env["DOCKER_CONFIG"] != dockerDir {
		t.Fatalf("exported DOCKER_CONFIG = %q, want %q", env["DOCKER_CONFIG"], dockerDir)
	}
	refreshDir := filepath.Join(dockerDir, "ecr-credentials-refresh")
	binDir := filepath.Join(refreshDir, "bin")
	paths, err := os.ReadFile(main.path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(paths)) != binDir {
		t.Fatalf("GITHUB_PATH = %q, want the host path %s", paths, binDir)
	}
	if !strings.Contains(res.stdout, "added "+binDir+" to GITHUB_PATH") {
		t.Errorf("the log does not say which directory went to GITHUB_PATH:\n%s", f.redact(res).stdout)
	}
	helper := filepath.Join(binDir, "docker-credential-ecr-credentials")
	for p, mode := range map[string]os.FileMode{helper: 0o700, filepath.Join(refreshDir, "helper.json"): 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != runnerUID || fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, owner %d; want %v, the runner user %d", p, fi.Mode().Perm(), st.Uid, mode, runnerUID)
		}
	}
	settings, err := os.ReadFile(filepath.Join(refreshDir, "helper.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(settings), password) || !strings.Contains(string(settings), roleARN) {
		t.Errorf("helper.json holds the password, or not the role:\n%s", settings)
	}
	var cfg struct {
		Auths       map[string]struct{ Auth string } `json:"auths"`
		CredHelpers map[string]string                `json:"credHelpers"`
	}
	data, err := os.ReadFile(filepath.Join(dockerDir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.CredHelpers[f.host] != "ecr-credentials" || cfg.Auths[f.host].Auth == "" {
		t.Fatalf("config.json has credHelpers %v and auths for %d hosts; want %s in both", cfg.CredHelpers, len(cfg.Auths), f.host)
	}
	if !registryAccepts(t, f, password) {
		t.Fatal("the registry refuses the main stage's fresh password")
	}

	// An image to push, unique to this run.
	image := f.host + "/imagetest/refresh:" + randomName("t")
	content := filepath.Join(r.base, "refresh.txt")
	if err := os.WriteFile(content, []byte(randomName("pushed after the token expired ")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tw := newTarStream(t)
	tw.file("refresh.txt", content, 0o644)
	if res := tw.pipeTo(t, dockerBin, []string{"import", "-", image}); res.code != 0 {
		t.Fatalf("docker import: %s", res)
	}
	t.Cleanup(func() { dockerQuiet("rm", "--force", image); dockerQuiet("rmi", image) })

	// Wait until the main stage's password has expired: the registry
	// refuses it, as ECR would.
	deadline := time.Now().Add(3 * time.Minute)
	for registryAccepts(t, f, password) {
		if time.Now().After(deadline) {
			t.Fatal("the one-minute password is still accepted after three minutes")
		}
		time.Sleep(2 * time.Second)
	}
	mark := len(f.fake.Calls())

	// A later host step: the runner user, PATH with GITHUB_PATH's entry,
	// the job's environment (token request variables, endpoints).
	later := func(args ...string) cmdResult {
		t.Helper()
		e := []string{
			"PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
			"HOME=" + r.userHome,
			"DOCKER_CONFIG=" + env["DOCKER_CONFIG"],
			"SSL_CERT_FILE=" + r.bundle,
			"GITHUB_ACTIONS=true",
			"AWS_CONFIG_FILE=/nonexistent/aws-config",
			"AWS_SHARED_CREDENTIALS_FILE=/nonexistent/aws-credentials",
			"AWS_EC2_METADATA_DISABLED=true",
		}
		for k, v := range f.jobEnv() {
			e = append(e, k+"="+v)
		}
		if h := os.Getenv("DOCKER_HOST"); h != "" {
			e = append(e, "DOCKER_HOST="+h)
		}
		res := run(t, dockerBin, args, cmdOpts{env: e, dir: r.workspace, cred: runnerUser(t), secret: true})
		f.assertNoLeaks(t, res)
		return res
	}
	if res := later("push", image); res.code != 0 {
		t.Fatalf("docker push after the password expired: %s", f.redact(res))
	}
	calls, _ := awsCalls(f.fake, mark)
	if calls["oidc IDToken"] < 1 || calls["sts AssumeRoleWithWebIdentity"] < 1 || calls["ecr GetAuthorizationToken"] < 1 {
		t.Errorf("the push after expiry made the calls %v; want a new token, AssumeRoleWithWebIdentity and GetAuthorizationToken (the helper's refresh)", calls)
	}

	// Post stage: the entries and the helper go.
	post := r.newStep()
	postEnv := f.jobEnv()
	for k, v := range main.read(t, main.state) {
		postEnv["STATE_"+k] = v
	}
	res = r.runAction(ref, act, stage{entrypoint: act.Runs.PostEntrypoint, inputs: inputs, env: postEnv, step: post})
	if res.code != 0 {
		t.Fatalf("post stage: %s", f.redact(res))
	}
	if _, err := os.Stat(refreshDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the post stage left %s (%v)", refreshDir, err)
	}
	if data, err := os.ReadFile(filepath.Join(dockerDir, "config.json")); err == nil && strings.Contains(string(data), f.host) {
		t.Errorf("config.json still names %s after the post stage:\n%s", f.host, redactAuths(data))
	}
	if res := later("push", image); res.code == 0 {
		t.Errorf("docker push worked after the post stage removed the login")
	}
}

// TestPluginRefreshLoginOutlivesTheToken: the same for a plugin step, in
// Drone (as root in a root-owned workspace) and in Woodpecker (its CI_*
// and Drone-compatibility variables, a workspace owned by uid 1000 and
// later steps running as that user), with a web identity token file
// (relative to the workspace): the helper and its settings are left in the
// workspace, owned by the workspace's owner, and a later step (crane in its
// own container, with the PATH the log gives) pushes after the first
// password has expired, through the helper. With config.json's auths alone
// (no helper) the same push is refused.
func TestPluginRefreshLoginOutlivesTheToken(t *testing.T) {
	ref := builtImage(t)
	steps := stepImage(t, false)
	for _, tt := range []struct {
		ci       pluginCI
		uid, gid int
	}{
		{droneCI, 0, 0},
		{woodpeckerCI, 1000, 1000},
	} {
		t.Run(tt.ci.name, func(t *testing.T) {
			t.Parallel() // each waits a minute for its passwords to expire
			pluginRefreshOutlivesTheToken(t, ref, steps, tt.ci, tt.uid, tt.gid)
		})
	}
}

func pluginRefreshOutlivesTheToken(t *testing.T, ref, steps string, ci pluginCI, uid, gid int) {
	f := newExpiringFixture(t, time.Minute)
	idToken, err := f.fake.MintIDToken("sts.amazonaws.com", awsfake.WithSubject("repo:octo-org/octo-repo:ref:refs/heads/main"),
		awsfake.WithLifetime(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	const tokenRel = ".ci/web-identity-token"
	p := newPipeline(t, ci, uid, gid, f.bundle)
	p.writeFile(tokenRel, []byte(idToken+"\n"), 0o600)
	p.writeFile("layer.tar", layerTar(t, randomName("pushed after the token expired ")+"\n"), 0o644)

	env := f.pluginTestEnv()
	for k, v := range map[string]string{"region": region, "role_arn": roleARN, "token_file": tokenRel, "refresh": "true"} {
		env["PLUGIN_"+strings.ToUpper(k)] = v
	}
	res := p.run(pipelineStep{image: ref, env: env})
	if res.code != 0 {
		t.Fatalf("plugin step: %s", f.redact(res))
	}
	f.assertNoSecretAtAll(t, "the plugin step", res, idToken)
	if want := "as a " + ci.name + " plugin"; !strings.Contains(res.stdout+res.stderr, want) {
		t.Errorf("the log does not say %q:\n%s", want, f.redact(res).stdout)
	}
	bin := p.inWorkspace(".docker/ecr-credentials-refresh/bin")
	if want := "`export PATH=" + bin + ":$PATH`"; !strings.Contains(res.stdout+res.stderr, want) {
		t.Errorf("the log does not tell later steps %s:\n%s", want, f.redact(res).stdout)
	}
	assertOwnedPrivate(t, p, map[string]os.FileMode{
		".docker/ecr-credentials-refresh":                                       os.ModeDir | 0o700,
		".docker/ecr-credentials-refresh/helper.json":                           0o600,
		".docker/ecr-credentials-refresh/bin/docker-credential-ecr-credentials": 0o700,
	})
	settings, err := os.ReadFile(filepath.Join(p.workspace, ".docker/ecr-credentials-refresh/helper.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(settings), `"`+p.inWorkspace(tokenRel)+`"`) {
		t.Errorf("helper.json does not name the token file by its absolute path %s:\n%s", p.inWorkspace(tokenRel), settings)
	}

	// Wait until every password issued so far has expired.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		valid := false
		for _, s := range f.fake.Issued() {
			valid = valid || f.fake.RegistryPasswordValid(account, region, s)
		}
		if !valid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a one-minute password is still accepted after three minutes")
		}
		time.Sleep(2 * time.Second)
	}

	// auths alone: the expired password is refused.
	data, err := os.ReadFile(filepath.Join(p.workspace, ".docker", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	delete(cfg, "credHelpers")
	authsOnly, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.writeFile(".docker-auths-only/config.json", authsOnly, 0o600)
	image := f.host + "/imagetest/plugin-refresh:" + randomName("t")
	laterUser := ""
	if uid != 0 {
		laterUser = fmt.Sprintf("%d:%d", uid, gid)
	}
	push := func(dockerConfig string) cmdResult {
		e := f.pluginTestEnv()
		e["DOCKER_CONFIG"] = dockerConfig
		e["PATH"] = bin
		res := p.run(pipelineStep{image: steps, user: laterUser, env: e, args: []string{"append", "-f", p.inWorkspace("layer.tar"), "-t", image}})
		f.assertNoSecretAtAll(t, "the later step", res, idToken)
		return res
	}
	if res := push(p.inWorkspace(".docker-auths-only")); res.code == 0 {
		t.Errorf("the push with the expired password of auths worked: the registry should refuse it")
	}

	mark := len(f.fake.Calls())
	if res := push(p.inWorkspace(".docker")); res.code != 0 {
		t.Fatalf("crane append through the helper after the password expired: %s", f.redact(res))
	}
	calls, _ := awsCalls(f.fake, mark)
	if calls["sts AssumeRoleWithWebIdentity"] < 1 || calls["ecr GetAuthorizationToken"] < 1 {
		t.Errorf("the push after expiry made the calls %v; want AssumeRoleWithWebIdentity and GetAuthorizationToken (the helper's refresh)", calls)
	}
}
