// Package demo runs the whole flow offline, the way a GitHub job would, and
// shows what a user would see: `go run . demo`.
//
// It starts the in-repo AWS emulator (GitHub OIDC issuer, STS, ECR) and a
// registry on loopback that accepts only the password the emulator hands out
// as the ECR token, runs this very program as the GitHub runner runs a
// container action (INPUT_* variables, GITHUB_OUTPUT / GITHUB_ENV / GITHUB_STATE
// files), prints the step log and outputs with GitHub's masking applied,
// then acts as a later step: it pushes an image with an independent OCI
// client (go-containerregistry) that reads only the docker config the
// action wrote, shows a wrong password being refused, and finally runs the
// post step that removes the login.
package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
)

const (
	account = "123456789012"
	region  = "eu-west-1"
	roleARN = "arn:aws:iam::123456789012:role/demo-ecr-push"
	trusted = "repo:octo-org/octo-repo:*"
)

// Run runs the demo. self is the path of this program's binary.
func Run(ctx context.Context, self string, w io.Writer) error {
	work, err := os.MkdirTemp("", "ecr-credentials-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	password, err := ecrLikePassword()
	if err != nil {
		return err
	}

	// A registry that knows only the password ECR will hand out.
	reg := httptest.NewUnstartedServer(basicAuth("AWS", password, registry.New(registry.Logger(log.New(io.Discard, "", 0)))))
	reg.StartTLS()
	defer reg.Close()
	regHost := strings.TrimPrefix(reg.URL, "https://")

	// The AWS side.
	fake := awsfake.New(awsfake.Options{TLS: true})
	if err := fake.AddRole(awsfake.Role{ARN: roleARN, Subjects: []string{trusted}, ECR: true}); err != nil {
		return err
	}
	if err := fake.Start(); err != nil {
		return err
	}
	defer fake.Close()
	fake.MapRegistry(account, region, reg.URL)
	fake.SetRegistryPassword(account, region, password)

	bundle, pool, err := trustBundle(work, fake.CertPEM(), reg.Certificate())
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "ecr-credentials demo: the whole flow, offline\n\n")
	fmt.Fprintf(w, "  AWS emulator   %s  (GitHub OIDC issuer, STS, ECR)\n", fake.URL())
	fmt.Fprintf(w, "  registry       %s  (stands in for %s.dkr.ecr.%s.amazonaws.com)\n", reg.URL, account, region)
	fmt.Fprintf(w, "  IAM role       %s, trusting %s\n\n", roleARN, trusted)

	// The step, as the runner runs it.
	files, err := ghrunner.NewStepFiles(work)
	if err != nil {
		return err
	}
	env := ghrunner.Step{Files: files, Home: filepath.Join(work, "home"), RunID: "4242",
		Inputs: map[string]string{"role-to-assume": roleARN, "aws-region": region}}.Env()
	env["PATH"] = os.Getenv("PATH")
	env["SSL_CERT_FILE"] = bundle
	for k, v := range fake.Env() {
		if k != "SSL_CERT_FILE" && k != "AWS_CA_BUNDLE" {
			env[k] = v
		}
	}
	env["AWS_CA_BUNDLE"] = bundle
	if err := os.MkdirAll(env["HOME"], 0o700); err != nil {
		return err
	}
	fmt.Fprintf(w, "── step: uses: ecr-credentials  (log as GitHub shows it) ──\n")
	stdout, code, err := run(ctx, self, nil, env)
	if err != nil {
		return err
	}
	masks := ghrunner.MaskedValues(stdout)
	printLog(w, stdout, masks)
	if code != 0 {
		return fmt.Errorf("the action failed with exit code %d", code)
	}

	out, err := readFileCommands(files.Output)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n── step outputs (${{ steps.ecr.outputs.<name> }}, masked values as GitHub shows them) ──\n")
	printValues(w, out, masks)
	envs, err := readFileCommands(files.Env)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n── environment of later steps ──\n")
	printValues(w, envs, masks)

	// A later step: push with an independent client that reads only the
	// docker config the action wrote.
	dockerDir := filepath.Join(env["HOME"], ".docker")
	fmt.Fprintf(w, "\n── later step: push an image with the docker login the action wrote (%s) ──\n", filepath.Join(dockerDir, "config.json"))
	if err := os.Setenv("DOCKER_CONFIG", dockerDir); err != nil {
		return err
	}
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	ref, err := name.ParseReference(regHost + "/demo/app:v1")
	if err != nil {
		return err
	}
	img, err := random.Image(2048, 2)
	if err != nil {
		return err
	}
	if err := remote.Write(ref, img, remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithTransport(transport), remote.WithContext(ctx)); err != nil {
		return fmt.Errorf("push with the written login: %w", err)
	}
	digest, _ := img.Digest()
	tags, err := remote.List(ref.Context(), remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithTransport(transport), remote.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("list tags with the written login: %w", err)
	}
	fmt.Fprintf(w, "pushed %s (%s); the registry lists tags %v\n", ref, digest, tags)

	wrong := authn.FromConfig(authn.AuthConfig{Username: "AWS", Password: password[:len(password)-1] + "x"})
	err = remote.Write(ref, img, remote.WithAuth(wrong), remote.WithTransport(transport), remote.WithContext(ctx))
	if err == nil {
		return errors.New("the registry accepted a wrong password: the demo proves nothing")
	}
	fmt.Fprintf(w, "the same push with a wrong password is refused: %s\n", firstLine(err.Error()))

	// The post step.
	state, err := readFileCommands(files.State)
	if err != nil {
		return err
	}
	env["STATE_receipt"] = state["receipt"]
	fmt.Fprintf(w, "\n── post step: ecr-credentials-post ──\n")
	stdout, code, err = run(ctx, self, []string{"post"}, env)
	if err != nil {
		return err
	}
	printLog(w, stdout, masks)
	if code != 0 {
		return fmt.Errorf("the post step failed with exit code %d", code)
	}
	cfg, err := os.ReadFile(filepath.Join(dockerDir, "config.json"))
	switch {
	case errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(w, "config.json is gone: it did not exist before the login\n")
	case err != nil:
		return err
	case bytes.Contains(cfg, []byte(regHost)):
		return errors.New("the login is still in config.json after the post step")
	default:
		fmt.Fprintf(w, "config.json no longer holds the login\n")
	}
	fmt.Fprintf(w, "\ndemo finished: credentials from OIDC -> STS -> ECR reached a real registry push, and were removed after the job\n")
	return nil
}

