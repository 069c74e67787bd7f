package imagetest

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"
)

// maxImageBytes is the size budget of the image (issue 9), in bytes as the
// engine counts them.
const maxImageBytes = 12_000_000

// TestImageContents checks the built image itself (issue 9): its size, its
// labels and entrypoint, exactly which files it holds (no shell, no package
// manager: one static binary, the post-entrypoint link to it, CA
// certificates and /tmp), that --version describes the build, that a shell
// cannot be started in it, and that action.yml's post-entrypoint runs the
// program's post stage.
func TestImageContents(t *testing.T) {
	ref := builtImage(t)
	action := loadAction(t)

	var inspect []struct {
		Size   int64
		Os     string
		Config struct {
			Entrypoint []string
			Cmd        []string
			User       string
			Labels     map[string]string
		}
	}
	if err := json.Unmarshal([]byte(docker(t, "image", "inspect", ref)), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("docker image inspect: %v", err)
	}
	img := inspect[0]
	t.Logf("image size: %d bytes (%.2f MB; budget %d MB)", img.Size, float64(img.Size)/1e6, maxImageBytes/1_000_000)
	if img.Size > maxImageBytes {
		t.Errorf("image is %d bytes, more than the budget of %d", img.Size, maxImageBytes)
	}
	if want := []string{"/usr/local/bin/ecr-credentials"}; !slices.Equal(img.Config.Entrypoint, want) {
		t.Errorf("entrypoint = %q, want %q", img.Config.Entrypoint, want)
	}
	if len(img.Config.Cmd) != 0 {
		t.Errorf("the image has a CMD %q; the runner passes runs.args, nothing may be added to them", img.Config.Cmd)
	}
	if img.Config.User != "0:0" {
		t.Errorf("user = %q, want 0:0 (the runner's mounts belong to the runner; see the Dockerfile)", img.Config.User)
	}
	for key, want := range map[string]string{
		"org.opencontainers.image.title":       "ecr-credentials",
		"org.opencontainers.image.version":     buildVersion,
		"org.opencontainers.image.revision":    buildCommit,
		"org.opencontainers.image.licenses":    "",
		"org.opencontainers.image.description": "",
	} {
		got, ok := img.Config.Labels[key]
		switch {
		case !ok || got == "":
			t.Errorf("label %s is missing", key)
		case want != "" && got != want:
			t.Errorf("label %s = %q, want %q", key, got, want)
		}
	}

	// Exactly these files: anything else (a shell, a package manager, a
	// build leftover) is a change to review, not an accident.
	files := imageFiles(t, ref)
	var got []string
	for name, f := range files {
		got = append(got, name+" "+f.describe())
	}
	sort.Strings(got)
	want := []string{
		"etc/ dir",
		"etc/ssl/ dir",
		"etc/ssl/certs/ dir",
		"etc/ssl/certs/ca-certificates.crt file 0644",
		"tmp/ dir 1777",
		"usr/ dir",
		"usr/local/ dir",
		"usr/local/bin/ dir",
		"usr/local/bin/ecr-credentials file 0755",
		"usr/local/bin/ecr-credentials-post symlink ecr-credentials",
	}
	if !slices.Equal(got, want) {
		t.Errorf("image files:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if f, ok := files["etc/ssl/certs/ca-certificates.crt"]; ok && !bytes.Contains(f.data, []byte("-----BEGIN CERTIFICATE-----")) {
		t.Error("etc/ssl/certs/ca-certificates.crt holds no PEM certificate")
	}
	post := strings.TrimPrefix(action.Runs.PostEntrypoint, "/")
	if action.Runs.PostEntrypoint == "" {
		t.Error("action.yml has no runs.post-entrypoint: nothing would remove the docker login after the job")
	} else if target, err := resolveInImage(files, post); err != nil {
		t.Errorf("action.yml's post-entrypoint %s: %v", action.Runs.PostEntrypoint, err)
	} else if target != "usr/local/bin/ecr-credentials" {
		t.Errorf("action.yml's post-entrypoint %s resolves to /%s, not to the program", action.Runs.PostEntrypoint, target)
	}

	t.Run("version", func(t *testing.T) {
		res := runImage(t, ref, nil, "--version")
		if res.code != 0 {
			t.Fatalf("docker run IMAGE --version: %s", res)
		}
		want := fmt.Sprintf("ecr-credentials %s (commit %s, built %s, go", buildVersion, buildCommit, buildDate)
		if !strings.HasPrefix(res.stdout, want) || !strings.Contains(res.stdout, " linux/") {
			t.Errorf("--version printed %q, want it to start with %q and name the platform", res.stdout, want)
		}
	})
	t.Run("no shell", func(t *testing.T) {
		for _, sh := range []string{"/bin/sh", "/bin/bash", "/bin/busybox"} {
			res := runImage(t, ref, []string{"--entrypoint", sh}, "-c", "echo shell ran")
			if res.code == 0 || strings.Contains(res.stdout, "shell ran") {
				t.Errorf("--entrypoint %s ran: %s", sh, res)
			} else if !strings.Contains(res.stderr, "no such file or directory") {
				t.Errorf("--entrypoint %s failed, but not because it is missing: %s", sh, res)
			}
		}
	})
	t.Run("post entrypoint without a login", func(t *testing.T) {
		// The runner runs the post stage with the same args as the main
		// stage; with no receipt in STATE_receipt there is nothing to undo.
		res := runImage(t, ref, []string{"--entrypoint", action.Runs.PostEntrypoint, "-e", "GITHUB_ACTIONS=true"},
			"--host-runner-temp=/home/runner/work/_temp", "--host-workspace=/home/runner/work/r/r")
		if res.code != 0 || !strings.Contains(res.stdout, "No docker login to remove.") {
			t.Errorf("post-entrypoint with no state: %s", res)
		}
	})
}

// runImage runs ref in a throw-away container with no network.
func runImage(t *testing.T, ref string, opts []string, args ...string) cmdResult {
	t.Helper()
	name := randomName("imagetest-")
	t.Cleanup(func() { dockerQuiet("rm", "--force", name) })
	cmd := append([]string{"run", "--rm", "--name", name, "--label", containerLabel, "--network", "none"}, opts...)
	cmd = append(append(cmd, ref), args...)
	return run(t, requireDocker(t), cmd, cmdOpts{onTimeout: func() { dockerQuiet("rm", "--force", name) }})
}

// imageFile is one entry of an image's file system.
type imageFile struct {
	typ  byte
	mode int64
	link string
	data []byte
}

func (f imageFile) describe() string {
	switch f.typ {
	case tar.TypeDir:
		if f.mode&0o7777 != 0o755 {
			return fmt.Sprintf("dir %04o", f.mode&0o7777)
		}
		return "dir"
	case tar.TypeSymlink:
		return "symlink " + f.link
	case tar.TypeReg:
		return fmt.Sprintf("file %04o", f.mode&0o7777)
	}
	return fmt.Sprintf("type %q", f.typ)
}

// imageFiles reads the image's file system from `docker save`: its layers
// applied in order, whiteouts honoured. Directories end in "/".
func imageFiles(t *testing.T, ref string) map[string]imageFile {
	t.Helper()
	res := run(t, requireDocker(t), []string{"save", ref}, cmdOpts{})
	if res.code != 0 {
		t.Fatalf("docker save: %s", res)
	}
	archive := map[string][]byte{}
	tr := tar.NewReader(strings.NewReader(res.stdout))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading docker save output: %v", err)
		}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			archive[h.Name] = b
		}
	}
	var manifest []struct{ Layers []string }
	if err := json.Unmarshal(archive["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("docker save: manifest.json: %v", err)
	}
	files := map[string]imageFile{}
	for _, layer := range manifest[0].Layers {
		lr := tar.NewReader(bytes.NewReader(archive[layer]))
		for {
			h, err := lr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("layer %s: %v", layer, err)
			}
			name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
			dir, base := path.Split(name)
			if strings.HasPrefix(base, ".wh.") {
				gone := dir + strings.TrimPrefix(base, ".wh.")
				for n := range files {
					if n == gone || n == gone+"/" || strings.HasPrefix(n, gone+"/") {
						delete(files, n)
					}
				}
				continue
			}
			f := imageFile{typ: h.Typeflag, mode: h.Mode, link: h.Linkname}
			if h.Typeflag == tar.TypeDir {
				name += "/"
			}
			if h.Typeflag == tar.TypeReg && h.Size < 1<<20 {
				f.data, _ = io.ReadAll(lr)
			}
			files[name] = f
		}
	}
	return files
}

// resolveInImage follows symbolic links inside the image's file system and
// returns the regular file name refers to.
func resolveInImage(files map[string]imageFile, name string) (string, error) {
	for hops := 0; hops < 10; hops++ {
		f, ok := files[name]
		if !ok {
			return "", fmt.Errorf("/%s does not exist in the image", name)
		}
		switch f.typ {
		case tar.TypeReg:
			if f.mode&0o111 == 0 {
				return "", fmt.Errorf("/%s is not executable", name)
			}
			return name, nil
		case tar.TypeSymlink:
			if path.IsAbs(f.link) {
				name = strings.TrimPrefix(path.Clean(f.link), "/")
			} else {
				name = path.Join(path.Dir(name), f.link)
			}
		default:
			return "", fmt.Errorf("/%s is not a file", name)
		}
	}
	return "", errors.New("too many symbolic links")
}
