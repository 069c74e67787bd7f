package output

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
)

// strictSecret decodes a manifest as the Kubernetes API server would, with
// the real core/v1 types: an unknown or duplicate field is an error.
func strictSecret(t *testing.T, manifest string) *corev1.Secret {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	ser := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{Yaml: true, Strict: true})
	obj, gvk, err := ser.Decode([]byte(manifest), nil, nil)
	if err != nil {
		t.Fatalf("the k8s-secret manifest is not a strict core/v1 object: %v\n%s", err, manifest)
	}
	s, ok := obj.(*corev1.Secret)
	if !ok || gvk.Kind != "Secret" || gvk.Version != "v1" || gvk.Group != "" {
		t.Fatalf("decoded %v as %T", gvk, obj)
	}
	return s
}

// keychainAccepts writes config (a .dockerconfigjson) as a docker config
// and checks that go-containerregistry's default keychain (what crane, ko
// and many Kubernetes tools use) resolves every login from it.
func keychainAccepts(t *testing.T, config []byte, logins []Value) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), config, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("REGISTRY_AUTH_FILE", filepath.Join(dir, "none.json"))
	t.Setenv("XDG_RUNTIME_DIR", dir)
	for _, l := range logins {
		reg, err := name.NewRegistry(l.Name)
		if err != nil {
			t.Fatal(err)
		}
		auth, err := authn.DefaultKeychain.Resolve(reg)
		if err != nil {
			t.Fatalf("%s: keychain: %v", l.Name, err)
		}
		cfg, err := auth.Authorization()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Username != "AWS" || cfg.Password != l.Value {
			t.Errorf("%s: the keychain resolves user %q and another password", l.Name, cfg.Username)
		}
	}
}

func TestK8sFormatsWithKubernetesTypes(t *testing.T) {
	logins := testLogins(t)
	var want []Value
	for _, l := range logins {
		want = append(want, Value{Name: l.Registry.Host, Value: l.Password})
	}
	f, _ := LookupFormat("k8s-secret")
	for _, ns := range []string{"", "ci"} {
		text, err := f.Render(logins, FormatOptions{K8sSecretName: "regcred", K8sNamespace: ns})
		if err != nil {
			t.Fatal(err)
		}
		s := strictSecret(t, text)
		if s.Type != corev1.SecretTypeDockerConfigJson || s.Name != "regcred" || s.Namespace != ns {
			t.Errorf("secret type %q, name %q, namespace %q", s.Type, s.Name, s.Namespace)
		}
		if len(s.Data) != 1 || len(s.StringData) != 0 {
			t.Errorf("data keys: %d, stringData keys: %d; want only %s", len(s.Data), len(s.StringData), corev1.DockerConfigJsonKey)
		}
		raw, ok := s.Data[corev1.DockerConfigJsonKey]
		if !ok {
			t.Fatalf("no %s in the secret", corev1.DockerConfigJsonKey)
		}
		keychainAccepts(t, raw, want)
	}
	dcj, _ := LookupFormat("dockerconfigjson")
	text, err := dcj.Render(logins, FormatOptions{})
	if err != nil {
		t.Fatal(err)
	}
	keychainAccepts(t, []byte(text), want)
}
