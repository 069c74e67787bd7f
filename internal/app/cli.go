package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/ecr-credentials/ecr-credentials/internal/flow"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/output"
	"github.com/ecr-credentials/ecr-credentials/internal/registry"
	"github.com/ecr-credentials/ecr-credentials/internal/runner"
)

// cliCommand is a subcommand for people and scripts. Results go to stdout,
// the log to stderr.
type cliCommand struct {
	name, args, doc string
	// dockerLogin is the default of docker-login for the command.
	dockerLogin bool
	// settings are the settings of commandSettings this command takes
	// (the rest of the CLI settings every command takes).
	settings []*inputs.Setting
	// run prints the result; mask registers a secret derived from it
	// (a format's encodings) before it is printed.
	run func(ctx context.Context, e Env, cfg *inputs.Config, res *flow.Result, args []string, mask func(string)) error
}

var cliCommands = []cliCommand{
	{name: "login", args: "[REGISTRY...]", dockerLogin: true,
		settings: []*inputs.Setting{inputs.DockerLogin, inputs.DockerConfig, inputs.RegistryAuthFile, inputs.Verify},
		doc:      "Write a docker login (config.json in DOCKER_CONFIG or ~/.docker) for the registries.",
		run: func(ctx context.Context, e Env, cfg *inputs.Config, res *flow.Result, _ []string, _ func(string)) error {
			return nil // the login itself is done by the shared sink
		}},
	{name: "get-login-password", args: "[REGISTRY]",
		doc: "Print the password of one registry, like `aws ecr get-login-password` (pipe it to `docker login --username AWS --password-stdin`).",
		run: func(ctx context.Context, e Env, cfg *inputs.Config, res *flow.Result, _ []string, _ func(string)) error {
			_, err := fmt.Fprintln(e.Stdout, res.Logins[0].Password)
			return err
		}},
	{name: "env", args: "[REGISTRY...]",
		settings: []*inputs.Setting{inputs.Shell, inputs.EnvPrefix, inputs.ExportAWSCredentials},
		doc:      "Print `export ECR_USERNAME=...` lines for `eval \"$(ecr-credentials env)\"` in sh, bash or zsh (--shell fish, powershell or cmd for those shells).",
		run: func(ctx context.Context, e Env, cfg *inputs.Config, res *flow.Result, _ []string, _ func(string)) error {
			values := output.Env(res.ECRLogins(), res.JSON, cfg.EnvPrefix)
			if cfg.ExportAWSCredentials {
				_, aws := output.AWSCredentials(res.Session.Credentials, cfg.Region)
				values = append(values, aws...)
			}
			text, err := output.Exports(values, output.Shell(cfg.Shell))
			if err != nil {
				return err
			}
			_, err = io.WriteString(e.Stdout, text)
			return err
		}},
	{name: "json", args: "[REGISTRY...]",
		doc: "Print one JSON object: the first registry's credentials and every registry under \"registries\".",
		run: func(ctx context.Context, e Env, cfg *inputs.Config, res *flow.Result, _ []string, _ func(string)) error {
			_, err := fmt.Fprintln(e.Stdout, res.JSON)
			return err
		}},
	{name: "print", args: "FORMAT [REGISTRY...]",
		settings: []*inputs.Setting{inputs.EnvPrefix, inputs.K8sSecretName, inputs.K8sNamespace, inputs.BambooNamespace},
		doc:      "Print another format: " + strings.Join(output.FormatNames(), ", ") + ".",
		run: func(ctx context.Context, e Env, cfg *inputs.Config, res *flow.Result, args []string, mask func(string)) error {
			f, _ := output.LookupFormat(args[0])
			text, err := f.Render(res.ECRLogins(), formatOptions(cfg))
			if err != nil {
				return err
			}
			for _, secret := range f.Secrets(text, res.ECRLogins(), formatOptions(cfg)) {
				mask(secret)
			}
			if !strings.HasSuffix(text, "\n") {
				text += "\n"
			}
			_, err = io.WriteString(e.Stdout, text)
			return err
		}},
}

