package app

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ecr-credentials/ecr-credentials/internal/dockerconfig"
	"github.com/ecr-credentials/ecr-credentials/internal/output"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
	"github.com/ecr-credentials/ecr-credentials/internal/runner"
)

// The main stage keeps the logout receipt in a 0600 file in the docker
// config directory and hands the post stage only a seal (that directory,
// the file's id and a secret nonce) through GITHUB_STATE. A STATE_receipt
// that did not come from our main stage (a workflow `env:`, an earlier
// step's GITHUB_ENV) therefore cannot name a program to run or a file to
// delete: see dockerconfig.Resume.

// saveLogoutReceipt stores the login's receipt for the post stage and
// queues its seal as step state under key. On error nothing is left
// behind.
func saveLogoutReceipt(key string, h *dockerconfig.Handle, fc *output.FileCommands) error {
	seal, err := h.Save()
	if err != nil {
		return problem.Wrap(problem.Internal, err, "saving the logout receipt failed", "")
	}
	b, err := json.Marshal(seal)
	if err == nil {
		err = fc.State(key, string(b))
	}
	if err != nil {
		_ = h.Forget()
		return problem.Wrap(problem.Internal, err, "saving the logout receipt failed", "")
	}
	return nil
}

// postSource is where the post stage finds a target's login when the
// runner passes no step state to a container action's post step (act and
// the runners built on it), and what it says about it.
type postSource struct {
	// dir holds the saved receipts; "" when there is no login to look for.
	dir string
	// file, if set, is the only file whose receipts count (those the
	// docker login's search found aside).
	file string
	// none is said when dir is not to be searched ("" says nothing).
	none string
	// noReceipt, noneTrusted and using are said when dir holds no receipt,
	// none to trust, or these (%s: file, else dir; using first takes the
	// plural ending).
	noReceipt, noneTrusted, using string
	// unusable and fix tell a dir whose receipts cannot be read.
	unusable, fix string
}

// postSource is where the runner without step state leaves s's login.
func (s *loginSink) postSource(e Env, where *runner.Runner) postSource {
	laidOut := where.PassesNoState()
	if s.docker() {
		dir := where.ExportedDockerConfig()
		src := postSource{
			none:        "No docker login to remove.",
			noReceipt:   "No saved step state (this runner passes none to a container action's post step) and no login receipt in DOCKER_CONFIG=%s: no docker login to remove.",
			noneTrusted: "No saved step state (this runner passes none to a container action's post step) and no login receipt to trust in DOCKER_CONFIG=%s: no docker login removed.",
			using:       "No saved step state (this runner passes none to a container action's post step): using the login receipt%s found in DOCKER_CONFIG=%s.",
			unusable:    "the docker login receipt in DOCKER_CONFIG cannot be used",
			fix:         "Remove the login by hand: delete the workspace's " + runner.ActDockerConfigDir + " directory.",
		}
		if dir != "" && laidOut {
			src.dir = dir
		}
		return src
	}
	// Only where step state is passed to none of the post steps: with it,
	// the main stage saved no auth file receipt.
	path := where.ExportedAuthFile()
	if e.Getenv("STATE_"+stateReceipt) != "" || path == "" || !filepath.IsAbs(path) ||
		filepath.Base(path) != dockerconfig.AuthFileName || !laidOut {
		return postSource{}
	}
	path = filepath.Clean(path)
	none := "No saved step state and no login receipt for REGISTRY_AUTH_FILE=%s: no registry auth file login to remove."
	return postSource{dir: filepath.Dir(path), file: path, noReceipt: none, noneTrusted: none,
		using:    "No saved step state (this runner passes none to a container action's post step): using the login receipt%s found beside REGISTRY_AUTH_FILE=%s.",
		unusable: "the registry auth file's login receipt beside REGISTRY_AUTH_FILE cannot be used",
		fix:      "Remove the login by hand: delete " + path + " (or its entries for the registries this step logged in to)."}
}

