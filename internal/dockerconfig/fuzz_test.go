package dockerconfig

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// rawMembers returns "key": value byte spans of obj in order.
func rawMembers(doc []byte, obj jsonObject, skip int) []string {
	var out []string
	for i, m := range obj.members {
		if i != skip {
			out = append(out, string(doc[m.keyStart:m.valEnd]))
		}
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzMerge checks the editor behind Login on arbitrary config files: the
// result is valid JSON, docker reads our entry from it, every other
// top-level member and every other auths entry is byte-identical, and
// undoing the edit gives back the same configuration.
// The seed corpus is in testdata/fuzz/FuzzMerge.
func FuzzMerge(f *testing.F) {
	f.Fuzz(func(t *testing.T, doc []byte, key, password string) {
		if key == "" || !utf8.ValidString(key) {
			return
		}
		if _, err := parseConfig("config.json", doc); err != nil {
			return // Login refuses such files; covered by TestLoginMalformed
		}
		if isBlank(doc) {
			doc = []byte("{}")
		}
		before, err := findAuths(doc)
		if err != nil {
			t.Fatalf("findAuths on a valid config: %v", err)
		}
		want := encodeAuth("AWS", password)
		res, err := setAuth(doc, key, authEntry{Auth: want})
		if err != nil {
			t.Fatalf("setAuth: %v", err)
		}
		out := res.doc
		if !json.Valid(out) {
			t.Fatalf("result is not valid JSON")
		}
		if user, pass, ok := decodedAuth(t, out, key); !ok || user != "AWS" || pass != password {
			t.Fatalf("docker does not see our entry for %q", key)
		}

		after, err := findAuths(out)
		if err != nil {
			t.Fatalf("findAuths on result: %v", err)
		}
		// Top level: everything but auths unchanged, in order.
		beforeTop := rawMembers(doc, before.top, before.index)
		afterSkip := after.index
		if !equalStrings(beforeTop, rawMembers(out, after.top, afterSkip)) {
			t.Fatalf("other top-level members changed")
		}
		if before.index >= 0 && after.index != before.index {
			t.Fatalf("auths moved from member %d to %d", before.index, after.index)
		}
		// auths: every other entry unchanged, in order.
		if before.index >= 0 && !before.isNull {
			bi := before.obj.last(key)
			ai := after.obj.last(key)
			if !equalStrings(rawMembers(doc, before.obj, bi), rawMembers(out, after.obj, ai)) {
				t.Fatalf("other auths entries changed")
			}
			if bi >= 0 && ai != bi {
				t.Fatalf("replaced entry moved from %d to %d", bi, ai)
			}
		}

		// Undo, as Logout does when nothing else changed the entry.
		undone, err := restoreAuth(out, key, res.prev)
		if err != nil {
			t.Fatalf("restoreAuth: %v", err)
		}
		if res.authsAdded || res.authsWasNull {
			if undone, err = dropEmptyAuths(undone, res.authsWasNull); err != nil {
				t.Fatalf("dropEmptyAuths: %v", err)
			}
		}
		if !json.Valid(undone) {
			t.Fatalf("undone document is not valid JSON")
		}
		if canonicalHash(undone) != canonicalHash(doc) {
			t.Fatalf("undoing the edit does not give back the same configuration")
		}
		if res.prev != nil && !bytes.Equal(undone, doc) {
			t.Fatalf("restoring a replaced entry is not byte-exact")
		}
	})
}

// TestSkipString: a string ends at the first quote not escaped by an odd
// number of backslashes.
func TestSkipString(t *testing.T) {
	for _, s := range []string{`""`, `"a"`, `"a\"b"`, `"a\\"`, `"a\\\"b"`, `"\\\\"`, `"\u0022"`, `"` + string(bytes.Repeat([]byte("x"), 5000)) + `"`} {
		doc := []byte(s + `, "next"`)
		if got := skipString(doc, 0); got != len(s) {
			t.Errorf("skipString(%.20q) = %d, want %d", s, got, len(s))
		}
		var v string
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Errorf("%.20q is not a JSON string: %v", s, err)
		}
	}
	if got := skipString([]byte(`"open`), 0); got != 5 {
		t.Errorf("unterminated string: %d, want the end of the document", got)
	}
}
