package release

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

var (
	// owner/repo[/path]@<full commit SHA>
	pinnedAction = regexp.MustCompile(`^[\w.-]+/[\w.-]+(/[^@\s]+)?@[0-9a-f]{40}$`)
	// # v1, # v1.2.3 or # v1.2.3-rc.1: the version the SHA is.
	versionComment = regexp.MustCompile(`^#\s*v\d+(\.\d+){0,2}(-[\w.]+)?$`)
	pinnedImage    = regexp.MustCompile(`^docker://[^@\s]+@sha256:[0-9a-f]{64}$`)
)

// checkWorkflowPolicy returns what is wrong with a workflow file:
//   - every third-party action is pinned by full commit SHA with a version
//     comment, and docker:// actions by digest; our own action may appear as
//     ecr-credentials/ecr-credentials@<ref> only where ownAction is true
//     (examples, written as users write them);
//   - the workflow sets permissions explicitly;
//   - every job that uses our action may request an OIDC token
//     (id-token: write on the job, or on the workflow when the job sets none).
func checkWorkflowPolicy(content []byte, ownAction bool) []string {
	var doc yaml.Node
	if err := yaml.Unmarshal(content, &doc); err != nil {
		return []string{fmt.Sprintf("not YAML: %v", err)}
	}
	if len(doc.Content) == 0 {
		return []string{"empty"}
	}
	wf := doc.Content[0]
	var problems []string
	wfPerms := mapGet(wf, "permissions")
	if wfPerms == nil {
		problems = append(problems, "no top-level permissions: set them (permissions: {} and per-job grants) so jobs do not get the default token scopes")
	}
	jobs := mapGet(wf, "jobs")
	if jobs == nil || jobs.Kind != yaml.MappingNode {
		return append(problems, "no jobs")
	}
	for i := 0; i+1 < len(jobs.Content); i += 2 {
		jobName, job := jobs.Content[i].Value, jobs.Content[i+1]
		usesOurs := false
		steps := mapGet(job, "steps")
		if steps != nil {
			for _, st := range steps.Content {
				u := mapGet(st, "uses")
				if u == nil {
					continue
				}
				where := fmt.Sprintf("line %d: job %s: uses %s", u.Line, jobName, u.Value)
				switch {
				case u.Value == "./":
					usesOurs = true
				case ownAction && ourAction.MatchString(u.Value) && ourAction.FindString(u.Value) == u.Value:
					usesOurs = true
				case strings.HasPrefix(u.Value, "docker://"):
					if !pinnedImage.MatchString(u.Value) {
						problems = append(problems, where+": pin the image by digest (docker://IMAGE@sha256:...)")
					}
				case strings.HasPrefix(u.Value, "./"):
					// another local action: the repository's own code
				case !pinnedAction.MatchString(u.Value):
					problems = append(problems, where+": pin it by full commit SHA with a version comment (owner/repo@<40 hex> # vX.Y.Z)")
				case !versionComment.MatchString(strings.TrimSpace(u.LineComment)):
					problems = append(problems, where+": add the version the SHA stands for as a comment (# vX.Y.Z)")
				}
			}
		}
		if usesOurs && !grantsIDToken(job, wfPerms) {
			problems = append(problems, fmt.Sprintf("job %s uses the action but cannot request an OIDC token: add permissions: id-token: write to the job", jobName))
		}
	}
	return problems
}

// grantsIDToken reports whether a job gets id-token: write.
func grantsIDToken(job, wfPerms *yaml.Node) bool {
	perms := mapGet(job, "permissions")
	if perms == nil {
		perms = wfPerms
	}
	if perms == nil {
		return false // the default token has no id-token scope
	}
	if perms.Kind == yaml.ScalarNode {
		return perms.Value == "write-all"
	}
	v := mapGet(perms, "id-token")
	return v != nil && v.Value == "write"
}

func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func TestWorkflowPolicy(t *testing.T) {
	r := root(t)
	workflows, examples := workflowFiles(t, r)
	for _, f := range append(workflows, examples...) {
		rel, _ := filepath.Rel(r, f)
		t.Run(rel, func(t *testing.T) {
			isExample := strings.HasPrefix(rel, filepath.Join("docs", "examples"))
			for _, p := range checkWorkflowPolicy(read(t, f), isExample) {
				t.Error(p)
			}
		})
	}
}

func TestWorkflowPolicyCatches(t *testing.T) {
	const sha = "3d3c42e5aac5ba805825da76410c181273ba90b1"
	job := func(perms, uses string) string {
		return "on: push\npermissions: {}\njobs:\n  j:\n    runs-on: ubuntu-latest\n" + perms +
			"    steps:\n      - uses: " + uses + "\n"
	}
	idToken := "    permissions:\n      id-token: write\n"
	tests := []struct {
		name      string
		workflow  string
		ownAction bool
		wantPart  string // "" means no problem
	}{
		{"pinned with comment", job("", "actions/checkout@"+sha+" # v7.0.1"), false, ""},
		{"pinned action in a subdirectory", job("", "github/codeql-action/init@"+sha+" # v3"), false, ""},
		{"tag", job("", "actions/checkout@v7"), false, "pin it by full commit SHA"},
		{"short SHA", job("", "actions/checkout@3d3c42e # v7.0.1"), false, "pin it by full commit SHA"},
		{"SHA without comment", job("", "actions/checkout@"+sha), false, "add the version"},
		{"SHA with a non-version comment", job("", "actions/checkout@"+sha+" # latest"), false, "add the version"},
		{"docker by tag", job("", "docker://alpine:3"), false, "pin the image by digest"},
		{"docker by digest", job("", "docker://alpine@sha256:"+strings.Repeat("a", 64)), false, ""},
		{"local action with id-token", job(idToken, "./"), false, ""},
		{"local action without id-token", job("", "./"), false, "cannot request an OIDC token"},
		{"local action, id-token read", job("    permissions:\n      id-token: read\n", "./"), false, "cannot request an OIDC token"},
		{"own action in an example", job(idToken, "ecr-credentials/ecr-credentials@v1"), true, ""},
		{"own action by tag outside examples", job(idToken, "ecr-credentials/ecr-credentials@v1"), false, "pin it by full commit SHA"},
		{"own action without id-token", job("", "ecr-credentials/ecr-credentials@v1"), true, "cannot request an OIDC token"},
		{"id-token on the workflow", strings.Replace(job("", "./"), "permissions: {}", "permissions:\n  id-token: write", 1), false, ""},
		{"no top-level permissions", strings.Replace(job(idToken, "./"), "permissions: {}\n", "", 1), false, "no top-level permissions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := checkWorkflowPolicy([]byte(tt.workflow), tt.ownAction)
			if tt.wantPart == "" {
				if len(problems) > 0 {
					t.Errorf("problems %q, want none", problems)
				}
				return
			}
			if len(problems) != 1 || !strings.Contains(problems[0], tt.wantPart) {
				t.Errorf("problems %q, want one containing %q", problems, tt.wantPart)
			}
		})
	}
}
