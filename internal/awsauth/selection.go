package awsauth

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ecr-credentials/ecr-credentials/internal/securefile"
)

// SelectionInputs lists what, outside our own settings, decides which
// identity the AWS SDK's default chain resolves to: every AWS_* variable
// of the environment (profile names, config and credentials file paths,
// container-credentials and web-identity variables, endpoints, keys), and
// a digest of the shared config and credentials files the SDK would read,
// so an edited profile counts as another identity too. A cache keyed on
// these never serves one identity's password to another. Values are only
// ever hashed into a key by callers, never shown.
func SelectionInputs(environ []string, getenv func(string) string) []string {
	var out []string
	for _, kv := range environ {
		if strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	sort.Strings(out)
	home := getenv("HOME")
	for _, f := range []struct{ variable, name string }{
		{"AWS_CONFIG_FILE", "config"},
		{"AWS_SHARED_CREDENTIALS_FILE", "credentials"},
	} {
		path := getenv(f.variable)
		if path == "" && home != "" {
			path = filepath.Join(home, ".aws", f.name)
		}
		out = append(out, f.name+"="+fileDigest(path))
	}
	return out
}

// fileDigest is a hash of the file's content, "missing" if it cannot be
// read.
func fileDigest(path string) string {
	if path == "" {
		return "missing"
	}
	b, _, err := securefile.ReadRegular(path, securefile.ReadLimitLarge) // not a pipe or device: it would block or never end
	if err != nil {
		return "missing"
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
