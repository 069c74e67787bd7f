package inputs

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/ecr-credentials/ecr-credentials/internal/problem"
	"github.com/ecr-credentials/ecr-credentials/internal/registry"
)

// PeerName is a name another action or plugin gives a setting (see Peers).
type PeerName struct {
	// Name is the peer's spelling: a GitHub input, or a plugin setting
	// without PLUGIN_ (Mode says which).
	Name string
	Mode Mode
	// Peer says whose name it is, for messages and docs/migrating.md.
	Peer string
	// Setting is ours that the name stands for; nil: the name is refused.
	Setting *Setting
	// Values maps the peer's values (booleans as true or false, the rest
	// lower-cased) to ours; "" means nothing to do (our default already
	// means it), and a value not in the map is refused with Fix. Nil: the
	// value passes unchanged.
	Values map[string]string
	// Variable: the peer's setting holds the value itself where ours names
	// the environment variable that holds it (a token): ours is given
	// the peer's variable.
	Variable bool
	// Doc says what the name does here; Fix says what to write instead
	// when it is refused.
	Doc, Fix string
}

// Var is the environment variable the name arrives in.
func (p *PeerName) Var() string { return varPrefix(p.Mode) + strings.ToUpper(p.Name) }

func (p *PeerName) spell() string {
	if p.Mode == Plugin {
		return fmt.Sprintf("setting %q (%s, %s)", p.Name, p.Var(), p.Peer)
	}
	return fmt.Sprintf("input %q (%s)", p.Name, p.Peer)
}

func varPrefix(m Mode) string {
	if m == Plugin {
		return "PLUGIN_"
	}
	return "INPUT_"
}

// peerValue is the value a peer name gives one of our settings.
type peerValue struct{ value, subject string }

// resolvePeers reads the peer names of src.Mode: the values they give our
// settings, or the problem with one (refused, or contradicting the
// setting given under our name).
func resolvePeers(src Source) (map[*Setting]peerValue, []string, error) {
	out := map[*Setting]peerValue{}
	var notes []string
	for _, p := range Peers {
		if p.Mode != src.Mode {
			continue
		}
		raw := strings.TrimSpace(src.Getenv(p.Var()))
		if raw == "" {
			continue
		}
		refuse := func(what string) error {
			return &problem.Problem{Code: problem.UnknownSetting, Subject: p.spell(), What: what, Fix: p.Fix}
		}
		if p.Setting == nil && p.Values == nil {
			return nil, nil, refuse("this is another action's setting, which this one does not take")
		}
		v := raw
		switch {
		case p.Variable:
			v = p.Var()
		case p.Values != nil:
			key := strings.ToLower(raw)
			if b, err := ParseBool(raw); err == nil {
				key = fmt.Sprint(b)
			}
			mapped, ok := p.Values[key]
			if !ok {
				return nil, nil, refuse(fmt.Sprintf("%q is not taken here", shorten(raw)))
			}
			v = mapped
		}
		if p.Setting == nil && v != "" {
			return nil, nil, refuse("this is another action's setting, which this one does not take")
		}
		if v == "" {
			notes = append(notes, fmt.Sprintf("%s is %s: nothing to change (the default here).", p.spell(), shorten(raw)))
			continue
		}
		ours, origin, explicit := explicitValue(p.Setting, src)
		subject := origin.String()
		if explicit && src.Mode == GitHub && sameValue(p.Setting, ours, p.Setting.DefaultFor(GitHub)) {
			// The runner fills in action.yml's default: our setting at
			// its default is not a choice the peer name contradicts.
			explicit = false
		}
		prev, twice := out[p.Setting]
		switch {
		case p.Setting.Kind == List && (explicit || twice):
			base := ours
			if twice {
				base = prev.value
			}
			items, err := registry.SplitList(base)
			if err != nil {
				break // the setting's own parser reports it
			}
			if twice {
				subject = prev.subject
			}
			v = strings.Join(append(items, v), "\n")
			out[p.Setting] = peerValue{v, subject + " and " + p.spell()}
			continue
		case explicit && !sameValue(p.Setting, ours, v):
			return nil, nil, &problem.Problem{Code: problem.ConflictingSettings, Subject: subject + " and " + p.spell(),
				What: fmt.Sprintf("%s stands for %s %s here, which is given as %s", p.spell(), p.Setting.Spell(src.Mode), shorten(v), shorten(ours)),
				Fix:  "Keep one of the two."}
		case explicit:
			continue
		case twice && !sameValue(p.Setting, prev.value, v):
			return nil, nil, &problem.Problem{Code: problem.ConflictingSettings, Subject: prev.subject + " and " + p.spell(),
				What: "the two give " + p.Setting.Spell(src.Mode) + " different values", Fix: "Keep one of the two."}
		case twice:
			continue
		}
		out[p.Setting] = peerValue{v, p.spell()}
		notes = append(notes, fmt.Sprintf("%s read as %s %s.", p.spell(), p.Setting.Spell(src.Mode), shorten(v)))
	}
	return out, notes, nil
}

