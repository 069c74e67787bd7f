// Package output turns registry logins into what CIs and tools read: GitHub
// step outputs, environment variables and state (file commands), a step
// summary, dotenv files, and the formats other tools eat (one JSON blob, ECS
// repositoryCredentials, a Kubernetes .dockerconfigjson). It also owns the
// console: every line people read goes through a redactor that knows every
// secret, and in GitHub mode every secret is registered with ::add-mask::
// before anything else is written.
package output

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ecr-credentials/ecr-credentials/internal/ecr"
)

// Field is one named value of a login.
type Field struct {
	// Output is the GitHub step output name (kebab-case).
	Output string
	// Env is the environment variable name without the prefix.
	Env string
	// Doc describes it, for action.yml and docs/settings.md.
	Doc string
	// Secret values are masked (unless mask-password is off).
	Secret bool
	value  func(l ecr.Login, blob string) string
}

// Fields are the per-login values, in documentation order. The JSON blob is
// rendered once per run and handed in.
var Fields = []Field{
	{Output: "username", Env: "USERNAME", Doc: "User name for the registry (always AWS).",
		value: func(l ecr.Login, _ string) string { return l.Username }},
	{Output: "password", Env: "PASSWORD", Secret: true, Doc: "Password for the registry (the decoded part of the authorization token after AWS:). Masked.",
		value: func(l ecr.Login, _ string) string { return l.Password }},
	{Output: "authorization-token", Env: "AUTHORIZATION_TOKEN", Secret: true, Doc: "The authorization token as ECR returns it: base64 of AWS:<password>, usable as the auth of a docker config.json entry. Masked.",
		value: func(l ecr.Login, _ string) string { return l.AuthorizationToken }},
	{Output: "proxy-endpoint", Env: "PROXY_ENDPOINT", Doc: "Registry URL, e.g. https://123456789012.dkr.ecr.eu-west-1.amazonaws.com.",
		value: func(l ecr.Login, _ string) string { return l.ProxyEndpoint }},
	{Output: "proxy-endpoint-domain", Env: "PROXY_ENDPOINT_DOMAIN", Doc: "Registry host without the scheme, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com.",
		value: func(l ecr.Login, _ string) string { return l.Registry.Host }},
	{Output: "expiration-date", Env: "EXPIRATION_DATE", Doc: "When the password expires, RFC 3339 in UTC (12 hours after issue).",
		value: func(l ecr.Login, _ string) string { return FormatTime(l.ExpiresAt) }},
	{Output: "registry", Env: "REGISTRY", Doc: "Registry host to prefix image names with (same as proxy-endpoint-domain; the name amazon-ecr-login uses).",
		value: func(l ecr.Login, _ string) string { return l.Registry.Host }},
	{Output: "json", Env: "JSON", Secret: true, Doc: "All of the above as one JSON object (camelCase keys), plus `registries`: the same for every registry, keyed by host. Masked.",
		value: func(_ ecr.Login, blob string) string { return blob }},
}

// FormatTime renders a time as RFC 3339 in UTC, to the second.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// loginJSON is the JSON form of one login.
type loginJSON struct {
	Username            string `json:"username"`
	Password            string `json:"password"`
	AuthorizationToken  string `json:"authorizationToken"`
	ProxyEndpoint       string `json:"proxyEndpoint"`
	ProxyEndpointDomain string `json:"proxyEndpointDomain"`
	ExpirationDate      string `json:"expirationDate"`
	Registry            string `json:"registry"`
	Region              string `json:"region"`
	AccountID           string `json:"accountId,omitempty"`
}

func toJSON(l ecr.Login) loginJSON {
	return loginJSON{
		Username: l.Username, Password: l.Password, AuthorizationToken: l.AuthorizationToken,
		ProxyEndpoint: l.ProxyEndpoint, ProxyEndpointDomain: l.Registry.Host,
		ExpirationDate: FormatTime(l.ExpiresAt), Registry: l.Registry.Host,
		Region: l.Registry.Region, AccountID: l.Registry.AccountID,
	}
}

// JSON renders the blob: the first login's fields at the top level, and
// every login under "registries", keyed by host.
func JSON(logins []ecr.Login) (string, error) {
	if len(logins) == 0 {
		return "", fmt.Errorf("no logins")
	}
	type blob struct {
		loginJSON
		Registries map[string]loginJSON `json:"registries"`
	}
	b := blob{loginJSON: toJSON(logins[0]), Registries: map[string]loginJSON{}}
	for _, l := range logins {
		b.Registries[l.Registry.Host] = toJSON(l)
	}
	out, err := json.Marshal(b)
	if err != nil {
		return "", fmt.Errorf("render json: %w", err)
	}
	return string(out), nil
}

// Value is one named value ready for a sink.
type Value struct {
	Name   string
	Value  string
	Secret bool
}

