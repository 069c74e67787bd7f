package output

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ecr-credentials/ecr-credentials/internal/ecr"
	"github.com/ecr-credentials/ecr-credentials/internal/output/names"
)

// FormatOptions tune the formats.
type FormatOptions struct {
	EnvPrefix     string // dotenv / env variable prefix
	K8sSecretName string // metadata.name of the Secret; default "ecr-credentials"
	K8sNamespace  string // metadata.namespace; omitted when empty
	// BambooNamespace prefixes the bamboo format's variables; default
	// DefaultBambooNamespace.
	BambooNamespace string
}

// Format is one way of writing the logins for another tool.
type Format struct {
	// Name is the value of the `formats` setting and the CLI `print` argument.
	Name string
	// Output is the GitHub step output that carries it.
	Output string
	// File is the file name in the plugin output directory.
	File string
	// Doc says what it is for.
	Doc    string
	render func(logins []ecr.Login, o FormatOptions) (string, error)
	// secrets lists the parts of the rendered text that are secret, as
	// they appear in it; nil means the whole text (one line) is.
	secrets func(logins []ecr.Login, o FormatOptions) []string
}

// Render renders the format.
func (f Format) Render(logins []ecr.Login, o FormatOptions) (string, error) {
	if len(logins) == 0 {
		return "", fmt.Errorf("%s: no logins", f.Name)
	}
	return f.render(logins, o)
}

// Secrets returns what to mask in text, the format's rendering of logins:
// only the parts that are secret, as they appear in it (a multi-line
// manifest or file is not masked whole, which a runner that masks line by
// line would turn into hiding "apiVersion: v1" or "kind: Secret"
// everywhere). Every password and authorization token is among them.
func (f Format) Secrets(text string, logins []ecr.Login, o FormatOptions) []string {
	var out []string
	for _, l := range logins {
		out = append(out, l.Password, l.AuthorizationToken)
	}
	if f.secrets == nil {
		return append(out, text)
	}
	return append(out, f.secrets(logins, o)...)
}

// Formats are the extra formats, selectable with the `formats` setting.
// Every one holds the password: each is masked like it.
var Formats = []Format{
	{Name: names.ECS, Output: "ecs-credentials", File: "ecs-credentials.json",
		Doc:    `ECS repositoryCredentials / Secrets Manager secret JSON for the first registry: {"username":"AWS","password":"..."}.`,
		render: renderECS},
	{Name: names.DockerConfigJSON, Output: "dockerconfigjson", File: "dockerconfig.json",
		Doc:    "A docker config.json with an auths entry for every registry: the content of a Kubernetes .dockerconfigjson secret.",
		render: renderDockerConfigJSON},
	{Name: names.K8sSecret, Output: "k8s-secret", File: "k8s-secret.yaml",
		Doc:    "A Kubernetes Secret manifest (type kubernetes.io/dockerconfigjson) for imagePullSecrets; name and namespace from k8s-secret-name and k8s-namespace.",
		render: renderK8sSecret, secrets: k8sSecretParts},
	{Name: names.Dotenv, Output: "dotenv", File: "ecr.env",
		Doc:    "The exported environment variables (ECR_USERNAME, ...) as a dotenv file.",
		render: func(l []ecr.Login, o FormatOptions) (string, error) { return renderDotenvLogins(l, o) }, secrets: dotenvSecretParts},
	{Name: names.Bamboo, Output: "bamboo", File: "bamboo.properties",
		Doc:    "The first registry's login as the properties file Bamboo's Inject Bamboo variables task reads, with the names the Amazon ECR Credentials Variables task gives: <bamboo-namespace>.username, .password, .authorizationToken.password, .proxyEndpoint, .proxyEndpointDomain, .expirationDate.",
		render: renderBamboo, secrets: bambooSecretParts},
}

// LookupFormat finds a format by name.
func LookupFormat(name string) (Format, bool) {
	for _, f := range Formats {
		if f.Name == name {
			return f, true
		}
	}
	return Format{}, false
}