// formatOptions are the settings the formats read.
func formatOptions(cfg *inputs.Config) output.FormatOptions {
	return output.FormatOptions{EnvPrefix: cfg.EnvPrefix, K8sSecretName: cfg.K8sSecretName, K8sNamespace: cfg.K8sNamespace, BambooNamespace: cfg.BambooNamespace}
}

func lookupCLI(name string) (cliCommand, bool) {
	for _, c := range cliCommands {
		if c.name == name {
			return c, true
		}
	}
	return cliCommand{}, false
}

// flagValue records a flag the user set, as the raw string the settings
// table parses.
type flagValue struct {
	set     inputs.Flags
	setting *inputs.Setting
	name    string
	isBool  bool
}

func (f *flagValue) String() string   { return "" }
func (f *flagValue) IsBoolFlag() bool { return f.isBool }
func (f *flagValue) Set(v string) error {
	f.set.Set(f.setting, f.name, v)
	return nil
}

// commandSettings are the CLI settings only some commands take (those
// that list them in settings): --help and the flags of a command show
// only what it uses.
func commandSettings() map[*inputs.Setting]bool {
	only := map[*inputs.Setting]bool{}
	for _, c := range cliCommands {
		for _, s := range c.settings {
			only[s] = true
		}
	}
	return only
}

// takes reports whether the command takes the setting.
func (c cliCommand) takes(s *inputs.Setting) bool {
	if !s.Modes.Has(inputs.CLI) || len(s.Flag) == 0 {
		return false
	}
	return !commandSettings()[s] || slices.Contains(c.settings, s)
}

