package dockerconfig

import (
	"context"
	"path/filepath"
)

// Target is the file a login goes to, and what differs between the two:
// docker's config.json (DockerConfig) and a containers registry auth file
// (AuthFile, read by podman, buildah and skopeo), which has the same
// "auths" form and is edited, kept and undone the same way.
type Target struct {
	// File is the file's usual name in its directory (Options.File), the
	// only one a saved receipt may name (a registry auth file may have
	// another name when no receipt is saved).
	File string
	// Env is the variable later tools find the login by: DOCKER_CONFIG
	// names the directory, REGISTRY_AUTH_FILE the file (EnvNamesFile).
	Env          string
	EnvNamesFile bool
	// Refresh tells whether a login that stays fresh (Options.Refresh,
	// credHelpers naming our helper) may go there.
	Refresh bool
}

// The two targets.
var (
	DockerConfig = Target{File: ConfigFileName, Env: "DOCKER_CONFIG", Refresh: true}
	AuthFile     = Target{File: AuthFileName, Env: "REGISTRY_AUTH_FILE", EnvNamesFile: true}
)

// EnvValue is the value of t.Env for a login to file: its directory for
// DOCKER_CONFIG, the file itself for REGISTRY_AUTH_FILE.
func (t Target) EnvValue(file string) string {
	if t.EnvNamesFile {
		return file
	}
	return filepath.Dir(file)
}

// A Handle is one login Login wrote (or Resume and Saved found again), and
// the ways it ends: Keep it for good, Undo it, or Save its receipt for a
// later process (a CI post step) that Resumes it and undoes it there.
type Handle struct {
	r *Receipt
	// seal opens the saved receipt (Save, Resume, Saved); its ID is ""
	// while none is saved.
	seal Seal
}

// Login writes creds into the file opts names in opts.Dir (docker's
// config.json unless opts.File says otherwise) so that docker (and tools
// reading its config) authenticate to each host. Hosts routed to a
// credential helper by credHelpers/credsStore are stored through that
// helper. On error nothing is left changed. The Handle keeps, undoes or
// saves the login.
func Login(ctx context.Context, opts Options, creds []Credential) (*Handle, error) {
	r, err := login(ctx, opts, creds)
	if err != nil {
		return nil, err
	}
	return &Handle{r: r}, nil
}

// Receipt is what the login changed (no secrets): the file it edited, the
// hosts, the refresh directory. It is not to be changed.
func (h *Handle) Receipt() *Receipt { return h.r }

// File is the file the login edited, after following symlinks.
func (h *Handle) File() string { return h.r.ConfigFile }

// Hosts are the registry hosts the login wrote, in the order given.
func (h *Handle) Hosts() []string {
	hosts := make([]string, len(h.r.Entries))
	for i, e := range h.r.Entries {
		hosts[i] = e.Host
	}
	return hosts
}

// Keep keeps the login for good: it deletes the backup of what the login
// replaced (which holds the previous credentials), so nothing secret is
// left behind for a logout that will never come (a CLI login, a plugin
// step, skip-logout). Undo cannot take the login back afterwards.
func (h *Handle) Keep() error { return discard(h.r) }

// Undo takes the login back: entries it added are removed, values it
// replaced are restored (from the backup file, which is then deleted). If
// the file is still exactly as the login left it, its original bytes and
// mode come back (or it is deleted if the login created it). Otherwise
// only the entries that still hold the login's values are undone, so
// changes other tools made in between survive. Undo may be retried after
// an error; a second Undo of the same login fails without changing
// anything. A saved receipt stays until Forget.
func (h *Handle) Undo(ctx context.Context) error { return logout(ctx, h.r) }

// Save stores the login's receipt (mode 0600, exclusively created) beside
// the file it edited and returns the Seal that Resume opens it with. The
// Seal's Nonce is a secret. Forget removes the saved receipt.
func (h *Handle) Save() (Seal, error) {
	s, err := saveReceipt(h.r)
	if err != nil {
		return Seal{}, err
	}
	h.seal = s
	return s, nil
}

// Forget removes the saved receipt, if any (after Undo, or when the login
// was undone or kept here and no later process is to find it).
func (h *Handle) Forget() error {
	if h.seal.ID == "" {
		return nil
	}
	return removeReceipt(h.seal)
}

// Saved is the Seal of the saved receipt (Save, Resume, Saved); its ID is
// "" if none.
func (h *Handle) Saved() Seal { return h.seal }

// Resume opens the login the receipt s names was saved from (Save, in
// this or another process), after checking it: the file is a regular file
// owned by this user and readable by no one else, it holds s.Nonce, and
// every path in the receipt lies in s.Dir with the names Login gives them.
// Credential helpers are looked up again by name with lookPath (nil:
// exec.LookPath); a path stored in the receipt is never run.
func Resume(s Seal, lookPath func(string) (string, error)) (*Handle, error) {
	r, err := openSealed(s, lookPath)
	if err != nil {
		return nil, err
	}
	return &Handle{r: r, seal: s}, nil
}

// Saved opens every login whose receipt is saved in dir, newest first, for
// a post step that got no Seal (a runner that passes no step state).
// Without a nonce, trust rests on the file checks and the receipt checks
// of Resume alone. A receipt-named file that fails them (one a checkout
// carries, with the mode git gives it) is skipped, with the reason in
// skipped, so that it cannot keep the others from being undone.
// ErrNoSavedReceipt means dir holds no receipt-named file at all.
func Saved(dir string, lookPath func(string) (string, error)) (hs []*Handle, skipped []error, err error) {
	rs, seals, skipped, err := findReceipts(dir, lookPath)
	for i, r := range rs {
		hs = append(hs, &Handle{r: r, seal: seals[i]})
	}
	return hs, skipped, err
}
