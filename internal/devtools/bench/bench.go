package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// row is the runs of one contender in one scenario.
type row struct {
	Contender      string
	Scenario       scenario
	ChecksRegistry bool
	Samples        []sample
}

// Variants of our binary.
const (
	variantPlain    = "plain HTTP instead of HTTPS"
	variantCertFile = "one CA bundle file (SSL_CERT_DIR empty: no certificate directory read)"
	variantGCOff    = "garbage collector off (GOGC=off)"
)

// absent is a contender that was not measured, and why.
type absent struct{ Name, Why string }

// results is everything the report prints.
type results struct {
	Machine machine
	Opts    options
	Main    []row // TLS, one registry, by latency then contender
	// Conn and ConnFanOut are the connection-level model (netmodel.go) at
	// Opts.ConnLatency: one registry, every contender; then our binary
	// and the naive step over Opts.ConnFanOut registries.
	Conn       []row
	ConnFanOut []row
	ConnAbsent string   // why the connection model was not measured
	DNSUnknown []string // names the contenders asked our DNS for that it does not know
	DNSQueries int
	FanOut     []row // TLS, at Opts.FanOutLatency, by count then contender
	Variants   []row // our binary with environment tweaks (see variant*)
	RSSFloor   int64 // peak RSS the launch helper reports for /bin/true
	Absent     []absent
	OurBin     int64
	NaiveBin   int64
	Image      imageSize
	Footprint  []absent // sizes of the other contenders' software, as text
	// NativeArchive is the size of the native action's release archive
	// for this machine (what its first run downloads); 0: not made.
	NativeArchive int64
	// NodeAlone is `node -e 0` through the launch helper, once per
	// connection-model run: node's own start, for the native step.
	NodeAlone []sample
}

// nativeSetup is what the connection model needs for the native action:
// node and the benchmark's release (nil: not measured).
type nativeSetup struct {
	node string
	rel  *nativeRelease
}