// cliFlags builds the flag set of a command from the settings table.
func cliFlags(cmd cliCommand) (*flag.FlagSet, inputs.Flags) {
	fs := flag.NewFlagSet("ecr-credentials "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	set := inputs.Flags{}
	for _, s := range inputs.Table {
		if !cmd.takes(s) {
			continue
		}
		for _, fl := range s.Flag {
			fs.Var(&flagValue{set: set, setting: s, name: fl, isBool: s.Kind == inputs.Bool}, fl, s.Doc)
		}
	}
	return fs, set
}

// unknownFlag explains a flag the command does not have: the closest of
// its flags, or the commands that take it.
func unknownFlag(cmd cliCommand, fs *flag.FlagSet, err error) string {
	name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: ")
	if !ok {
		return ""
	}
	name = strings.TrimLeft(name, "-")
	for _, s := range inputs.Table {
		if !slices.Contains(s.Flag, name) || !s.Modes.Has(inputs.CLI) {
			continue
		}
		var others []string
		for _, c := range cliCommands {
			if c.takes(s) {
				others = append(others, c.name)
			}
		}
		return fmt.Sprintf("--%s is a flag of %s, not of %s.", name, strings.Join(others, ", "), cmd.name)
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if best := inputs.Suggest(name, names); best != "" {
		return fmt.Sprintf("Did you mean --%s?", best)
	}
	return ""
}

func runCLI(ctx context.Context, e Env, cmd cliCommand, args []string) int {
	fs, flags := cliFlags(cmd)
	// Flags may come before, between and after the arguments
	// (`print bamboo --bamboo-namespace x`).
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				cliHelp(e.Stdout, cmd)
				return ExitOK
			}
			// The flag package quotes values but not flag names: one line.
			hint := unknownFlag(cmd, fs, err)
			if hint != "" {
				hint = output.OneLine(hint) + " "
			}
			fmt.Fprintf(e.Stderr, "ecr-credentials %s: %s\n%sRun `ecr-credentials %s --help` for the flags.\n", cmd.name, output.OneLine(err.Error()), hint, cmd.name)
			return ExitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if cmd.name == "print" {
		if len(rest) == 0 {
			fmt.Fprintf(e.Stderr, "ecr-credentials print: name a format: %s\n", strings.Join(output.FormatNames(), ", "))
			return ExitUsage
		}
		if _, ok := output.LookupFormat(rest[0]); !ok {
			fmt.Fprintf(e.Stderr, "ecr-credentials print: %q is not a format; use one of %s\n", rest[0], strings.Join(output.FormatNames(), ", "))
			return ExitUsage
		}
	}
	positional := rest
	if cmd.name == "print" {
		positional = rest[1:]
	}
	if len(positional) > 0 {
		if _, ok := flags.Value(inputs.Registries); ok {
			fmt.Fprintf(e.Stderr, "ecr-credentials %s: give registries either as arguments or with --registries, not both\n", cmd.name)
			return ExitUsage
		}
		flags.Replace(inputs.Registries, strings.Join(positional, ","))
	}
	if cmd.name == "get-login-password" {
		v, _ := flags.Value(inputs.Registries)
		if items, err := registry.SplitList(v); err == nil && len(items) > 1 {
			fmt.Fprintf(e.Stderr, "ecr-credentials get-login-password: %d registries given, but it prints one password: give one registry, or use `json` or `env` for several\n", len(items))
			return ExitUsage
		}
	}
	if _, ok := flags.Value(inputs.DockerLogin); !ok && cmd.dockerLogin {
		flags.Replace(inputs.DockerLogin, "true")
	}
	v, _ := flags.Value(inputs.Debug)
	debug, _ := inputs.ParseBool(v)
	con := output.NewConsole(output.StylePlain, e.Stderr, e.Stderr, debug)
	if runner.InGitHubJob(e.Getenv) {
		// A run: step of a GitHub job: the runner masks what it is told
		// of on stderr, and stdout stays the result alone.
		con.AnnounceMasks()
	}
	if err := cliRun(ctx, e, con, cmd, flags, rest); err != nil {
		con.Problem(err)
		return ExitError
	}
	return ExitOK
}

// cliSinks: where a CLI command's result goes, in order.
func cliSinks(cmd cliCommand, args []string, l loginSinks) []sink {
	return []sink{stdout{cmd: cmd, args: args, docker: l.docker}, l.authFile, l.docker}
}

func cliRun(ctx context.Context, e Env, con *output.Console, cmd cliCommand, flags inputs.Flags, args []string) error {
	cfg, err := loadSettings(con, inputs.Source{Mode: inputs.CLI, Getenv: e.Getenv, Environ: e.Environ, Flags: flags})
	if err != nil {
		return err
	}
	where, err := detectRunner(e, cfg, "", con)
	if err != nil {
		return err
	}
	t := &run{ctx: ctx, cfg: cfg, e: e, where: where, con: con, maskRegistry: con.Mask}
	logins := newLoginSinks(false)
	if err := t.transact(cliSinks(cmd, args, logins)); err != nil {
		return err
	}
	if logins.docker.login != nil {
		for _, l := range t.res.Logins {
			con.Infof("Login Succeeded: %s (expires %s)", l.Registry.Host, output.FormatTime(l.ExpiresAt))
		}
		logins.docker.logWritten(t)
	}
	return nil
}

// cliHelp prints a command's help, generated from the settings table.
func cliHelp(w io.Writer, cmd cliCommand) {
	fmt.Fprintf(w, "Usage: ecr-credentials %s [flags] %s\n\n%s\n\nFlags (every one also has an environment or plugin form; see docs/settings.md):\n", cmd.name, cmd.args, cmd.doc)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	for _, s := range inputs.Table {
		if !cmd.takes(s) {
			continue
		}
		names := make([]string, len(s.Flag))
		for i, f := range s.Flag {
			names[i] = "--" + f
		}
		def := s.DefaultFor(inputs.CLI)
		if cmd.dockerLogin && s == inputs.DockerLogin {
			def = "true"
		}
		extra := ""
		if def != "" {
			extra = " (default " + def + ")"
		}
		if len(s.Env) > 0 {
			extra += " [env " + strings.Join(s.Env, ", ") + "]"
		}
		fmt.Fprintf(tw, "  %s\t%s%s\n", strings.Join(names, ", "), s.Doc, extra)
	}
	tw.Flush()
}

// cliUsage lists the commands.
func cliUsage(w io.Writer) {
	fmt.Fprintf(w, "\nCommands (each takes --help):\n")
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	for _, c := range cliCommands {
		fmt.Fprintf(tw, "  %s %s\t%s\n", c.name, c.args, c.doc)
	}
	tw.Flush()
}
