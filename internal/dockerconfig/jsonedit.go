package dockerconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// This file is the byte-preserving JSON editor behind Login and Logout.
//
// It works on a document that json.Valid has already accepted, so the
// scanner below only has to find token boundaries, never to report syntax
// errors. Every edit is a splice: the bytes outside the member being
// added, replaced or removed are copied through untouched, which is what
// keeps other tools' entries, unknown keys, key order, indentation and
// line endings intact.

// jsonMember is one "key": value pair of an object, as byte offsets into
// the document.
type jsonMember struct {
	name     string // decoded key
	keyStart int    // offset of the opening quote of the key
	keyEnd   int    // offset just past the closing quote of the key
	valStart int    // offset of the first byte of the value
	valEnd   int    // offset just past the last byte of the value
}

// jsonObject is an object value of the document: the offsets of its braces
// and its members in document order.
type jsonObject struct {
	open    int // offset of '{'
	close   int // offset of '}'
	members []jsonMember
}

// last returns the index of the last member whose key is exactly name, or
// -1. encoding/json (and so docker) lets a later duplicate key win, so the
// last one is the one that counts.
func (o jsonObject) last(name string) int {
	for i := len(o.members) - 1; i >= 0; i-- {
		if o.members[i].name == name {
			return i
		}
	}
	return -1
}

// lastFold is like last but matches keys case-insensitively, the way
// encoding/json matches object keys to struct fields.
func (o jsonObject) lastFold(name string) int {
	for i := len(o.members) - 1; i >= 0; i-- {
		if strings.EqualFold(o.members[i].name, name) {
			return i
		}
	}
	return -1
}

func isJSONSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func skipSpace(doc []byte, i int) int {
	for i < len(doc) && isJSONSpace(doc[i]) {
		i++
	}
	return i
}

// skipString returns the offset just past the string starting at doc[i] == '"'.
// It jumps from quote to quote (registry passwords make strings of
// kilobytes): a quote ends the string unless an odd number of backslashes
// precedes it.
func skipString(doc []byte, i int) int {
	open := i
	for i++; i < len(doc); i++ {
		j := bytes.IndexByte(doc[i:], '"')
		if j < 0 {
			break
		}
		i += j
		k := i
		for k > open+1 && doc[k-1] == '\\' {
			k--
		}
		if (i-k)%2 == 0 {
			return i + 1
		}
	}
	return len(doc)
}

