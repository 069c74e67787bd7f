package dockerconfig

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// hubKey is the auths key docker uses for Docker Hub.
const hubKey = "https://index.docker.io/v1/"

// authKey returns the key docker uses for host in "auths", credHelpers and
// credential helpers.
func authKey(host string) string {
	if host == "docker.io" || host == "index.docker.io" {
		return hubKey
	}
	return host
}

// authEntry is docker's own shape of a plain-text auths entry.
type authEntry struct {
	Auth string `json:"auth"`
}

// placeholder is the empty entry docker keeps in auths for a host whose
// credentials live in a helper.
type placeholder struct{}

func encodeAuth(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}

// dockerView is the part of config.json whose meaning we depend on,
// decoded with encoding/json exactly as docker decodes it.
type dockerView struct {
	Auths       map[string]viewAuth `json:"auths"`
	CredsStore  string              `json:"credsStore"`
	CredHelpers map[string]string   `json:"credHelpers"`
}

type viewAuth struct {
	Auth string `json:"auth"`
}

// helperFor returns the credential helper docker would use for key, or "".
func (v dockerView) helperFor(key string) string {
	if h, ok := v.CredHelpers[key]; ok {
		return h
	}
	return v.CredsStore
}

// isBlank reports whether a config file has no content; docker treats such
// a file like a missing one.
func isBlank(data []byte) bool {
	return len(bytes.TrimSpace(data)) == 0
}

// parseConfig validates data, the content of the config file at path, the
// way docker's loader would, and returns its routing view. The error names
// the file and says how to repair it; it never quotes file content.
func parseConfig(path string, data []byte) (dockerView, error) {
	var v dockerView
	if isBlank(data) {
		return v, nil
	}
	fix := "fix or remove it (docker cannot read it either), or set DOCKER_CONFIG to another directory"
	if !json.Valid(data) {
		var raw any
		err := json.Unmarshal(data, &raw)
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			line, col := lineCol(data, int(syn.Offset))
			return v, fmt.Errorf("docker config %s is not valid JSON (line %d, column %d: %s); %s", path, line, col, syn.Error(), fix)
		}
		return v, fmt.Errorf("docker config %s is not valid JSON; %s", path, fix)
	}
	if _, err := topObject(data); err != nil {
		return v, fmt.Errorf("docker config %s: %v; %s", path, err, fix)
	}
	if err := json.Unmarshal(data, &v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return v, fmt.Errorf("docker config %s: %q holds a JSON %s where docker expects %s; %s", path, ute.Field, ute.Value, jsonKind(ute.Type), fix)
		}
		return v, fmt.Errorf("docker config %s: %v; %s", path, err, fix)
	}
	for key, a := range v.Auths {
		if a.Auth == "" {
			continue
		}
		dec, err := base64.StdEncoding.DecodeString(a.Auth)
		if err != nil {
			return v, fmt.Errorf("docker config %s: auths[%q].auth is not valid base64, so docker cannot load this file; fix or remove that entry", path, key)
		}
		user, _, ok := strings.Cut(string(dec), ":")
		if !ok || user == "" {
			return v, fmt.Errorf("docker config %s: auths[%q].auth is not base64 of \"user:password\", so docker cannot load this file; fix or remove that entry", path, key)
		}
	}
	return v, nil
}

// jsonKind names the JSON shape a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	}
	return "a number"
}

