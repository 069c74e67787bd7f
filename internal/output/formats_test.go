package output

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ecr-credentials/ecr-credentials/internal/ecr"
	"github.com/ecr-credentials/ecr-credentials/internal/registry"
)

func testLogins(t *testing.T) []ecr.Login {
	t.Helper()
	var logins []ecr.Login
	for i, h := range []string{"111111111111.dkr.ecr.eu-west-1.amazonaws.com", "222222222222.dkr.ecr.us-east-1.amazonaws.com", "public.ecr.aws"} {
		r, err := registry.ParseHost(h)
		if err != nil {
			t.Fatal(err)
		}
		pw := strings.Repeat(string(rune('a'+i)), 10) + "+/=" + strings.Repeat("Z", 1500)
		logins = append(logins, ecr.Login{
			Registry: r, Username: "AWS", Password: pw,
			AuthorizationToken: base64.StdEncoding.EncodeToString([]byte("AWS:" + pw)),
			ProxyEndpoint:      "https://" + h,
			ExpiresAt:          time.Date(2026, 11, 26, 5, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour),
		})
	}
	return logins
}

// render renders the format named name, which must exist and succeed.
func render(t *testing.T, name string, logins []ecr.Login, opts FormatOptions) string {
	t.Helper()
	f, ok := LookupFormat(name)
	if !ok {
		t.Fatalf("no format %q", name)
	}
	s, err := f.Render(logins, opts)
	if err != nil {
		t.Fatalf("render %s: %v", name, err)
	}
	return s
}

func TestECSFormat(t *testing.T) {
	logins := testLogins(t)
	s := render(t, "ecs", logins, FormatOptions{})
	var got map[string]string
	if err := json.Unmarshal([]byte(s), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["username"] != "AWS" || got["password"] != logins[0].Password {
		t.Errorf("ecs = %v", got)
	}
}

// decodeDockerConfig checks a .dockerconfigjson the way the kubelet and
// docker read it: auth decodes to user:password for every host.
func decodeDockerConfig(t *testing.T, raw []byte, logins []ecr.Login) {
	t.Helper()
	var cfg struct {
		Auths map[string]struct{ Username, Password, Auth string } `json:"auths"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Auths) != len(logins) {
		t.Fatalf("auths has %d entries, want %d", len(cfg.Auths), len(logins))
	}
	for _, l := range logins {
		e, ok := cfg.Auths[l.Registry.Host]
		if !ok {
			t.Fatalf("no entry for %s", l.Registry.Host)
		}
		dec, err := base64.StdEncoding.DecodeString(e.Auth)
		if err != nil || string(dec) != "AWS:"+l.Password || e.Password != l.Password {
			t.Errorf("entry for %s does not decode to AWS:<password>", l.Registry.Host)
		}
	}
}

func TestDockerConfigJSONFormat(t *testing.T) {
	logins := testLogins(t)
	s := render(t, "dockerconfigjson", logins, FormatOptions{})
	decodeDockerConfig(t, []byte(s), logins)
}

func TestK8sSecretFormat(t *testing.T) {
	logins := testLogins(t)
	for _, ns := range []string{"", "ci"} {
		s := render(t, "k8s-secret", logins, FormatOptions{K8sSecretName: "regcred", K8sNamespace: ns})
		var secret struct {
			APIVersion string `yaml:"apiVersion"`
			Kind       string `yaml:"kind"`
			Type       string `yaml:"type"`
			Metadata   struct {
				Name, Namespace string
				Annotations     map[string]string
			} `yaml:"metadata"`
			Data map[string]string `yaml:"data"`
		}
		if err := yaml.Unmarshal([]byte(s), &secret); err != nil {
			t.Fatalf("manifest is not YAML: %v\n%s", err, s)
		}
		if secret.APIVersion != "v1" || secret.Kind != "Secret" || secret.Type != "kubernetes.io/dockerconfigjson" ||
			secret.Metadata.Name != "regcred" || secret.Metadata.Namespace != ns {
			t.Errorf("manifest header = %+v", secret)
		}
		if secret.Metadata.Annotations["ecr-credentials/expires"] != "2026-11-26T05:00:00Z" {
			t.Errorf("expiry annotation = %v, want the earliest expiry", secret.Metadata.Annotations)
		}
		raw, err := base64.StdEncoding.DecodeString(secret.Data[".dockerconfigjson"])
		if err != nil {
			t.Fatal(err)
		}
		decodeDockerConfig(t, raw, logins)
	}
}

// TestDotenvAndExportsRoundTrip reads the files back with a real shell.
func TestDotenvAndExportsRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	values := []Value{
		{Name: "PLAIN", Value: "AWS"},
		{Name: "JSON", Value: `{"a":"b c","d":[1,2]}`},
		{Name: "QUOTE", Value: `it's "quoted" $HOME \ back`},
		{Name: "B64", Value: "QVdTOnBhc3N3b3Jk+/=="},
		{Name: "EMPTY", Value: ""},
	}
	dir := t.TempDir()
	env := filepath.Join(dir, "x.env")
	if err := os.WriteFile(env, []byte(Dotenv(values)), 0o600); err != nil {
		t.Fatal(err)
	}
	exports := filepath.Join(dir, "x.sh")
	if err := os.WriteFile(exports, []byte(ShellExports(values)), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, script := range map[string]string{
		"dotenv":  "set -a; . " + env + "; set +a",
		"exports": "eval \"$(cat " + exports + ")\"",
	} {
		for _, v := range values {
			cmd := exec.Command(sh, "-c", script+`; printf '%s' "$`+v.Name+`"`)
			cmd.Env = []string{"HOME=/nowhere"}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if string(out) != v.Value {
				t.Errorf("%s: %s read back as %q, want %q", name, v.Name, out, v.Value)
			}
		}
	}
}

func TestDotenvFormatHasEveryVariable(t *testing.T) {
	logins := testLogins(t)
	s := render(t, "dotenv", logins, FormatOptions{EnvPrefix: "ECR_"})
	for _, field := range Fields {
		if !strings.Contains(s, "\nECR_"+field.Env+"=") && !strings.HasPrefix(s, "ECR_"+field.Env+"=") {
			t.Errorf("dotenv lacks ECR_%s", field.Env)
		}
	}
}