// skipValue returns the offset just past the value starting at doc[i].
func skipValue(doc []byte, i int) int {
	switch doc[i] {
	case '"':
		return skipString(doc, i)
	case '{', '[':
		depth := 0
		for i < len(doc) {
			switch doc[i] {
			case '"':
				i = skipString(doc, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(doc)
	default: // number, true, false, null
		for i < len(doc) {
			c := doc[i]
			if isJSONSpace(c) || c == ',' || c == '}' || c == ']' {
				return i
			}
			i++
		}
		return i
	}
}

// scanObject reads the object whose '{' is at doc[open]. doc must be valid JSON.
func scanObject(doc []byte, open int) (jsonObject, error) {
	if open >= len(doc) || doc[open] != '{' {
		return jsonObject{}, fmt.Errorf("expected a JSON object at offset %d", open)
	}
	obj := jsonObject{open: open}
	i := skipSpace(doc, open+1)
	if i < len(doc) && doc[i] == '}' {
		obj.close = i
		return obj, nil
	}
	for i < len(doc) {
		var m jsonMember
		m.keyStart = i
		m.keyEnd = skipString(doc, i)
		if raw := doc[m.keyStart+1 : m.keyEnd-1]; bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
			m.name = string(raw) // what decoding gives for a key without escapes
		} else if err := json.Unmarshal(doc[m.keyStart:m.keyEnd], &m.name); err != nil {
			return jsonObject{}, fmt.Errorf("object key at offset %d: %w", i, err)
		}
		i = skipSpace(doc, m.keyEnd)
		i = skipSpace(doc, i+1) // past ':'
		m.valStart = i
		m.valEnd = skipValue(doc, i)
		obj.members = append(obj.members, m)
		i = skipSpace(doc, m.valEnd)
		if i >= len(doc) {
			break
		}
		if doc[i] == '}' {
			obj.close = i
			return obj, nil
		}
		i = skipSpace(doc, i+1) // past ','
	}
	return jsonObject{}, fmt.Errorf("unterminated JSON object starting at offset %d", open)
}

// topObject returns the top-level object of a valid document.
func topObject(doc []byte) (jsonObject, error) {
	i := skipSpace(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return jsonObject{}, fmt.Errorf("the top level is not a JSON object")
	}
	return scanObject(doc, i)
}

// jsonStyle is the formatting an existing document uses, so that inserted
// members look like their neighbours.
type jsonStyle struct {
	newline string // "\n" or "\r\n"
	unit    string // one level of indentation
	compact bool   // everything on one line
	spaced  bool   // compact, but with a space after ':' and ','
}

// dockerStyle is how docker itself writes config.json (json.MarshalIndent
// with a tab).
var dockerStyle = jsonStyle{newline: "\n", unit: "\t"}

// detectStyle guesses the formatting of doc from its line endings and from
// the indentation of the first top-level member.
func detectStyle(doc []byte, top jsonObject) jsonStyle {
	st := dockerStyle
	if bytes.Contains(doc, []byte("\r\n")) {
		st.newline = "\r\n"
	}
	if len(top.members) == 0 {
		return st
	}
	prefix := doc[top.open+1 : top.members[0].keyStart]
	nl := bytes.LastIndexByte(prefix, '\n')
	if nl < 0 {
		st.compact = true
		return st
	}
	if unit := prefix[nl+1:]; len(unit) > 0 {
		st.unit = string(unit)
	}
	return st
}

// lineIndent returns the leading whitespace of the line holding doc[pos].
func lineIndent(doc []byte, pos int) string {
	start := bytes.LastIndexByte(doc[:pos], '\n') + 1
	end := start
	for end < pos && (doc[end] == ' ' || doc[end] == '\t') {
		end++
	}
	return string(doc[start:end])
}

// structuralSpace matches the line breaks and indentation that the
// encoder adds between tokens (with the preceding comma, if any).
var structuralSpace = regexp.MustCompile(`,?\n\t*`)

// marshalStyled encodes v as JSON without HTML escaping, indented with
// prefix/unit unless st is compact, using st's line endings.
func marshalStyled(v any, prefix string, st jsonStyle) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	switch {
	case st.spaced:
		enc.SetIndent("", "\t")
	case !st.compact:
		enc.SetIndent(prefix, st.unit)
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	out := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if st.spaced {
		// Newlines in the indented form are structural only (newlines
		// inside strings are escaped), so they can be collapsed.
		out = structuralSpace.ReplaceAllFunc(out, func(ws []byte) []byte {
			if ws[0] == ',' {
				return []byte(", ")
			}
			return nil
		})
		return out, nil
	}
	if st.newline != "\n" {
		out = bytes.ReplaceAll(out, []byte("\n"), []byte(st.newline))
	}
	return out, nil
}

func quoteKey(key string) []byte {
	out, _ := marshalStyled(key, "", jsonStyle{compact: true})
	return out
}

// splice returns doc with doc[start:end] replaced by repl.
func splice(doc []byte, start, end int, repl []byte) []byte {
	out := make([]byte, 0, len(doc)-(end-start)+len(repl))
	out = append(out, doc[:start]...)
	out = append(out, repl...)
	return append(out, doc[end:]...)
}

// memberIndent returns the indentation members of obj use (or would use).
func memberIndent(doc []byte, obj jsonObject, st jsonStyle) string {
	if n := len(obj.members); n > 0 {
		return lineIndent(doc, obj.members[n-1].keyStart)
	}
	return lineIndent(doc, obj.open) + st.unit
}

// localStyle narrows the document style to obj: an object whose members
// share one line with its opening brace is written compactly even inside
// an indented document.
func localStyle(doc []byte, obj jsonObject, st jsonStyle) jsonStyle {
	if len(obj.members) > 0 && !bytes.ContainsRune(doc[obj.open:obj.members[0].keyStart], '\n') {
		st.compact = true
		m := obj.members[0]
		st.spaced = bytes.ContainsAny(doc[m.keyEnd:m.valStart], " \t")
	}
	return st
}

// insertMember appends "key": value as the last member of obj. value is
// encoded to match the document's style at the member's indentation.
func insertMember(doc []byte, obj jsonObject, key string, value any, st jsonStyle) ([]byte, error) {
	st = localStyle(doc, obj, st)
	indent := memberIndent(doc, obj, st)
	raw, err := marshalStyled(value, indent, st)
	if err != nil {
		return nil, err
	}
	var ins bytes.Buffer
	if n := len(obj.members); n > 0 {
		last := obj.members[n-1]
		// Reuse the separator that precedes the last member (comma
		// excluded) and its "key: value" spacing.
		sepStart := obj.open + 1
		if n > 1 {
			sepStart = obj.members[n-2].valEnd
			sepStart = skipSpace(doc, sepStart) + 1 // past ','
		}
		ins.WriteByte(',')
		sep := doc[sepStart:last.keyStart]
		if n == 1 && st.spaced && len(sep) == 0 {
			sep = []byte(" ") // {"a": 1} grows into {"a": 1, "b": 2}
		}
		ins.Write(sep)
		ins.Write(quoteKey(key))
		ins.Write(doc[last.keyEnd:last.valStart])
		ins.Write(raw)
		return splice(doc, last.valEnd, last.valEnd, ins.Bytes()), nil
	}
	if st.compact {
		ins.Write(quoteKey(key))
		ins.WriteByte(':')
		ins.Write(raw)
		return splice(doc, obj.open+1, obj.close, ins.Bytes()), nil
	}
	ins.WriteString(st.newline)
	ins.WriteString(indent)
	ins.Write(quoteKey(key))
	ins.WriteString(": ")
	ins.Write(raw)
	ins.WriteString(st.newline)
	ins.WriteString(lineIndent(doc, obj.open))
	return splice(doc, obj.open+1, obj.close, ins.Bytes()), nil
}

// replaceValue replaces the value of member i of obj with raw bytes.
func replaceValue(doc []byte, obj jsonObject, i int, raw []byte) []byte {
	m := obj.members[i]
	return splice(doc, m.valStart, m.valEnd, raw)
}

// replaceValueStyled replaces the value of member i of obj with value,
// encoded in the document's style.
func replaceValueStyled(doc []byte, obj jsonObject, i int, value any, st jsonStyle) ([]byte, error) {
	st = localStyle(doc, obj, st)
	raw, err := marshalStyled(value, lineIndent(doc, obj.members[i].keyStart), st)
	if err != nil {
		return nil, err
	}
	return replaceValue(doc, obj, i, raw), nil
}

// deleteMember removes member i of obj together with one separating comma.
// Removing the last member of an object undoes insertMember exactly.
func deleteMember(doc []byte, obj jsonObject, i int) []byte {
	n := len(obj.members)
	switch {
	case n == 1:
		return splice(doc, obj.open+1, obj.close, nil)
	case i > 0:
		return splice(doc, obj.members[i-1].valEnd, obj.members[i].valEnd, nil)
	default:
		return splice(doc, obj.members[0].keyStart, obj.members[1].keyStart, nil)
	}
}