// explicitValue is the value the setting is given under our own name in
// src.Mode, if it is.
func explicitValue(s *Setting, src Source) (string, Origin, bool) {
	switch src.Mode {
	case GitHub:
		if s.FromArgs {
			return "", Origin{}, false
		}
		// go-githubactions reads INPUT_<NAME> the way actions/toolkit does.
		if v := githubactions.New(githubactions.WithGetenv(src.Getenv)).GetInput(s.Name); v != "" {
			return v, Origin{Kind: FromInput, Name: s.Name}, true
		}
	case Plugin:
		for _, name := range s.Plugin {
			env := "PLUGIN_" + strings.ToUpper(name)
			if v := strings.TrimSpace(src.Getenv(env)); v != "" {
				return v, Origin{Kind: FromPluginSetting, Name: name}, true
			}
		}
	case CLI:
		for _, f := range src.Flags[s] {
			// An empty value (--duration=) means the default, as an
			// empty input or plugin setting does.
			if v := strings.TrimSpace(f.Value); v != "" {
				return v, Origin{Kind: FromFlag, Name: f.Name}, true
			}
		}
	}
	return "", Origin{}, false
}

func sameValue(s *Setting, a, b string) bool {
	if s.Kind == Bool {
		x, err1 := ParseBool(a)
		y, err2 := ParseBool(b)
		return err1 == nil && err2 == nil && x == y
	}
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// checkVars rejects INPUT_* (GitHub) or PLUGIN_* (plugin) variables that
// no setting or peer name knows, naming the closest setting, so a typo
// never silently falls back to a default: the runner sets INPUT_* only for
// what the step's `with:` holds and the defaults action.yml declares, so
// an unknown one is always the user's. Settings that exist but do not
// apply to the mode produce a warning.
func checkVars(mode Mode, environ []string) ([]string, error) {
	prefix := varPrefix(mode)
	// known maps each variable suffix to the name the user writes.
	known := map[string]string{}
	// other maps names of settings in other modes to a note.
	other := map[string]string{}
	// alias maps how other modes spell a setting of this mode to how
	// this mode spells it (`role_arn` in `with:` -> "role-to-assume").
	alias := map[string]string{}
	for _, s := range Table {
		own := modeNames(s, mode)
		if !s.Modes.Has(mode) || len(own) == 0 {
			where := "the CLI"
			if s.Modes.Has(Plugin) {
				where = "the Drone/Woodpecker plugin"
			}
			if s.Modes.Has(GitHub) {
				where = "the GitHub action"
			}
			for _, n := range otherSpellings(s) {
				other[strings.ToUpper(n)] = fmt.Sprintf("%q applies only to %s", s.Name, where)
			}
			if s == Debug && mode == GitHub {
				other["DEBUG"] = "use the runner's debug logging (re-run with debug logging, or set ACTIONS_STEP_DEBUG) instead"
			}
			continue
		}
		for _, n := range own {
			known[strings.ToUpper(n)] = n
		}
		for _, n := range otherSpellings(s) {
			alias[strings.ToUpper(n)] = own[0]
		}
	}
	candidates := keys(known) // suggested: ours, and the peer names taken
	for _, p := range Peers {
		if p.Mode == mode {
			known[strings.ToUpper(p.Name)] = p.Name
			if p.Setting != nil {
				candidates = append(candidates, strings.ToUpper(p.Name))
			}
		}
	}
	var unknown, warnings []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		if _, ok := known[rest]; ok {
			continue
		}
		if note, ok := other[rest]; ok {
			warnings = append(warnings, fmt.Sprintf("%s is ignored: %s", name, note))
			continue
		}
		unknown = append(unknown, rest)
	}
	if len(unknown) == 0 {
		return warnings, nil
	}
	sort.Strings(unknown)
	names := make([]string, len(unknown))
	for i, u := range unknown {
		names[i] = prefix + u
	}
	fix := "Check the spelling against the settings in docs/settings.md."
	first := unknown[0]
	best, ok := alias[first]
	if !ok {
		if k := Suggest(first, candidates); k != "" {
			best = known[k]
		}
	}
	what := "unknown plugin setting"
	subject := strings.Join(names, ", ")
	if mode == GitHub {
		what = "unknown input (the runner passes every `with:` entry; this action does not have it)"
		quoted := make([]string, len(unknown))
		for i, u := range unknown {
			quoted[i] = fmt.Sprintf("input %q", strings.ToLower(u))
		}
		subject = strings.Join(quoted, ", ")
	}
	if best != "" {
		if mode == Plugin {
			fix = fmt.Sprintf("Did you mean %q (PLUGIN_%s)? ", best, strings.ToUpper(best)) + fix
		} else {
			fix = fmt.Sprintf("Did you mean %q? ", best) + fix
		}
	}
	if mode == Plugin && dockerPluginSettings[first] {
		fix = "This step only logs in (it replaces the login of Drone's plugins/ecr, whose access_key, secret_key, region, registry, assume_role and external_id settings it takes): " +
			"build and push in a later step (docker build/push, or plugins/docker with the login this step leaves in .docker), and drop the build settings here."
	}
	return nil, &problem.Problem{Code: problem.UnknownSetting, Subject: subject, What: what, Fix: fix}
}

// modeNames are the names a setting is written with in mode m.
func modeNames(s *Setting, m Mode) []string {
	switch m {
	case GitHub:
		return []string{s.Name}
	case Plugin:
		return s.Plugin
	}
	return s.Flag
}

// otherSpellings are a setting's names in every mode, with - and _ both.
func otherSpellings(s *Setting) []string {
	var out []string
	for _, n := range append(append([]string{s.Name}, s.Plugin...), s.Flag...) {
		out = append(out, strings.ReplaceAll(n, "_", "-"), strings.ReplaceAll(n, "-", "_"))
	}
	return out
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Suggest returns the candidate closest to name (case-insensitive), if it
// is close: the one suggestion used for unknown inputs, plugin settings and
// CLI flags.
func Suggest(name string, candidates []string) string {
	best, bestD := "", 4
	for _, k := range candidates {
		if d := editDistance(strings.ToLower(name), strings.ToLower(k)); d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	return best
}
