package authapikey

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/auth"
	"github.com/claude-mem/claude-mem-server/sdk/auth/authtest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	authtest.Run(t, authtest.Harness{New: func(t *testing.T) auth.Provider {
		return openIn(t, t.TempDir()).Provider
	}})
}

// handle is a provider that a test may close itself; it is closed when the
// test ends otherwise.
type handle struct {
	*Provider
	closed bool
}

// openIn opens a provider on FileName in dir.
func openIn(t *testing.T, dir string) *handle {
	t.Helper()
	p, err := Open(t.Context(), filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	h := &handle{Provider: p}
	t.Cleanup(func() { h.close(t) })
	return h
}

func (h *handle) close(t *testing.T) {
	t.Helper()
	if h.closed {
		return
	}
	h.closed = true
	if err := h.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// dirBytes reads every file in dir: the database, and its -wal and -shm
// files while they exist.
func dirBytes(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

// TestSecretNeverStored checks that no file of the store holds a key's
// secret in any form, while the store is open and after Close, and that
// the files read do hold the keys (their hashes), so that the check looks
// at the right bytes.
func TestSecretNeverStored(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	h := openIn(t, dir)
	type created struct {
		key    auth.Key
		secret string
	}
	var keys []created
	for _, name := range []string{"laptop", "ci", "server", "old"} {
		k, secret, err := h.CreateKey(ctx, auth.KeySpec{TeamID: "team-1", Name: name, Scopes: []string{auth.ScopeRead, auth.ScopeWrite}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Authenticate(ctx, secret); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, created{k, secret})
	}
	if err := h.RevokeKey(ctx, keys[3].key.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ListKeys(ctx, ""); err != nil { // flushes last-used times
		t.Fatal(err)
	}

	check := func(when string) {
		t.Helper()
		files := dirBytes(t, dir)
		var all [][]byte
		for _, b := range files {
			all = append(all, b)
		}
		joined := bytes.Join(all, nil)
		for _, c := range keys {
			random := strings.TrimPrefix(c.secret, KeyPrefix)
			raw, err := base64.RawURLEncoding.DecodeString(random)
			if err != nil {
				t.Fatal(err)
			}
			hiddenPart := strings.TrimPrefix(c.secret, c.key.Prefix)
			for form, needle := range map[string][]byte{
				"the secret":                  []byte(c.secret),
				"its random part":             []byte(random),
				"its part the prefix hides":   []byte(hiddenPart),
				"its random bytes":            raw,
				"its random bytes, in base64": []byte(base64.StdEncoding.EncodeToString(raw)),
				"its random bytes, in hex":    []byte(strings.ToLower(string(bytesToHex(raw)))),
			} {
				for name, b := range files {
					if bytes.Contains(b, needle) {
						t.Errorf("%s: %s holds %s of key %s", when, name, form, c.key.Name)
					}
				}
			}
			if !bytes.Contains(joined, []byte(Hash(c.secret))) {
				t.Errorf("%s: no file in %s holds the hash of key %s; the check read the wrong files", when, dir, c.key.Name)
			}
		}
	}
	check("while open")
	h.close(t)
	check("after Close")
}

func bytesToHex(b []byte) []byte {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&0x0f])
	}
	return out
}

// TestLastUsedIsBatched checks that Authenticate does not write last-used
// times itself, and that they are written by the next flush: on Close, or
// before ListKeys reads them.
func TestLastUsedIsBatched(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	opened := time.Now()
	h := openIn(t, dir)
	k, secret, err := h.CreateKey(ctx, auth.KeySpec{TeamID: "team-1", Scopes: []string{auth.ScopeRead}})
	if err != nil {
		t.Fatal(err)
	}
	firstUse := time.Now()
	for range 5 {
		if _, err := h.Authenticate(ctx, secret); err != nil {
			t.Fatal(err)
		}
	}
	stored := storedLastUsed(ctx, t, h.Provider, k.ID)
	// The flush loop's first tick comes flushEvery after Open at the
	// earliest; only before it must nothing have been written.
	if time.Since(opened) < flushEvery {
		if stored != 0 {
			t.Errorf("last_used_at %d was written by Authenticate, before any flush", stored)
		}
	} else {
		t.Logf("the flush loop may have run (%v since Open), so the unwritten state is not checked", time.Since(opened))
	}
	h.close(t)

	h = openIn(t, dir)
	lastUse := time.Now()
	got := listed(ctx, t, h.Provider, k.ID).LastUsedAt
	if got.UnixMilli() < firstUse.UnixMilli() || got.UnixMilli() > lastUse.UnixMilli() {
		t.Errorf("after Close, last used at %v; want between %v and %v", got, firstUse, lastUse)
	}

	// ListKeys flushes before it reads.
	secondUse := time.Now()
	if _, err := h.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if got := listed(ctx, t, h.Provider, k.ID).LastUsedAt; got.UnixMilli() < secondUse.UnixMilli() {
		t.Errorf("ListKeys right after a use shows last used at %v, want at or after %v", got, secondUse)
	}
}

// storedLastUsed reads a key's last_used_at from the database itself.
func storedLastUsed(ctx context.Context, t *testing.T, p *Provider, id string) int64 {
	t.Helper()
	var v int64
	if err := p.db.QueryRowContext(ctx, `SELECT last_used_at FROM api_keys WHERE id = ?`, id).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func listed(ctx context.Context, t *testing.T, p *Provider, id string) auth.Key {
	t.Helper()
	keys, err := p.ListKeys(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.ID == id {
			return k
		}
	}
	t.Fatalf("key %s is not listed", id)
	return auth.Key{}
}
