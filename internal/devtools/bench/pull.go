package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// imageRegistry is a loopback registry (go-containerregistry's in-memory
// one, plain HTTP: the docker daemon allows that for 127.0.0.0/8) holding
// our image, reached through a latency proxy of the lab's network, so that
// `docker pull` pays the round trips a pull from a real registry pays.
type imageRegistry struct {
	srv   *http.Server
	proxy *latencyProxy
	ref   string // 127.0.0.1:<proxy port>/ecr-credentials-bench:<tag>
}

// startImageRegistry copies image from the docker daemon (docker save
// into dir) into a new loopback registry behind a latency proxy of m.
func startImageRegistry(ctx context.Context, m *netModel, docker, image, dir string) (*imageRegistry, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("image registry: %w", err)
	}
	r := &imageRegistry{srv: &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0))), ReadHeaderTimeout: 10 * time.Second}}
	go r.srv.Serve(ln) //nolint:errcheck // returns on close
	ok := false
	defer func() {
		if !ok {
			r.close()
		}
	}()
	if r.proxy, err = startLatencyProxy("127.0.0.1:0", ln.Addr().String(), &m.rtt); err != nil {
		return nil, err
	}
	tarFile := filepath.Join(dir, "image.tar")
	if out, err := exec.CommandContext(ctx, docker, "save", "--output", tarFile, image).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("image registry: docker save %s: %v: %s", image, err, out)
	}
	src, err := name.NewTag(image)
	if err != nil {
		return nil, fmt.Errorf("image registry: %s: %w", image, err)
	}
	img, err := tarball.ImageFromPath(tarFile, &src)
	if err != nil {
		return nil, fmt.Errorf("image registry: read the saved %s: %w", image, err)
	}
	tag := fmt.Sprintf("t%d", time.Now().UnixNano())
	direct, err := name.ParseReference(ln.Addr().String()+"/ecr-credentials-bench:"+tag, name.Insecure)
	if err != nil {
		return nil, err
	}
	if err := remote.Write(direct, img, remote.WithContext(ctx)); err != nil {
		return nil, fmt.Errorf("image registry: push %s: %w", image, err)
	}
	r.ref = r.proxy.addr() + "/ecr-credentials-bench:" + tag
	ok = true
	return r, nil
}

func (r *imageRegistry) close() {
	if r.proxy != nil {
		r.proxy.close()
	}
	_ = r.srv.Close()
}

// pullAndRun is our image as a job without it meets it: `docker pull`
// from the loopback registry through the latency proxy (the image is
// removed first, layers included), then `docker run` as the runner starts
// a container action.
type pullAndRun struct {
	run inImage // its image is the registry's reference
}

const pullName = "ecr-credentials image: docker pull + docker run"

func (c *pullAndRun) Name() string                 { return pullName }
func (c *pullAndRun) ChecksRegistry(scenario) bool { return false }

func (c *pullAndRun) Run(ctx context.Context, l *lab, sc scenario, dir string) (sample, error) {
	docker, ref := c.run.docker, c.run.image
	if out, err := exec.CommandContext(ctx, docker, "rmi", "--force", ref).CombinedOutput(); err != nil && !strings.Contains(string(out), "No such image") {
		return sample{}, fmt.Errorf("docker rmi %s: %v: %s", ref, err, out)
	}
	_, pull, err := l.ln.run(ctx, l, spec{Name: "docker pull", Path: docker, Args: []string{"pull", "--quiet", ref}, Env: baseEnv(dir, nil), Dir: dir})
	if err != nil {
		return sample{}, err
	}
	s, err := c.run.Run(ctx, l, sc, dir)
	if err != nil {
		return sample{}, err
	}
	// The run's figures, with the pull in front (its round trips are not
	// in the ideal).
	s.Wall += pull.End.Sub(pull.Start)
	s.Procs++
	return s, nil
}
