package docs

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/output"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

var update = flag.Bool("update", false, "rewrite action.yml and README.md from the settings table")

func repoFile(name string) string { return filepath.Join("..", "..", "..", name) }

// checkOrUpdate compares a generated file with the checked-in one.
func checkOrUpdate(t *testing.T, name string, want []byte) {
	t.Helper()
	path := repoFile(name)
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%s is out of date with the settings table; run: go test ./internal/testing/docs -update", name)
	}
}

func TestActionYAMLUpToDate(t *testing.T) {
	runs := DefaultRuns
	// A release commit's action.yml runs the prebuilt image (see
	// release_test.go); it must match the table all the same.
	if cur, err := os.ReadFile(repoFile("action.yml")); err == nil && !*update {
		var a struct {
			Runs struct{ Image string } `yaml:"runs"`
		}
		if yaml.Unmarshal(cur, &a) == nil && strings.HasPrefix(a.Runs.Image, "docker://") {
			r, err := releaseRuns(a.Runs.Image)
			if err != nil {
				t.Fatal(err)
			}
			runs = r
		}
	}
	b, err := ActionYAML(runs)
	if err != nil {
		t.Fatal(err)
	}
	checkOrUpdate(t, "action.yml", b)
}

func TestREADMETablesUpToDate(t *testing.T) {
	readme, err := os.ReadFile(repoFile("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(readme)
	for name, body := range map[string]string{"settings": SettingsTable(), "outputs": OutputsTable(), "peers": PeersTable()} {
		doc, err = Replace(doc, name, body)
		if err != nil {
			t.Fatal(err)
		}
	}
	checkOrUpdate(t, "README.md", []byte(doc))
}

// TestActionYAMLMatchesTable parses the checked-in action.yml independently
// and checks every GitHub setting and output is declared with its default,
// and nothing else is.
func TestActionYAMLMatchesTable(t *testing.T) {
	b, err := os.ReadFile(repoFile("action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs map[string]struct {
			Description string  `yaml:"description"`
			Default     *string `yaml:"default"`
		} `yaml:"inputs"`
		Outputs map[string]struct {
			Description string `yaml:"description"`
		} `yaml:"outputs"`
		Runs struct {
			Using          string `yaml:"using"`
			Image          string `yaml:"image"`
			PostEntrypoint string `yaml:"post-entrypoint"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(b, &action); err != nil {
		t.Fatalf("action.yml is not valid YAML: %v", err)
	}
	seen := map[string]bool{}
	for _, s := range inputs.Table {
		if !s.Modes.Has(inputs.GitHub) {
			continue
		}
		seen[s.Name] = true
		in, ok := action.Inputs[s.Name]
		if !ok {
			t.Errorf("action.yml lacks input %q", s.Name)
			continue
		}
		if in.Description == "" {
			t.Errorf("input %q has no description", s.Name)
		}
		want := s.DefaultFor(inputs.GitHub)
		got := ""
		if in.Default != nil {
			got = *in.Default
		}
		if got != want {
			t.Errorf("input %q default = %q, table says %q", s.Name, got, want)
		}
	}
	for name := range action.Inputs {
		if !seen[name] {
			t.Errorf("action.yml declares input %q that the settings table lacks", name)
		}
	}
	for _, f := range output.Fields {
		if _, ok := action.Outputs[f.Output]; !ok {
			t.Errorf("action.yml lacks output %q", f.Output)
		}
	}
	if action.Runs.Using != "docker" || action.Runs.Image == "" || action.Runs.PostEntrypoint == "" {
		t.Errorf("runs = %+v, want a docker action with an image and a post-entrypoint", action.Runs)
	}
}

// TestEveryProblemCodeDocumented keeps the README's troubleshooting section
// in step with the codes the program can print.
func TestEveryProblemCodeDocumented(t *testing.T) {
	readme, err := os.ReadFile(repoFile("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, trouble, ok := strings.Cut(string(readme), "## Troubleshooting")
	if !ok {
		t.Fatal("README.md has no ## Troubleshooting section")
	}
	for _, c := range problem.Codes {
		if !strings.Contains(trouble, "`"+string(c)+"`") {
			t.Errorf("README troubleshooting does not document code %q", c)
		}
	}
}

// TestSettingsTableSane checks the table itself: unique names in every mode,
// documentation, and that every literal default parses.
func TestSettingsTableSane(t *testing.T) {
	names := map[string]string{}
	claim := func(kind, n, owner string) {
		key := kind + ":" + n
		if prev, ok := names[key]; ok && prev != owner {
			t.Errorf("%s %q used by both %q and %q", kind, n, prev, owner)
		}
		names[key] = owner
	}
	for _, s := range inputs.Table {
		claim("input", s.Name, s.Name)
		for _, p := range s.Plugin {
			claim("plugin", p, s.Name)
		}
		for _, f := range s.Flag {
			claim("flag", f, s.Name)
		}
		if s.Doc == "" || !strings.HasSuffix(s.Doc, ".") {
			t.Errorf("%s: doc must be a sentence", s.Name)
		}
		if s.Modes.Has(inputs.Plugin) && len(s.Plugin) == 0 {
			t.Errorf("%s applies to plugins but has no plugin name", s.Name)
		}
		if s.Modes.Has(inputs.CLI) && len(s.Flag) == 0 {
			t.Errorf("%s applies to the CLI but has no flag", s.Name)
		}
	}
	// Peer names: none is ours too, each is documented, a refused one
	// (or a refused value) says what to write instead.
	for _, p := range inputs.Peers {
		kind := "input"
		if p.Mode == inputs.Plugin {
			kind = "plugin"
		}
		if _, ours := names[kind+":"+p.Name]; ours {
			t.Errorf("peer name %q is also ours", p.Name)
		}
		claim(kind, p.Name, "peer "+p.Name)
		if p.Doc == "" || p.Peer == "" {
			t.Errorf("peer name %q lacks Doc or Peer", p.Name)
		}
		if (p.Setting == nil || p.Values != nil) && p.Fix == "" {
			t.Errorf("peer name %q can be refused but has no Fix", p.Name)
		}
	}
}

// TestFormatNamesAgree keeps the formats setting and the renderers in step.
func TestFormatNamesAgree(t *testing.T) {
	got := strings.Join(output.FormatNames(), ",")
	want := strings.Join(inputs.FormatNames, ",")
	if got != want {
		t.Errorf("output formats %s, settings accept %s", got, want)
	}
}

// TestShellNamesAgree keeps the shell setting and the renderers in step.
func TestShellNamesAgree(t *testing.T) {
	got := strings.Join(output.ShellNames, ",")
	want := strings.Join(inputs.ShellNames, ",")
	if got != want {
		t.Errorf("output shells %s, settings accept %s", got, want)
	}
}
