package docs

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/output"
	outnames "github.com/ecr-credentials/ecr-credentials/internal/output/names"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

var update = flag.Bool("update", false, "rewrite action.yml and the generated parts of docs/ from the settings table")

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
	release := false
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
			runs, release = r, true
		}
	}
	b, err := ActionYAML(runs)
	if err != nil {
		t.Fatal(err)
	}
	checkOrUpdate(t, "action.yml", b)

	// The native form has no release form of its own: the release changes
	// only its data file, native/checksums.json.
	n, err := NativeActionYAML()
	if err != nil {
		t.Fatal(err)
	}
	checkOrUpdate(t, "native/action.yml", n)
	if release {
		checkReleaseNativeData(t, runs.Image)
		return
	}
	d, err := NativeDataMain().Render()
	if err != nil {
		t.Fatal(err)
	}
	checkOrUpdate(t, "native/checksums.json", d)
}

// checkReleaseNativeData checks native/checksums.json of a release commit:
// the release's version, and a checksum for every platform.
func checkReleaseNativeData(t *testing.T, image string) {
	t.Helper()
	b, err := os.ReadFile(repoFile("native/checksums.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d NativeData
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("native/checksums.json: %v", err)
	}
	if !strings.HasSuffix(image, ":"+d.Version) || d.Version == "" {
		t.Errorf("native/checksums.json is of version %q, action.yml runs %s", d.Version, image)
	}
	for _, p := range NativePlatforms {
		if a := d.Archives[p]; len(a.SHA256) != 64 || len(a.BinarySHA256) != 64 || a.Name == "" {
			t.Errorf("native/checksums.json: no checksums for %s", p)
		}
	}
}

// generated lists the documents with generated sections: each section
// lies between `<!-- name:begin -->` and `<!-- name:end -->` lines.
var generated = []struct {
	file     string
	sections map[string]func() string
}{
	{"docs/settings.md", map[string]func() string{"settings": SettingsReference, "outputs": OutputsTable, "envvars": EnvVarsTable}},
	{"docs/migrating.md", map[string]func() string{"peers": PeersTable}},
}

func TestGeneratedDocsUpToDate(t *testing.T) {
	for _, g := range generated {
		b, err := os.ReadFile(repoFile(g.file))
		if err != nil {
			t.Fatal(err)
		}
		doc := string(b)
		for name, render := range g.sections {
			doc, err = Replace(doc, name, render())
			if err != nil {
				t.Fatalf("%s: %v", g.file, err)
			}
		}
		checkOrUpdate(t, g.file, []byte(doc))
	}
}

// TestSettingsReferenceReadable keeps the settings reference's tables
// short and its text said once: a cell holds the first sentence of a doc
// text, and no doc text repeats the environment fallback the generator
// adds.
func TestSettingsReferenceReadable(t *testing.T) {
	const maxCell = 300
	for _, line := range strings.Split(SettingsReference(), "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		for _, c := range strings.Split(line, " | ") {
			if len(c) > maxCell {
				t.Errorf("a cell of %d characters (at most %d): %.80s...", len(c), maxCell, c)
			}
		}
	}
	for _, s := range inputs.Table {
		for _, env := range s.Env {
			if strings.Contains(s.Doc, env) {
				t.Errorf("%s: the doc names %s, which the generator adds as its environment fallback", s.Name, env)
			}
		}
		if sum := Summary(s.Doc); sum == "" || !strings.HasSuffix(sum, ".") {
			t.Errorf("%s: summary %q is not a sentence", s.Name, sum)
		}
	}
}

func TestSummary(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"One. Two.", "One."},
		{"A role, e.g. arn:aws:iam::1:role/x. Required.", "A role, e.g. arn:aws:iam::1:role/x."},
		{"That is, i.e. this. Then.", "That is, i.e. this."},
		{"Names (A, ...). Upper-case.", "Names (A, ...)."},
		{"Only one.", "Only one."},
		{"metadata.name of it.", "metadata.name of it."},
		{"Hosts (with a leading . only subdomains). More.", "Hosts (with a leading . only subdomains)."},
	} {
		if got := Summary(tc.doc); got != tc.want {
			t.Errorf("Summary(%q) = %q, want %q", tc.doc, got, tc.want)
		}
	}
}

// TestActionYAMLMatchesTable parses the checked-in action.yml and
// native/action.yml independently and checks every GitHub setting and
// output is declared with its default, and nothing else is (the native
// form leaves out the settings that carry container paths).
func TestActionYAMLMatchesTable(t *testing.T) {
	for _, file := range []string{"action.yml", "native/action.yml"} {
		t.Run(file, func(t *testing.T) { checkActionMatchesTable(t, file) })
	}
}

