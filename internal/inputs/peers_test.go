package inputs

import (
	"strings"
	"testing"

	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// Every input action.yml declares (the runner sets each one, filled with
// its default) is known: only what the user wrote can be unknown.
func TestEveryGitHubInputKnown(t *testing.T) {
	var environ []string
	for _, s := range Table {
		if s.Modes.Has(GitHub) {
			environ = append(environ, s.InputVar()+"="+s.DefaultFor(GitHub))
		}
	}
	if w, err := checkVars(GitHub, environ); err != nil || len(w) != 0 {
		t.Errorf("the inputs of action.yml: %v, warnings %v", err, w)
	}
}

func TestUnknownInputsAndPeerNames(t *testing.T) {
	env := func(kv map[string]string) Source {
		src := Source{Mode: GitHub, Getenv: func(k string) string { return kv[k] }}
		for k, v := range kv {
			src.Environ = append(src.Environ, k+"="+v)
		}
		return src
	}
	base := map[string]string{"INPUT_AWS-REGION": "eu-west-1", "INPUT_MASK-PASSWORD": "true", "INPUT_CREDENTIAL-SOURCE": "auto"}
	with := func(kv map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range kv {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string
		check   func(t *testing.T, c *Config)
	}{
		{name: "misspelt", env: with(map[string]string{"INPUT_AWS-REGOIN": "x"}), wantErr: []string{"unknown-setting", `input "aws-regoin"`, `Did you mean "aws-region"`}},
		{name: "plugin spelling", env: with(map[string]string{"INPUT_ROLE_ARN": "x"}), wantErr: []string{`Did you mean "role-to-assume"`}},
		{name: "no suggestion of a refused peer name", env: with(map[string]string{"INPUT_AWS-PROFIL": "x"}), wantErr: []string{`input "aws-profil"`}},
		{name: "registry-type public added to registries", env: with(map[string]string{"INPUT_REGISTRY-TYPE": "public", "INPUT_REGISTRIES": "123456789012"}),
			check: func(t *testing.T, c *Config) {
				var hosts []string
				for _, r := range c.Registries {
					hosts = append(hosts, r.Host)
				}
				if strings.Join(hosts, ",") != "123456789012.dkr.ecr.eu-west-1.amazonaws.com,public.ecr.aws" {
					t.Errorf("registries %v", hosts)
				}
			}},
		{name: "mask-passwords over the default of mask-password", env: with(map[string]string{"INPUT_MASK-PASSWORDS": "false"}),
			check: func(t *testing.T, c *Config) {
				if c.MaskPassword {
					t.Error("mask-passwords: false not taken")
				}
			}},
		{name: "role-chaining over the default of credential-source", env: with(map[string]string{"INPUT_ROLE-CHAINING": "True"}),
			check: func(t *testing.T, c *Config) {
				if c.CredentialSource != SourceDefaultChain {
					t.Errorf("credential source %s", c.CredentialSource)
				}
			}},
		{name: "role-chaining false changes nothing", env: with(map[string]string{"INPUT_ROLE-CHAINING": "false"}),
			check: func(t *testing.T, c *Config) {
				if c.CredentialSource != SourceAuto {
					t.Errorf("credential source %s", c.CredentialSource)
				}
			}},
		{name: "refused", env: with(map[string]string{"INPUT_TRANSITIVE-TAG-KEYS": "a"}), wantErr: []string{"role-session-tags"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := Load(env(tt.env))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) && !strings.Contains(string(problem.As(err).Code), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				if strings.Contains(err.Error(), `"aws-profile"`) {
					t.Errorf("suggests a refused peer name: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// Values keys are what resolvePeers looks up: booleans as true/false,
// the rest lower-case.
func TestPeerValueKeys(t *testing.T) {
	for _, p := range Peers {
		for k := range p.Values {
			if k != strings.ToLower(k) || strings.TrimSpace(k) != k {
				t.Errorf("peer %s: value key %q is not lower-case", p.Name, k)
			}
			if _, err := ParseBool(k); err == nil && k != "true" && k != "false" {
				t.Errorf("peer %s: boolean key %q is not true or false", p.Name, k)
			}
		}
	}
}