// postLogins finds what the post stage is to undo of s's login: the
// receipt the seal in its step state names, or, where the runner passes no
// step state to a container action's post step, the receipts saved where
// the main stage exported the login (DOCKER_CONFIG; beside
// REGISTRY_AUTH_FILE, an auth.json, only a receipt of that very file
// counts), none of found (those an earlier target's search found). A
// receipt the search did not trust is told once for each directory
// (searched). It says in the log which.
func (s *loginSink) postLogins(e Env, where *runner.Runner, con *output.Console, found []*dockerconfig.Handle, searched map[string]bool) ([]*dockerconfig.Handle, error) {
	key := s.stateKey()
	if state := e.Getenv("STATE_" + key); state != "" {
		h, err := sealedLogin(key, state)
		if err != nil {
			return nil, err
		}
		return []*dockerconfig.Handle{h}, nil
	}
	src := s.postSource(e, where)
	if src.dir == "" {
		if src.none != "" {
			con.Infof("%s", src.none)
		}
		return nil, nil
	}
	all, skipped, err := dockerconfig.Saved(src.dir, nil)
	shown := src.file
	if shown == "" {
		shown = src.dir
	}
	if errors.Is(err, dockerconfig.ErrNoSavedReceipt) {
		con.Infof(src.noReceipt, shown)
		return nil, nil
	}
	if err != nil {
		return nil, problem.Wrap(problem.DockerConfig, err, src.unusable, src.fix)
	}
	if dir := filepath.Clean(src.dir); !searched[dir] {
		searched[dir] = true
		warnSkippedReceipts(con, skipped) // else an earlier search warned about them
	}
	var hs []*dockerconfig.Handle
	for _, h := range all {
		if (src.file == "" || h.File() == src.file) && !slices.ContainsFunc(found, func(f *dockerconfig.Handle) bool { return f.Saved() == h.Saved() }) {
			hs = append(hs, h)
		}
	}
	if len(hs) == 0 && len(all) > 0 {
		return nil, nil // found by the docker login's search already, or none of this file's
	}
	if len(hs) == 0 {
		con.Infof(src.noneTrusted, shown)
		return nil, nil
	}
	con.Infof(src.using, plural(len(hs), "", "s"), shown)
	return hs, nil
}

// warnSkippedReceipts says, for each receipt-named file dockerconfig.Saved did
// not trust (one a checkout carries, say), why it was skipped: it undoes
// nothing, and keeps no other receipt from being undone.
func warnSkippedReceipts(con *output.Console, skipped []error) {
	for _, err := range skipped {
		con.Warnf("Skipped a login receipt this step does not trust (nothing it names was touched; if it is a login of ours, remove that by hand): %v", err)
	}
}

// sealedLogin resumes the login the seal in step state key (value state)
// names.
func sealedLogin(key, state string) (*dockerconfig.Handle, error) {
	var seal dockerconfig.Seal
	if err := json.Unmarshal([]byte(state), &seal); err != nil || seal.Nonce == "" {
		return nil, &problem.Problem{Code: problem.DockerConfig, Subject: "STATE_" + key,
			What: "the saved logout state is not one this action's main stage writes, so it is not trusted and nothing was undone",
			Fix:  "Do not set STATE_" + key + " in the workflow or through GITHUB_ENV; it is this action's own."}
	}
	h, err := dockerconfig.Resume(seal, nil)
	if err != nil {
		return nil, problem.Wrap(problem.DockerConfig, err, "the saved logout receipt cannot be used, so nothing was undone",
			"Do not set STATE_"+key+" in the workflow or through GITHUB_ENV; if the main stage's login is still there, remove it by hand.")
	}
	return h, nil
}

// postLogout undoes the logins the main stage left: the docker login's,
// then the registry auth file's, found by the same code (postLogins).
func postLogout(ctx context.Context, e Env, con *output.Console) error {
	where, err := runner.Detect(runner.Input{Getenv: e.Getenv})
	if err != nil {
		return err
	}
	var hs []*dockerconfig.Handle
	searched := map[string]bool{}
	l := newLoginSinks(true)
	for _, s := range []*loginSink{l.docker, l.authFile} {
		found, err := s.postLogins(e, where, con, hs, searched)
		if err != nil {
			return err
		}
		hs = append(hs, found...)
	}
	for _, h := range hs {
		if err := h.Undo(ctx); err != nil {
			return problem.Wrap(problem.DockerConfig, err, "removing the docker login failed", "Remove the entries by hand or let the runner clean up its temp directory.")
		}
		if err := h.Forget(); err != nil {
			con.Warnf("%v", err)
		}
		con.Infof("Removed the docker login for %s from %s.", strings.Join(h.Hosts(), ", "), h.File())
		removeOwnDockerConfigDir(h.Receipt())
	}
	return nil
}

// removeOwnDockerConfigDir removes the directory the main stage made in a
// shared workspace (runner.ActDockerConfigDir) once the logout left nothing in it
// but the lock file: it would otherwise stay in the user's checkout. A
// directory holding anything else is left alone.
func removeOwnDockerConfigDir(r *dockerconfig.Receipt) {
	dir := filepath.Dir(r.ConfigFile)
	if filepath.Base(dir) != runner.ActDockerConfigDir {
		return
	}
	if _, err := os.Lstat(r.ConfigFile); !errors.Is(err, fs.ErrNotExist) {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 || filepath.Join(dir, entries[0].Name()) != r.LockFile {
		return
	}
	if os.Remove(r.LockFile) == nil {
		_ = os.Remove(dir)
	}
}
