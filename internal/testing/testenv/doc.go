// Package testenv stands up real software for end-to-end tests of
// ecr-credentials: a throw-away certificate authority, a real local
// container registry (Debian's docker-registry), the crane and skopeo
// clients, a private network namespace that keeps stray traffic on the
// machine, a runner that starts our binaries with a clean environment the
// way a CI runner would, and parsers that read GitHub Actions file commands
// (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STATE) and workflow commands
// (::add-mask:: and friends) exactly as actions/runner does.
//
// The package is imported only by tests. Everything it starts is bound to
// loopback and torn down through t.Cleanup.
//
// # Network isolation
//
// End-to-end test packages call IsolateNetwork from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.IsolateNetwork(m)) }
//
// The test binary then re-executes itself inside `unshare --net`, a fresh
// network namespace that has nothing but a loopback interface, so a DNS
// lookup or a connection to a real AWS endpoint fails at once instead of
// leaving the machine. Packages whose tests drive the Docker Engine must not
// do this: the daemon lives in the host's namespace and could not reach a
// registry listening on the test's private loopback.
//
// # External tools
//
// Tools come from Debian packages (docker-registry, skopeo, util-linux for
// unshare, iproute2 for ip). When one is missing a test fails if CI=true and
// is skipped otherwise; the message names the package to apt-get install.
// crane is built from the module's tool dependency with `go build`, so it
// needs only the module cache (run `go mod download` before entering a
// namespace without network).
package testenv
