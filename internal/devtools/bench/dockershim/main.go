// Command dockershim stands in for the docker CLI's `login` in the
// benchmark's connection-level model, where the registries have real host
// names that only the benchmark's own DNS server knows: the docker daemon
// resolves names outside the benchmark's mount namespace, so it must never
// be asked. It does what the daemon does for `docker login` - GET /v2/
// without credentials, then again with Basic credentials after the 401
// challenge, over a new HTTPS connection - and stores the login in
// config.json like the CLI (auths, base64 user:password). Only
//
//	docker [--config DIR] login --username USER --password-stdin HOST
//
// and `login -u USER -p PASSWORD https://HOST` (amazon-ecr-login's) are
// supported; anything else fails.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "dockershim: %v\n", err)
		os.Exit(1)
	}
	fmt.Println("Login Succeeded")
}

func run(args []string) error {
	dir := os.Getenv("DOCKER_CONFIG")
	if dir == "" {
		dir = filepath.Join(os.Getenv("HOME"), ".docker")
	}
	if len(args) >= 2 && args[0] == "--config" {
		dir, args = args[1], args[2:]
	}
	if len(args) == 0 || args[0] != "login" {
		return fmt.Errorf("unsupported arguments %q (only login)", args)
	}
	var user, pw, host string
	stdin := false
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case (a == "-u" || a == "--username") && i+1 < len(args):
			user, i = args[i+1], i+1
		case (a == "-p" || a == "--password") && i+1 < len(args):
			pw, i = args[i+1], i+1
		case a == "--password-stdin":
			stdin = true
		case !strings.HasPrefix(a, "-") && host == "":
			host = a
		default:
			return fmt.Errorf("unsupported login argument %q", a)
		}
	}
	host = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "http://"), "/")
	if user == "" || host == "" {
		return errors.New("login needs a user name and a registry")
	}
	if stdin {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	client := &http.Client{Timeout: time.Minute}
	resp, err := client.Get("https://" + host + "/v2/")
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("GET /v2/ without credentials: HTTP %d, want 401", resp.StatusCode)
	}
	req, err := http.NewRequest(http.MethodGet, "https://"+host+"/v2/", nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(user, pw)
	if resp, err = client.Do(req); err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /v2/ with credentials: HTTP %d", resp.StatusCode)
	}
	return store(dir, host, user, pw)
}

// store adds the login to dir/config.json, keeping what is there.
func store(dir, host, user, pw string) error {
	file := filepath.Join(dir, "config.json")
	cfg := map[string]any{}
	if b, err := os.ReadFile(file); err == nil {
		if err := json.Unmarshal(b, &cfg); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
	}
	auths, _ := cfg["auths"].(map[string]any)
	if auths == nil {
		auths = map[string]any{}
	}
	auths[host] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))}
	cfg["auths"] = auths
	b, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o600)
}
