package ecr

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/fixtures"
)

// The hot paths of a login, for `go test -bench . ./internal/ecr` and
// benchstat: decoding the token, grouping registries by endpoint, and a
// whole Fetch against the emulator (no added latency), which is mostly
// aws-sdk-go-v2 client construction, signing and JSON.

func BenchmarkDecode(b *testing.B) {
	// ECR passwords are about 1.9 KB of base64.
	pw := make([]byte, 1440)
	for i := range pw {
		pw[i] = byte('A' + i%26)
	}
	token := base64.StdEncoding.EncodeToString([]byte("AWS:" + base64.StdEncoding.EncodeToString(pw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decode(token); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGroupByEndpoint(b *testing.B) {
	regs := fixtures.Registries(b, len(fixtures.Regions))
	b.ReportAllocs()
	for b.Loop() {
		if g := groupByEndpoint(regs); len(g) != len(regs) {
			b.Fatalf("%d groups for %d regions", len(g), len(regs))
		}
	}
}

// BenchmarkFetch is a full Fetch against the emulator over plain HTTP on
// loopback, for 1 and 20 regions (called concurrently).
func BenchmarkFetch(b *testing.B) {
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	fake := awsfake.New(awsfake.Options{})
	key, err := fake.AddAccessKey(awsfake.AccessKey{UserARN: "arn:aws:iam::" + fixtures.Account + ":user/bench", ECR: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := fake.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(fake.Close)
	cfg := aws.Config{
		Region:       fixtures.Regions[0],
		Credentials:  credentials.NewStaticCredentialsProvider(key.ID, key.Secret, ""),
		BaseEndpoint: aws.String(fake.URL()),
	}
	for _, n := range []int{1, 20} {
		regs := fixtures.Registries(b, n)
		b.Run(fmt.Sprintf("regions=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				logins, err := Fetch(context.Background(), cfg, Request{Registries: regs, DefaultRegion: fixtures.Regions[0], CallerAccount: fixtures.Account})
				if err != nil {
					b.Fatal(err)
				}
				if len(logins) != n || logins[n-1].Password == "" {
					b.Fatalf("%d logins for %d registries", len(logins), n)
				}
			}
		})
	}
}
