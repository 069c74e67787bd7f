package registry

import (
	"fmt"
	"strings"
)

// Partition IDs, as AWS names them in ARNs (arn:<partition>:...).
const (
	PartitionAWS      = "aws"
	PartitionChina    = "aws-cn"
	PartitionGovCloud = "aws-us-gov"
	PartitionISO      = "aws-iso"
	PartitionISOB     = "aws-iso-b"
	PartitionISOE     = "aws-iso-e"
	PartitionISOF     = "aws-iso-f"
	PartitionEUSC     = "aws-eusc"
)

// partitionInfo holds the registry DNS suffixes of one AWS partition.
//
// Sources: the IPv4 suffixes are each partition's service DNS suffix (AWS
// SDK partition metadata; "Amazon ECR endpoints and quotas" in the AWS
// General Reference lists dkr.ecr.<region>.amazonaws.com and
// dkr.ecr-fips.<region>.amazonaws.com). The dual-stack registry suffix
// on.aws is documented in "Making requests to Amazon ECR registries"
// (<registry-id>.dkr-ecr.<aws-region>.on.aws) and the endpoint tables
// (dkr-ecr-fips.<region>.on.aws). The China dual-stack suffix
// on.amazonwebservices.com.cn is the one AWS's own credential helpers
// (amazon-ecr-credential-helper, the Kubernetes ecr-credential-provider)
// accept. No public source names a dual-stack registry host for the
// isolated partitions or the European Sovereign Cloud, so dualSuffix is
// empty there and such hosts are rejected rather than guessed.
type partitionInfo struct {
	id         string
	suffix     string // IPv4 registry suffix: <id>.dkr.ecr.<region>.<suffix>
	dualSuffix string // dual-stack registry suffix: <id>.dkr-ecr.<region>.<dualSuffix>; "" if none is known
	example    string // a region of the partition, for messages
}

var partitions = []partitionInfo{
	{id: PartitionAWS, suffix: "amazonaws.com", dualSuffix: "on.aws", example: "eu-west-1"},
	{id: PartitionGovCloud, suffix: "amazonaws.com", dualSuffix: "on.aws", example: "us-gov-west-1"},
	{id: PartitionChina, suffix: "amazonaws.com.cn", dualSuffix: "on.amazonwebservices.com.cn", example: "cn-north-1"},
	{id: PartitionEUSC, suffix: "amazonaws.eu", example: "eusc-de-east-1"},
	{id: PartitionISO, suffix: "c2s.ic.gov", example: "us-iso-east-1"},
	{id: PartitionISOB, suffix: "sc2s.sgov.gov", example: "us-isob-east-1"},
	{id: PartitionISOE, suffix: "cloud.adc-e.uk", example: "eu-isoe-west-1"},
	{id: PartitionISOF, suffix: "csp.hci.ic.gov", example: "us-isof-south-1"},
}

// commercialAreas are the first parts of region names in the aws partition
// (us-east-1, eu-west-1, ap-southeast-2, ...).
var commercialAreas = map[string]bool{
	"us": true, "eu": true, "ap": true, "sa": true, "ca": true,
	"me": true, "af": true, "il": true, "mx": true,
}

// directions are the words before the number in every AWS Region name
// (us-east-1, ap-southeast-2, ca-central-1, cn-northwest-1). Checking them
// catches typos such as eu-wset-1 and partial names such as us-gov-1.
var directions = map[string]bool{
	"east": true, "west": true, "north": true, "south": true, "central": true,
	"northeast": true, "northwest": true, "southeast": true, "southwest": true,
}

func partitionByID(id string) partitionInfo {
	for _, p := range partitions {
		if p.id == id {
			return p
		}
	}
	panic("registry: unknown partition " + id)
}

// regionParts splits a syntactically valid region name into its parts, or
// returns nil. Region names are lower-case words joined by hyphens and end
// in a number: us-east-1, us-gov-west-1, eusc-de-east-1.
func regionParts(region string) []string {
	if len(region) > 40 {
		return nil
	}
	parts := strings.Split(region, "-")
	if len(parts) < 3 {
		return nil
	}
	for i, p := range parts {
		if p == "" || len(p) > 3 && i == len(parts)-1 {
			return nil
		}
		for _, c := range []byte(p) {
			if i == len(parts)-1 {
				if c < '0' || c > '9' {
					return nil
				}
			} else if c < 'a' || c > 'z' {
				return nil
			}
		}
	}
	return parts
}

// partitionOfParts maps a split region name to its partition.
func partitionOfParts(parts []string) (partitionInfo, bool) {
	if !directions[parts[len(parts)-2]] {
		return partitionInfo{}, false
	}
	switch len(parts) {
	case 3:
		switch {
		case parts[0] == "cn":
			return partitionByID(PartitionChina), true
		case commercialAreas[parts[0]]:
			return partitionByID(PartitionAWS), true
		}
	case 4:
		switch parts[0] + "-" + parts[1] {
		case "us-gov":
			return partitionByID(PartitionGovCloud), true
		case "us-iso":
			return partitionByID(PartitionISO), true
		case "us-isob":
			return partitionByID(PartitionISOB), true
		case "eu-isoe":
			return partitionByID(PartitionISOE), true
		case "us-isof":
			return partitionByID(PartitionISOF), true
		case "eusc-de":
			return partitionByID(PartitionEUSC), true
		}
	}
	return partitionInfo{}, false
}

// PartitionOf returns the AWS partition a region belongs to and the DNS
// suffix of that partition's ECR registry hosts, for example
// ("aws-cn", "amazonaws.com.cn", true) for cn-north-1. ok is false when
// region is not a well-formed region name of a known partition.
func PartitionOf(region string) (partition, dnsSuffix string, ok bool) {
	parts := regionParts(region)
	if parts == nil {
		return "", "", false
	}
	p, ok := partitionOfParts(parts)
	if !ok {
		return "", "", false
	}
	return p.id, p.suffix, true
}

// ValidRegion checks that region is a well-formed AWS Region name (lower
// case, like us-east-1) of a partition this package knows. The error is an
// *Error whose Item is the region.
func ValidRegion(region string) error {
	_, err := lookupRegion(region)
	return err
}

func lookupRegion(region string) (partitionInfo, error) {
	if strings.TrimSpace(region) == "" {
		return partitionInfo{}, &Error{Reason: "no AWS Region is set; set a region such as us-east-1"}
	}
	parts := regionParts(region)
	if parts == nil {
		reason := "is not an AWS Region name; regions look like us-east-1, eu-central-2 or us-gov-west-1"
		if lower := strings.ToLower(strings.TrimSpace(region)); lower != region && regionParts(lower) != nil {
			reason = fmt.Sprintf("is not an AWS Region name; write it in lower case without spaces: %s", lower)
		}
		return partitionInfo{}, &Error{Item: region, Reason: reason}
	}
	p, ok := partitionOfParts(parts)
	if !ok {
		return partitionInfo{}, &Error{Item: region, Reason: "is not a Region of any AWS partition this tool knows; " +
			"use a region such as us-east-1, cn-north-1, us-gov-west-1 or eusc-de-east-1"}
	}
	return p, nil
}
