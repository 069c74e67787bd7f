package inputs

import "testing"

// Where a value came from, as messages name it, and whether the user gave
// it.
func TestOrigin(t *testing.T) {
	tests := []struct {
		setting  *Setting
		mode     Mode
		env      map[string]string
		flags    map[string]string
		want     string
		explicit bool
	}{
		{AWSRegion, GitHub, map[string]string{"INPUT_AWS-REGION": "eu-west-1"}, nil, `input "aws-region"`, true},
		{AWSRegion, Plugin, map[string]string{"PLUGIN_AWS_REGION": "eu-west-1"}, nil, `setting "aws_region" (PLUGIN_AWS_REGION)`, true},
		{AWSRegion, CLI, nil, map[string]string{"aws-region": "eu-west-1"}, "flag --aws-region", true},
		{MaskPassword, GitHub, map[string]string{"INPUT_AWS-REGION": "eu-west-1", "INPUT_MASK-PASSWORDS": "true"}, nil, `input "mask-passwords" (a plural spelling of amazon-ecr-login's mask-password)`, true},
		{AWSRegion, CLI, map[string]string{"AWS_DEFAULT_REGION": "eu-west-1"}, nil, "environment variable AWS_DEFAULT_REGION", false},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			c, _, err := Load(Source{Mode: tt.mode, Getenv: envOf(tt.env), Environ: environOf(tt.env), Flags: flagsOf(tt.flags)})
			if err != nil {
				t.Fatal(err)
			}
			o := c.Origin[tt.setting]
			if o.String() != tt.want || o.Explicit() != tt.explicit {
				t.Errorf("origin = %v (explicit %v), want %s (explicit %v)", o, o.Explicit(), tt.want, tt.explicit)
			}
			if c.Describe(tt.setting) != tt.want {
				t.Errorf("Describe = %q", c.Describe(tt.setting))
			}
		})
	}
	c, _, err := Load(Source{Mode: CLI, Getenv: envOf(map[string]string{"AWS_REGION": "eu-west-1"})})
	if err != nil {
		t.Fatal(err)
	}
	if o := c.Origin[Audience]; o.Kind != FromDefault || o.String() != "default of flag --audience" || o.Explicit() {
		t.Errorf("audience origin = %+v", o)
	}
	if c.Describe(Audience) != "flag --audience" {
		t.Errorf("Describe of a default = %q, want how to set it", c.Describe(Audience))
	}
}
