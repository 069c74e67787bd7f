package dockerconfig

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as three other programs, chosen at start-up:
//   - a fake docker credential helper, when started as docker-credential-*;
//   - a child that runs one Login (concurrency across processes);
//   - a child that runs Login as an unprivileged user (read-only cases).
const (
	envChild      = "DOCKERCONFIG_TEST_CHILD"
	envChildDir   = "DOCKERCONFIG_TEST_DIR"
	envChildHost  = "DOCKERCONFIG_TEST_HOST"
	envHelperDir  = "FAKE_HELPER_DIR"  // state.json and calls.log live here
	envHelperFail = "FAKE_HELPER_FAIL" // action that fails, echoing its input
)

func TestMain(m *testing.M) {
	if strings.HasPrefix(filepath.Base(os.Args[0]), HelperPrefix) {
		os.Exit(fakeHelperMain(os.Args[1:]))
	}
	switch os.Getenv(envChild) {
	case "login":
		os.Exit(childLogin())
	}
	os.Exit(m.Run())
}

// childLogin logs one host into the directory given by the environment.
func childLogin() int {
	host := os.Getenv(envChildHost)
	_, err := login(context.Background(), Options{Dir: os.Getenv(envChildDir), LockTimeout: time.Minute},
		[]Credential{{Host: host, Username: "AWS", Password: "pw-" + host}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// helperState is what the fake credential helper keeps per server URL.
type helperState map[string]helperCred

func loadHelperState(dir string) helperState {
	st := helperState{}
	if data, err := os.ReadFile(filepath.Join(dir, "state.json")); err == nil {
		_ = json.Unmarshal(data, &st)
	}
	return st
}

// fakeHelperMain implements the docker credential helper protocol over a
// JSON file and records each call (action and server URL, never secrets).
func fakeHelperMain(args []string) int {
	dir := os.Getenv(envHelperDir)
	if len(args) != 1 || dir == "" {
		fmt.Fprintln(os.Stderr, "fake helper: usage: docker-credential-fake store|get|erase, with FAKE_HELPER_DIR set")
		return 2
	}
	action := args[0]
	in, _ := io.ReadAll(os.Stdin)
	if os.Getenv(envHelperFail) == action {
		// A badly behaved helper that echoes its input on failure.
		fmt.Printf("cannot %s: %s\n", action, in)
		return 1
	}
	st := loadHelperState(dir)
	server := strings.TrimSpace(string(in))
	if action == "store" {
		var c struct{ ServerURL string }
		_ = json.Unmarshal(in, &c)
		server = c.ServerURL
	}
	if f, err := os.OpenFile(filepath.Join(dir, "calls.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
		fmt.Fprintf(f, "%s %s\n", action, server)
		_ = f.Close()
	}
	switch action {
	case "store":
		var c struct{ ServerURL, Username, Secret string }
		if err := json.Unmarshal(in, &c); err != nil {
			fmt.Println("bad input")
			return 1
		}
		st[c.ServerURL] = helperCred{Username: c.Username, Secret: c.Secret}
	case "get":
		c, ok := st[server]
		if !ok {
			fmt.Println("credentials not found in native keychain")
			return 1
		}
		_ = json.NewEncoder(os.Stdout).Encode(map[string]string{"ServerURL": server, "Username": c.Username, "Secret": c.Secret})
	case "erase":
		if _, ok := st[server]; !ok {
			fmt.Println("credentials not found in native keychain")
			return 1
		}
		delete(st, server)
	default:
		fmt.Println("unknown action")
		return 1
	}
	data, _ := json.Marshal(st)
	if err := os.WriteFile(filepath.Join(dir, "state.json"), data, 0o600); err != nil {
		fmt.Println(err)
		return 1
	}
	return 0
}

// fakeHelper installs the test binary as docker-credential-<name> in a
// fresh directory and returns a LookPath that finds only it, plus the
// directory holding the helper's state.
func fakeHelper(t *testing.T, name string) (func(string) (string, error), string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	state := t.TempDir()
	path := filepath.Join(bin, HelperPrefix+name)
	if err := os.Symlink(exe, path); err != nil {
		t.Fatal(err)
	}
	t.Setenv(envHelperDir, state)
	lookPath := func(file string) (string, error) {
		if file == HelperPrefix+name {
			return path, nil
		}
		return "", fmt.Errorf("exec: %q: executable file not found in $PATH", file)
	}
	return lookPath, state
}

func helperCalls(t *testing.T, stateDir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(stateDir, "calls.log"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// authValue matches "auth" values so that test output never shows them.
var authValue = regexp.MustCompile(`("auth"\s*:\s*)"[^"]*"`)

// redacted returns doc with auth values masked, for failure messages.
func redacted(doc []byte) string {
	return authValue.ReplaceAllString(string(doc), `$1"***"`)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := writeFileErr(path, data); err != nil {
		t.Fatal(err)
	}
}

func writeFileErr(path string, data []byte) error { return os.WriteFile(path, data, 0o600) }

// decodedAuth returns the user and password docker would read for key.
func decodedAuth(t *testing.T, doc []byte, key string) (string, string, bool) {
	t.Helper()
	var v struct {
		Auths map[string]struct {
			Auth string `json:"auth"`
		} `json:"auths"`
	}
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("config is not valid JSON: %v", err)
	}
	a, ok := v.Auths[key]
	if !ok {
		return "", "", false
	}
	dec, err := base64.StdEncoding.DecodeString(a.Auth)
	if err != nil {
		t.Fatalf("auths[%q].auth is not base64", key)
	}
	user, pass, _ := strings.Cut(string(dec), ":")
	return user, pass, true
}

// noSecret fails if s contains any of the secrets.
func noSecret(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			t.Fatalf("%s contains a secret (%d bytes long)", what, len(sec))
		}
		if enc := base64.StdEncoding.EncodeToString([]byte("AWS:" + sec)); sec != "" && strings.Contains(s, enc) {
			t.Fatalf("%s contains an encoded secret", what)
		}
	}
}

// listDir returns the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// backups returns the names of backup files left in dir.
// untouched fails the test unless config.json in dir still holds want
// and no backup is left beside it: what a failed Login must leave.
func untouched(t *testing.T, dir string, want []byte) {
	t.Helper()
	if got := readFile(t, filepath.Join(dir, ConfigFileName)); !bytes.Equal(got, want) {
		t.Errorf("config.json changed:\n%s", redacted(got))
	}
	if b := backups(t, dir); len(b) != 0 {
		t.Errorf("backup left: %v", b)
	}
}

func backups(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, n := range listDir(t, dir) {
		if strings.HasSuffix(n, ".bak") {
			out = append(out, n)
		}
	}
	return out
}