// FormatNames lists the format names.
func FormatNames() []string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = f.Name
	}
	return names
}

func renderECS(logins []ecr.Login, _ FormatOptions) (string, error) {
	b, err := json.Marshal(struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}{logins[0].Username, logins[0].Password})
	return string(b), err
}

type dockerAuth struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Auth     string `json:"auth"`
}

func dockerConfig(logins []ecr.Login) map[string]map[string]dockerAuth {
	auths := map[string]dockerAuth{}
	for _, l := range logins {
		auths[l.Registry.Host] = dockerAuth{
			Username: l.Username,
			Password: l.Password,
			Auth:     base64.StdEncoding.EncodeToString([]byte(l.Username + ":" + l.Password)),
		}
	}
	return map[string]map[string]dockerAuth{"auths": auths}
}

func renderDockerConfigJSON(logins []ecr.Login, _ FormatOptions) (string, error) {
	b, err := json.Marshal(dockerConfig(logins))
	return string(b), err
}

// k8sDockerConfig is the .dockerconfigjson value of the manifest.
func k8sDockerConfig(logins []ecr.Login) (string, error) {
	cfg, err := json.Marshal(dockerConfig(logins))
	return base64.StdEncoding.EncodeToString(cfg), err
}

func k8sSecretParts(logins []ecr.Login, _ FormatOptions) []string {
	v, _ := k8sDockerConfig(logins)
	return []string{v}
}

func renderK8sSecret(logins []ecr.Login, o FormatOptions) (string, error) {
	cfg, err := k8sDockerConfig(logins)
	if err != nil {
		return "", err
	}
	name := o.K8sSecretName
	if name == "" {
		name = "ecr-credentials"
	}
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Secret\nmetadata:\n")
	fmt.Fprintf(&b, "  name: %s\n", name)
	if o.K8sNamespace != "" {
		fmt.Fprintf(&b, "  namespace: %s\n", o.K8sNamespace)
	}
	fmt.Fprintf(&b, "  annotations:\n    ecr-credentials/expires: %q\n", FormatTime(earliestExpiry(logins)))
	b.WriteString("type: kubernetes.io/dockerconfigjson\ndata:\n")
	fmt.Fprintf(&b, "  .dockerconfigjson: %s\n", cfg)
	return b.String(), nil
}

func earliestExpiry(logins []ecr.Login) (t time.Time) {
	t = logins[0].ExpiresAt
	for _, l := range logins[1:] {
		if l.ExpiresAt.Before(t) {
			t = l.ExpiresAt
		}
	}
	return t
}

func renderDotenvLogins(logins []ecr.Login, o FormatOptions) (string, error) {
	blob, err := JSON(logins)
	if err != nil {
		return "", err
	}
	return Dotenv(Env(logins, blob, o.EnvPrefix)), nil
}

// dotenvSecretParts: the secret values, raw and as quoted in the file.
func dotenvSecretParts(logins []ecr.Login, o FormatOptions) []string {
	blob, _ := JSON(logins)
	var out []string
	for _, v := range Env(logins, blob, o.EnvPrefix) {
		if v.Secret {
			out = append(out, v.Value, dotenvQuote(v.Value))
		}
	}
	return out
}

// Dotenv renders values as a dotenv file that godotenv-style readers
// (Drone's DRONE_OUTPUT among them) and `set -a; . file` both read back
// exactly: single quotes where the value allows, else double quotes with
// \\, \", \n and \$ escaped.
func Dotenv(values []Value) string {
	var b strings.Builder
	for _, v := range values {
		fmt.Fprintf(&b, "%s=%s\n", v.Name, dotenvQuote(v.Value))
	}
	return b.String()
}

func dotenvQuote(s string) string {
	if !strings.ContainsAny(s, "'\n\r\\") {
		return "'" + s + "'"
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "$", `\$`, "`", "\\`")
	return `"` + r.Replace(s) + `"`
}
