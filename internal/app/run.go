package app

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/flow"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/output"
	"github.com/ecr-credentials/ecr-credentials/internal/runner"
	"github.com/ecr-credentials/ecr-credentials/internal/securefile"
)

// A run is one transaction. First the sinks check what needs no result
// (precheck: where a login may go), so that a bad path fails before any
// network call; the flow (flow.Run) produces a Result, its logins
// verified; then every sink of
// the mode stages (prepares all that can fail, and writes nothing anyone
// reads yet, or only what it can take back: the docker login), then all
// commit in the order listed; any failure undoes every sink that staged,
// newest first, so a failed run leaves no outputs, variables, files or
// docker login behind (securefile.Set does the same for files).
//
// A mode is the list of its sinks (githubSinks, pluginSinks, cliSinks) and
// the lines it logs afterwards; a sink is written once (sinks.go,
// loginsink.go) and is in every mode that lists it. A sink keeps its own
// state (the login it wrote, the files, the variables): one that has any is
// made for the run, and the mode reads its log lines from it.
type run struct {
	ctx context.Context
	cfg *inputs.Config
	e   Env
	// where is where the job runs, and the docker login's directory.
	where *runner.Runner
	con   *output.Console
	res   *flow.Result
	// maskRegistry masks what is derived from registry passwords (or, with
	// mask-password false, only hides it from our own log).
	maskRegistry func(string)
	// workspace is the plugin's workspace; relative paths are in it.
	workspace string

	// What the sinks share: GitHub file commands and workspace files,
	// each committed by its own sink (fileCommands, workspaceFiles).
	fc    *output.FileCommands
	files securefile.Set
}

// sink is one place a run's result goes.
type sink interface {
	// stage prepares the sink's part; it may fail.
	stage(t *run) error
	// commit makes it visible to later steps; it may fail.
	commit(t *run) error
	// undo takes back whatever stage and commit did (also after a stage
	// or commit that failed part way).
	undo(t *run)
}

// transact is the run: the sinks' prechecks, the flow, then deliver.
func (t *run) transact(sinks []sink) error {
	if err := t.precheck(sinks); err != nil {
		return err
	}
	res, err := flow.Run(t.ctx, t.cfg, t.e.flowEnv(), t.con)
	if err != nil {
		return err
	}
	t.res = res
	return t.deliver(sinks)
}

// prechecker is a sink with checks that need no result of the flow (where
// a login may go): they run before it, so that a bad directory fails
// before any network call.
type prechecker interface {
	precheck(t *run) error
}

// precheck runs the checks of the sinks that have them, in order.
func (t *run) precheck(sinks []sink) error {
	for _, s := range sinks {
		if p, ok := s.(prechecker); ok {
			if err := p.precheck(t); err != nil {
				return err
			}
		}
	}
	return nil
}

// deliver stages every sink, then commits every sink; on any failure it
// undoes every sink that had begun, newest first, and returns the error.
func (t *run) deliver(sinks []sink) error {
	var begun []sink
	fail := func(err error) error {
		for i := len(begun) - 1; i >= 0; i-- {
			begun[i].undo(t)
		}
		return err
	}
	for _, s := range sinks {
		begun = append(begun, s)
		if err := s.stage(t); err != nil {
			return fail(err)
		}
	}
	for _, s := range sinks {
		if err := s.commit(t); err != nil {
			return fail(err)
		}
	}
	return nil
}

// undoContext is for taking a write back: the run's own context may be why
// it failed (cancelled, or past its deadline), and a cancelled context can
// run nothing; the undo gets a fresh one, bounded so that it cannot hang.
func (t *run) undoContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(t.ctx), 30*time.Second)
}

// inWorkspace resolves a relative path against the plugin's workspace.
func (t *run) inWorkspace(p string) string {
	if t.workspace == "" || p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(t.workspace, p)
}

// detectRunner works out where the job runs (runner.Detect), once per run
// and before the flow, so that a docker config directory a login could not
// use fails before any network call.
func detectRunner(e Env, cfg *inputs.Config, workspace string, con *output.Console) (*runner.Runner, error) {
	return runner.Detect(runner.Input{Getenv: e.Getenv, Config: cfg, Workspace: workspace,
		Warn: func(w string) { con.Warnf("%s", w) }})
}

// loadSettings reads the settings of the mode and logs their warnings.
func loadSettings(con *output.Console, src inputs.Source) (*inputs.Config, error) {
	cfg, warnings, err := inputs.Load(src)
	if err != nil {
		return nil, err
	}
	flow.MaskAccounts(cfg, con) // before the first line: a warning may name a role
	for _, w := range warnings {
		con.Warnf("%s", w)
	}
	for _, n := range cfg.Notes {
		con.Infof("%s", n)
	}
	return cfg, nil
}

// logExpiry logs when each registry's password expires.
func (t *run) logExpiry() {
	now := time.Now()
	for _, l := range t.res.Logins {
		t.con.Infof("Registry %s (%s): password expires %s", l.Registry.Host, l.Registry.Region, describeExpiry(l.ExpiresAt, now))
	}
}

func verifiedNote(cfg *inputs.Config) string {
	if cfg.Verify {
		return " (verified against each registry)"
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// describeExpiry renders "2026-11-25T09:41:00Z (in 11h59m)".
func describeExpiry(t, now time.Time) string {
	d := t.Sub(now).Round(time.Minute)
	if d < 0 {
		return fmt.Sprintf("%s (expired)", output.FormatTime(t))
	}
	return fmt.Sprintf("%s (in %s)", output.FormatTime(t), shortDuration(d))
}

func shortDuration(d time.Duration) string {
	h := int(d / time.Hour)
	m := int((d % time.Hour) / time.Minute)
	if h == 0 {
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%dh%02dm", h, m)
}
