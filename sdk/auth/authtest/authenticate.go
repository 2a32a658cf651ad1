package authtest

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

// testAuthenticate checks that a secret authenticates as its key, with its
// scopes and expiry, and keeps doing so.
func testAuthenticate(t *testing.T, h Harness) {
	p, ctx := setup(t, h)
	s := spec("team-auth", "main", auth.ScopeRead, auth.ScopeAdmin)
	s.ExpiresAt = time.Now().Add(time.Hour)
	k, secret := createKey(ctx, t, p, s)
	other, otherSecret := createKey(ctx, t, p, spec("team-auth", "all", auth.ScopeAll))
	for range 3 {
		pr, err := p.Authenticate(ctx, secret)
		if err != nil {
			t.Fatalf("Authenticate(the secret CreateKey returned): %v", err)
		}
		checkPrincipal(t, pr, k)
		if !pr.Has(auth.ScopeAdmin) || pr.Has(auth.ScopeWrite) {
			t.Errorf("principal scopes %q: want admin and read only", pr.Scopes)
		}
	}
	pr, err := p.Authenticate(ctx, otherSecret)
	if err != nil {
		t.Fatalf("Authenticate(second key): %v", err)
	}
	checkPrincipal(t, pr, other)
	if !pr.Has(auth.ScopeWrite) {
		t.Errorf("principal scopes %q: %q holds every scope", pr.Scopes, auth.ScopeAll)
	}
}

// testWrongCredential checks that anything but a live secret is
// auth.ErrUnauthenticated.
func testWrongCredential(t *testing.T, h Harness) {
	p, ctx := setup(t, h)
	k, secret := createKey(ctx, t, p, spec("team-wrong", "k"))
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for why, cred := range map[string]string{
		"empty":                  "",
		"blank":                  "   ",
		"the prefix alone":       SecretPrefix,
		"the visible prefix":     k.Prefix,
		"the key id":             k.ID,
		"garbage":                "not-a-key",
		"garbage with prefix":    SecretPrefix + "not-a-key-at-all-but-long-enough-to-look-like-one",
		"last character changed": flip(secret, len(secret)-1),
		"a middle one changed":   flip(secret, len(secret)/2),
		"truncated":              secret[:len(secret)-1],
		"extended":               secret + "A",
		"upper case":             strings.ToUpper(secret),
		"NUL and invalid UTF-8":  secret + "\x00\xff",
		"64 KiB":                 SecretPrefix + strings.Repeat("x", 64<<10),
	} {
		if cred == secret {
			continue // strings.ToUpper of an all-upper secret
		}
		unauthenticated(ctx, t, p, cred, why)
	}
	if _, err := p.Authenticate(ctx, secret); err != nil {
		t.Errorf("Authenticate(the real secret) after wrong ones: %v", err)
	}
}

// testRevoke checks that a revoked key stops authenticating within
// revokeWithin, and that other keys do not.
func testRevoke(t *testing.T, h Harness) {
	p, ctx := setup(t, h)
	k, secret := createKey(ctx, t, p, spec("team-revoke", "gone"))
	other, otherSecret := createKey(ctx, t, p, spec("team-revoke", "stays"))
	if _, err := p.Authenticate(ctx, secret); err != nil {
		t.Fatalf("Authenticate before revoking: %v", err)
	}
	revokedAt := time.Now()
	if err := p.RevokeKey(ctx, k.ID); err != nil {
		t.Fatalf("RevokeKey(%s): %v", k.ID, err)
	}
	for {
		_, err := p.Authenticate(ctx, secret)
		if errors.Is(err, auth.ErrUnauthenticated) {
			break
		}
		if err != nil {
			t.Fatalf("Authenticate(revoked): %v; want auth.ErrUnauthenticated", err)
		}
		if time.Since(revokedAt) > revokeWithin {
			t.Fatalf("a revoked key still authenticates %v after RevokeKey returned", revokeWithin)
		}
		time.Sleep(10 * time.Millisecond)
	}
	pr, err := p.Authenticate(ctx, otherSecret)
	if err != nil {
		t.Fatalf("Authenticate(another key of the team) after revoking one: %v", err)
	}
	checkPrincipal(t, pr, other)
}

