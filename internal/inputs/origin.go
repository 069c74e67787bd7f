package inputs

import (
	"fmt"
	"strings"
)

// OriginKind says where a setting's value came from.
type OriginKind int

// The origins of a value. The zero Origin is none (the setting has no
// value).
const (
	// FromInput: a GitHub input (INPUT_*, or a --<name>= program argument
	// action.yml passes). Name is the input.
	FromInput OriginKind = iota + 1
	// FromPluginSetting: a Drone/Woodpecker setting (PLUGIN_*). Name is
	// the setting as written, without PLUGIN_.
	FromPluginSetting
	// FromFlag: a CLI flag (or a credential helper's settings file, read
	// as flags). Name is the flag as written, without dashes.
	FromFlag
	// FromPeer: another action's or plugin's name for the setting (see
	// Peers), possibly with ours. Name says which, as messages do.
	FromPeer
	// FromEnv: an environment variable the setting falls back to. Name is
	// the variable.
	FromEnv
	// FromDefault: the setting's default. Name is how a user of the mode
	// names the setting (Setting.Spell).
	FromDefault
)

// Origin is where a setting's value came from.
type Origin struct {
	Kind OriginKind
	Name string
}

// Explicit reports whether the user gave the value (under our name or a
// peer's), as opposed to an environment fallback or a default.
func (o Origin) Explicit() bool {
	switch o.Kind {
	case FromInput, FromPluginSetting, FromFlag, FromPeer:
		return true
	}
	return false
}

// String names the origin for a message, e.g. `input "aws-region"`,
// `setting "region" (PLUGIN_REGION)`, `flag --region`, `environment
// variable AWS_REGION`.
func (o Origin) String() string {
	switch o.Kind {
	case FromInput:
		return fmt.Sprintf("input %q", o.Name)
	case FromPluginSetting:
		return fmt.Sprintf("setting %q (%s)", o.Name, "PLUGIN_"+strings.ToUpper(o.Name))
	case FromFlag:
		return "flag --" + o.Name
	case FromEnv:
		return "environment variable " + o.Name
	case FromDefault:
		return "default of " + o.Name
	}
	return o.Name
}