func checkActionMatchesTable(t *testing.T, file string) {
	native := strings.HasPrefix(file, "native/")
	b, err := os.ReadFile(repoFile(file))
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
			Main           string `yaml:"main"`
			Post           string `yaml:"post"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(b, &action); err != nil {
		t.Fatalf("%s is not valid YAML: %v", file, err)
	}
	seen := map[string]bool{}
	for _, s := range inputs.Table {
		if !s.Modes.Has(inputs.GitHub) || native && s.FromArgs {
			continue
		}
		seen[s.Name] = true
		in, ok := action.Inputs[s.Name]
		if !ok {
			t.Errorf("%s lacks input %q", file, s.Name)
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
			t.Errorf("%s declares input %q that the settings table lacks (or that only the container form has)", file, name)
		}
	}
	for _, f := range output.Fields {
		if _, ok := action.Outputs[f.Output]; !ok {
			t.Errorf("%s lacks output %q", file, f.Output)
		}
	}
	if native {
		if action.Runs.Using != "node24" && action.Runs.Using != "node20" || action.Runs.Main == "" || action.Runs.Post == "" || action.Runs.Image != "" {
			t.Errorf("runs = %+v, want a node action with main and post", action.Runs)
		}
		for _, js := range []string{action.Runs.Main, action.Runs.Post} {
			if st, err := os.Stat(repoFile(filepath.Join("native", js))); err != nil || !st.Mode().IsRegular() {
				t.Errorf("native/%s: %v", js, err)
			}
		}
		return
	}
	if action.Runs.Using != "docker" || action.Runs.Image == "" || action.Runs.PostEntrypoint == "" {
		t.Errorf("runs = %+v, want a docker action with an image and a post-entrypoint", action.Runs)
	}
}

// TestBothActionsDeclareTheSameOutputs: the two forms of the action give a
// job the same outputs, with the same descriptions.
func TestBothActionsDeclareTheSameOutputs(t *testing.T) {
	var forms [2]struct {
		Outputs map[string]struct{ Description string } `yaml:"outputs"`
	}
	for i, f := range []string{"action.yml", "native/action.yml"} {
		b, err := os.ReadFile(repoFile(f))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(b, &forms[i]); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if !reflect.DeepEqual(forms[0].Outputs, forms[1].Outputs) || len(forms[0].Outputs) == 0 {
		t.Errorf("outputs differ:\naction.yml: %v\nnative/action.yml: %v", forms[0].Outputs, forms[1].Outputs)
	}
}

// TestEveryProblemCodeDocumented keeps docs/troubleshooting.md's table in
// step with the codes the program can print: a row for every code, and no
// row for a code that does not exist.
func TestEveryProblemCodeDocumented(t *testing.T) {
	b, err := os.ReadFile(repoFile("docs/troubleshooting.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if code, ok := strings.CutPrefix(line, "| `"); ok {
			if i := strings.Index(code, "` |"); i > 0 {
				rows[code[:i]] = true
			}
		}
	}
	known := map[string]bool{}
	for _, c := range problem.Codes {
		known[string(c)] = true
		if !rows[string(c)] {
			t.Errorf("docs/troubleshooting.md has no row for code %q", c)
		}
	}
	for code := range rows {
		if !known[code] {
			t.Errorf("docs/troubleshooting.md documents code %q, which the program does not have", code)
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
	// The program's own variables: unique, documented, and no setting's
	// environment fallback.
	for _, v := range inputs.EnvVars {
		claim("env", v.Name, v.Name)
		if v.Doc == "" || !strings.HasSuffix(v.Doc, ".") {
			t.Errorf("%s: doc must be a sentence", v.Name)
		}
	}
	for _, s := range inputs.Table {
		for _, e := range s.Env {
			if _, ours := names["env:"+e]; ours {
				t.Errorf("%s is both setting %s's fallback and in inputs.EnvVars", e, s.Name)
			}
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

// TestFormatNamesAgree keeps the formats setting and the renderers in
// step: the setting takes every format output renders, in its order, and
// output renders every name of the one list (names.Formats).
func TestFormatNamesAgree(t *testing.T) {
	got := strings.Join(output.FormatNames(), ",")
	env := map[string]string{"PLUGIN_REGION": "eu-west-1", "PLUGIN_FORMATS": got}
	cfg, _, err := inputs.Load(inputs.Source{Mode: inputs.Plugin, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatalf("the formats setting refuses output's formats %s: %v", got, err)
	}
	if want := strings.Join(cfg.Formats, ","); got != want {
		t.Errorf("output formats %s, settings accept %s", got, want)
	}
	if want := strings.Join(outnames.Formats, ","); got != want {
		t.Errorf("output formats %s, names.Formats %s", got, want)
	}
}

// TestShellNamesAgree keeps the shell setting and the renderers in step:
// the setting takes every shell output renders for, and output renders
// for each.
func TestShellNamesAgree(t *testing.T) {
	for _, sh := range output.ShellNames {
		cfg, _, err := inputs.Load(inputs.Source{Mode: inputs.CLI, Getenv: func(k string) string { return map[string]string{"AWS_REGION": "eu-west-1"}[k] },
			Flags: inputs.Flags{inputs.Shell: {{Name: "shell", Value: sh}}}})
		if err != nil || cfg.Shell != sh {
			t.Errorf("the shell setting takes %q as %v (%v)", sh, cfg, err)
			continue
		}
		if _, err := output.Exports([]output.Value{{Name: "ECR_USERNAME", Value: "AWS"}}, output.Shell(cfg.Shell)); err != nil {
			t.Errorf("output renders nothing for shell %q: %v", sh, err)
		}
	}
}
