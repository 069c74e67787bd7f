package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// mdLink finds the target of a Markdown link: [text](target).
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocLinks checks every relative link of README.md and docs/*.md: the
// file it names exists, and a #fragment names a heading of that file (as
// GitHub makes anchors from headings) or, in the settings reference, a
// setting.
func TestDocLinks(t *testing.T) {
	pages, err := filepath.Glob(repoFile("docs/*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages = append([]string{repoFile("README.md")}, pages...)
	if len(pages) < 8 {
		t.Fatalf("found %d pages, want README.md and the docs/ pages", len(pages))
	}
	anchors := map[string]map[string]bool{}
	anchorsOf := func(path string) map[string]bool {
		if a, ok := anchors[path]; ok {
			return a
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		a := headingAnchors(string(b))
		anchors[path] = a
		return a
	}
	checked := 0
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(repoFile(""), page)
		for _, line := range outsideCode(string(b)) {
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				checked++
				file, frag, _ := strings.Cut(target, "#")
				path := page
				if file != "" {
					path = filepath.Join(filepath.Dir(page), filepath.FromSlash(file))
					if _, err := os.Stat(path); err != nil {
						t.Errorf("%s: link %q: %v", name, target, err)
						continue
					}
				}
				if frag == "" {
					continue
				}
				if !strings.HasSuffix(path, ".md") {
					t.Errorf("%s: link %q: a fragment on a file that is not Markdown", name, target)
					continue
				}
				if !anchorsOf(path)[frag] {
					t.Errorf("%s: link %q: no heading makes the anchor #%s", name, target, frag)
				}
			}
		}
	}
	if checked < 20 {
		t.Errorf("checked %d links; the pattern must have missed some", checked)
	}
}

// outsideCode returns the lines of a Markdown text outside fenced code.
func outsideCode(text string) []string {
	var out []string
	fence := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fence = !fence
			continue
		}
		if !fence {
			out = append(out, line)
		}
	}
	return out
}

// headingAnchors returns the anchors GitHub makes from a page's headings:
// lower case, punctuation dropped (hyphens and underscores kept), spaces to
// hyphens, and -1, -2, ... for repeats.
func headingAnchors(text string) map[string]bool {
	seen := map[string]int{}
	out := map[string]bool{}
	for _, line := range outsideCode(text) {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimLeft(line, "#")
		if !strings.HasPrefix(title, " ") {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(title)) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			out[a+"-"+strconv.Itoa(n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

func TestHeadingAnchors(t *testing.T) {
	got := headingAnchors("# Title\n## The IAM side\n### Logins that never expire mid-job (`refresh`)\n```\n# not a heading\n```\n## From Drone's plugins/ecr\n## Title\n#### `aws-region`\n")
	for _, want := range []string{"title", "the-iam-side", "logins-that-never-expire-mid-job-refresh", "from-drones-pluginsecr", "title-1", "aws-region"} {
		if !got[want] {
			t.Errorf("no anchor %q in %v", want, got)
		}
	}
	if got["not-a-heading"] {
		t.Error("a line in a code block made an anchor")
	}
}
