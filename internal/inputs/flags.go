package inputs

import "slices"

// Flag is a value the command line gives a setting under one name: a
// flag name (without dashes), or in GitHub mode the setting's name of a
// --<name>=<value> program argument (FromArgs).
type Flag struct {
	Name  string
	Value string
}

// Flags holds what the command line gives settings, by setting: every
// name a setting was given under, in the order of Setting.Flag, each with
// the last value given under it (as the flag package does).
type Flags map[*Setting][]Flag

// Set records v given to s under name.
func (f Flags) Set(s *Setting, name, v string) {
	given := f[s]
	for i := range given {
		if given[i].Name == name {
			given[i].Value = v
			return
		}
	}
	given = append(given, Flag{Name: name, Value: v})
	slices.SortStableFunc(given, func(a, b Flag) int {
		return slices.Index(s.Flag, a.Name) - slices.Index(s.Flag, b.Name)
	})
	f[s] = given
}

// Value returns the value given to s under the first of its names given.
func (f Flags) Value(s *Setting) (string, bool) {
	if given := f[s]; len(given) > 0 {
		return given[0].Value, true
	}
	return "", false
}

// Replace gives s the value v under its documented flag name, replacing a
// value given under any other of its names.
func (f Flags) Replace(s *Setting, v string) {
	f[s] = []Flag{{Name: s.Flag[0], Value: v}}
}
