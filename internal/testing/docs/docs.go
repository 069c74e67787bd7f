// Package docs generates action.yml and the parts of the documentation that
// describe settings and outputs (docs/settings.md, docs/migrating.md), from
// the one settings table (inputs.Table) and the one list of output fields
// (output.Fields), so they never disagree. `go test ./internal/testing/docs -update` rewrites the
// files; without -update the test fails when they are out of date.
package docs

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/output"
)

// ActionHeader says where action.yml comes from.
const ActionHeader = "# Generated from internal/inputs (settings) and internal/output (outputs) by\n# `go test ./internal/testing/docs -update`. Edit those, not this file.\n"

// Runs is the runs: section of action.yml.
type Runs struct {
	Image          string   // "Dockerfile" or "docker://ghcr.io/...:v1.2.3"
	Args           []string // passed to every stage
	PostEntrypoint string
}

// DefaultRuns builds the image from the Dockerfile; a release replaces
// Image with its prebuilt image.
var DefaultRuns = Runs{
	Image:          "Dockerfile",
	Args:           TableArgs(),
	PostEntrypoint: "/usr/local/bin/ecr-credentials-post",
}

// TableArgs are the runs.args that carry the FromArgs settings, which must
// reach the program untranslated (see inputs.Setting.FromArgs).
func TableArgs() []string {
	var args []string
	for _, s := range inputs.Table {
		if s.FromArgs {
			args = append(args, fmt.Sprintf("--%s=${{ inputs.%s }}", s.Name, s.Name))
		}
	}
	return args
}

// ActionYAML renders action.yml, the container form of the action.
func ActionYAML(runs Runs) ([]byte, error) {
	return renderAction("action.yml", ActionHeader, mapping(
		"name", scalar("Amazon ECR credentials"),
		"description", scalar("Log in to Amazon ECR (private and public) with the job's OIDC identity: masked outputs, env vars and a docker login that later steps use."),
		"author", scalar("ecr-credentials"),
		"branding", mapping("icon", scalar("lock"), "color", scalar("orange")),
		"inputs", actionInputs(false),
		"outputs", actionOutputs(),
		"runs", actionRuns(runs),
	))
}

// NativeHeader says where native/action.yml comes from.
const NativeHeader = "# Generated from internal/inputs (settings) and internal/output (outputs) by\n# `go test ./internal/testing/docs -update`, like ../action.yml: the same inputs\n# and outputs, less the container's own. Edit those, not this file.\n"

// NativeNode is the node version the runner runs the native launcher with.
// node24: node 20 reached its end of life in April 2026 and the runner
// (v2.328 and later) accepts node24; the launcher itself also runs on
// node 20 (the tests run it with Debian's node).
const NativeNode = "node24"

// NativeActionYAML renders native/action.yml: the native form of the
// action, which runs the launcher (native/main.js, native/post.js) on the
// runner's host. Its inputs are action.yml's, less the settings that only
// carry container paths (FromArgs: host-runner-temp, host-workspace); its
// outputs are the same.
func NativeActionYAML() ([]byte, error) {
	return renderAction("native/action.yml", NativeHeader, mapping(
		"name", scalar("Amazon ECR credentials (native)"),
		"description", scalar("Log in to Amazon ECR with the job's OIDC identity on the runner itself (Linux, macOS, Windows; no Docker needed): masked outputs, env vars and a docker login in the runner's own docker config."),
		"author", scalar("ecr-credentials"),
		"branding", mapping("icon", scalar("lock"), "color", scalar("orange")),
		"inputs", actionInputs(true),
		"outputs", actionOutputs(),
		"runs", mapping("using", scalar(NativeNode), "main", scalar("main.js"), "post", scalar("post.js")),
	))
}

