package inputs

import (
	"fmt"
	"strconv"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/registry"
)

// Mode is the way the program was started; it decides where settings are
// read from and where results go.
type Mode string

// The modes.
const (
	GitHub Mode = "github" // GitHub Actions container action: INPUT_* variables
	Plugin Mode = "plugin" // Drone or Woodpecker plugin step: PLUGIN_* variables
	CLI    Mode = "cli"    // a person or script: command-line flags
)

// Modes is a set of modes.
type Modes uint8

// The mode sets.
const (
	InGitHub Modes = 1 << iota
	InPlugin
	InCLI
	InAll = InGitHub | InPlugin | InCLI
)

// Has reports whether m is in the set.
func (s Modes) Has(m Mode) bool {
	switch m {
	case GitHub:
		return s&InGitHub != 0
	case Plugin:
		return s&InPlugin != 0
	case CLI:
		return s&InCLI != 0
	}
	return false
}

// Kind is the type of a setting's value. It chooses the parser; the
// setting's own function receives the parsed value.
type Kind string

// The kinds, and the Setting function each one calls.
const (
	String   Kind = "string"   // setText
	Bool     Kind = "boolean"  // setBool
	Int      Kind = "integer"  // setInt, within Min..Max
	List     Kind = "list"     // setList
	Duration Kind = "duration" // setDuration, positive
)

// apply parses v (never empty) by the setting's Kind and hands the value to
// the setting's function. A returned *invalid says what is wrong and how to
// fix it.
func (s *Setting) apply(c *Config, v string) error {
	switch s.Kind {
	case String:
		return s.setText(c, v)
	case Bool:
		b, err := ParseBool(v)
		if err != nil {
			return err
		}
		s.setBool(c, b)
		return nil
	case Int:
		fix := fmt.Sprintf("Give a whole number of %s from %d to %d, e.g. %s.", s.Unit, s.Min, s.Max, s.Default)
		n, err := strconv.Atoi(v)
		if err != nil {
			return bad(fix, "%q is not a whole number of %s", v, s.Unit)
		}
		if n < s.Min || n > s.Max {
			return bad(fix, "%d is out of range", n)
		}
		s.setInt(c, n)
		return nil
	case List:
		items, err := registry.SplitList(v)
		if err != nil {
			return bad("Separate the items with commas or new lines, or write a JSON array of strings.", "%v", err)
		}
		return s.setList(c, items)
	case Duration:
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return bad("Give a positive duration such as 90s or 2m.", "%q is not a duration", v)
		}
		s.setDuration(c, d)
		return nil
	}
	return fmt.Errorf("setting %s has kind %q, which has no parser", s.Name, s.Kind)
}
