package flow

import (
	"slices"
	"strings"
	"unicode"

	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
)

// SessionTags are the tags sent on sts:AssumeRole, and which of them may be
// dropped when STS finds them too large.
type SessionTags struct {
	Tags      []inputs.Tag
	Droppable map[string]bool
}

// The tags configure-aws-credentials sets from the GitHub job, under the same
// keys: the identifying ones always, the convenience ones dropped first.
var (
	githubTags = []struct{ key, env string }{
		{"Repository", "GITHUB_REPOSITORY"}, {"Workflow", "GITHUB_WORKFLOW"}, {"Action", "GITHUB_ACTION"},
		{"Actor", "GITHUB_ACTOR"}, {"Commit", "GITHUB_SHA"}, {"Branch", "GITHUB_REF"},
	}
	githubDroppableTags = []struct{ key, env string }{
		{"EventName", "GITHUB_EVENT_NAME"}, {"BaseRef", "GITHUB_BASE_REF"}, {"HeadRef", "GITHUB_HEAD_REF"},
		{"RunId", "GITHUB_RUN_ID"}, {"Job", "GITHUB_JOB"}, {"TriggeringActor", "GITHUB_TRIGGERING_ACTOR"},
	}
)

// DefaultSessionTags: in GitHub mode (unless role-skip-session-tagging) the
// job's tags, then role-session-tags, which replace a default tag of the
// same key (STS keys are case-insensitive); elsewhere role-session-tags
// alone, of which a refresh helper's settings file may say some are
// droppable (the GitHub step's default tags, which it hands on; see
// refreshSettings).
func DefaultSessionTags(cfg *inputs.Config, e Env) SessionTags {
	if cfg.Mode != inputs.GitHub || cfg.SkipSessionTagging {
		return SessionTags{Tags: cfg.SessionTags, Droppable: cfg.DroppableTags}
	}
	given := map[string]bool{}
	for _, t := range cfg.SessionTags {
		given[strings.ToLower(t.Key)] = true
	}
	st := SessionTags{Droppable: map[string]bool{}}
	add := func(key, value string) bool {
		if value == "" || given[strings.ToLower(key)] {
			return false
		}
		st.Tags = append(st.Tags, inputs.Tag{Key: key, Value: tagValue(value)})
		return true
	}
	add("GitHub", "Actions")
	for _, t := range githubTags {
		add(t.key, e.Getenv(t.env))
	}
	for _, t := range githubDroppableTags {
		if add(t.key, e.Getenv(t.env)) {
			st.Droppable[t.key] = true
		}
	}
	st.Tags = append(st.Tags, cfg.SessionTags...)
	// STS takes at most 50: the convenience tags go first.
	for i := 0; len(st.Tags) > 50 && i < len(st.Tags); {
		if st.Droppable[st.Tags[i].Key] {
			st.Tags = slices.Delete(st.Tags, i, i+1)
		} else {
			i++
		}
	}
	return st
}

// tagValue makes a value STS accepts: characters outside letters, digits,
// white space and _ . : / = + - @ become _, and it is cut to 256 characters;
// white space around it is dropped, as role-session-tags drops it, so the
// value reaches a refresh helper unchanged.
func tagValue(v string) string {
	v = strings.TrimSpace(v)
	out := make([]rune, 0, len(v))
	for _, r := range v {
		if !(unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp) || strings.ContainsRune("_.:/=+-@", r)) {
			r = '_'
		}
		out = append(out, r)
		if len(out) == 256 {
			break
		}
	}
	return string(out)
}