func renderAction(name, header string, doc *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// actionInputs are the GitHub inputs of the settings table; native leaves
// out those that exist only to carry container paths.
func actionInputs(native bool) *yaml.Node {
	var kv []any
	for _, s := range inputs.Table {
		if !s.Modes.Has(inputs.GitHub) || native && s.FromArgs {
			continue
		}
		fields := []any{"description", scalar(inputDoc(s)), "required", boolean(false)}
		if d := s.DefaultFor(inputs.GitHub); d != "" {
			fields = append(fields, "default", quoted(d))
		}
		kv = append(kv, s.Name, mapping(fields...))
	}
	return mapping(kv...)
}

func inputDoc(s *inputs.Setting) string {
	doc := s.Doc + inputEnvDoc(s)
	if s.DefaultDoc != "" {
		doc += " Default: " + s.DefaultDoc + "."
	}
	return doc
}

func actionOutputs() *yaml.Node {
	var kv []any
	for _, f := range output.Fields {
		kv = append(kv, f.Output, mapping("description", scalar(f.Doc)))
	}
	for _, o := range output.ExtraOutputs {
		if strings.Contains(o.Name, "<") {
			continue // per-registry outputs are named at run time
		}
		kv = append(kv, o.Name, mapping("description", scalar(o.Doc)))
	}
	for _, f := range output.Formats {
		kv = append(kv, f.Output, mapping("description", scalar("With formats: "+f.Name+": "+f.Doc+" Masked.")))
	}
	for _, o := range output.AWSCredentialOutputs {
		kv = append(kv, o.Name, mapping("description", scalar(o.Doc)))
	}
	return mapping(kv...)
}

func actionRuns(r Runs) *yaml.Node {
	fields := []any{"using", scalar("docker"), "image", scalar(r.Image)}
	if len(r.Args) > 0 {
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for _, a := range r.Args {
			seq.Content = append(seq.Content, quoted(a))
		}
		fields = append(fields, "args", seq)
	}
	fields = append(fields, "post-entrypoint", scalar(r.PostEntrypoint))
	return mapping(fields...)
}

func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i < len(kv); i += 2 {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: kv[i].(string)}, kv[i+1].(*yaml.Node))
	}
	return n
}

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }

func quoted(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Value: v, Style: yaml.SingleQuotedStyle}
}

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(b)}
}

// SettingsReference renders the settings reference of docs/settings.md:
// one short table per mode (the name used there, its default in that mode,
// the first sentence of its doc), then every setting in full, with all its
// names and environment variables. Cells stay short; the long text is in
// the per-setting paragraphs the tables link to.
func SettingsReference() string {
	var b strings.Builder
	for _, m := range []struct {
		mode          inputs.Mode
		title, column string
	}{
		{inputs.GitHub, "GitHub Actions (`with:` of either form of the action)", "Input"},
		{inputs.Plugin, "Drone and Woodpecker (`settings:` of the plugin step; `PLUGIN_<NAME>` variables)", "Setting"},
		{inputs.CLI, "CLI (flags of every command that takes them; `<command> --help` lists them)", "Flag"},
	} {
		fmt.Fprintf(&b, "### %s\n\n| %s | Default | What it does |\n| --- | --- | --- |\n", m.title, m.column)
		for _, s := range inputs.Table {
			name, ok := modeName(s, m.mode)
			if !ok {
				continue
			}
			fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s |\n", name, s.Name, defaultIn(s, m.mode), escape(Summary(s.Doc)))
		}
		b.WriteString("\n")
	}
	b.WriteString("### Every setting\n")
	for _, s := range inputs.Table {
		fmt.Fprintf(&b, "\n#### `%s`\n\n", s.Name)
		var where []string
		if s.Modes.Has(inputs.GitHub) {
			where = append(where, "GitHub input `"+s.Name+"`")
		}
		if s.Modes.Has(inputs.Plugin) && len(s.Plugin) > 0 {
			where = append(where, "plugin "+alsoNames(s.Plugin, ""))
		}
		if s.Modes.Has(inputs.CLI) && len(s.Flag) > 0 {
			where = append(where, "CLI "+alsoNames(s.Flag, "--"))
		}
		if len(s.Env) > 0 {
			where = append(where, "environment "+envNames(s.Env))
		}
		fmt.Fprintf(&b, "%s. Default: %s.\n\n%s\n", strings.Join(where, " · "), defaultAll(s), s.Doc)
	}
	return b.String()
}

// modeName is the name a user of mode m gives the setting.
func modeName(s *inputs.Setting, m inputs.Mode) (string, bool) {
	if !s.Modes.Has(m) {
		return "", false
	}
	switch m {
	case inputs.Plugin:
		if len(s.Plugin) == 0 {
			return "", false
		}
		return s.Plugin[0], true
	case inputs.CLI:
		if len(s.Flag) == 0 {
			return "", false
		}
		return "--" + s.Flag[0], true
	}
	return s.Name, true
}

// alsoNames: the documented name, then the accepted aliases.
func alsoNames(list []string, prefix string) string {
	out := "`" + prefix + list[0] + "`"
	if len(list) > 1 {
		out += " (also " + names(list[1:], prefix) + ")"
	}
	return out
}

// envNames lists the environment variables a setting falls back to, in the
// order they are read.
func envNames(env []string) string { return strings.Join(quoteAll(env), ", then ") }