// runBench measures everything opts asks for and prints the report.
func runBench(ctx context.Context, opts options) error {
	progress := func(format string, args ...any) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "bench: "+format+"\n", args...)
		}
	}
	res := &results{Opts: opts}
	tmp, err := os.MkdirTemp("", "ecr-bench-")
	if err != nil {
		return fmt.Errorf("create scratch directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	bin := opts.Bin
	if bin == "" {
		progress("building ecr-credentials with the release flags")
		bin = filepath.Join(tmp, "ecr-credentials")
		if err := buildRelease(ctx, root, ".", bin); err != nil {
			return err
		}
	}
	launchBin := filepath.Join(tmp, "launch")
	if err := buildPlain(ctx, root, "./internal/devtools/bench/launch", launchBin); err != nil {
		return err
	}
	naiveBin := filepath.Join(tmp, "naive")
	progress("building the naive reference step")
	if err := buildRelease(ctx, root, "./internal/devtools/bench/naive", naiveBin); err != nil {
		return err
	}
	floorBin := filepath.Join(tmp, "floor")
	if err := buildRelease(ctx, root, "./internal/devtools/bench/floor", floorBin); err != nil {
		return err
	}
	if res.OurBin, err = fileSize(bin); err != nil {
		return err
	}
	if res.NaiveBin, err = fileSize(naiveBin); err != nil {
		return err
	}

	t := findTools(ctx, opts.AWS)
	res.Machine = describeMachine(ctx, t, opts.ECRLogin)
	contenders := []contender{&ours{bin: bin}, &ours{bin: bin, verify: true}, &naive{program{naiveName, naiveBin}}, &floor{program{floorName, floorBin}}}
	if opts.OursOnly {
		opts.Image = "-"
		for _, name := range []string{"AWS CLI v2 + docker login", "AWS CLI sts + amazon-ecr-login (node)", peerActionsName} {
			res.Absent = append(res.Absent, absent{name, "not measured: -ours-only"})
		}
	} else {
		contenders = append(contenders, peerContenders(opts, t, res)...)
	}
	res.Footprint = footprint(t, opts.ECRLogin)
	// The native action (issue 23), measured in the connection model.
	var rel *nativeRelease
	switch {
	case opts.ConnRuns == 0:
	case t.Node == "":
		res.Absent = append(res.Absent, absent{nativeName, t.NodeMissing + " (the native action's launcher runs under node)"})
	default:
		if _, err := runnerPlatform(runtime.GOOS, runtime.GOARCH); err != nil {
			res.Absent = append(res.Absent, absent{nativeName, err.Error()})
			break
		}
		progress("packing the native action's release (archive, checksums.json, tool cache)")
		if rel, err = prepareNative(root, bin, filepath.Join(tmp, "native")); err != nil {
			return err
		}
		res.NativeArchive = rel.ArchiveSize
	}
	if t.Docker != "" && opts.Image != "-" {
		progress("preparing the image")
	}
	img, removeImage := prepareImage(ctx, t.Docker, bin, opts.Image)
	defer removeImage()
	if img.Missing == "" {
		contenders = append(contenders, &inImage{docker: t.Docker, image: img.Name})
	} else if t.Docker == "" {
		img.Missing = "not measured: " + t.DockerMissing
		res.Absent = append(res.Absent, absent{"ecr-credentials in its image (docker run)", t.DockerMissing})
	}

	maxFan := slices.Max(append([]int{1}, opts.FanOut...))
	runN := 0
	measureRow := func(l *lab, c contender, sc scenario, runs int, rows *[]row) error {
		r := row{Contender: c.Name(), Scenario: sc, ChecksRegistry: c.ChecksRegistry(sc)}
		for range runs {
			s, err := runOnce(ctx, l, c, sc, filepath.Join(tmp, "run-"+strconv.Itoa(runN)))
			runN++
			if err != nil {
				return err
			}
			r.Samples = append(r.Samples, s)
		}
		*rows = append(*rows, r)
		return nil
	}

	// Main table and fan-out over TLS.
	tlsLab, err := newLab(true, maxFan, launchBin, false)
	if err != nil {
		return err
	}
	defer tlsLab.close()
	progress("warming up (one discarded run per contender)")
	for _, c := range contenders {
		if _, err := runOnce(ctx, tlsLab, c, scenario{Registries: 1}, filepath.Join(tmp, "warmup")); err != nil {
			return err
		}
	}
	for _, lat := range opts.Latencies {
		tlsLab.setLatency(lat)
		progress("full login at %v latency, %d runs per contender", lat, opts.Runs)
		rows, err := interleaved(ctx, tlsLab, contenders, scenario{Latency: lat, Registries: 1}, opts.Runs, tmp, &runN)
		if err != nil {
			return err
		}
		res.Main = append(res.Main, rows...)
	}
	tlsLab.setLatency(opts.FanOutLatency)
	for _, n := range opts.FanOut {
		progress("fan-out to %d registr%s at %v latency, %d runs per contender", n, map[bool]string{true: "y", false: "ies"}[n == 1], opts.FanOutLatency, opts.FanOutRuns)
		rows, err := interleaved(ctx, tlsLab, contenders, scenario{Latency: opts.FanOutLatency, Registries: n}, opts.FanOutRuns, tmp, &runN)
		if err != nil {
			return err
		}
		res.FanOut = append(res.FanOut, rows...)
	}
	// Variants of our binary that price what it does, through the
	// environment: SSL_CERT_DIR set to an empty directory leaves Go's
	// roots to the CA bundle file alone (by default Go also reads every
	// certificate of the certificate directories), and GOGC=off turns the
	// garbage collector off for the run.
	emptyDir := filepath.Join(tmp, "no-certs")
	if err := os.MkdirAll(emptyDir, 0o755); err != nil {
		return err
	}
	variants := []contender{
		&ours{bin: bin, label: variantCertFile, extraEnv: map[string]string{"SSL_CERT_DIR": emptyDir}},
		&ours{bin: bin, label: variantGCOff, extraEnv: map[string]string{"GOGC": "off"}},
	}
	progress("variants of our binary")
	for _, lat := range opts.Latencies {
		tlsLab.setLatency(lat)
		rows, err := interleaved(ctx, tlsLab, variants, scenario{Latency: lat, Registries: 1}, opts.Runs, tmp, &runN)
		if err != nil {
			return err
		}
		res.Variants = append(res.Variants, rows...)
	}
	if _, ps, err := tlsLab.ln.pipeline(ctx, tlsLab, spec{Name: "true", Path: "/bin/true", Env: baseEnv(tmp, nil)}); err == nil {
		res.RSSFloor = ps[0].MaxRSS
	}
	tlsLab.close()

	// Our binary over plain HTTP, for the cost of TLS.
	plainLab, err := newLab(false, 1, launchBin, false)
	if err != nil {
		return err
	}
	defer plainLab.close()
	progress("plain HTTP, our binary")
	plain := &ours{bin: bin, label: variantPlain}
	if _, err := runOnce(ctx, plainLab, plain, scenario{Registries: 1}, filepath.Join(tmp, "warmup")); err != nil {
		return err
	}
	for _, lat := range opts.Latencies {
		plainLab.setLatency(lat)
		if err := measureRow(plainLab, plain, scenario{Latency: lat, Registries: 1}, opts.Runs, &res.Variants); err != nil {
			return err
		}
	}
	plainLab.close()

	progress("image size")
	res.Image = measureImage(ctx, t.Docker, img)

	if opts.ConnRuns > 0 {
		if err := measureConnModel(ctx, opts, res, contenders, img, nativeSetup{t.Node, rel}, root, launchBin, tmp, &runN, progress); err != nil {
			return err
		}
	}

	res.Machine.LoadEnd = loadAverage()
	report(opts.Out, res)
	return nil
}

// peerContenders are the other ways into ECR whose tools this machine has;
// the others are listed in res.Absent.
func peerContenders(opts options, t tools, res *results) []contender {
	var contenders []contender
	switch {
	case t.AWS == "":
		res.Absent = append(res.Absent, absent{"AWS CLI v2 + docker login", t.AWSMissing})
	case t.Curl == "":
		res.Absent = append(res.Absent, absent{"AWS CLI v2 + docker login", t.CurlMissing})
	default:
		contenders = append(contenders, &awsCLI{t: t})
	}
	if why := ecrLoginMissing(opts.ECRLogin, t); why != "" {
		res.Absent = append(res.Absent, absent{"AWS CLI sts + amazon-ecr-login (node)", why})
	} else {
		contenders = append(contenders, &ecrLogin{t: t, index: opts.ECRLogin})
	}
	if why := peersMissing(opts, t); why != "" {
		res.Absent = append(res.Absent, absent{peerActionsName, why})
	} else {
		contenders = append(contenders, &peerActions{t: t, configure: opts.ConfigureAWS, login: opts.ECRLogin})
	}
	return contenders
}

// interleaved runs every contender once per round, so that any drift of
// the machine spreads evenly over them.
func interleaved(ctx context.Context, l *lab, cs []contender, sc scenario, runs int, tmp string, runN *int) ([]row, error) {
	rows := make([]row, len(cs))
	for i, c := range cs {
		rows[i] = row{Contender: c.Name(), Scenario: sc, ChecksRegistry: c.ChecksRegistry(sc)}
	}
	for range runs {
		for i, c := range cs {
			s, err := runOnce(ctx, l, c, sc, filepath.Join(tmp, "run-"+strconv.Itoa(*runN)))
			*runN++
			if err != nil {
				return nil, err
			}
			rows[i].Samples = append(rows[i].Samples, s)
		}
	}
	return rows, nil
}

// runOnce runs c once in a fresh directory and removes it afterwards.
func runOnce(ctx context.Context, l *lab, c contender, sc scenario, dir string) (sample, error) {
	if err := ctx.Err(); err != nil {
		return sample{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return sample{}, err
	}
	defer os.RemoveAll(dir)
	conns := l.net.connections()
	s, err := c.Run(ctx, l, sc, dir)
	s.Conns = l.net.connections() - conns
	if err != nil {
		return sample{}, fmt.Errorf("%s (%d registr%s, latency %v): %w", c.Name(), sc.Registries,
			map[bool]string{true: "y", false: "ies"}[sc.Registries == 1], sc.Latency, err)
	}
	return s, nil
}

func ecrLoginMissing(index string, t tools) string {
	switch {
	case index == "":
		return "not available: pass -ecr-login PATH/dist/index.js (from a checkout of aws-actions/amazon-ecr-login)"
	case t.Node == "":
		return t.NodeMissing
	case t.AWS == "":
		return t.AWSMissing + " (it assumes the role)"
	case t.Curl == "":
		return t.CurlMissing
	case t.Docker == "":
		return "it runs docker login: " + t.DockerMissing
	}
	if st, err := os.Stat(index); err != nil || st.IsDir() {
		return "not available: " + index + " is not a file"
	}
	return ""
}

func fileSize(path string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", path, err)
	}
	return st.Size(), nil
}

// machine describes where the figures come from.
type machine struct {
	Date, CPU, Kernel, Go string
	Cores                 int
	// LoadStart and LoadEnd are the 1-minute load averages before and
	// after the measurements.
	LoadStart, LoadEnd string
	Source             string // git describe of the measured tree

	Tools []string
}

func describeMachine(ctx context.Context, t tools, ecrLoginIndex string) machine {
	m := machine{Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Cores: runtime.NumCPU(), CPU: "unknown CPU", Kernel: "unknown kernel"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	m.Go = runtime.Version()
	version := func(label, path string, args ...string) {
		if path == "" {
			return
		}
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(c, path, args...).CombinedOutput()
		if err == nil {
			v, _, _ := strings.Cut(firstLine(string(out)), " (") // curl lists its libraries in parentheses
			m.Tools = append(m.Tools, label+" "+v)
		}
	}
	version("AWS CLI:", t.AWS, "--version")
	version("docker:", t.Docker, "version", "--format", "client {{.Client.Version}}, engine {{.Server.Version}}")
	version("node:", t.Node, "--version")
	version("curl:", t.Curl, "--version")
	if ecrLoginIndex != "" {
		// package.json sits next to dist/ in a checkout of the action.
		if b, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(ecrLoginIndex)), "package.json")); err == nil {
			var pkg struct{ Name, Version string }
			if json.Unmarshal(b, &pkg) == nil && pkg.Version != "" {
				m.Tools = append(m.Tools, "amazon-ecr-login: "+pkg.Version)
			}
		}
	}
	m.LoadStart = loadAverage()
	if out, err := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty").Output(); err == nil {
		m.Source = strings.TrimSpace(string(out))
	}
	return m
}

