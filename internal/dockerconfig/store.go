package dockerconfig

import (
	"context"
	"encoding/json"
	"fmt"
)

// store keeps the credentials of registry hosts, one value per key, the way
// docker's credentials.Store does: config.json's "auths" (authsStore), or a
// credential helper (helperStore) when credHelpers or credsStore routes the
// host to one. Values go in and out in the store's own JSON form, so that
// one replaced by Login comes back byte for byte.
type store interface {
	// get returns the value held for key; found is false when there is none.
	get(ctx context.Context, key string) (value json.RawMessage, found bool, err error)
	// put makes the store hold c for key.
	put(ctx context.Context, key string, c Credential) error
	// restore puts back a value get returned, or removes key when prev is nil.
	restore(ctx context.Context, key string, prev json.RawMessage) error
	// sum identifies a value without keeping its secret; Logout undoes a
	// key only while its value's sum is still the one Login wrote.
	sum(value json.RawMessage) string
	// ours is the sum of the value put(c) writes.
	ours(c Credential) string
}

// authsStore is config.json's "auths", edited in memory; the caller writes
// doc when all edits are done.
type authsStore struct {
	path string // for messages
	doc  []byte
	// Whether an edit added the auths member or replaced a null one.
	authsAdded, authsWasNull bool
}

func (s *authsStore) get(_ context.Context, key string) (json.RawMessage, bool, error) {
	raw, ok, err := getAuth(s.doc, key)
	if err != nil {
		return nil, false, fmt.Errorf("docker config %s: %w", s.path, err)
	}
	return raw, ok, nil
}

func (s *authsStore) put(_ context.Context, key string, c Credential) error {
	return s.set(key, authEntry{Auth: encodeAuth(c.Username, c.Password)})
}

// set writes value (an authEntry, or docker's empty placeholder) for key.
func (s *authsStore) set(key string, value any) error {
	res, err := setAuth(s.doc, key, value)
	if err != nil {
		return fmt.Errorf("docker config %s: %w", s.path, err)
	}
	s.doc = res.doc
	s.authsAdded = s.authsAdded || res.authsAdded
	s.authsWasNull = s.authsWasNull || res.authsWasNull
	return nil
}

func (s *authsStore) restore(_ context.Context, key string, prev json.RawMessage) error {
	doc, err := restoreAuth(s.doc, key, prev)
	if err != nil {
		return fmt.Errorf("docker logout: %s: %w", s.path, err)
	}
	s.doc = doc
	return nil
}

func (s *authsStore) sum(value json.RawMessage) string { return canonicalHash(value) }

func (s *authsStore) ours(c Credential) string {
	raw, _ := json.Marshal(authEntry{Auth: encodeAuth(c.Username, c.Password)})
	return canonicalHash(raw)
}

// helperStore is a docker-credential-<name> program.
type helperStore struct{ h helper }

func (s helperStore) get(ctx context.Context, key string) (json.RawMessage, bool, error) {
	c, found, err := s.h.get(ctx, key)
	if err != nil || !found {
		return nil, false, err
	}
	raw, err := json.Marshal(helperCred{Username: c.Username, Secret: c.Secret})
	return raw, true, err
}

func (s helperStore) put(ctx context.Context, key string, c Credential) error {
	return s.h.store(ctx, key, c.Username, c.Password)
}

func (s helperStore) restore(ctx context.Context, key string, prev json.RawMessage) error {
	if prev == nil {
		return s.h.erase(ctx, key)
	}
	var c helperCred
	if err := json.Unmarshal(prev, &c); err != nil {
		return fmt.Errorf("credential helper %s%s: the saved credentials of %s are corrupt: %w", HelperPrefix, s.h.name, key, err)
	}
	return s.h.store(ctx, key, c.Username, c.Secret)
}

func (s helperStore) sum(value json.RawMessage) string {
	var c helperCred
	if json.Unmarshal(value, &c) != nil {
		return ""
	}
	return helperHash(c.Username, c.Secret)
}

func (s helperStore) ours(c Credential) string { return helperHash(c.Username, c.Password) }

// storeFor picks the store of key as docker does: credHelpers[key], else
// credsStore, else config.json's auths. A helper that is not installed is
// an error that says how to fix it.
func storeFor(view dockerView, key, configFile string, files *authsStore, lookPath func(string) (string, error)) (store, *helper, error) {
	name := view.helperFor(key)
	if name == "" {
		return files, nil, nil
	}
	via := "credsStore"
	if _, ok := view.CredHelpers[key]; ok {
		via = fmt.Sprintf("credHelpers[%q]", key)
	}
	path, err := lookPath(HelperPrefix + name)
	if err != nil {
		return nil, nil, helperMissingError(name, key, configFile, via, err)
	}
	h := helper{name: name, path: path}
	return helperStore{h}, &h, nil
}
