package inputs

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

func envOf(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func environOf(kv map[string]string) []string {
	var out []string
	for k, v := range kv {
		out = append(out, k+"="+v)
	}
	return out
}

const role = "arn:aws:iam::123456789012:role/ecr-push"

func TestLoadGitHubDefaults(t *testing.T) {
	env := map[string]string{
		"INPUT_ROLE-TO-ASSUME": role,
		"INPUT_AWS-REGION":     "eu-west-1",
		"GITHUB_RUN_ID":        "4242",
		"GITHUB_RUN_ATTEMPT":   "2",
	}
	c, warnings, err := Load(Source{Mode: GitHub, Getenv: envOf(env)})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings = %v", warnings)
	}
	if c.Role.ARN != role || c.Role.AccountID != "123456789012" || c.Role.Name != "ecr-push" {
		t.Errorf("role = %+v", c.Role)
	}
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"region", c.Region, "eu-west-1"},
		{"audience", c.Audience, "sts.amazonaws.com"},
		{"session", c.SessionName, "GitHubActions-4242-2"},
		{"duration", c.Duration, time.Hour},
		{"docker-login", c.DockerLogin, true},
		{"verify", c.Verify, true},
		{"export-env", c.ExportEnv, true},
		{"prefix", c.EnvPrefix, "ECR_"},
		{"mask-password", c.MaskPassword, true},
		{"mask-account", c.MaskAccountID, false},
		{"timeout", c.Timeout, 2 * time.Minute},
		{"registries", len(c.Registries), 0},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if o := c.Origin[RoleToAssume]; !o.Explicit() || o.String() != `input "role-to-assume"` {
		t.Errorf("Origin[RoleToAssume] = %v", o)
	}
}

// flagsOf gives each flag of flags (by flag name) to its setting.
func flagsOf(flags map[string]string) Flags {
	out := Flags{}
	for name, v := range flags {
		for _, s := range Table {
			if slices.Contains(s.Flag, name) {
				out.Set(s, name, v)
			}
		}
	}
	return out
}

