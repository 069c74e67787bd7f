package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// procTimeout bounds every process a contender starts.
const procTimeout = 2 * time.Minute

// proc is one finished process: when it ran and what it cost, from wait4's
// rusage (which also counts the descendants it waited for, such as the
// docker CLI that amazon-ecr-login starts).
type proc struct {
	Name       string
	Start, End time.Time
	CPU        time.Duration // user + system
	MaxRSS     int64         // bytes
}

// spec describes one process to start.
type spec struct {
	Name  string // for messages
	Path  string
	Args  []string
	Env   []string
	Dir   string
	Stdin io.Reader
}

// baseEnv is the clean environment every contender starts from: no host
// AWS configuration, no instance metadata, a private HOME.
func baseEnv(home string, extra map[string]string) []string {
	env := map[string]string{
		"PATH":                        "/usr/local/bin:/usr/bin:/bin",
		"HOME":                        home,
		"LANG":                        "C.UTF-8",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             filepath.Join(home, "no-such-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "no-such-aws-credentials"),
		"AWS_PAGER":                   "",
	}
	for k, v := range extra {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// launcher runs every measured process through the launch helper (see
// launch/main.go), which reports times and rusage from right around the
// program.
type launcher struct {
	bin string // the built launch helper
	dir string // where reports go
	n   int
}

// run starts one process, waits for it and returns its stdout and costs.
// A non-zero exit is an error quoting stderr (scrubbed by the caller's lab).
func (ln *launcher) run(ctx context.Context, l *lab, s spec) ([]byte, proc, error) {
	out, ps, err := ln.pipeline(ctx, l, s)
	if err != nil {
		return nil, proc{}, err
	}
	return out, ps[0], nil
}

// pipeline starts the processes with each one's stdout feeding the next
// one's stdin (like a shell pipe), waits for all, and returns the last one's
// stdout and every process's costs.
func (ln *launcher) pipeline(ctx context.Context, l *lab, specs ...spec) ([]byte, []proc, error) {
	ctx, cancel := context.WithTimeout(ctx, procTimeout)
	defer cancel()
	cmds := make([]*exec.Cmd, len(specs))
	reports := make([]string, len(specs))
	stderrs := make([]bytes.Buffer, len(specs))
	var stdout bytes.Buffer
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for i, s := range specs {
		ln.n++
		reports[i] = filepath.Join(ln.dir, fmt.Sprintf("report-%d", ln.n))
		cmd := exec.CommandContext(ctx, ln.bin, append([]string{reports[i], s.Path}, s.Args...)...)
		cmd.Env, cmd.Dir = s.Env, s.Dir
		cmd.Stderr = &stderrs[i]
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		cmd.WaitDelay = 5 * time.Second
		if i == 0 {
			cmd.Stdin = s.Stdin
		}
		cmds[i] = cmd
	}
	for i := 0; i+1 < len(cmds); i++ {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, nil, fmt.Errorf("pipe %s to %s: %w", specs[i].Name, specs[i+1].Name, err)
		}
		closers = append(closers, r, w)
		cmds[i].Stdout, cmds[i+1].Stdin = w, r
	}
	cmds[len(cmds)-1].Stdout = &stdout

	ps := make([]proc, len(specs))
	started := 0
	var startErr error
	for i, cmd := range cmds {
		ps[i].Name = specs[i].Name
		if err := cmd.Start(); err != nil {
			startErr = fmt.Errorf("start %s: %w", specs[i].Name, err)
			break
		}
		started++
	}
	// The parent's ends of the pipes must close, or readers never see EOF.
	for _, c := range closers {
		c.Close()
	}
	closers = nil
	if startErr != nil {
		for _, cmd := range cmds[:started] {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		}
		return nil, nil, startErr
	}

	var errs []error
	for i, cmd := range cmds {
		err := cmd.Wait()
		if ctx.Err() != nil {
			errs = append(errs, fmt.Errorf("%s: still running after %s, killed", specs[i].Name, procTimeout))
			continue
		}
		if err != nil {
			msg := "stderr: " + stderrs[i].String()
			if i == len(cmds)-1 {
				msg = "stdout: " + stdout.String() + "\n" + msg
			}
			msg = strings.TrimSpace(l.scrub(msg))
			if len(msg) > 4000 {
				msg = msg[:4000] + " ..."
			}
			errs = append(errs, fmt.Errorf("%s: %w; %s", specs[i].Name, err, msg))
			continue
		}
		p, rerr := readReport(reports[i])
		if rerr != nil {
			errs = append(errs, fmt.Errorf("%s: %w", specs[i].Name, rerr))
			continue
		}
		p.Name = specs[i].Name
		ps[i] = p
	}
	if err := errors.Join(errs...); err != nil {
		return nil, ps, err
	}
	return stdout.Bytes(), ps, nil
}

// readReport reads what the launch helper wrote.
func readReport(path string) (proc, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return proc{}, fmt.Errorf("launch report: %w", err)
	}
	os.Remove(path)
	var start, end, utime, stime, maxrss int64
	if _, err := fmt.Sscan(string(b), &start, &end, &utime, &stime, &maxrss); err != nil {
		return proc{}, fmt.Errorf("launch report %q: %w", strings.TrimSpace(string(b)), err)
	}
	return proc{
		Start:  time.Unix(0, start),
		End:    time.Unix(0, end),
		CPU:    time.Duration(utime + stime),
		MaxRSS: maxrss * 1024, // Linux reports KiB
	}, nil
}
