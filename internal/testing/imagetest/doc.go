// Package imagetest checks the real container image: it builds it offline
// from the repository's Dockerfile (with a Go base image assembled from the
// host's toolchain and module cache, because this machine cannot pull
// images), checks what the image holds, and runs it the way the GitHub
// runner runs a container action: the same `docker run` flags, mounts,
// `-e NAME` environment with runner-translated paths, working directory,
// arguments and post entrypoint that actions/runner's ContainerActionHandler
// and DockerCommandManager use. Later host and container steps then use the
// exported login with the real docker CLI, skopeo and crane against a real
// password-protected registry. It also runs the image as Drone and
// Woodpecker run a plugin step (later step containers then use the login
// and the variables it left in the workspace), and has the host's docker
// CLI push and pull through the program as its credential helper.
//
// The package holds tests only. They drive the Docker Engine, whose daemon
// lives in the host's network namespace, so unlike internal/testing/e2e they do not
// isolate the network: every address they use is on loopback, containers
// run with --network host (instead of the job network the runner uses) and
// a resolv.conf that points at 127.0.0.1, so a stray DNS lookup fails at
// once. Without docker the tests are skipped, or fail when CI=true.
package imagetest