// loadAverage is the 1-minute load average, which says how busy the
// machine was with other work.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "unknown"
	}
	return f[0]
}

// footprint describes how much software the other contenders need, where
// it can be measured.
func footprint(t tools, ecrLoginIndex string) []absent {
	var out []absent
	if t.AWS != "" {
		if b, err := exec.Command("dpkg-query", "-W", "-f", "${Installed-Size}", "awscli").Output(); err == nil {
			if kib, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
				out = append(out, absent{"AWS CLI v2 (Debian awscli, without its Python dependencies)", fmt.Sprintf("%.1f MB installed", mb(kib*1024))})
			}
		}
	}
	if ecrLoginIndex != "" {
		var total int64
		_ = filepath.Walk(filepath.Dir(ecrLoginIndex), func(_ string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				total += info.Size()
			}
			return nil
		})
		if total > 0 {
			out = append(out, absent{"amazon-ecr-login dist/ (plus the runner's node)", fmt.Sprintf("%.1f MB", mb(total))})
		}
	}
	return out
}

func peersMissing(o options, t tools) string {
	if o.ConfigureAWS == "" {
		return "not available: pass -configure-aws PATH/dist/index.js (from a checkout of aws-actions/configure-aws-credentials) and -ecr-login"
	}
	switch {
	case o.ECRLogin == "":
		return "not available: pass -ecr-login PATH/dist/index.js too"
	case t.Node == "":
		return t.NodeMissing
	case t.Docker == "":
		return "amazon-ecr-login runs docker login: " + t.DockerMissing
	}
	for _, f := range []string{o.ConfigureAWS, o.ECRLogin} {
		if st, err := os.Stat(f); err != nil || st.IsDir() {
			return "not available: " + f + " is not a file"
		}
	}
	return ""
}

