// Package dockerconfig logs the docker client in to registries by editing
// its configuration (config.json) directly, so that later CI steps can
// `docker pull` / `docker push` without a docker CLI or daemon in our image.
//
// It follows the docker CLI's own rules (github.com/docker/cli,
// cli/config and cli/config/credentials):
//
//   - The configuration directory is $DOCKER_CONFIG, else $HOME/.docker
//     (see Dir); the file is config.json inside it. A symlinked config.json
//     is followed and its target is replaced, as docker does.
//   - Credentials for a host are keyed by the bare host name in "auths"
//     (Docker Hub uses the historical key https://index.docker.io/v1/), as
//     {"auth": base64("user:password")}.
//   - If credHelpers[host] names a helper, or else credsStore does, docker
//     reads the host's credentials from docker-credential-<name>, not from
//     "auths". Login then stores through that helper's protocol and, like
//     docker, keeps an empty {} placeholder for the host in "auths".
//
// Editing is surgical: the existing file is never unmarshalled and
// re-marshalled. A small span editor (jsonedit.go) finds member
// boundaries in the already validated document and splices only the
// member it changes, so unknown keys, other entries, key order,
// indentation and CRLF line endings survive byte for byte, and new members
// copy the formatting of their neighbours. We wrote the editor instead of
// depending on tidwall/sjson because sjson appends new members without
// indentation (breaking docker-style files), and because we need
// encoding/json's own rules for which duplicate key wins, which is what
// docker sees.
//
// Writes are atomic (temporary file in the same directory, rename; synced
// when they replace a file, see internal/securefile), files are 0600 and
// created directories 0700, and every read-edit-write happens under an
// exclusive lock on config.json.lock (github.com/gofrs/flock) so
// concurrent jobs on one runner never lose each other's entries.
//
// Login returns a Handle that keeps the login for good (Keep), takes back
// exactly what it did (Undo), or saves its Receipt for a later process
// (Save), which finds it again (Resume, Saved) and undoes it there. Values
// that Login replaced are secrets, so they are kept in a 0600 backup file
// beside config.json, never in the Receipt; Keep and Undo remove it.
//
// Files: login.go writes a login, logout.go undoes one, backup.go keeps
// what it replaced, refresh.go and refreshdir.go are the helper a login
// that stays fresh leaves, receiptfile.go saves and checks receipts,
// handle.go is the API over them.
package dockerconfig
