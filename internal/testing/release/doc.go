// Package release holds the tests of the release tooling; it has no code of
// its own.
//
// The tests lint every GitHub workflow and every example under docs/examples
// with actionlint (a Go tool dependency in go.mod), also against workflows
// that use the action both ways: built from the Dockerfile, as on main, and
// as the prebuilt image a release's action.yml runs. They check that
// third-party actions are pinned and that every job using the action may
// request an OIDC token. And they run GoReleaser (a tool dependency kept in
// goreleaser.mod, apart from go.mod) on .goreleaser.yaml: `goreleaser
// check`, and a snapshot release with publishing and signing skipped, whose
// binaries, archives and checksums are then inspected.
//
// The tests run inside a private network namespace (testenv.IsolateNetwork);
// GoReleaser is built before entering it, from the module cache or the
// module proxy. When a tool cannot be built the tests fail with CI=true and
// are skipped otherwise.
package release
