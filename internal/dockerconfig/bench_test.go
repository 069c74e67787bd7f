package dockerconfig

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// bigConfig is a config.json with n auths entries, docker style.
func bigConfig(n int) []byte {
	var b strings.Builder
	b.WriteString("{\n\t\"auths\": {")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n\t\t\"r%d.example\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t}", i)
	}
	b.WriteString("\n\t},\n\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\"\n\t}\n}")
	return []byte(b.String())
}

// BenchmarkSetAuth measures the in-memory edit on configs of growing size.
func BenchmarkSetAuth(b *testing.B) {
	value := authEntry{Auth: encodeAuth("AWS", strings.Repeat("x", 2000))}
	for _, n := range []int{1, 100, 1000} {
		doc := bigConfig(n)
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if _, err := setAuth(doc, ecrHost, value); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoginLogout measures a full locked, fsynced login and logout.
func BenchmarkLoginLogout(b *testing.B) {
	dir := b.TempDir()
	if err := writeFileErr(filepath.Join(dir, ConfigFileName), bigConfig(50)); err != nil {
		b.Fatal(err)
	}
	creds := []Credential{{Host: ecrHost, Username: "AWS", Password: strings.Repeat("x", 2000)}}
	for b.Loop() {
		r, err := login(context.Background(), Options{Dir: dir}, creds)
		if err != nil {
			b.Fatal(err)
		}
		if err := logout(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoginRegistries measures a login to 1 and to 20 registries with
// ECR-sized passwords, into a new config.json (a fresh CI runner's case).
func BenchmarkLoginRegistries(b *testing.B) {
	for _, n := range []int{1, 20} {
		creds := make([]Credential, n)
		for i := range creds {
			creds[i] = Credential{Host: fmt.Sprintf("1234567890%02d.dkr.ecr.eu-west-1.amazonaws.com", i), Username: "AWS", Password: strings.Repeat("x", 2000)}
		}
		b.Run(fmt.Sprintf("registries=%d", n), func(b *testing.B) {
			for b.Loop() {
				dir := b.TempDir()
				if _, err := login(context.Background(), Options{Dir: dir}, creds); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
