package awsfake

import (
	"context"
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// multiFlag collects a repeatable KEY=VALUE flag.
type multiFlag struct {
	name  string
	pairs [][2]string
}

func (m *multiFlag) String() string { return "" }

func (m *multiFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" || val == "" {
		return fmt.Errorf("want %s", m.name)
	}
	m.pairs = append(m.pairs, [2]string{k, val})
	return nil
}

var accountRegion = regexp.MustCompile(`^(\d{12})/([a-z0-9-]+)$`)

// Main runs the emulator as a command (the `emulator` subcommand of dev
// builds): it starts a Server, prints the environment a client needs as
// `export NAME=value` lines on stdout, logs each request on stderr, and
// serves until ctx is cancelled. Flags:
//
//	-addr 127.0.0.1:0              listen address (loopback only)
//	-metadata-addr ADDR            listen address of the plain-HTTP metadata endpoints (default: addr's host, free port)
//	-tls                           serve HTTPS with a generated CA (AWS_CA_BUNDLE is printed)
//	-role ARN=subjectGlob          role web identities may assume, with ECR and ECR Public rights (repeatable)
//	-instance-role ARN             serve IMDSv2 as an EC2 instance with this role (its env is printed)
//	-instance-region us-east-1     the instance's region
//	-imdsv1                        also accept IMDS requests without a session token
//	-container-role ARN            serve container credentials for this role (its env is printed; the token goes to a file)
//	-map ACCOUNT/REGION=URL        proxyEndpoint for a registry (repeatable)
//	-password ACCOUNT/REGION=PW    fixed registry password (repeatable; never printed)
//	-latency 0s                    delay before every response
//
// Roles named only by -instance-role or -container-role get ECR and ECR
// Public rights and trust no web identity.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen `address`; must be loopback (127.0.0.0/8, ::1 or localhost)")
	useTLS := fs.Bool("tls", false, "serve HTTPS with a generated CA; the CA file is exported as AWS_CA_BUNDLE and SSL_CERT_FILE")
	latency := fs.Duration("latency", 0, "delay added before every response")
	metaAddr := fs.String("metadata-addr", "", "listen `address` of the plain-HTTP instance metadata and container credentials endpoints; must be loopback (default: the host of -addr on a free port)")
	instanceRole := fs.String("instance-role", "", "serve EC2 instance metadata (IMDSv2) for an instance whose profile holds role `ARN`")
	instanceRegion := fs.String("instance-region", "us-east-1", "`region` of the emulated EC2 instance")
	imdsV1 := fs.Bool("imdsv1", false, "let IMDS answer requests without a session token (IMDSv1)")
	containerRole := fs.String("container-role", "", "serve container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI) for role `ARN`")
	roles := &multiFlag{name: "ARN=subjectGlob, e.g. arn:aws:iam::123456789012:role/ci=repo:octo-org/*"}
	maps := &multiFlag{name: "ACCOUNT/REGION=URL, e.g. 123456789012/us-east-1=https://127.0.0.1:5443"}
	passwords := &multiFlag{name: "ACCOUNT/REGION=PASSWORD"}
	fs.Var(roles, "role", "role `ARN=subjectGlob` that web identities may assume (repeatable)")
	fs.Var(maps, "map", "registry `ACCOUNT/REGION=URL` returned as proxyEndpoint (repeatable)")
	fs.Var(passwords, "password", "fixed registry password `ACCOUNT/REGION=PW` (repeatable)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("emulator: unexpected arguments %q; all settings are flags (see -h)", fs.Args())
	}
	if err := checkLoopback(*addr); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	if *metaAddr != "" {
		if err := checkLoopback(*metaAddr); err != nil {
			return fmt.Errorf("emulator: -metadata-addr: %w", err)
		}
	}

	var logMu sync.Mutex
	s := New(Options{TLS: *useTLS, Addr: *addr, MetadataAddr: *metaAddr, OnCall: func(c Call) {
		logMu.Lock()
		defer logMu.Unlock()
		fmt.Fprintf(stderr, "awsfake: %s %s region=%q key=%q status=%d error=%q in %v\n",
			c.Service, c.Operation, c.Region, c.AccessKeyID, c.Status, c.ErrorCode, c.End.Sub(c.Start).Round(time.Millisecond))
	}})
	s.SetLatency(*latency)

	subjects := map[string][]string{}
	var order []string
	for _, p := range roles.pairs {
		if _, seen := subjects[p[0]]; !seen {
			order = append(order, p[0])
		}
		subjects[p[0]] = append(subjects[p[0]], p[1])
	}
	for _, arn := range order {
		if err := s.AddRole(Role{ARN: arn, Subjects: subjects[arn], ECR: true, ECRPublic: true}); err != nil {
			return fmt.Errorf("emulator: -role: %w", err)
		}
	}
	for _, r := range []struct{ flag, arn string }{{"-instance-role", *instanceRole}, {"-container-role", *containerRole}} {
		if _, defined := subjects[r.arn]; r.arn == "" || defined {
			continue
		}
		if err := s.AddRole(Role{ARN: r.arn, ECR: true, ECRPublic: true}); err != nil {
			return fmt.Errorf("emulator: %s: %w", r.flag, err)
		}
		subjects[r.arn] = nil
	}
	if *instanceRole != "" {
		if err := s.SetInstanceRole(*instanceRole, *instanceRegion); err != nil {
			return fmt.Errorf("emulator: -instance-role/-instance-region: %w", err)
		}
	}
	s.SetIMDSv1(*imdsV1)
	for _, p := range maps.pairs {
		m := accountRegion.FindStringSubmatch(p[0])
		if m == nil {
			return fmt.Errorf("emulator: -map %q: want ACCOUNT/REGION=URL with a 12-digit account", p[0])
		}
		s.MapRegistry(m[1], m[2], p[1])
	}
	for _, p := range passwords.pairs {
		m := accountRegion.FindStringSubmatch(p[0])
		if m == nil {
			return fmt.Errorf("emulator: -password for %q: want ACCOUNT/REGION=PASSWORD with a 12-digit account", p[0])
		}
		s.SetRegistryPassword(m[1], m[2], p[1])
	}

	if err := s.Start(); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	defer s.Close()
	if *containerRole != "" {
		if _, _, err := s.SetContainerRole(*containerRole); err != nil {
			return fmt.Errorf("emulator: -container-role: %w", err)
		}
	}

	env := s.Env()
	for _, extra := range []map[string]string{s.IMDSEnv(), s.ContainerEnv()} {
		for k, v := range extra {
			env[k] = v
		}
	}
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "# awsfake emulator at %s (OIDC issuer %s, metadata endpoints %s); stop it with Ctrl-C\n", s.URL(), s.IssuerURL(), s.MetadataURL())
	for _, k := range names {
		fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(env[k]))
	}
	if _, err := io.WriteString(stdout, b.String()); err != nil {
		return fmt.Errorf("emulator: print environment: %w", err)
	}
	<-ctx.Done()
	return nil
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=?&%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