// lineCol converts a byte offset into 1-based line and column numbers.
func lineCol(data []byte, off int) (int, int) {
	if off > len(data) {
		off = len(data)
	}
	if off > 0 {
		off-- // SyntaxError.Offset is just past the offending byte
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}

// authsLocation describes where a top-level map member (auths or
// credHelpers) is in a document.
type authsLocation struct {
	top    jsonObject
	index  int        // index of the member in top, -1 if none
	isNull bool       // the member is JSON null
	obj    jsonObject // its object when present and not null
}

// The top-level maps Login edits.
const (
	authsMember       = "auths"
	credHelpersMember = "credHelpers"
)

func findAuths(doc []byte) (authsLocation, error) { return findMap(doc, authsMember) }

func findMap(doc []byte, member string) (authsLocation, error) {
	top, err := topObject(doc)
	if err != nil {
		return authsLocation{}, err
	}
	loc := authsLocation{top: top, index: top.lastFold(member)}
	if loc.index < 0 {
		return loc, nil
	}
	m := top.members[loc.index]
	switch doc[m.valStart] {
	case 'n':
		loc.isNull = true
	case '{':
		loc.obj, err = scanObject(doc, m.valStart)
		if err != nil {
			return authsLocation{}, err
		}
	default:
		return authsLocation{}, fmt.Errorf("%q is not a JSON object", member)
	}
	return loc, nil
}

// getAuth returns the raw value of auths[key], if present.
func getAuth(doc []byte, key string) ([]byte, bool, error) { return getEntry(doc, authsMember, key) }

func getEntry(doc []byte, member, key string) ([]byte, bool, error) {
	loc, err := findMap(doc, member)
	if err != nil || loc.index < 0 || loc.isNull {
		return nil, false, err
	}
	i := loc.obj.last(key)
	if i < 0 {
		return nil, false, nil
	}
	m := loc.obj.members[i]
	return doc[m.valStart:m.valEnd], true, nil
}

// setAuthResult tells what setAuth changed.
type setAuthResult struct {
	doc          []byte
	prev         []byte // previous raw value of auths[key], nil if none
	authsAdded   bool   // the auths member did not exist
	authsWasNull bool   // auths was null and is now an object
}

// setAuth sets auths[key] to value (replacing any previous value), creating
// auths if needed, in the style of the document.
func setAuth(doc []byte, key string, value any) (setAuthResult, error) {
	return setEntry(doc, authsMember, key, value)
}

func setEntry(doc []byte, member, key string, value any) (setAuthResult, error) {
	loc, err := findMap(doc, member)
	if err != nil {
		return setAuthResult{}, err
	}
	st := detectStyle(doc, loc.top)
	res := setAuthResult{}
	switch {
	case loc.index < 0:
		res.authsAdded = true
		res.doc, err = insertMember(doc, loc.top, member, map[string]any{key: value}, st)
	case loc.isNull:
		res.authsWasNull = true
		res.doc, err = replaceValueStyled(doc, loc.top, loc.index, map[string]any{key: value}, st)
	default:
		if i := loc.obj.last(key); i >= 0 {
			m := loc.obj.members[i]
			res.prev = bytes.Clone(doc[m.valStart:m.valEnd])
			res.doc, err = replaceValueStyled(doc, loc.obj, i, value, st)
		} else {
			res.doc, err = insertMember(doc, loc.obj, key, value, st)
		}
	}
	return res, err
}

// restoreAuth sets auths[key] back to the raw value prev (which came from
// the same file), or deletes it when prev is nil.
func restoreAuth(doc []byte, key string, prev []byte) ([]byte, error) {
	return restoreEntry(doc, authsMember, key, prev)
}

func restoreEntry(doc []byte, member, key string, prev []byte) ([]byte, error) {
	loc, err := findMap(doc, member)
	if err != nil {
		return nil, err
	}
	if loc.index < 0 || loc.isNull {
		return doc, nil
	}
	i := loc.obj.last(key)
	if i < 0 {
		return doc, nil
	}
	if prev == nil {
		return deleteMember(doc, loc.obj, i), nil
	}
	return replaceValue(doc, loc.obj, i, prev), nil
}

// dropEmptyAuths undoes the creation of auths once it is empty again:
// it deletes the member, or turns it back into null.
func dropEmptyAuths(doc []byte, wasNull bool) ([]byte, error) {
	return dropEmptyMap(doc, authsMember, wasNull)
}

func dropEmptyMap(doc []byte, member string, wasNull bool) ([]byte, error) {
	loc, err := findMap(doc, member)
	if err != nil {
		return nil, err
	}
	if loc.index < 0 || loc.isNull || len(loc.obj.members) > 0 {
		return doc, nil
	}
	if wasNull {
		return replaceValue(doc, loc.top, loc.index, []byte("null")), nil
	}
	return deleteMember(doc, loc.top, loc.index), nil
}

// canonicalHash hashes the meaning of a JSON value (key order and spacing
// do not matter), so that an entry still counts as ours after docker or
// another tool reformatted the file. Invalid JSON hashes to "".
func canonicalHash(raw []byte) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return ""
	}
	canon, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return sha256Hex(canon)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
