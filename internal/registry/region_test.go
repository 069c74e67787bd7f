package registry

import (
	"errors"
	"strings"
	"testing"
)

func TestPartitionOf(t *testing.T) {
	tests := []struct {
		region, partition, suffix string
		ok                        bool
	}{
		{"us-east-1", "aws", "amazonaws.com", true},
		{"us-west-2", "aws", "amazonaws.com", true},
		{"eu-central-2", "aws", "amazonaws.com", true},
		{"ap-southeast-7", "aws", "amazonaws.com", true},
		{"sa-east-1", "aws", "amazonaws.com", true},
		{"ca-west-1", "aws", "amazonaws.com", true},
		{"me-central-1", "aws", "amazonaws.com", true},
		{"af-south-1", "aws", "amazonaws.com", true},
		{"il-central-1", "aws", "amazonaws.com", true},
		{"mx-central-1", "aws", "amazonaws.com", true},
		{"cn-north-1", "aws-cn", "amazonaws.com.cn", true},
		{"cn-northwest-1", "aws-cn", "amazonaws.com.cn", true},
		{"us-gov-west-1", "aws-us-gov", "amazonaws.com", true},
		{"us-gov-east-1", "aws-us-gov", "amazonaws.com", true},
		{"us-iso-east-1", "aws-iso", "c2s.ic.gov", true},
		{"us-iso-west-1", "aws-iso", "c2s.ic.gov", true},
		{"us-isob-east-1", "aws-iso-b", "sc2s.sgov.gov", true},
		{"eu-isoe-west-1", "aws-iso-e", "cloud.adc-e.uk", true},
		{"us-isof-south-1", "aws-iso-f", "csp.hci.ic.gov", true},
		{"us-isof-east-1", "aws-iso-f", "csp.hci.ic.gov", true},
		{"eusc-de-east-1", "aws-eusc", "amazonaws.eu", true},

		{"", "", "", false},
		{"us-east", "", "", false},
		{"us-east-", "", "", false},
		{"useast1", "", "", false},
		{"us-east-x", "", "", false},
		{"US-EAST-1", "", "", false},
		{"us-east-1 ", "", "", false},
		{"us-east-1000", "", "", false},
		{"xx-east-1", "", "", false},
		{"cn-gov-west-1", "", "", false},
		{"us-foo-west-1", "", "", false},
		{"eusc-fr-east-1", "", "", false},
		{"us-gov-1", "", "", false},
		{"eu-wset-1", "", "", false},
		{"us-iso-1", "", "", false},
		{"ap-middle-1", "", "", false},
		{"aws-global", "", "", false},
		{"us--east-1", "", "", false},
		{"us-east-1-", "", "", false},
		{"-us-east-1", "", "", false},
		{"us_east_1", "", "", false},
		{"eu-west-1.amazonaws.com", "", "", false},
	}
	for _, tt := range tests {
		p, s, ok := PartitionOf(tt.region)
		if p != tt.partition || s != tt.suffix || ok != tt.ok {
			t.Errorf("PartitionOf(%q) = (%q, %q, %v), want (%q, %q, %v)", tt.region, p, s, ok, tt.partition, tt.suffix, tt.ok)
		}
		// ValidRegion agrees with PartitionOf on what is a usable region.
		if err := ValidRegion(tt.region); (err == nil) != tt.ok {
			t.Errorf("ValidRegion(%q) = %v, but PartitionOf ok = %v", tt.region, err, tt.ok)
		}
	}
}

func TestValidRegionMessages(t *testing.T) {
	tests := []struct {
		region string
		want   []string
	}{
		{"", []string{"no AWS Region is set", "us-east-1"}},
		{"   ", []string{"no AWS Region is set"}},
		{"US-EAST-1", []string{`"US-EAST-1"`, "lower case", ": us-east-1"}},
		{" eu-west-1", []string{"lower case without spaces: eu-west-1"}},
		{"us-east1", []string{`"us-east1" is not an AWS Region name`, "us-east-1"}},
		{"Frankfurt", []string{`"Frankfurt" is not an AWS Region name`}},
		{"xx-east-1", []string{`"xx-east-1" is not a Region of any AWS partition`, "cn-north-1"}},
	}
	for _, tt := range tests {
		err := ValidRegion(tt.region)
		if err == nil {
			t.Errorf("ValidRegion(%q) = nil, want an error", tt.region)
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("ValidRegion(%q) error %T is not *Error", tt.region, err)
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ValidRegion(%q) = %q, missing %q", tt.region, err, w)
			}
		}
	}
}

// TestPartitionTable keeps the partition table consistent: every partition
// has an example region that maps back to it, and ForAccount builds a host
// from it that parses back.
func TestPartitionTable(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range partitions {
		if seen[p.id] {
			t.Errorf("partition %s listed twice", p.id)
		}
		seen[p.id] = true
		id, suffix, ok := PartitionOf(p.example)
		if !ok || id != p.id || suffix != p.suffix {
			t.Errorf("example region %s of %s maps to (%q, %q, %v)", p.example, p.id, id, suffix, ok)
		}
		r, err := ForAccount("123456789012", p.example)
		if err != nil {
			t.Errorf("ForAccount in %s: %v", p.example, err)
			continue
		}
		if back, err := ParseHost(r.Host); err != nil || back != r {
			t.Errorf("host %s of %s re-parses to %+v, %v", r.Host, p.id, back, err)
		}
		if p.dualSuffix != "" {
			dual := "123456789012.dkr-ecr." + p.example + "." + p.dualSuffix
			got, err := ParseHost(dual)
			if err != nil || !got.DualStack || got.Partition != p.id {
				t.Errorf("dual-stack host %s of %s parses to %+v, %v", dual, p.id, got, err)
			}
		}
	}
	for _, want := range []string{"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"} {
		if !seen[want] {
			t.Errorf("partition %s missing from the table", want)
		}
	}
}