// run starts the program with exactly env, as a runner would.
func run(ctx context.Context, self string, args []string, env map[string]string) (string, int, error) {
	cmd := exec.CommandContext(ctx, self, args...)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stdout
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return stdout.String(), exit.ExitCode(), nil
	}
	return stdout.String(), 0, err
}

// printLog shows a step's output the way GitHub renders it: workflow
// commands interpreted, masked values replaced by ***.
func printLog(w io.Writer, stdout string, masks []string) {
	for _, line := range strings.Split(strings.TrimRight(stdout, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "::add-mask::"), strings.HasPrefix(line, "::debug"):
			continue
		case strings.HasPrefix(line, "::warning"):
			line = "Warning: " + line[strings.Index(line[2:], "::")+4:]
		case strings.HasPrefix(line, "::error"):
			line = "Error: " + line[strings.Index(line[2:], "::")+4:]
		}
		fmt.Fprintf(w, "  %s\n", mask(line, masks))
	}
}

func printValues(w io.Writer, kv map[string]string, masks []string) {
	names := make([]string, 0, len(kv))
	for k := range kv {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(w, "  %-34s %s\n", k, mask(kv[k], masks))
	}
}

func mask(s string, masks []string) string {
	sort.Slice(masks, func(i, j int) bool { return len(masks[i]) > len(masks[j]) })
	for _, m := range masks {
		if m != "" {
			s = strings.ReplaceAll(s, m, "***")
		}
	}
	return s
}

func readFileCommands(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ghrunner.ParseFileCommands(b)
}

// basicAuth lets through only requests with the given user and password,
// answering others like a registry does (401 with a Basic challenge).
func basicAuth(user, password string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || subtle.ConstantTimeCompare([]byte(p), []byte(password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="demo registry"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// trustBundle writes a PEM bundle of the emulator's CA and the registry's
// certificate (for the action, via SSL_CERT_FILE) and returns a pool of
// them (for the demo's own client).
func trustBundle(dir string, emulatorCA []byte, registryCert *x509.Certificate) (string, *x509.CertPool, error) {
	regPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: registryCert.Raw})
	all := append(append(append([]byte{}, emulatorCA...), '\n'), regPEM...)
	path := filepath.Join(dir, "ca-bundle.pem")
	if err := os.WriteFile(path, all, 0o600); err != nil {
		return "", nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(all) {
		return "", nil, errors.New("no certificates in the trust bundle")
	}
	return path, pool, nil
}

// ecrLikePassword is shaped like what ECR hands out: a long base64 blob.
func ecrLikePassword() (string, error) {
	b := make([]byte, 1200)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
