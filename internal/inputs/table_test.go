package inputs

import "testing"

// Each setting has the function its Kind calls, and no other: a setting
// whose Kind and function disagree would fail at run time.
func TestEverySettingHasTheFunctionOfItsKind(t *testing.T) {
	for _, s := range Table {
		has := map[Kind]bool{
			String:   s.setText != nil,
			Bool:     s.setBool != nil,
			Int:      s.setInt != nil,
			List:     s.setList != nil,
			Duration: s.setDuration != nil,
		}
		for k, set := range has {
			if set != (k == s.Kind) {
				t.Errorf("setting %s (kind %s): function for kind %s set = %v", s.Name, s.Kind, k, set)
			}
		}
		if s.Kind == Int && (s.Min >= s.Max || s.Unit == "") {
			t.Errorf("setting %s: an integer setting needs Min < Max and a Unit", s.Name)
		}
	}
}

// ByName finds every setting by its canonical name, and nothing else.
func TestByName(t *testing.T) {
	for _, s := range Table {
		if got, ok := ByName(s.Name); !ok || got != s {
			t.Errorf("ByName(%q) = %v, %v", s.Name, got, ok)
		}
	}
	if s, ok := ByName("role-to-asume"); ok {
		t.Errorf("ByName found %s for a misspelled name", s.Name)
	}
}

func TestFlagsValueAndReplace(t *testing.T) {
	flags := Flags{}
	flags.Set(Registries, "registry", "a")
	if v, ok := flags.Value(Registries); !ok || v != "a" {
		t.Errorf("Value under the alias = %q, %v", v, ok)
	}
	flags.Replace(Registries, "b")
	if len(flags) != 1 || len(flags[Registries]) != 1 || flags[Registries][0] != (Flag{Name: "registries", Value: "b"}) {
		t.Errorf("after Replace: %v, want only registries=b", flags)
	}
	if _, ok := flags.Value(Debug); ok {
		t.Error("Value found a flag that was not given")
	}
}

// Every setting says what a refresh login's credential helper takes of it;
// one it inherits can be given to the helper (a CLI flag) and renders the
// step's value, the others render nothing. A new setting that forgets to
// say fails here, so a setting that shapes the session cannot silently be
// left out of the helper (issue 21, finding 1).
func TestEverySettingSaysWhatTheRefreshHelperTakes(t *testing.T) {
	for _, s := range Table {
		switch s.Helper {
		case HelperInherits:
			if s.helperValue == nil || !s.Modes.Has(CLI) || len(s.Flag) == 0 {
				t.Errorf("setting %s: the helper inherits it, so it needs a helperValue and a CLI flag", s.Name)
			}
		case HelperDerived, HelperIgnores:
			if s.helperValue != nil {
				t.Errorf("setting %s: only an inherited setting renders a value for the helper", s.Name)
			}
		default:
			t.Errorf("setting %s does not say what the refresh helper takes of it (Helper)", s.Name)
		}
	}
}

// The value an inherited setting renders loads back, as the helper's
// flag, into the same value: the helper's session is the step's.
func TestRefreshHelperValuesRoundTrip(t *testing.T) {
	given := map[*Setting]string{
		RoleToAssume:           "arn:aws:iam::123456789012:role/ci",
		AWSRegion:              "eu-west-1",
		Audience:               "sts.example",
		RoleChain:              "arn:aws:iam::222222222222:role/a,arn:aws:iam::333333333333:role/b",
		RoleExternalID:         "ext-1",
		RoleSourceIdentity:     "octocat",
		InlineSessionPolicy:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}`,
		ManagedSessionPolicies: "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly,arn:aws:iam::123456789012:policy/p",
		AllowedAccountIDs:      "123456789012,222222222222",
		RoleSessionName:        "GitHubActions-1-2",
		RoleDurationSeconds:    "2700",
		DualStack:              "true",
		HTTPProxy:              "http://user:pw@proxy.internal:3128",
		NoProxy:                "example.com,10.0.0.0/8",
		Timeout:                "45s",
	}
	flags := Flags{}
	for _, s := range Table {
		if s.Helper != HelperInherits {
			continue
		}
		v, ok := given[s]
		if !ok {
			t.Fatalf("setting %s is inherited by the helper: give it a value in this test", s.Name)
		}
		flags.Set(s, s.Flag[0], v)
	}
	env := func(string) string { return "" }
	step, _, err := Load(Source{Mode: CLI, Getenv: env, Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	again := Flags{}
	for _, s := range Table {
		if s.Helper == HelperInherits {
			again.Set(s, s.Flag[0], s.HelperValue(step))
		}
	}
	helper, _, err := Load(Source{Mode: CLI, Getenv: env, Flags: again})
	if err != nil {
		t.Fatalf("the helper cannot load what the step hands on: %v", err)
	}
	for _, s := range Table {
		if s.Helper == HelperInherits && s.HelperValue(helper) != s.HelperValue(step) {
			t.Errorf("%s: the helper has %q, the step had %q", s.Name, s.HelperValue(helper), s.HelperValue(step))
		}
	}
}