// measureConnModel measures the connection-level model: every contender
// at one registry, then our binary (verify off and on) and the naive step
// over the fan-out counts, in a lab of real host names behind our DNS and
// latency proxies. It needs the benchmark's own mount namespace; without
// it the model is reported as not measured.
func measureConnModel(ctx context.Context, opts options, res *results, contenders []contender, img imageSize, nat nativeSetup, root, launchBin, tmp string, runN *int, progress func(string, ...any)) error {
	if !inMountNamespace() {
		res.ConnAbsent = opts.connWhy
		if res.ConnAbsent == "" {
			res.ConnAbsent = "the benchmark did not run in a mount namespace of its own"
		}
		return nil
	}
	maxFan := slices.Max(append([]int{1}, opts.ConnFanOut...))
	l, err := newLab(true, maxFan, launchBin, true)
	if err != nil {
		return fmt.Errorf("connection model: %w", err)
	}
	defer l.close()
	// docker login asks the daemon, which resolves the registries' names
	// outside our mount namespace, for real: the shim logs in instead.
	l.dockerShim = filepath.Join(tmp, "shim", "docker")
	if err := buildPlain(ctx, root, "./internal/devtools/bench/dockershim", l.dockerShim); err != nil {
		return err
	}
	// The image comes from a loopback registry through the latency proxy:
	// the image the benchmark built is removed, and every pull run removes
	// the pulled one, so that each pull downloads every layer.
	var withImage []contender
	for _, c := range contenders {
		in, ok := c.(*inImage)
		if !ok {
			withImage = append(withImage, c)
			continue
		}
		if !img.Built {
			res.Absent = append(res.Absent, absent{pullName, "measured only with the image the benchmark builds (a given -image may share layers with others on the machine, which a pull would not download)"})
			withImage = append(withImage, c)
			continue
		}
		reg, err := startImageRegistry(ctx, l.net, in.docker, in.image, tmp)
		if err != nil {
			return err
		}
		defer reg.close()
		defer exec.Command(in.docker, "rmi", "--force", reg.ref).Run() //nolint:errcheck // best effort
		if out, err := exec.CommandContext(ctx, in.docker, "rmi", "--force", in.image).CombinedOutput(); err != nil {
			return fmt.Errorf("docker rmi %s: %v: %s", in.image, err, out)
		}
		pulled := inImage{docker: in.docker, image: reg.ref}
		withImage = append(withImage, &pullAndRun{run: pulled}, &pulled)
	}
	contenders = withImage
	if nat.rel != nil {
		// The native step beside our binary's rows: cached, and the first
		// run of a runner, fetching from a mirror on loopback.
		mirror, err := startReleaseMirror(l, nat.rel)
		if err != nil {
			return err
		}
		defer mirror.close()
		at := 0
		for i, c := range contenders {
			if _, ok := c.(*ours); ok {
				at = i + 1
			}
		}
		contenders = slices.Insert(slices.Clone(contenders), at,
			contender(&nativeStep{node: nat.node, rel: nat.rel, mirror: mirror}),
			contender(&nativeStep{node: nat.node, rel: nat.rel, mirror: mirror, firstRun: true}))
	}
	progress("connection model: warming up")
	for _, c := range contenders {
		if _, err := runOnce(ctx, l, c, scenario{Registries: 1}, filepath.Join(tmp, "warmup")); err != nil {
			return err
		}
	}
	l.setLatency(opts.ConnLatency)
	progress("connection model at %v round trip, %d runs per contender", opts.ConnLatency, opts.ConnRuns)
	rows, err := interleaved(ctx, l, contenders, scenario{Latency: opts.ConnLatency, Registries: 1}, opts.ConnRuns, tmp, runN)
	if err != nil {
		return err
	}
	res.Conn = rows
	if nat.rel != nil {
		// node alone, started the same way: the part of the launcher's
		// cost that is node's own start.
		for range opts.ConnRuns {
			_, p, err := l.ln.run(ctx, l, spec{Name: "node -e 0", Path: nat.node, Args: []string{"-e", "0"}, Env: baseEnv(tmp, nil), Dir: tmp})
			if err != nil {
				return err
			}
			res.NodeAlone = append(res.NodeAlone, sample{Wall: p.End.Sub(p.Start), CPU: p.CPU, MaxRSS: p.MaxRSS, Procs: 1})
		}
	}
	var fan []contender
	for _, c := range contenders {
		if _, ok := c.(*ours); ok {
			fan = append(fan, c)
		}
		switch c.(type) {
		case *naive, *floor:
			fan = append(fan, c)
		}
	}
	for _, n := range opts.ConnFanOut {
		progress("connection model: %d registries", n)
		rows, err := interleaved(ctx, l, fan, scenario{Latency: opts.ConnLatency, Registries: n}, opts.ConnRuns, tmp, runN)
		if err != nil {
			return err
		}
		res.ConnFanOut = append(res.ConnFanOut, rows...)
	}
	res.DNSQueries, res.DNSUnknown = l.net.dns.stats()
	return nil
}
