package dockerconfig

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
)

// RefreshDirName is the directory, in the docker config directory, where a
// login that stays fresh (Options.Refresh) keeps the credential
// helper binaries, their settings and their token cache.
const RefreshDirName = "ecr-credentials-refresh"

// RefreshHelperName is the credHelpers name of the first refresh login in a
// docker config directory; a later login there (another step of the job,
// with other roles) takes RefreshHelperName-2, -3, ... so that each host's
// credHelpers entry names the helper, and so the settings, it was logged in
// with, and a logout leaves the other logins' helpers alone.
const RefreshHelperName = "ecr-credentials"

// RefreshHelperFiles are the helper binary and its settings file for the
// refresh helper name in the refresh directory dir:
// bin/docker-credential-<name> (.exe on Windows) and helper.json for
// RefreshHelperName, helper-<n>.json for RefreshHelperName-<n>.
func RefreshHelperFiles(dir, name string) (bin, settings string) {
	settings = "helper.json"
	if n, ok := strings.CutPrefix(name, RefreshHelperName+"-"); ok {
		settings = "helper-" + n + ".json"
	}
	return filepath.Join(dir, "bin", HelperPrefix+name+exeSuffix(runtime.GOOS)), filepath.Join(dir, settings)
}

// HelperNameOf is the credential helper name a program file called base
// answers to: base without docker-credential- and, on Windows, .exe
// (docker-credential-ecr-credentials-2.exe is ecr-credentials-2).
func HelperNameOf(base string) string { return helperNameOf(runtime.GOOS, base) }

func helperNameOf(goos, base string) string {
	if suffix := exeSuffix(goos); suffix != "" && strings.HasSuffix(strings.ToLower(base), suffix) {
		base = base[:len(base)-len(suffix)]
	}
	return strings.TrimPrefix(base, HelperPrefix)
}

// exeSuffix is what a program's file name ends with on goos: on Windows
// docker finds docker-credential-<name> only as an .exe (PATHEXT), as
// exec.LookPath does for the helpers Login stores through.
func exeSuffix(goos string) string {
	if goos == "windows" {
		return ".exe"
	}
	return ""
}

// isRefreshHelperName tells the names RefreshHelperFiles is for.
func isRefreshHelperName(name string) bool {
	n, ok := strings.CutPrefix(name, RefreshHelperName+"-")
	if !ok {
		return name == RefreshHelperName
	}
	return n != "" && strings.Trim(n, "0123456789") == ""
}

// removeRefreshDir deletes the helpers r's entries name from r's refresh
// directory, if any, and the directory with its token cache once no other
// login's helper is left in it (see removeRefreshHelpers).
func removeRefreshDir(r *Receipt) error {
	if r.RefreshDir == "" || filepath.Base(r.RefreshDir) != RefreshDirName {
		return nil
	}
	var names []string
	done := map[string]bool{}
	for _, e := range r.Entries {
		if done[e.RefreshHelper] || !isRefreshHelperName(e.RefreshHelper) {
			continue
		}
		done[e.RefreshHelper] = true
		names = append(names, e.RefreshHelper)
	}
	return removeRefreshHelpers(r.RefreshDir, names)
}

// restoreCredHelpers undoes the credHelpers entries Login named its
// refresh helper in, where they still name it, and the credHelpers member
// if Login added it.
func restoreCredHelpers(r *Receipt, bk *backup, doc []byte) ([]byte, error) {
	var err error
	for _, e := range r.Entries {
		if e.RefreshHelper == "" {
			continue
		}
		raw, ok, gerr := getEntry(doc, credHelpersMember, e.Key)
		if gerr != nil {
			return nil, fmt.Errorf("docker logout: %s: %w", r.ConfigFile, gerr)
		}
		ours, _ := json.Marshal(e.RefreshHelper)
		if !ok || canonicalHash(raw) != canonicalHash(ours) {
			continue // gone or changed by someone else since: leave it
		}
		if doc, err = restoreEntry(doc, credHelpersMember, e.Key, bk.PrevCredHelpers[e.Key]); err != nil {
			return nil, fmt.Errorf("docker logout: %s: %w", r.ConfigFile, err)
		}
	}
	if r.CredHelpersAdded || r.CredHelpersWasNull {
		if doc, err = dropEmptyMap(doc, credHelpersMember, r.CredHelpersWasNull); err != nil {
			return nil, fmt.Errorf("docker logout: %s: %w", r.ConfigFile, err)
		}
	}
	return doc, nil
}
