// Package engines runs the real image under real CI engines that this
// project did not write: nektos/act (the base of Gitea's and Forgejo's
// Actions runners), the Woodpecker CLI and drone-runner-docker, each built
// once per test run from the Go module proxy at a fixed version. Every
// pipeline logs in with the image, then a later step pushes to a real
// password-protected registry with that login. Under act the native form
// of the action (native/, a node action) runs too, in a job image with node
// (TestActNative).
//
// The package holds tests only. The engines run inside a network namespace
// of their own (`unshare -n`): they reach nothing but the Docker Engine's
// unix socket. The containers they start run in the host's network
// namespace with --network host, a resolv.conf naming only 127.0.0.1 and
// the AWS endpoints pointed at the emulator (internal/testing/awsfake), so
// every address they use is on loopback; ECR hosts are mapped to the local
// registry by the emulator's proxyEndpoint. Without docker, or an engine
// that cannot be built, the tests are skipped, or fail when CI=true.
package engines
