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

func TestFlagValueAndSetFlag(t *testing.T) {
	flags := map[string]string{"registry": "a"}
	if v, ok := Registries.FlagValue(flags); !ok || v != "a" {
		t.Errorf("FlagValue under the alias = %q, %v", v, ok)
	}
	Registries.SetFlag(flags, "b")
	if len(flags) != 1 || flags["registries"] != "b" {
		t.Errorf("after SetFlag: %v, want only registries=b", flags)
	}
	if _, ok := Debug.FlagValue(flags); ok {
		t.Error("FlagValue found a flag that was not given")
	}
}
