package registry

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkParseList measures parsing a realistic registries setting in the
// two list forms. It reports registries parsed per second alongside the
// usual ns/op and allocations.
func BenchmarkParseList(b *testing.B) {
	items := []string{
		"123456789012",
		"https://210987654321.dkr.ecr.eu-west-1.amazonaws.com/team/app",
		"public.ecr.aws",
		"123456789012.dkr-ecr.us-east-2.on.aws",
		"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
		"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
		"123456789012", // duplicate
	}
	forms := map[string]string{
		"commas": strings.Join(items, ","),
		"json":   `["` + strings.Join(items, `", "`) + `"]`,
	}
	for _, name := range []string{"commas", "json"} {
		in := forms[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				list, err := ParseList(in, "eu-central-1")
				if err != nil {
					b.Fatal(err)
				}
				n += len(list)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "registries/s")
		})
	}
	b.Run("100-accounts", func(b *testing.B) {
		var sb strings.Builder
		for i := range 100 {
			fmt.Fprintf(&sb, "%012d\n", 100000000000+i)
		}
		in := sb.String()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseList(in, "us-west-2"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