// Outputs returns the GitHub step outputs for the logins: the first login's
// fields, `registries` (every host, comma-separated), and per registry the
// amazon-ecr-login compatible docker_username_<host> / docker_password_<host>.
func Outputs(logins []ecr.Login, blob string) []Value {
	var vs []Value
	first := logins[0]
	for _, f := range Fields {
		vs = append(vs, Value{Name: f.Output, Value: f.value(first, blob), Secret: f.Secret})
	}
	vs = append(vs, Value{Name: "registries", Value: Hosts(logins)})
	for _, l := range logins {
		key := HostKey(l.Registry.Host)
		vs = append(vs,
			Value{Name: "docker_username_" + key, Value: l.Username},
			Value{Name: "docker_password_" + key, Value: l.Password, Secret: true})
	}
	return vs
}

// Env returns the environment variables for the logins, named prefix+Field.Env.
func Env(logins []ecr.Login, blob, prefix string) []Value {
	var vs []Value
	for _, f := range Fields {
		vs = append(vs, Value{Name: prefix + f.Env, Value: f.value(logins[0], blob), Secret: f.Secret})
	}
	vs = append(vs, Value{Name: prefix + "REGISTRIES", Value: Hosts(logins)})
	return vs
}

// Hosts lists the logins' hosts, comma-separated.
func Hosts(logins []ecr.Login) string {
	hosts := make([]string, len(logins))
	for i, l := range logins {
		hosts[i] = l.Registry.Host
	}
	return strings.Join(hosts, ",")
}

// HostKey turns a host into the suffix amazon-ecr-login uses for its
// per-registry outputs: dots, dashes and colons become underscores.
func HostKey(host string) string {
	return strings.NewReplacer(".", "_", "-", "_", ":", "_").Replace(host)
}

// ExtraOutput documents an output beyond Fields.
type ExtraOutput struct {
	Name string // may contain a <host> pattern
	Env  string // environment variable without prefix, if any
	Doc  string
}

// ExtraOutputs are the outputs that describe every registry.
var ExtraOutputs = []ExtraOutput{
	{Name: "registries", Env: "REGISTRIES", Doc: "Every registry host logged in to, comma-separated, in the order given."},
	{Name: "docker_username_<host>", Doc: "Per registry, as amazon-ecr-login names it: the user name for <host>, with . - : replaced by _ (e.g. docker_username_123456789012_dkr_ecr_eu_west_1_amazonaws_com)."},
	{Name: "docker_password_<host>", Doc: "Per registry: the password for <host>. Masked."},
	{Name: "aws-account-id", Doc: "AWS account ID of the credentials (as configure-aws-credentials outputs it; masked with mask-aws-account-id)."},
	{Name: "authenticated-arn", Doc: "ARN of the principal the credentials are of, e.g. arn:aws:sts::123456789012:assumed-role/ecr-push/GitHubActions-1-1 (as configure-aws-credentials outputs it)."},
}

// Identity returns the aws-account-id and authenticated-arn outputs (empty
// values are left out).
func Identity(accountID, arn string) []Value {
	var vs []Value
	if accountID != "" {
		vs = append(vs, Value{Name: "aws-account-id", Value: accountID})
	}
	if arn != "" {
		vs = append(vs, Value{Name: "authenticated-arn", Value: arn})
	}
	return vs
}

// AWSCredentialOutputs documents the outputs of export-aws-credentials.
var AWSCredentialOutputs = []ExtraOutput{
	{Name: "aws-access-key-id", Env: "AWS_ACCESS_KEY_ID", Doc: "With export-aws-credentials: the temporary access key ID. Masked."},
	{Name: "aws-secret-access-key", Env: "AWS_SECRET_ACCESS_KEY", Doc: "With export-aws-credentials: the temporary secret access key. Masked."},
	{Name: "aws-session-token", Env: "AWS_SESSION_TOKEN", Doc: "With export-aws-credentials: the session token. Masked."},
	{Name: "aws-expiration", Doc: "With export-aws-credentials: when the temporary credentials expire (RFC 3339, UTC)."},
}

// AWSCredentials returns the output values for the AWS credentials, and the
// environment variables (AWS_ACCESS_KEY_ID, ..., AWS_REGION) later steps
// and AWS tools read.
func AWSCredentials(c aws.Credentials, region string) (outputs, env []Value) {
	outputs = []Value{
		{Name: "aws-access-key-id", Value: c.AccessKeyID, Secret: true},
		{Name: "aws-secret-access-key", Value: c.SecretAccessKey, Secret: true},
		{Name: "aws-session-token", Value: c.SessionToken, Secret: true},
	}
	env = []Value{
		{Name: "AWS_ACCESS_KEY_ID", Value: c.AccessKeyID, Secret: true},
		{Name: "AWS_SECRET_ACCESS_KEY", Value: c.SecretAccessKey, Secret: true},
		{Name: "AWS_SESSION_TOKEN", Value: c.SessionToken, Secret: true},
		{Name: "AWS_REGION", Value: region},
		{Name: "AWS_DEFAULT_REGION", Value: region},
	}
	if c.CanExpire {
		outputs = append(outputs, Value{Name: "aws-expiration", Value: FormatTime(c.Expires)})
	}
	return outputs, env
}
