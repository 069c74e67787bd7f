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
)

// The main stage keeps the logout receipt in a 0600 file in the docker
// config directory and hands the post stage only a seal (that directory,
// the file's id and a secret nonce) through GITHUB_STATE. A STATE_receipt
// that did not come from our main stage (a workflow `env:`, an earlier
// step's GITHUB_ENV) therefore cannot name a program to run or a file to
// delete: see dockerconfig.OpenReceipt.

// saveLogoutReceipt stores r for the post stage and queues its seal as
// step state under key. On error nothing is left behind.
func saveLogoutReceipt(key string, r *dockerconfig.Receipt, fc *output.FileCommands) (dockerconfig.Seal, error) {
	seal, err := dockerconfig.SaveReceipt(r)
	if err != nil {
		return dockerconfig.Seal{}, problem.Wrap(problem.Internal, err, "saving the logout receipt failed", "")
	}
	b, err := json.Marshal(seal)
	if err == nil {
		err = fc.State(key, string(b))
	}
	if err != nil {
		_ = dockerconfig.RemoveReceipt(seal)
		return dockerconfig.Seal{}, problem.Wrap(problem.Internal, err, "saving the logout receipt failed", "")
	}
	return seal, nil
}

// postLogins finds what the post stage is to undo: the receipt the seal in
// STATE_receipt names, or, where the runner passes no step state to a
// container action's post step (act and the runners built on it), the
// receipts saved in the exported DOCKER_CONFIG. It says in the log which.
func postLogins(e Env, con *output.Console) ([]*dockerconfig.Receipt, []dockerconfig.Seal, error) {
	state := e.Getenv("STATE_" + stateReceipt)
	if state == "" {
		dir := e.Getenv("DOCKER_CONFIG")
		layout := detectLayout(e)
		if dir == "" || (layout != layoutShared && layout != layoutAlone) {
			con.Infof("No docker login to remove.")
			return nil, nil, nil
		}
		rs, seals, skipped, err := dockerconfig.FindReceipts(dir, nil)
		if errors.Is(err, dockerconfig.ErrNoSavedReceipt) {
			con.Infof("No saved step state (this runner passes none to a container action's post step) and no login receipt in DOCKER_CONFIG=%s: no docker login to remove.", dir)
			return nil, nil, nil
		}
		if err != nil {
			return nil, nil, problem.Wrap(problem.DockerConfig, err, "the docker login receipt in DOCKER_CONFIG cannot be used", "Remove the login by hand: delete the workspace's "+actDockerConfigDir+" directory.")
		}
		warnSkippedReceipts(con, skipped)
		if len(rs) == 0 {
			con.Infof("No saved step state (this runner passes none to a container action's post step) and no login receipt to trust in DOCKER_CONFIG=%s: no docker login removed.", dir)
			return nil, nil, nil
		}
		con.Infof("No saved step state (this runner passes none to a container action's post step): using the login receipt%s found in DOCKER_CONFIG=%s.", plural(len(rs), "", "s"), dir)
		return rs, seals, nil
	}
	r, seal, err := sealedReceipt(stateReceipt, state)
	if err != nil {
		return nil, nil, err
	}
	return []*dockerconfig.Receipt{r}, []dockerconfig.Seal{seal}, nil
}

