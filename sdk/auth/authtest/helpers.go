package authtest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

// The shape of a secret, as the host and users rely on it.
const (
	// SecretPrefix starts every secret, so that a leaked one is
	// recognisable.
	SecretPrefix = "cm_"
	// MinSecretBytes is the least entropy of a secret, in random bytes
	// after the prefix, written in base64url (at least 43 characters).
	MinSecretBytes = 32
	// revokeWithin bounds how long a revoked key may still authenticate.
	revokeWithin = time.Second
)

// testCtx bounds a case, so that a hung provider fails the case instead of
// the whole test binary.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// setup makes a provider and a context for one case.
func setup(t *testing.T, h Harness) (auth.Provider, context.Context) {
	t.Helper()
	return h.New(t), testCtx(t)
}

// spec is a valid key spec for team; the name tells keys apart.
func spec(team, name string, scopes ...string) auth.KeySpec {
	if len(scopes) == 0 {
		scopes = []string{auth.ScopeRead, auth.ScopeWrite}
	}
	return auth.KeySpec{TeamID: team, ProjectID: "project-" + name, Name: name, Actor: "actor-" + name, Scopes: scopes}
}

// createKey creates a key that must be created, and checks the key and
// its secret.
func createKey(ctx context.Context, t *testing.T, p auth.Provider, s auth.KeySpec) (auth.Key, string) {
	t.Helper()
	before := time.Now()
	k, secret, err := p.CreateKey(ctx, s)
	if err != nil {
		t.Fatalf("CreateKey(%+v): %v", s, err)
	}
	checkSecret(t, secret)
	checkNoSecret(t, secret, k)
	if k.ID == "" {
		t.Errorf("CreateKey(%+v) returned a key without an id", s)
	}
	if k.Prefix == "" || !strings.HasPrefix(secret, k.Prefix) || len(k.Prefix) >= len(secret) {
		t.Errorf("key prefix %q: want a non-empty, proper prefix of the secret", k.Prefix)
	}
	checkKeyMatches(t, k, s)
	if !k.RevokedAt.IsZero() || !k.LastUsedAt.IsZero() {
		t.Errorf("new key revoked at %v, last used at %v; want neither", k.RevokedAt, k.LastUsedAt)
	}
	checkNow(t, "created_at", k.CreatedAt, before)
	return k, secret
}

// checkSecret checks the shape of a secret: the prefix, then at least
// MinSecretBytes in base64url.
func checkSecret(t *testing.T, secret string) {
	t.Helper()
	rest, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		t.Fatalf("secret %q does not start with %q", secret, SecretPrefix)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(rest, "="))
	if err != nil {
		t.Fatalf("secret %q: after %q, want base64url: %v", secret, SecretPrefix, err)
	}
	if len(raw) < MinSecretBytes {
		t.Fatalf("secret %q holds %d random bytes, want at least %d", secret, len(raw), MinSecretBytes)
	}
}

// hidden is the part of a secret that is never shown again: what follows
// its visible prefix.
func hidden(secret string, k auth.Key) string {
	return strings.TrimPrefix(secret, k.Prefix)
}

// checkNoSecret fails t if a key holds the secret, or the part of it that
// its prefix does not show, in any field.
func checkNoSecret(t *testing.T, secret string, keys ...auth.Key) {
	t.Helper()
	for _, k := range keys {
		dump := fmt.Sprintf("%+v", k)
		if strings.Contains(dump, secret) {
			t.Errorf("key %s holds its secret: %s", k.ID, dump)
			continue
		}
		if h := hidden(secret, k); len(h) >= 8 && strings.Contains(dump, h) {
			t.Errorf("key %s holds the hidden part of its secret: %s", k.ID, dump)
		}
	}
}

// checkKeyMatches checks a key's fields against the spec it was made from.
func checkKeyMatches(t *testing.T, k auth.Key, s auth.KeySpec) {
	t.Helper()
	if k.TeamID != s.TeamID || k.ProjectID != s.ProjectID || k.Name != s.Name || k.Actor != s.Actor {
		t.Errorf("key team %q project %q name %q actor %q; want %q %q %q %q",
			k.TeamID, k.ProjectID, k.Name, k.Actor, s.TeamID, s.ProjectID, s.Name, s.Actor)
	}
	if !sameScopes(k.Scopes, s.Scopes) {
		t.Errorf("key scopes %q, want %q", k.Scopes, s.Scopes)
	}
	if !sameMS(k.ExpiresAt, s.ExpiresAt) {
		t.Errorf("key expires at %v, want %v", k.ExpiresAt, s.ExpiresAt)
	}
}

// checkPrincipal checks the principal of a key's secret.
func checkPrincipal(t *testing.T, pr auth.Principal, k auth.Key) {
	t.Helper()
	if pr.SchemaVersion != auth.SchemaVersion {
		t.Errorf("principal schema version %d, want %d", pr.SchemaVersion, auth.SchemaVersion)
	}
	if pr.KeyID != k.ID || pr.TeamID != k.TeamID || pr.ProjectID != k.ProjectID || pr.Actor != k.Actor {
		t.Errorf("principal key %q team %q project %q actor %q; want %q %q %q %q",
			pr.KeyID, pr.TeamID, pr.ProjectID, pr.Actor, k.ID, k.TeamID, k.ProjectID, k.Actor)
	}
	if !sameScopes(pr.Scopes, k.Scopes) {
		t.Errorf("principal scopes %q, want %q", pr.Scopes, k.Scopes)
	}
	if !sameMS(pr.ExpiresAt, k.ExpiresAt) {
		t.Errorf("principal expires at %v, want %v", pr.ExpiresAt, k.ExpiresAt)
	}
}

// checkNow checks that a time the provider stamped lies between before
// and now, to the millisecond.
func checkNow(t *testing.T, what string, got, before time.Time) {
	t.Helper()
	if got.IsZero() || got.UnixMilli() < before.UnixMilli() || got.UnixMilli() > time.Now().UnixMilli() {
		t.Errorf("%s %v, want a time between %v and now", what, got, before)
	}
}

func unauthenticated(ctx context.Context, t *testing.T, p auth.Provider, credential, why string) {
	t.Helper()
	pr, err := p.Authenticate(ctx, credential)
	if !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("Authenticate(%s) = %+v, %v; want auth.ErrUnauthenticated", why, pr, err)
	}
}

// sameMS reports whether a and b are the same instant to the millisecond,
// the zero time only matching itself.
func sameMS(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() == b.IsZero()
	}
	return a.UnixMilli() == b.UnixMilli()
}

// sameScopes compares scopes as sets.
func sameScopes(a, b []string) bool {
	return slices.Equal(sortedSet(a), sortedSet(b))
}

func sortedSet(s []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(s)))
}

// keyIDs lists the ids of keys, sorted.
func keyIDs(keys []auth.Key) []string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	slices.Sort(ids)
	return ids
}

func listKeys(ctx context.Context, t *testing.T, p auth.Provider, team string) []auth.Key {
	t.Helper()
	keys, err := p.ListKeys(ctx, team)
	if err != nil {
		t.Fatalf("ListKeys(%q): %v", team, err)
	}
	return keys
}

// findKey returns the key with id from keys.
func findKey(t *testing.T, keys []auth.Key, id string) auth.Key {
	t.Helper()
	i := slices.IndexFunc(keys, func(k auth.Key) bool { return k.ID == id })
	if i < 0 {
		t.Fatalf("key %s is not listed (listed: %q)", id, keyIDs(keys))
	}
	return keys[i]
}
