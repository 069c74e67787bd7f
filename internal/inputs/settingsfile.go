package inputs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"

	"github.com/ecr-credentials/ecr-credentials/internal/problem"
	"github.com/ecr-credentials/ecr-credentials/internal/securefile"
)

// SettingsFile is the small JSON file the credential helper reads its
// settings from: the one a refresh login leaves beside the helper binary
// (refresh setting), or one a developer writes (ECR_CREDENTIALS_CONFIG):
//
//	{"settings": {"aws-region": "eu-west-1",
//	              "registries": "111111111111.dkr.ecr.eu-west-1.amazonaws.com=profile:dev\n222222222222=arn:aws:iam::222222222222:role/pull"}}
//
// In the file, settings are named as in the settings table (the GitHub
// input names) and take the values their flags take; they count as
// explicitly given.
type SettingsFile struct {
	// Settings are the settings' values, by setting.
	Settings map[*Setting]string
	// CacheDir is the helper's token cache, relative to the file's
	// directory unless absolute ("" for the default).
	CacheDir string
	// DroppableTags are keys of the role-session-tags setting that may be
	// dropped when STS finds the tags too large (the convenience tags
	// GitHub mode adds; see Config.DroppableTags).
	DroppableTags []string
}

// settingsFileJSON is a SettingsFile as the file holds it: settings by name.
type settingsFileJSON struct {
	Settings      map[string]string `json:"settings"`
	CacheDir      string            `json:"cacheDir,omitempty"`
	DroppableTags []string          `json:"droppableTags,omitempty"`
}

// Apply gives c what the file says beyond settings.
func (f *SettingsFile) Apply(c *Config) {
	if len(f.DroppableTags) == 0 {
		return
	}
	c.DroppableTags = map[string]bool{}
	for _, k := range f.DroppableTags {
		c.DroppableTags[k] = true
	}
}

// Encode is the file's content, as WriteSettingsFile writes it.
func (f *SettingsFile) Encode() ([]byte, error) {
	j := settingsFileJSON{CacheDir: f.CacheDir, DroppableTags: f.DroppableTags}
	if f.Settings != nil {
		j.Settings = map[string]string{}
		for s, v := range f.Settings {
			j.Settings[s.Name] = v
		}
	}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ReadSettingsFile reads and checks a settings file. A missing file is
// fs.ErrNotExist (wrapped).
func ReadSettingsFile(path string) (*SettingsFile, error) {
	b, _, err := securefile.ReadRegular(path, securefile.ReadLimitSmall) // not a pipe or device: it would block or never end
	if errors.Is(err, securefile.ErrNotRegular) || errors.Is(err, securefile.ErrTooLarge) {
		return nil, &problem.Problem{Code: problem.InvalidSetting, Subject: "settings file " + path, Err: err,
			What: "it is not a regular file of a JSON object, so it was not read",
			Fix:  "Make it a regular JSON file, or unset ECR_CREDENTIALS_CONFIG."}
	}
	if err != nil {
		return nil, fmt.Errorf("settings file %s: %w", path, err)
	}
	var j settingsFileJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, &problem.Problem{Code: problem.InvalidSetting, Subject: "settings file " + path,
			What: "it is not a JSON object of the form {\"settings\": {\"<setting>\": \"<value>\"}}",
			Fix:  "Fix the file, or unset ECR_CREDENTIALS_CONFIG."}
	}
	f := SettingsFile{CacheDir: j.CacheDir, DroppableTags: j.DroppableTags}
	if j.Settings != nil {
		f.Settings = map[*Setting]string{}
	}
	var names []string
	for name := range j.Settings {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s, ok := ByName(name)
		if !ok || !s.Modes.Has(CLI) || len(s.Flag) == 0 {
			return nil, &problem.Problem{Code: problem.UnknownSetting, Subject: "settings file " + path,
				What: fmt.Sprintf("%q is not a setting the credential helper takes", name),
				Fix:  "Use the setting names of docs/settings.md (as for GitHub inputs), e.g. aws-region, role-to-assume, registries."}
		}
		f.Settings[s] = j.Settings[name]
	}
	if f.CacheDir != "" && !filepath.IsAbs(f.CacheDir) {
		f.CacheDir = filepath.Join(filepath.Dir(path), f.CacheDir)
	}
	return &f, nil
}

// Flags turns the file's settings into the flags of Source.Flags.
func (f *SettingsFile) Flags() Flags {
	flags := Flags{}
	for s, v := range f.Settings {
		if len(s.Flag) > 0 {
			flags.Set(s, s.Flag[0], v)
		}
	}
	return flags
}

// WriteSettingsFile writes f to path, mode 0600 whatever a file already
// there had (it may hold static keys), replacing it atomically.
func WriteSettingsFile(path string, f *SettingsFile) error {
	b, err := f.Encode()
	if err != nil {
		return err
	}
	return securefile.WriteAtomic(path, b, 0o600, -1, -1, false)
}

// IsNotExist reports whether err says a settings file does not exist.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
