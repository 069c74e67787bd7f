package e2e

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/ghrunner"
	"github.com/ecr-credentials/ecr-credentials/internal/testing/testenv"
)

// TestManyRegistries logs in to three accounts in three regions and ECR
// Public in one step: one GetAuthorizationToken per region, all at once,
// and every output format parsed back.
func TestManyRegistries(t *testing.T) {
	f := newFixture(t)
	// Every request waits, so calls made one after another could not overlap.
	f.fake.SetLatency(150 * time.Millisecond)
	r := newRunner(t)
	hosts := []string{
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com", // the role's own registry, mapped to the local registry
		"210987654321.dkr.ecr.us-east-1.amazonaws.com", // another account, another region
		"333333333333", // an account ID: in aws-region
		"444444444444.dkr.ecr.ap-southeast-2.amazonaws.com",
		"public.ecr.aws",
	}
	env := f.githubEnv(r, map[string]string{
		"role-to-assume":         roleARN,
		"aws-region":             region,
		"registries":             strings.Join(hosts, "\n"),
		"verify":                 "false", // the other accounts' hosts do not exist here
		"formats":                "ecs, dockerconfigjson, k8s-secret, dotenv",
		"k8s-namespace":          "ci",
		"export-aws-credentials": "true",
	})
	res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	local := strings.TrimPrefix(f.reg.URL, "https://")
	wantHosts := []string{local, "210987654321.dkr.ecr.us-east-1.amazonaws.com", "333333333333.dkr.ecr.eu-west-1.amazonaws.com",
		"444444444444.dkr.ecr.ap-southeast-2.amazonaws.com", "public.ecr.aws"}

	out := readFileCommands(t, r.output)
	if out["registries"] != strings.Join(wantHosts, ",") {
		t.Errorf("registries = %q, want %q", out["registries"], strings.Join(wantHosts, ","))
	}
	// The first registry's fields are the single-registry outputs.
	if out["registry"] != local || out["password"] != f.password {
		t.Errorf("first registry outputs: registry=%q", out["registry"])
	}
	for _, h := range wantHosts {
		key := strings.NewReplacer(".", "_", "-", "_", ":", "_").Replace(h)
		if out["docker_username_"+key] != "AWS" || out["docker_password_"+key] == "" {
			t.Errorf("no per-registry outputs for %s", h)
		}
	}
	// Same region, same token: the other account in eu-west-1 shares it.
	if out["docker_password_333333333333_dkr_ecr_eu_west_1_amazonaws_com"] != f.password {
		t.Errorf("the eu-west-1 registries got different passwords")
	}

	// One GetAuthorizationToken per region (plus one ECR Public), overlapping in time.
	var calls []struct {
		svc, region string
		start, end  time.Time
	}
	for _, c := range f.fake.Calls() {
		if c.Operation == "GetAuthorizationToken" {
			calls = append(calls, struct {
				svc, region string
				start, end  time.Time
			}{c.Service, c.Region, c.Start, c.End})
		}
	}
	var seen []string
	for _, c := range calls {
		seen = append(seen, c.svc+"/"+c.region)
	}
	sort.Strings(seen)
	want := []string{"ecr-public/us-east-1", "ecr/ap-southeast-2", "ecr/eu-west-1", "ecr/us-east-1"}
	if strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Fatalf("GetAuthorizationToken calls = %v, want one per region: %v", seen, want)
	}
	for i := range calls {
		for j := range calls {
			if i < j && !(calls[i].start.Before(calls[j].end) && calls[j].start.Before(calls[i].end)) {
				t.Errorf("calls %s and %s did not overlap: they were made one after another", seen[i], seen[j])
			}
		}
	}

	// The JSON blob has every registry.
	var blob struct {
		Registries map[string]struct{ Password, Region string } `json:"registries"`
	}
	if err := json.Unmarshal([]byte(out["json"]), &blob); err != nil {
		t.Fatal(err)
	}
	if len(blob.Registries) != len(wantHosts) || blob.Registries["public.ecr.aws"].Region != "us-east-1" {
		t.Errorf("json registries = %v", blob.Registries)
	}

	// Formats.
	var ecs map[string]string
	if err := json.Unmarshal([]byte(out["ecs-credentials"]), &ecs); err != nil || ecs["username"] != "AWS" || ecs["password"] != f.password || len(ecs) != 2 {
		t.Errorf("ecs-credentials = %v (%v)", ecs, err)
	}
	var dcj struct {
		Auths map[string]struct{ Auth string } `json:"auths"`
	}
	if err := json.Unmarshal([]byte(out["dockerconfigjson"]), &dcj); err != nil || len(dcj.Auths) != len(wantHosts) {
		t.Errorf("dockerconfigjson has %d auths (%v)", len(dcj.Auths), err)
	}
	if dec, _ := base64.StdEncoding.DecodeString(dcj.Auths[local].Auth); string(dec) != "AWS:"+f.password {
		t.Errorf("dockerconfigjson auth for %s does not decode to AWS:<password>", local)
	}
	var secret struct {
		Kind     string
		Metadata struct{ Namespace string }
		Data     map[string]string
	}
	if err := yaml.Unmarshal([]byte(out["k8s-secret"]), &secret); err != nil || secret.Kind != "Secret" || secret.Metadata.Namespace != "ci" {
		t.Errorf("k8s-secret = %+v (%v)", secret, err)
	}
	if raw, _ := base64.StdEncoding.DecodeString(secret.Data[".dockerconfigjson"]); string(raw) != out["dockerconfigjson"] {
		t.Errorf("k8s-secret's .dockerconfigjson differs from the dockerconfigjson output")
	}
	if !strings.Contains(out["dotenv"], "ECR_REGISTRY='"+local+"'") {
		t.Errorf("dotenv output lacks ECR_REGISTRY")
	}

	// Every one-line format and the AWS credentials are masked; of the
	// multi-line formats, their secret parts (see
	// TestMultiLineFormatsMaskOnlyTheirSecrets).
	masked := ghrunner.MaskedValues(res.Stdout)
	for _, name := range []string{"ecs-credentials", "dockerconfigjson", "aws-secret-access-key", "aws-session-token", "aws-access-key-id"} {
		if out[name] == "" || !contains(masked, out[name]) {
			t.Errorf("output %s is empty or not masked", name)
		}
	}
	if v := secret.Data[".dockerconfigjson"]; v == "" || !contains(masked, v) {
		t.Errorf("k8s-secret's .dockerconfigjson value is empty or not masked")
	}
	for _, line := range strings.Split(strings.TrimSpace(out["dotenv"]), "\n") {
		name, value, _ := strings.Cut(line, "=")
		if (strings.HasSuffix(name, "PASSWORD") || strings.HasSuffix(name, "AUTHORIZATION_TOKEN") || strings.HasSuffix(name, "JSON")) && !contains(masked, value) {
			t.Errorf("dotenv's %s value is not masked", name)
		}
	}
	envs := readFileCommands(t, r.env)
	if envs["AWS_ACCESS_KEY_ID"] != out["aws-access-key-id"] || envs["AWS_REGION"] != region || envs["AWS_SESSION_TOKEN"] == "" {
		t.Errorf("AWS credentials not exported to the environment")
	}
	assertNoLeaks(t, f.fake, res)

	// The step summary lists every registry with its region, and no secret.
	summary, _ := os.ReadFile(r.summary)
	for _, h := range wantHosts {
		if !strings.Contains(string(summary), h) {
			t.Errorf("summary lacks %s", h)
		}
	}
	// The docker config has every host.
	cfg, err := os.ReadFile(filepath.Join(r.homeDir, ".docker", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range wantHosts {
		if !strings.Contains(string(cfg), `"`+h+`"`) {
			t.Errorf("config.json lacks %s", h)
		}
	}
}

// TestOneRegionFailsNothingWritten: when one region fails, the step fails,
// names each failure, and writes nothing, not even the registries that
// worked.
func TestOneRegionFailsNothingWritten(t *testing.T) {
	f := newFixture(t)
	// ECR Public refuses (as it would without ecr-public permissions);
	// the private registries in two regions work.
	f.fake.Inject(awsfake.Fault{Service: "ecr-public", Kind: awsfake.FaultError, Code: "AccessDeniedException",
		Message: "User is not authorized to perform: ecr-public:GetAuthorizationToken"})
	r := newRunner(t)
	env := f.githubEnv(r, map[string]string{
		"role-to-assume": roleARN,
		"aws-region":     region,
		"registries":     "123456789012, 210987654321.dkr.ecr.us-east-1.amazonaws.com, public.ecr.aws",
		"verify":         "false",
	})
	res := testenv.RunProgram(t, f.bin, testenv.RunOptions{Env: env})
	wantGitHubFailure(t, res, "ecr-denied", "ECR Public", "ecr-public:GetAuthorizationToken")
	for _, p := range []string{r.output, r.env, r.state, r.summary} {
		if b, _ := os.ReadFile(p); len(b) != 0 {
			t.Errorf("%s written by a failed run", filepath.Base(p))
		}
	}
	if _, err := os.Stat(filepath.Join(r.homeDir, ".docker")); !os.IsNotExist(err) {
		t.Errorf("docker config written by a failed run")
	}
}