// testRevokeUnknown checks that revoking a key that does not exist is
// auth.ErrNotFound.
func testRevokeUnknown(t *testing.T, h Harness) {
	p, ctx := setup(t, h)
	k, _ := createKey(ctx, t, p, spec("team-unknown", "k"))
	for _, id := range []string{"", "key_does_not_exist", k.ID + "x", k.Prefix} {
		if err := p.RevokeKey(ctx, id); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("RevokeKey(%q) = %v, want auth.ErrNotFound", id, err)
		}
	}
	keys := listKeys(ctx, t, p, "")
	if k := findKey(t, keys, k.ID); !k.RevokedAt.IsZero() {
		t.Errorf("revoking unknown keys revoked %s", k.ID)
	}
}

// testExpired checks that a key whose expiry has passed does not
// authenticate. A provider may refuse to create such a key instead, with
// auth.ErrInvalidSpec.
func testExpired(t *testing.T, h Harness) {
	p, ctx := setup(t, h)
	s := spec("team-expired", "past")
	s.ExpiresAt = time.Now().Add(-time.Hour)
	k, secret, err := p.CreateKey(ctx, s)
	if errors.Is(err, auth.ErrInvalidSpec) {
		t.Logf("authtest: the provider refuses keys that expired already (%v); testExpires covers expiry", err)
		return
	}
	if err != nil {
		t.Fatalf("CreateKey(expired an hour ago): %v", err)
	}
	checkSecret(t, secret)
	checkKeyMatches(t, k, s)
	unauthenticated(ctx, t, p, secret, "a key that expired an hour ago")
	if got := findKey(t, listKeys(ctx, t, p, s.TeamID), k.ID); !sameMS(got.ExpiresAt, s.ExpiresAt) {
		t.Errorf("listed expiry %v, want %v", got.ExpiresAt, s.ExpiresAt)
	}
}

// testExpires checks that a key authenticates until its expiry, and not
// after it.
func testExpires(t *testing.T, h Harness) {
	p, ctx := setup(t, h)
	s := spec("team-expires", "soon")
	s.ExpiresAt = time.Now().Add(750 * time.Millisecond).Truncate(time.Millisecond)
	k, secret := createKey(ctx, t, p, s)
	pr, err := p.Authenticate(ctx, secret)
	switch {
	case !time.Now().Before(s.ExpiresAt.Add(-time.Millisecond)):
		t.Logf("authtest: the key expired before it could be used once (a slow machine); only its expiry is checked")
	case err != nil:
		t.Fatalf("Authenticate before the key's expiry: %v", err)
	default:
		checkPrincipal(t, pr, k)
	}
	time.Sleep(time.Until(s.ExpiresAt) + 5*time.Millisecond)
	unauthenticated(ctx, t, p, secret, "a key past its expiry")
}

// testConcurrent authenticates good and bad credentials and creates keys
// from several goroutines at once (every method may be called
// concurrently), and checks every answer.
func testConcurrent(t *testing.T, h Harness) {
	p, ctx := setup(t, h)
	type cred struct {
		key    auth.Key
		secret string
	}
	var creds []cred
	for _, name := range []string{"c1", "c2", "c3"} {
		k, secret := createKey(ctx, t, p, spec("team-concurrent", name))
		creds = append(creds, cred{k, secret})
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				c := creds[(g+i)%len(creds)]
				pr, err := p.Authenticate(ctx, c.secret)
				if err != nil || pr.KeyID != c.key.ID {
					t.Errorf("concurrent Authenticate = %+v, %v; want key %s", pr, err, c.key.ID)
					return
				}
				if _, err := p.Authenticate(ctx, c.secret+"x"); !errors.Is(err, auth.ErrUnauthenticated) {
					t.Errorf("concurrent Authenticate(wrong) = %v, want auth.ErrUnauthenticated", err)
					return
				}
			}
			k, secret, err := p.CreateKey(ctx, spec("team-concurrent", "new"))
			if err != nil {
				t.Errorf("concurrent CreateKey: %v", err)
				return
			}
			if pr, err := p.Authenticate(ctx, secret); err != nil || pr.KeyID != k.ID {
				t.Errorf("Authenticate(a key created concurrently) = %+v, %v; want key %s", pr, err, k.ID)
			}
		})
	}
	wg.Wait()
	if n := len(listKeys(ctx, t, p, "team-concurrent")); n != len(creds)+8 {
		t.Errorf("ListKeys lists %d keys after concurrent creation, want %d", n, len(creds)+8)
	}
}
