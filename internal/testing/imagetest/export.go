package imagetest

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
)

// What other test packages (internal/testing/engines runs this image under
// real CI engines) use of this package: the image built once per test
// process, the docker CLI and image helpers.

// BuiltImage returns the tag of the image built offline from the
// repository's Dockerfile, once per test process; the test fails if it
// cannot be built (or is skipped without docker, unless CI=true). Call
// RemoveBuiltImage from TestMain.
func BuiltImage(t testing.TB) string { return builtImage(t) }

// RemoveBuiltImage removes the image BuiltImage made, if any.
func RemoveBuiltImage() { removeBuiltImage() }

// RequireDocker returns the docker CLI's path once the Docker Engine has
// answered; without it the test fails when CI=true and is skipped
// otherwise.
func RequireDocker(t testing.TB) string { return requireDocker(t) }

// Docker runs the docker CLI and fails the test unless it succeeds.
func Docker(t testing.TB, args ...string) string { return docker(t, args...) }

// DockerQuiet runs the docker CLI and ignores the outcome (for cleanup).
func DockerQuiet(args ...string) { dockerQuiet(args...) }

// RandomName returns prefix plus 12 random hex digits.
func RandomName(prefix string) string { return randomName(prefix) }

// StaticBusybox returns the path of a statically linked busybox.
func StaticBusybox(t testing.TB) string { return staticBusybox(t) }

// LoopbackResolvConf writes dir/resolv.conf naming only 127.0.0.1.
func LoopbackResolvConf(t testing.TB, dir string) string { return loopbackResolvConf(t, dir) }

// ImportImage makes the image ref with `docker import` from nothing but
// files (path in the image -> host file, all mode 0755), links (path ->
// target) and an empty /tmp, with the given --change instructions. It is
// removed when the test ends.
func ImportImage(t testing.TB, ref string, files, links map[string]string, changes ...string) {
	t.Helper()
	tw := newTarStream(t)
	tw.dir("tmp", 0o1777)
	dirs := map[string]bool{}
	var names []string
	for name := range files {
		names = append(names, name)
	}
	for name := range links {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for d := filepath.Dir(name); d != "." && d != "/" && !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	var ds []string
	for d := range dirs {
		ds = append(ds, d)
	}
	sort.Strings(ds) // parents first
	for _, d := range ds {
		tw.dir(d, 0o755)
	}
	for _, name := range names {
		if src, ok := files[name]; ok {
			tw.file(name, src, 0o755)
		} else {
			tw.symlink(name, links[name])
		}
	}
	args := []string{"import"}
	for _, c := range changes {
		args = append(args, "--change", c)
	}
	if res := tw.pipeTo(t, requireDocker(t), append(args, "-", ref)); res.code != 0 {
		t.Fatalf("docker import of %s: %s", ref, res)
	}
	t.Cleanup(func() { dockerQuiet("rmi", ref) })
}

// loopbackResolvConf writes dir/resolv.conf naming only 127.0.0.1 as the
// name server (nothing answers there), for containers that run with
// --network host: a stray DNS lookup of a real AWS host fails at once
// instead of leaving the machine.
func loopbackResolvConf(t testing.TB, dir string) string {
	t.Helper()
	resolv := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return resolv
}

// ContainerAWSEnv is what a container run by these tests gets besides its
// own settings: the emulator's endpoints in place of AWS's, caBundle (a
// path inside the container) as the AWS CA bundle, and no way to the
// host's AWS files or to the instance metadata service (--network host
// would reach a real one on an EC2 machine).
func ContainerAWSEnv(fake *awsfake.Server, caBundle string) map[string]string {
	env := map[string]string{
		"AWS_CA_BUNDLE":               caBundle,
		"AWS_CONFIG_FILE":             "/nonexistent/aws-config",
		"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
		"AWS_EC2_METADATA_DISABLED":   "true",
	}
	for k, v := range fake.Env() {
		if strings.HasPrefix(k, "AWS_ENDPOINT_URL") {
			env[k] = v
		}
	}
	return env
}