// postAuthFileLogins finds the registry auth file's login to undo: the
// receipt the seal in STATE_receipt_auth_file names, or, where the runner
// passes no step state at all (act and the runners built on it), the
// receipt saved beside the exported REGISTRY_AUTH_FILE (an auth.json, under
// the same layout condition, file and receipt checks as DOCKER_CONFIG's in
// postLogins; only a receipt of that very file counts, and none of found,
// the receipts postLogins found). It says in the log which.
func postAuthFileLogins(e Env, con *output.Console, found []dockerconfig.Seal) ([]*dockerconfig.Receipt, []dockerconfig.Seal, error) {
	if state := e.Getenv("STATE_" + stateAuthFileReceipt); state != "" {
		r, seal, err := sealedReceipt(stateAuthFileReceipt, state)
		if err != nil {
			return nil, nil, err
		}
		return []*dockerconfig.Receipt{r}, []dockerconfig.Seal{seal}, nil
	}
	path := e.Getenv("REGISTRY_AUTH_FILE")
	layout := detectLayout(e)
	if e.Getenv("STATE_"+stateReceipt) != "" || path == "" || !filepath.IsAbs(path) ||
		filepath.Base(path) != dockerconfig.AuthFileName || (layout != layoutShared && layout != layoutAlone) {
		return nil, nil, nil // step state is passed (the main stage saved no auth file receipt), or no login there
	}
	path = filepath.Clean(path)
	all, allSeals, skipped, err := dockerconfig.FindReceipts(filepath.Dir(path), nil)
	if err != nil && !errors.Is(err, dockerconfig.ErrNoSavedReceipt) {
		return nil, nil, problem.Wrap(problem.DockerConfig, err, "the registry auth file's login receipt beside REGISTRY_AUTH_FILE cannot be used",
			"Remove the login by hand: delete "+path+" (or its entries for the registries this step logged in to).")
	}
	if d := e.Getenv("DOCKER_CONFIG"); d == "" || filepath.Clean(d) != filepath.Dir(path) {
		warnSkippedReceipts(con, skipped) // else postLogins warned about them
	}
	var rs []*dockerconfig.Receipt
	var seals []dockerconfig.Seal
	for i, r := range all {
		if r.ConfigFile == path && !slices.Contains(found, allSeals[i]) {
			rs, seals = append(rs, r), append(seals, allSeals[i])
		}
	}
	if len(rs) == 0 && len(all) > 0 {
		return nil, nil, nil // found in DOCKER_CONFIG already, or none of this file's
	}
	if len(rs) == 0 {
		con.Infof("No saved step state and no login receipt for REGISTRY_AUTH_FILE=%s: no registry auth file login to remove.", path)
		return nil, nil, nil
	}
	con.Infof("No saved step state (this runner passes none to a container action's post step): using the login receipt%s found beside REGISTRY_AUTH_FILE=%s.", plural(len(rs), "", "s"), path)
	return rs, seals, nil
}

// warnSkippedReceipts says, for each receipt-named file FindReceipts did
// not trust (one a checkout carries, say), why it was skipped: it undoes
// nothing, and keeps no other receipt from being undone.
func warnSkippedReceipts(con *output.Console, skipped []error) {
	for _, err := range skipped {
		con.Warnf("Skipped a login receipt this step does not trust (nothing it names was touched; if it is a login of ours, remove that by hand): %v", err)
	}
}

// sealedReceipt opens the receipt the seal in step state key (value state)
// names.
func sealedReceipt(key, state string) (*dockerconfig.Receipt, dockerconfig.Seal, error) {
	var seal dockerconfig.Seal
	if err := json.Unmarshal([]byte(state), &seal); err != nil || seal.Nonce == "" {
		return nil, seal, &problem.Problem{Code: problem.DockerConfig, Subject: "STATE_" + key,
			What: "the saved logout state is not one this action's main stage writes, so it is not trusted and nothing was undone",
			Fix:  "Do not set STATE_" + key + " in the workflow or through GITHUB_ENV; it is this action's own."}
	}
	r, err := dockerconfig.OpenReceipt(seal, nil)
	if err != nil {
		return nil, seal, problem.Wrap(problem.DockerConfig, err, "the saved logout receipt cannot be used, so nothing was undone",
			"Do not set STATE_"+key+" in the workflow or through GITHUB_ENV; if the main stage's login is still there, remove it by hand.")
	}
	return r, seal, nil
}

// postLogout undoes the logins postLogins found.
func postLogout(ctx context.Context, e Env, con *output.Console) error {
	rs, seals, err := postLogins(e, con)
	if err != nil {
		return err
	}
	ars, aseals, err := postAuthFileLogins(e, con, seals)
	if err != nil {
		return err
	}
	rs, seals = append(rs, ars...), append(seals, aseals...)
	for i, r := range rs {
		if err := dockerconfig.Logout(ctx, r); err != nil {
			return problem.Wrap(problem.DockerConfig, err, "removing the docker login failed", "Remove the entries by hand or let the runner clean up its temp directory.")
		}
		if err := dockerconfig.RemoveReceipt(seals[i]); err != nil {
			con.Warnf("%v", err)
		}
		hosts := make([]string, len(r.Entries))
		for j, en := range r.Entries {
			hosts[j] = en.Host
		}
		con.Infof("Removed the docker login for %s from %s.", strings.Join(hosts, ", "), r.ConfigFile)
		removeOwnDockerConfigDir(r)
	}
	return nil
}

// removeOwnDockerConfigDir removes the directory the main stage made in a
// shared workspace (actDockerConfigDir) once the logout left nothing in it
// but the lock file: it would otherwise stay in the user's checkout. A
// directory holding anything else is left alone.
func removeOwnDockerConfigDir(r *dockerconfig.Receipt) {
	dir := filepath.Dir(r.ConfigFile)
	if filepath.Base(dir) != actDockerConfigDir {
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