// defaultIn is the default a user of mode m gets: the environment
// variables read first, then the literal default of the mode or the
// default described in words.
func defaultIn(s *inputs.Setting, m inputs.Mode) string {
	var parts []string
	if len(s.Env) > 0 {
		parts = append(parts, "env "+strings.Join(quoteAll(s.Env), ", then "))
	}
	if d := s.DefaultFor(m); d != "" {
		parts = append(parts, "`"+d+"`")
	} else if s.DefaultDoc != "" {
		parts = append(parts, escape(s.DefaultDoc))
	}
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, ", else ")
}

// defaultAll is the default in every mode, for the full entry.
func defaultAll(s *inputs.Setting) string {
	var parts []string
	if d := s.Default; d != "" {
		parts = append(parts, "`"+d+"`")
	}
	for _, m := range []inputs.Mode{inputs.GitHub, inputs.Plugin, inputs.CLI} {
		if d, ok := s.ModeDefault[m]; ok && d != s.Default {
			parts = append(parts, fmt.Sprintf("%s `%s`", m, d))
		}
	}
	if s.DefaultDoc != "" {
		parts = append(parts, s.DefaultDoc)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, n := range list {
		out[i] = "`" + n + "`"
	}
	return out
}

func names(list []string, prefix string) string {
	out := make([]string, len(list))
	for i, n := range list {
		out[i] = "`" + prefix + n + "`"
	}
	return strings.Join(out, ", ")
}

// Summary is the first sentence of a doc text: up to the first ". " that
// does not close an abbreviation (e.g., i.e.) or stand alone (" . ").
func Summary(doc string) string {
	for i := 0; i+1 < len(doc); i++ {
		if doc[i] != '.' || doc[i+1] != ' ' {
			continue
		}
		before := doc[:i]
		if i == 0 || doc[i-1] == ' ' || strings.HasSuffix(before, "e.g") || strings.HasSuffix(before, "i.e") {
			continue
		}
		return doc[:i+1]
	}
	return doc
}

// inputEnvDoc says which environment variables a setting falls back to,
// for action.yml.
func inputEnvDoc(s *inputs.Setting) string {
	if len(s.Env) == 0 {
		return ""
	}
	return " Unset, the environment variable " + strings.Join(s.Env, ", then ") + " is read."
}

func escape(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

// PeersTable renders the table (docs/migrating.md) of the names other actions and
// plugins give settings (inputs.Peers): what each does here.
func PeersTable() string {
	var b strings.Builder
	b.WriteString("| Name | Where | Whose | Here |\n| --- | --- | --- | --- |\n")
	for _, p := range inputs.Peers {
		where := "GitHub input"
		if p.Mode == inputs.Plugin {
			where = "plugin setting"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", p.Name, where, escape(p.Peer), escape(p.Doc))
	}
	return b.String()
}

// EnvVarsTable renders the table (docs/settings.md) of the program's own environment
// variables (inputs.EnvVars), which are no setting's fallback.
func EnvVarsTable() string {
	var b strings.Builder
	b.WriteString("| Variable | Description |\n| --- | --- |\n")
	for _, v := range inputs.EnvVars {
		fmt.Fprintf(&b, "| `%s` | %s |\n", v.Name, escape(v.Doc))
	}
	return b.String()
}

// OutputsTable renders the table (docs/settings.md) of outputs and environment variables.
func OutputsTable() string {
	var b strings.Builder
	b.WriteString("| Output | Environment variable | Description |\n| --- | --- | --- |\n")
	for _, f := range output.Fields {
		fmt.Fprintf(&b, "| `%s` | `ECR_%s` | %s |\n", f.Output, f.Env, escape(f.Doc))
	}
	for _, o := range output.ExtraOutputs {
		env := "–"
		if o.Env != "" {
			env = "`ECR_" + o.Env + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", o.Name, env, escape(o.Doc))
	}
	for _, f := range output.Formats {
		fmt.Fprintf(&b, "| `%s` | – | With `formats: %s`: %s Masked. |\n", f.Output, f.Name, escape(f.Doc))
	}
	for _, o := range output.AWSCredentialOutputs {
		env := "–"
		if o.Env != "" {
			env = "`" + o.Env + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", o.Name, env, escape(o.Doc))
	}
	return b.String()
}

// Replace swaps the text between `<!-- name:begin -->` and
// `<!-- name:end -->` lines in doc for body.
func Replace(doc, name, body string) (string, error) {
	begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		return "", fmt.Errorf("markers %q and %q not found in order", strings.TrimSpace(begin), end)
	}
	return doc[:i+len(begin)] + body + doc[j:], nil
}
