package inputs

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/ecr-credentials/ecr-credentials/internal/problem"
	"github.com/ecr-credentials/ecr-credentials/internal/registry"
)

// FuzzLoad feeds the settings parser two settings with arbitrary values, in
// any mode, on top of a valid base. Load must never panic; an error is a
// *problem.Problem with a code other than internal that names how the
// user spelled the setting and never repeats a secret setting's value; a
// success holds only values the rest of the program can trust (a known
// region, a duration in range, a prefix that cannot write GITHUB_* or
// break a file command, a valid session name, registries as bare hosts).
func FuzzLoad(f *testing.F) {
	f.Add(uint8(0), uint8(0), "arn:aws:iam::123456789012:role/x", uint8(1), "eu-west-1")
	f.Add(uint8(1), uint8(17), "123456789012, public.ecr.aws", uint8(14), "900")
	f.Add(uint8(2), uint8(24), "GITHUB_", uint8(31), "90s")
	f.Add(uint8(0), uint8(6), "AKIA\nX", uint8(7), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	f.Add(uint8(1), uint8(11), "k=v,"+strings.Repeat("a=b,", 60), uint8(16), "mirror=123456789012.dkr.ecr.eu-west-1.amazonaws.com")
	f.Add(uint8(0), uint8(13), `{"Version":"2012-10-17"}`, uint8(25), "maybe")
	f.Add(uint8(2), uint8(9), "arn:aws:iam::123456789012:role/a\narn:aws:iam::210987654321:role/b", uint8(15), "us-east-1a")

	sessionName := regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	envPrefix := regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
	modes := []Mode{GitHub, Plugin, CLI}

	f.Fuzz(func(t *testing.T, mode, i1 uint8, v1 string, i2 uint8, v2 string) {
		m := modes[int(mode)%len(modes)]
		// load runs Load on the two settings over the base; with canary,
		// secret settings get a same-length stand-in, so that text an
		// error shows for any value can be told from an echoed secret.
		load := func(canary bool) (*Config, []string, error) {
			env := map[string]string{}
			flags := Flags{}
			var secrets []string
			set := func(s *Setting, v string) {
				if s.Secret && canary {
					v = strings.Repeat("X", len(v))
				}
				switch m {
				case GitHub:
					if s.FromArgs {
						flags.Set(s, s.Name, v)
					} else {
						env[s.InputVar()] = v
					}
				case Plugin:
					if len(s.Plugin) == 0 {
						return
					}
					env[s.PluginVar()] = v
				case CLI:
					if len(s.Flag) == 0 {
						return
					}
					flags.Set(s, s.Flag[0], v)
				}
				if s.Secret && len(strings.TrimSpace(v)) >= 8 {
					secrets = append(secrets, strings.TrimSpace(v))
				}
			}
			set(RoleToAssume, "arn:aws:iam::123456789012:role/base")
			set(AWSRegion, "eu-west-1")
			s1, s2 := Table[int(i1)%len(Table)], Table[int(i2)%len(Table)]
			set(s1, v1)
			set(s2, v2)
			var environ []string
			for k, v := range env {
				environ = append(environ, k+"="+v)
			}

			cfg, _, err := Load(Source{Mode: m, Getenv: func(k string) string { return env[k] }, Environ: environ, Flags: flags})
			return cfg, secrets, err
		}
		cfg, secrets, err := load(false)
		if err != nil {
			var p *problem.Problem
			if !errors.As(err, &p) {
				t.Fatalf("error is not a Problem: %v", err)
			}
			if p.Code == problem.Internal || p.Code == "" {
				t.Fatalf("error code %q: %v", p.Code, err)
			}
			_, _, canaryErr := load(true)
			for _, s := range secrets {
				// A value may also occur in the error's fixed text (a
				// secret "eu-west-" in the help for registries): only more
				// occurrences than with the stand-in mean an echo.
				fixed := 0
				if canaryErr != nil {
					fixed = strings.Count(canaryErr.Error(), s)
				}
				if strings.Count(err.Error(), s) > fixed {
					t.Fatalf("the error repeats a secret setting's value: %v", err)
				}
			}
			return
		}
		if err := registry.ValidRegion(cfg.Region); err != nil {
			t.Fatalf("accepted region %q: %v", cfg.Region, err)
		}
		if cfg.Duration < 900*time.Second || cfg.Duration > 43200*time.Second {
			t.Fatalf("accepted duration %v", cfg.Duration)
		}
		if cfg.Timeout <= 0 {
			t.Fatalf("accepted timeout %v", cfg.Timeout)
		}
		if m != CLI || cfg.EnvPrefix != "" {
			if !envPrefix.MatchString(cfg.EnvPrefix) || strings.HasPrefix(cfg.EnvPrefix, "GITHUB_") || strings.HasPrefix(cfg.EnvPrefix, "RUNNER_") {
				t.Fatalf("accepted env prefix %q", cfg.EnvPrefix)
			}
		}
		if !sessionName.MatchString(cfg.SessionName) {
			t.Fatalf("session name %q", cfg.SessionName)
		}
		for _, r := range append([]RoleARN{cfg.Role}, cfg.RoleChain...) {
			if r.ARN != "" && (len(r.AccountID) != 12 || strings.IndexFunc(r.ARN, unicode.IsSpace) >= 0) {
				t.Fatalf("accepted role %q", r.ARN)
			}
		}
		for _, r := range cfg.Registries {
			if r.Host == "" || r.Host != strings.ToLower(r.Host) || strings.ContainsAny(r.Host, "/@ \t\r\n") {
				t.Fatalf("accepted registry host %q", r.Host)
			}
			if r.Region == "" {
				t.Fatalf("registry %q without a region", r.Host)
			}
		}
		if strings.ContainsAny(cfg.Audience, " \t\r\n") {
			t.Fatalf("accepted audience %q", cfg.Audience)
		}
		if len(cfg.SessionTags) > 50 {
			t.Fatalf("accepted %d session tags", len(cfg.SessionTags))
		}
	})
}
