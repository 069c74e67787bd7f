package inputs

import (
	"fmt"
	"strings"
	"time"
)

// Setting describes one setting in every CI it can be given in.
type Setting struct {
	// Name is the canonical name and the GitHub input name (kebab-case).
	Name string
	// Plugin lists the Drone/Woodpecker setting names (snake_case, without
	// the PLUGIN_ prefix); the first is the documented one, the rest are
	// accepted aliases.
	Plugin []string
	// Flag lists the CLI flag names (without dashes); the first is documented.
	Flag []string
	// Env lists environment variables consulted, in order, when the setting
	// is not given explicitly.
	Env []string
	// Default is the value when nothing else gives one. ModeDefault overrides
	// it per mode. A default described in words (derived at run time) is in
	// DefaultDoc instead.
	Default     string
	ModeDefault map[Mode]string
	DefaultDoc  string
	// Doc is one or two sentences for action.yml, docs/settings.md and --help;
	// its first sentence is the summary in the settings tables. Environment
	// fallbacks (Env) are added by the generators: do not repeat them here.
	Doc string
	// Kind is the value's type; it chooses the parser (see Kind).
	Kind Kind
	// Min and Max bound an Int setting; Unit names what it counts, for
	// messages ("seconds").
	Min, Max int
	Unit     string
	// Secret values are masked and never echoed in errors.
	Secret bool
	// Modes says where the setting applies.
	Modes Modes
	// FromArgs: in GitHub mode the value arrives as the program argument
	// --<Name>=<value> (action.yml runs.args), not as INPUT_*. The runner
	// rewrites host paths in INPUT_* variables to container paths but
	// passes args untouched, so host paths must come this way.
	FromArgs bool
	// Helper says what the credential helper a refresh login leaves
	// behind takes of this setting (see HelperUse); every setting says.
	Helper HelperUse
	// helperValue, for a setting the helper inherits, renders the
	// step's value in the form the setting's flag takes ("" for none).
	helperValue func(c *Config) string

	// The function for the setting's Kind stores the parsed value in the
	// config; exactly that one is set (a test checks). Those that return
	// an error return an *invalid made by bad.
	setText     func(c *Config, v string) error
	setBool     func(c *Config, b bool)
	setInt      func(c *Config, n int)
	setList     func(c *Config, items []string) error
	setDuration func(c *Config, d time.Duration)
}

// HelperUse is what the credential helper that a refresh login leaves
// behind (it runs in later steps, from a settings file) takes of a setting.
// A setting that shapes the identity, its scope or its network path must
// reach the helper, or every docker command after the step runs with
// another session than the step's: such a setting is HelperInherits, or
// HelperDerived when the value to hand on is worked out from the run.
type HelperUse int

// The helper uses.
const (
	// HelperUnset: not said (a test fails for every such setting).
	HelperUnset HelperUse = iota
	// HelperInherits: the helper gets the step's value as it was in
	// effect (defaults and environment fallbacks applied), rendered by
	// HelperValue.
	HelperInherits
	// HelperDerived: the refresh login works out what the helper gets
	// from what the run used (the credential source it chose, the token
	// file by its absolute path, the registries with their identities,
	// the session tags with GitHub's default tags).
	HelperDerived
	// HelperIgnores: the setting decides nothing the helper does (where
	// results go, logging).
	HelperIgnores
)

// HelperValue is the step's value of a HelperInherits setting in the form
// its flag takes, for the refresh helper's settings file; "" when the
// setting has none.
func (s *Setting) HelperValue(c *Config) string {
	if s.helperValue == nil {
		return ""
	}
	return s.helperValue(c)
}

// DefaultFor returns the literal default in mode m ("" if none).
func (s *Setting) DefaultFor(m Mode) string {
	if d, ok := s.ModeDefault[m]; ok {
		return d
	}
	return s.Default
}

// PluginVar is the documented environment variable of the setting in plugin mode.
func (s *Setting) PluginVar() string {
	if len(s.Plugin) == 0 {
		return ""
	}
	return "PLUGIN_" + strings.ToUpper(s.Plugin[0])
}

// InputVar is the variable the GitHub runner sets for the input.
func (s *Setting) InputVar() string {
	return "INPUT_" + strings.ToUpper(s.Name)
}

// Spell names the setting the way a user of mode m writes it.
func (s *Setting) Spell(m Mode) string {
	switch m {
	case Plugin:
		if len(s.Plugin) > 0 {
			return Origin{Kind: FromPluginSetting, Name: s.Plugin[0]}.String()
		}
	case CLI:
		if len(s.Flag) > 0 {
			return Origin{Kind: FromFlag, Name: s.Flag[0]}.String()
		}
	}
	return Origin{Kind: FromInput, Name: s.Name}.String()
}

// ByName returns the setting whose canonical name is name, for names that
// come from outside (program arguments); code names settings by variable.
func ByName(name string) (*Setting, bool) {
	for _, s := range Table {
		if s.Name == name {
			return s, true
		}
	}
	return nil, false
}

// invalid is what the setting functions return; Load turns it into a
// Problem that names the setting the way the user spelled it.
type invalid struct {
	what, fix string
}

func (e *invalid) Error() string { return e.what + ". " + e.fix }

func bad(fix, format string, args ...any) error {
	return &invalid{what: fmt.Sprintf(format, args...), fix: fix}
}
