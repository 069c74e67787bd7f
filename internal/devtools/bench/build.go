package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const modulePath = "github.com/ecr-credentials/ecr-credentials"

// goCommand finds the go command on PATH (go test puts GOROOT/bin first).
func goCommand() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go" // fails with a clear "executable file not found"
}

// moduleRoot is the directory of this module (go run runs from anywhere in it).
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, goCommand(), "list", "-m", "-f", "{{.Dir}}", modulePath).Output()
	if err != nil {
		return "", fmt.Errorf("find the module root with go list (run this inside the repository): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// buildRelease builds pkg like the Dockerfile builds the product: static,
// release tag, trimmed paths, the Dockerfile's -gcflags, no symbol table
// or DWARF.
func buildRelease(ctx context.Context, root, pkg, out string) error {
	df, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		return fmt.Errorf("read the Dockerfile for its build flags: %w", err)
	}
	args := append([]string{"build", "-tags", "release", "-trimpath"}, gcFlags.FindAllString(string(df), -1)...)
	cmd := exec.CommandContext(ctx, goCommand(), append(args, "-ldflags", "-s -w -buildid=", "-o", out, pkg)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, stderr.String())
	}
	return nil
}

// gcFlags finds the Dockerfile's -gcflags arguments.
var gcFlags = regexp.MustCompile(`-gcflags=\S+`)

// buildPlain builds a helper of the benchmark itself.
func buildPlain(ctx context.Context, root, pkg, out string) error {
	cmd := exec.CommandContext(ctx, goCommand(), "build", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, stderr.String())
	}
	return nil
}

// imageSize is what an image costs: docker's size (unpacked layers) and
// the gzip-compressed size of `docker save` (about what a pull downloads).
type imageSize struct {
	Name       string
	Size       int64
	Compressed int64
	Built      bool   // built here from our binary (and removed again)
	Missing    string // why there is no figure
}

// prepareImage returns the image to run and measure: name if given,
// otherwise the product's final image stage (FROM scratch, the binary, its
// post-stage link, CA certificates and /tmp: the files the Dockerfile
// copies) built here from bin. remove deletes an image built here.
func prepareImage(ctx context.Context, docker, bin, name string) (img imageSize, remove func()) {
	remove = func() {}
	switch {
	case name == "-":
		return imageSize{Missing: "skipped (-image -)"}, remove
	case docker == "":
		return imageSize{Name: name, Missing: "not measured: no docker"}, remove
	case name != "":
		return imageSize{Name: name}, remove
	}
	name, err := buildScratchImage(ctx, docker, bin)
	if err != nil {
		return imageSize{Missing: "not measured: " + err.Error()}, remove
	}
	return imageSize{Name: name, Built: true}, func() {
		_ = exec.Command(docker, "rmi", "--force", name).Run()
	}
}

// measureImage fills in the sizes of img.
func measureImage(ctx context.Context, docker string, img imageSize) imageSize {
	if img.Missing != "" {
		return img
	}
	c, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(c, docker, "image", "inspect", "--format", "{{.Size}}", img.Name).Output()
	if err != nil {
		img.Missing = "not measured: docker image inspect " + img.Name + " failed (is the image there?)"
		return img
	}
	img.Size, err = strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		img.Missing = "not measured: unexpected docker image inspect output"
		return img
	}
	save := exec.CommandContext(c, docker, "save", img.Name)
	pr, err := save.StdoutPipe()
	if err != nil {
		return img
	}
	if err := save.Start(); err != nil {
		return img
	}
	var counter countWriter
	zw := gzip.NewWriter(&counter)
	_, copyErr := io.Copy(zw, pr)
	zw.Close()
	if err := save.Wait(); err == nil && copyErr == nil {
		img.Compressed = counter.n
	}
	return img
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func buildScratchImage(ctx context.Context, docker, bin string) (string, error) {
	dir, err := os.MkdirTemp("", "ecr-bench-image-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "out")
	for _, d := range []string{"usr/local/bin", "etc/ssl/certs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			return "", err
		}
	}
	if err := os.Chmod(filepath.Join(out, "tmp"), 0o1777); err != nil {
		return "", err
	}
	if err := copyFile(bin, filepath.Join(out, "usr/local/bin/ecr-credentials"), 0o755); err != nil {
		return "", err
	}
	if err := os.Symlink("ecr-credentials", filepath.Join(out, "usr/local/bin/ecr-credentials-post")); err != nil {
		return "", err
	}
	roots, err := systemRoots()
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(out, "etc/ssl/certs/ca-certificates.crt"), roots, 0o644); err != nil {
		return "", err
	}
	dockerfile := "FROM scratch\nCOPY out/ /\nUSER 0:0\nENTRYPOINT [\"/usr/local/bin/ecr-credentials\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return "", err
	}
	var r [6]byte
	_, _ = rand.Read(r[:])
	name := "ecr-credentials-bench:" + hex.EncodeToString(r[:])
	c, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(c, docker, "build", "-q", "-t", name, dir)
	// The scratch stage needs no pull; the classic builder avoids needing buildx.
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("docker build: %v: %s", err, firstLine(string(b)))
	}
	return name, nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode)
}