func TestLoadPrecedence(t *testing.T) {
	tests := []struct {
		name       string
		mode       Mode
		env        map[string]string
		flags      map[string]string
		wantRegion string
	}{
		{"input beats AWS_REGION", GitHub, map[string]string{"INPUT_AWS-REGION": "eu-west-1", "AWS_REGION": "us-east-1"}, nil, "eu-west-1"},
		{"AWS_REGION beats AWS_DEFAULT_REGION", GitHub, map[string]string{"AWS_REGION": "us-east-2", "AWS_DEFAULT_REGION": "us-east-1"}, nil, "us-east-2"},
		{"AWS_DEFAULT_REGION last", GitHub, map[string]string{"AWS_DEFAULT_REGION": "ap-south-1"}, nil, "ap-south-1"},
		{"plugin primary name", Plugin, map[string]string{"PLUGIN_REGION": "eu-central-1", "AWS_REGION": "us-east-1"}, nil, "eu-central-1"},
		{"plugin alias", Plugin, map[string]string{"PLUGIN_AWS_REGION": "eu-north-1"}, nil, "eu-north-1"},
		{"flag beats env", CLI, map[string]string{"AWS_REGION": "us-east-1"}, map[string]string{"region": "sa-east-1"}, "sa-east-1"},
		{"region from registry host", GitHub, map[string]string{"INPUT_REGISTRIES": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com"}, nil, "ap-northeast-1"},
		{"upper-case region normalised", GitHub, map[string]string{"INPUT_AWS-REGION": "EU-WEST-1"}, nil, "eu-west-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := Load(Source{Mode: tt.mode, Getenv: envOf(tt.env), Environ: environOf(tt.env), Flags: flagsOf(tt.flags)})
			if err != nil {
				t.Fatal(err)
			}
			if c.Region != tt.wantRegion {
				t.Errorf("region = %q, want %q", c.Region, tt.wantRegion)
			}
		})
	}
}

func TestLoadModeDefaults(t *testing.T) {
	base := map[string]string{"AWS_REGION": "us-east-1"}
	c, _, err := Load(Source{Mode: CLI, Getenv: envOf(base)})
	if err != nil {
		t.Fatal(err)
	}
	if c.DockerLogin || c.ExportEnv || c.SessionName != "ecr-credentials" {
		t.Errorf("CLI defaults: docker-login=%v export-env=%v session=%q", c.DockerLogin, c.ExportEnv, c.SessionName)
	}
	base["DRONE_BUILD_NUMBER"] = "77"
	c, _, err = Load(Source{Mode: Plugin, Getenv: envOf(base)})
	if err != nil {
		t.Fatal(err)
	}
	if !c.DockerLogin || c.DockerConfig != ".docker" || c.SessionName != "Drone-77" {
		t.Errorf("plugin defaults: docker-login=%v docker-config=%q session=%q", c.DockerLogin, c.DockerConfig, c.SessionName)
	}
}

func TestLoadBadInput(t *testing.T) {
	tests := []struct {
		name    string
		mode    Mode
		env     map[string]string
		code    problem.Code
		subject string // exact subject
		inMsg   string // substring of the message
	}{
		{"malformed role", GitHub, map[string]string{"INPUT_ROLE-TO-ASSUME": "ecr-push"}, problem.InvalidSetting, `input "role-to-assume"`, "is not an ARN"},
		{"user ARN not role", GitHub, map[string]string{"INPUT_ROLE-TO-ASSUME": "arn:aws:iam::123456789012:user/bob"}, problem.InvalidSetting, `input "role-to-assume"`, "not an IAM role ARN"},
		{"role without account", GitHub, map[string]string{"INPUT_ROLE-TO-ASSUME": "arn:aws:iam:::role/x"}, problem.InvalidSetting, `input "role-to-assume"`, "12-digit"},
		{"sts ARN", GitHub, map[string]string{"INPUT_ROLE-TO-ASSUME": "arn:aws:sts::123456789012:assumed-role/x/y"}, problem.InvalidSetting, `input "role-to-assume"`, "not an IAM role ARN"},
		{"unknown region word", GitHub, map[string]string{"INPUT_AWS-REGION": "europe"}, problem.InvalidSetting, `input "aws-region"`, "is not an AWS region"},
		{"region from env bad", GitHub, map[string]string{"AWS_REGION": "eu_west_1"}, problem.InvalidSetting, "environment variable AWS_REGION", "is not an AWS region"},
		{"no region", GitHub, map[string]string{}, problem.MissingSetting, `input "aws-region"`, "no AWS region"},
		{"no region plugin", Plugin, map[string]string{}, problem.MissingSetting, `setting "region" (PLUGIN_REGION)`, "no AWS region"},
		{"duration low", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_ROLE-DURATION-SECONDS": "899"}, problem.InvalidSetting, `input "role-duration-seconds"`, "out of range"},
		{"duration high", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_ROLE-DURATION-SECONDS": "43201"}, problem.InvalidSetting, `input "role-duration-seconds"`, "out of range"},
		{"duration words", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_ROLE-DURATION-SECONDS": "1h"}, problem.InvalidSetting, `input "role-duration-seconds"`, "not a whole number"},
		{"bad bool", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_DOCKER-LOGIN": "maybe"}, problem.InvalidSetting, `input "docker-login"`, "not a boolean"},
		{"session name chars", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_ROLE-SESSION-NAME": "my session"}, problem.InvalidSetting, `input "role-session-name"`, "not a valid role session name"},
		{"session name long", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_ROLE-SESSION-NAME": strings.Repeat("a", 65)}, problem.InvalidSetting, `input "role-session-name"`, "not a valid role session name"},
		{"prefix lower", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_ENV-PREFIX": "ecr_"}, problem.InvalidSetting, `input "env-prefix"`, "not a usable prefix"},
		{"prefix injection", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_ENV-PREFIX": "X\nEVIL=1\nY_"}, problem.InvalidSetting, `input "env-prefix"`, "not a usable prefix"},
		{"prefix heredoc", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_ENV-PREFIX": "A<<EOF"}, problem.InvalidSetting, `input "env-prefix"`, "not a usable prefix"},
		{"prefix reserved", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_ENV-PREFIX": "GITHUB_"}, problem.InvalidSetting, `input "env-prefix"`, "reserves"},
		{"registry not ECR", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_REGISTRIES": "ghcr.io"}, problem.InvalidSetting, `input "registries"`, "ghcr.io"},
		{"registry short account", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_REGISTRIES": "12345"}, problem.InvalidSetting, `input "registries"`, "12345"},
		{"registry role not an ARN", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_REGISTRIES": "222222222222=pull-role"}, problem.InvalidSetting, `input "registries"`, "is not an ARN"},
		{"registry role is a user", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_REGISTRIES": "222222222222=arn:aws:iam::222222222222:user/bob"}, problem.InvalidSetting, `input "registries"`, "not an IAM role ARN"},
		{"registry nothing after =", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_REGISTRIES": "222222222222="}, problem.InvalidSetting, `input "registries"`, "nothing follows ="},
		{"registry bad profile", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_REGISTRIES": "222222222222=profile:my dev"}, problem.InvalidSetting, `input "registries"`, "not an AWS profile name"},
		{"registry profile too long", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_REGISTRIES": "222222222222=profile:" + strings.Repeat("p", maxProfileName+1)}, problem.InvalidSetting, `input "registries"`, "not an AWS profile name"},
		{"registry two identities", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_REGISTRIES": "222222222222=arn:aws:iam::222222222222:role/a, 222222222222.dkr.ecr.us-east-1.amazonaws.com=arn:aws:iam::222222222222:role/b"}, problem.InvalidSetting, `input "registries"`, "twice with different identities"},
		{"registry empty before =", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_REGISTRIES": "=arn:aws:iam::222222222222:role/a"}, problem.InvalidSetting, `input "registries"`, "empty registry"},
		{"audience space", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_AUDIENCE": "sts amazonaws"}, problem.InvalidSetting, `input "audience"`, "white space"},
		{"timeout", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_TIMEOUT": "soon"}, problem.InvalidSetting, `input "timeout"`, "not a duration"},
		{"timeout negative", GitHub, map[string]string{"AWS_REGION": "us-east-1", "INPUT_TIMEOUT": "-5s"}, problem.InvalidSetting, `input "timeout"`, "not a duration"},
		{"plugin typo", Plugin, map[string]string{"PLUGIN_REGOIN": "us-east-1"}, problem.UnknownSetting, "PLUGIN_REGOIN", `Did you mean "region"`},
		{"plugin bad role", Plugin, map[string]string{"PLUGIN_ROLE_ARN": "nope", "PLUGIN_REGION": "us-east-1"}, problem.InvalidSetting, `setting "role_arn" (PLUGIN_ROLE_ARN)`, "is not an ARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Load(Source{Mode: tt.mode, Getenv: envOf(tt.env), Environ: environOf(tt.env)})
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			var p *problem.Problem
			if !errors.As(err, &p) {
				t.Fatalf("error %T %v is not a *problem.Problem", err, err)
			}
			if p.Code != tt.code {
				t.Errorf("code = %s, want %s", p.Code, tt.code)
			}
			if p.Subject != tt.subject {
				t.Errorf("subject = %q, want %q", p.Subject, tt.subject)
			}
			if !strings.Contains(p.Error(), tt.inMsg) {
				t.Errorf("message %q lacks %q", p.Error(), tt.inMsg)
			}
			if p.Fix == "" {
				t.Errorf("problem %q says nothing about how to fix it", p.Error())
			}
		})
	}
}

// TestRegistryIdentities: entries may name a role or a profile; a role on
// an account ID also serves that account's other registries; the rest use
// the main identity.
func TestRegistryIdentities(t *testing.T) {
	env := map[string]string{"AWS_REGION": "eu-west-1", "INPUT_REGISTRIES": strings.Join([]string{
		"111111111111",
		"222222222222=arn:aws:iam::222222222222:role/pull",
		"222222222222.dkr.ecr.us-east-1.amazonaws.com",
		"333333333333.dkr.ecr.eu-west-1.amazonaws.com = profile:dev",
		"444444444444.dkr.ecr.eu-west-1.amazonaws.com=arn:aws:iam::444444444444:role/own",
		"444444444444.dkr.ecr.eu-west-1.amazonaws.com",
	}, "\n")}
	c, _, err := Load(Source{Mode: GitHub, Getenv: envOf(env)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"111111111111.dkr.ecr.eu-west-1.amazonaws.com": "",
		"222222222222.dkr.ecr.eu-west-1.amazonaws.com": "arn:aws:iam::222222222222:role/pull",
		"222222222222.dkr.ecr.us-east-1.amazonaws.com": "arn:aws:iam::222222222222:role/pull",
		"333333333333.dkr.ecr.eu-west-1.amazonaws.com": "profile:dev",
		"444444444444.dkr.ecr.eu-west-1.amazonaws.com": "arn:aws:iam::444444444444:role/own",
	}
	if len(c.Registries) != len(want) {
		t.Fatalf("registries = %v, want %d", c.Registries, len(want))
	}
	for _, r := range c.Registries {
		got, ok := want[r.Host]
		if !ok {
			t.Errorf("unexpected registry %s", r.Host)
		} else if id := c.IdentityFor(r.Host); id.String() != got || id.IsMain() != (got == "") {
			t.Errorf("identity of %s = %q, want %q", r.Host, id, got)
		}
	}
}

func TestPluginIgnoresGitHubOnlySettingsWithWarning(t *testing.T) {
	env := map[string]string{"PLUGIN_REGION": "us-east-1", "PLUGIN_MASK_PASSWORD": "false"}
	_, warnings, err := Load(Source{Mode: Plugin, Getenv: envOf(env), Environ: environOf(env)})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "PLUGIN_MASK_PASSWORD") {
		t.Errorf("warnings = %q", warnings)
	}
}

func TestMaskPasswordFalseWarns(t *testing.T) {
	env := map[string]string{"AWS_REGION": "us-east-1", "INPUT_MASK-PASSWORD": "false"}
	c, warnings, err := Load(Source{Mode: GitHub, Getenv: envOf(env)})
	if err != nil {
		t.Fatal(err)
	}
	if c.MaskPassword || len(warnings) != 1 || !strings.Contains(warnings[0], "container.credentials") {
		t.Errorf("mask=%v warnings=%q", c.MaskPassword, warnings)
	}
}

func TestSanitizeSessionName(t *testing.T) {
	tests := map[string]string{
		"GitHubActions-1-1":     "GitHubActions-1-1",
		"a b/c":                 "a-b-c",
		"x":                     "x-",
		"":                      "--",
		strings.Repeat("é", 40): strings.Repeat("-", 40),
		strings.Repeat("a", 80): strings.Repeat("a", 64),
	}
	for in, want := range tests {
		got := SanitizeSessionName(in)
		if got != want {
			t.Errorf("SanitizeSessionName(%q) = %q, want %q", in, got, want)
		}
		if !validSessionName(got) {
			t.Errorf("SanitizeSessionName(%q) = %q is not valid", in, got)
		}
	}
}

func TestParseBool(t *testing.T) {
	for _, v := range []string{"true", "True", "TRUE", "yes", "on", "1"} {
		if b, err := ParseBool(v); err != nil || !b {
			t.Errorf("ParseBool(%q) = %v, %v", v, b, err)
		}
	}
	for _, v := range []string{"false", "False", "FALSE", "no", "off", "0"} {
		if b, err := ParseBool(v); err != nil || b {
			t.Errorf("ParseBool(%q) = %v, %v", v, b, err)
		}
	}
	for _, v := range []string{"", "t", "2", "enabled"} {
		if _, err := ParseBool(v); err == nil {
			t.Errorf("ParseBool(%q) succeeded", v)
		}
	}
}

func TestListSettingsForms(t *testing.T) {
	for _, v := range []string{
		"123456789012,public.ecr.aws",
		"123456789012\npublic.ecr.aws\n",
		" 123456789012 , public.ecr.aws ,",
		`["123456789012","public.ecr.aws"]`,
		`[123456789012, "public.ecr.aws"]`,
	} {
		env := map[string]string{"AWS_REGION": "eu-west-1", "PLUGIN_REGISTRIES": v}
		c, _, err := Load(Source{Mode: Plugin, Getenv: envOf(env), Environ: environOf(env)})
		if err != nil {
			t.Errorf("%q: %v", v, err)
			continue
		}
		if len(c.Registries) != 2 || c.Registries[0].Host != "123456789012.dkr.ecr.eu-west-1.amazonaws.com" || c.Registries[1].Host != "public.ecr.aws" {
			t.Errorf("%q parsed to %+v", v, c.Registries)
		}
	}
}

// TestPluginSessionName: Woodpecker 1.x sets Drone's variables too
// (metadata.SetDroneEnviron copies CI_PIPELINE_NUMBER to
// DRONE_BUILD_NUMBER), so it must be recognised before Drone is.
func TestPluginSessionName(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"drone", map[string]string{"DRONE": "true", "DRONE_BUILD_NUMBER": "17"}, "Drone-17"},
		{"woodpecker with its drone compatibility variables", map[string]string{
			"CI": "woodpecker", "CI_PIPELINE_NUMBER": "23", "DRONE_BUILD_NUMBER": "23", "DRONE_REPO": "octo-org/octo-repo",
		}, "Woodpecker-23"},
		{"woodpecker without CI", map[string]string{"CI_PIPELINE_NUMBER": "5", "DRONE_BUILD_NUMBER": "5"}, "Woodpecker-5"},
		{"neither", map[string]string{}, "ecr-credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"AWS_REGION": "us-east-1"}
			for k, v := range tt.env {
				env[k] = v
			}
			c, _, err := Load(Source{Mode: Plugin, Getenv: envOf(env)})
			if err != nil {
				t.Fatal(err)
			}
			if c.SessionName != tt.want {
				t.Errorf("session name = %q, want %q", c.SessionName, tt.want)
			}
		})
	}
}

// TestProfileNameLength: the longest profile name accepted is
// maxProfileName characters.
func TestProfileNameLength(t *testing.T) {
	for n, ok := range map[int]bool{1: true, maxProfileName: true, maxProfileName + 1: false} {
		id, err := parseIdentity("profile:" + strings.Repeat("p", n))
		if (err == nil) != ok || (ok && len(id.Profile) != n) {
			t.Errorf("profile name of %d characters: %+v, %v; want accepted=%v", n, id, err, ok)
		}
	}
}
