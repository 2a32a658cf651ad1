package authtest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

// testCreate checks what CreateKey returns: a well-formed secret and a key
// without it, for every scope and with an expiry, never twice the same.
func testCreate(t *testing.T, h Harness) {
	p, ctx := setup(t, h)
	secrets, ids := map[string]bool{}, map[string]bool{}
	for i, scopes := range [][]string{
		{auth.ScopeRead}, {auth.ScopeWrite}, {auth.ScopeAdmin}, {auth.ScopeAll},
		{auth.ScopeRead, auth.ScopeWrite, auth.ScopeAdmin},
	} {
		s := spec("team-create", "k"+string(rune('a'+i)), scopes...)
		if i == 1 {
			s.ExpiresAt = time.Now().Add(24 * time.Hour)
		}
		if i == 2 {
			s.ProjectID, s.Name, s.Actor = "", "", ""
		}
		k, secret := createKey(ctx, t, p, s)
		if secrets[secret] || ids[k.ID] {
			t.Errorf("CreateKey returned secret %q or id %q twice", secret, k.ID)
		}
		secrets[secret], ids[k.ID] = true, true
	}
}

// testInvalidSpec checks that a spec without a team, without scopes or with
// an unknown scope is auth.ErrInvalidSpec, and creates nothing.
func testInvalidSpec(t *testing.T, h Harness) {
	p, ctx := setup(t, h)
	for name, s := range map[string]auth.KeySpec{
		"no team":           {Scopes: []string{auth.ScopeRead}},
		"no scopes":         {TeamID: "team-invalid"},
		"empty scopes":      {TeamID: "team-invalid", Scopes: []string{}},
		"unknown scope":     {TeamID: "team-invalid", Scopes: []string{"memories:delete"}},
		"blank scope":       {TeamID: "team-invalid", Scopes: []string{""}},
		"one scope unknown": {TeamID: "team-invalid", Scopes: []string{auth.ScopeRead, "root"}},
		"scope case":        {TeamID: "team-invalid", Scopes: []string{"Memories:Read"}},
	} {
		k, secret, err := p.CreateKey(ctx, s)
		if !errors.Is(err, auth.ErrInvalidSpec) {
			t.Errorf("CreateKey(%s) = %+v, %q, %v; want auth.ErrInvalidSpec", name, k, secret, err)
		}
		if secret != "" {
			t.Errorf("CreateKey(%s) failed but returned a secret", name)
		}
	}
	if keys := listKeys(ctx, t, p, ""); len(keys) != 0 {
		t.Errorf("invalid specs created keys: %+v", keys)
	}
}

// testList checks that ListKeys filters by team, lists every team for "",
// shows what CreateKey returned and when a key was revoked, and never a
// secret.
func testList(t *testing.T, h Harness) {
	p, ctx := setup(t, h)
	if keys := listKeys(ctx, t, p, ""); len(keys) != 0 {
		t.Fatalf("a new provider lists %d keys, want none", len(keys))
	}
	specs := []auth.KeySpec{spec("team-a", "a1"), spec("team-a", "a2", auth.ScopeAdmin), spec("team-b", "b1", auth.ScopeAll)}
	specs[1].ExpiresAt = time.Now().Add(time.Hour)
	created := map[string]auth.Key{}
	secrets := map[string]string{}
	for _, s := range specs {
		k, secret := createKey(ctx, t, p, s)
		created[k.ID], secrets[k.ID] = k, secret
	}
	idsOf := func(team string) []string {
		var ids []string
		for id, k := range created {
			if team == "" || k.TeamID == team {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		return ids
	}

	beforeRevoke := time.Now()
	revoked := findKeyByName(t, created, "a2")
	if err := p.RevokeKey(ctx, revoked.ID); err != nil {
		t.Fatalf("RevokeKey(%s): %v", revoked.ID, err)
	}
	for _, team := range []string{"team-a", "team-b", "", "team-none"} {
		keys := listKeys(ctx, t, p, team)
		if got, want := keyIDs(keys), idsOf(team); !slices.Equal(got, want) {
			t.Errorf("ListKeys(%q) lists %q, want %q", team, got, want)
			continue
		}
		for _, k := range keys {
			want := created[k.ID]
			checkNoSecret(t, secrets[k.ID], k)
			if k.Prefix != want.Prefix || !sameMS(k.CreatedAt, want.CreatedAt) {
				t.Errorf("listed key %s prefix %q created %v; CreateKey said %q %v", k.ID, k.Prefix, k.CreatedAt, want.Prefix, want.CreatedAt)
			}
			checkKeyMatches(t, k, specOf(want))
			if k.ID == revoked.ID {
				checkNow(t, "listed revoked_at", k.RevokedAt, beforeRevoke)
			} else if !k.RevokedAt.IsZero() {
				t.Errorf("key %s was not revoked, but is listed revoked at %v", k.ID, k.RevokedAt)
			}
			if !k.LastUsedAt.IsZero() {
				t.Errorf("key %s was never used, but is listed used at %v", k.ID, k.LastUsedAt)
			}
		}
	}
}

func findKeyByName(t *testing.T, keys map[string]auth.Key, name string) auth.Key {
	t.Helper()
	for _, k := range keys {
		if k.Name == name {
			return k
		}
	}
	t.Fatalf("no key named %q", name)
	return auth.Key{}
}

// specOf is the spec a key was created from.
func specOf(k auth.Key) auth.KeySpec {
	return auth.KeySpec{TeamID: k.TeamID, ProjectID: k.ProjectID, Name: k.Name, Actor: k.Actor, Scopes: k.Scopes, ExpiresAt: k.ExpiresAt}
}
