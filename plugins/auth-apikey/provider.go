package authapikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

// KeyPrefix starts every key, so a leaked key is recognisable (and secret
// scanners can match it).
const KeyPrefix = "cm_"

// secretBytes is the entropy of a key.
const secretBytes = 32

// visiblePrefixLen is how much of a key is kept in the clear, so users can
// tell keys apart in listings.
const visiblePrefixLen = len(KeyPrefix) + 8

// flushEvery is how often last-used times are written: batching keeps a
// hot key from turning every request into a write.
const flushEvery = 5 * time.Second

const schema = `
CREATE TABLE IF NOT EXISTS api_keys (
	id           TEXT PRIMARY KEY,
	key_hash     TEXT NOT NULL UNIQUE,
	prefix       TEXT NOT NULL,
	name         TEXT NOT NULL DEFAULT '',
	team_id      TEXT NOT NULL,
	project_id   TEXT NOT NULL DEFAULT '',
	actor        TEXT NOT NULL DEFAULT '',
	scopes       TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL DEFAULT 0,
	revoked_at   INTEGER NOT NULL DEFAULT 0,
	last_used_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS api_keys_team ON api_keys(team_id);
`

// Provider stores API keys in SQLite.
type Provider struct {
	db *sql.DB
	// byHash is Authenticate's lookup, compiled once: every uncached
	// request of the host waits on it, and SQLite would otherwise parse it
	// on each call.
	byHash *sql.Stmt
	now    func() time.Time

	mu        sync.Mutex
	lastUsed  map[string]int64
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

var _ auth.Provider = (*Provider)(nil)

// Open opens (creating if needed) the key store at path.
func Open(ctx context.Context, path string) (*Provider, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("auth-apikey: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("auth-apikey: migrate %s: %w", path, err)
	}
	byHash, err := db.PrepareContext(ctx, `SELECT id, key_hash, team_id, project_id, actor, scopes, expires_at, revoked_at
		FROM api_keys WHERE key_hash = ?`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("auth-apikey: prepare %s: %w", path, err)
	}
	p := &Provider{db: db, byHash: byHash, now: time.Now, lastUsed: map[string]int64{}, stop: make(chan struct{}), done: make(chan struct{})}
	go p.flushLoop()
	return p, nil
}

// Hash returns the stored form of a key.
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Authenticate looks a key up by its hash.
func (p *Provider) Authenticate(ctx context.Context, credential string) (auth.Principal, error) {
	if !strings.HasPrefix(credential, KeyPrefix) || len(credential) < visiblePrefixLen+8 {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	want := Hash(credential)
	var (
		id, hash, team, project, actor, scopes string
		expires, revoked                       int64
	)
	err := p.byHash.QueryRowContext(ctx, want).Scan(&id, &hash, &team, &project, &actor, &scopes, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	if err != nil {
		return auth.Principal{}, fmt.Errorf("auth-apikey: authenticate: %w", err)
	}
	// The lookup is by hash already; the constant-time compare keeps the
	// decision itself free of timing differences.
	if subtle.ConstantTimeCompare([]byte(hash), []byte(want)) != 1 {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	now := p.now()
	if revoked != 0 || (expires != 0 && now.UnixMilli() >= expires) {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	p.mu.Lock()
	p.lastUsed[id] = now.UnixMilli()
	p.mu.Unlock()
	pr := auth.Principal{
		SchemaVersion: auth.SchemaVersion, KeyID: id, TeamID: team, ProjectID: project,
		Scopes: splitScopes(scopes), Actor: actor,
	}
	if expires != 0 {
		pr.ExpiresAt = time.UnixMilli(expires)
	}
	return pr, nil
}

// CreateKey mints a key. The secret is returned once; only its hash is kept.
func (p *Provider) CreateKey(ctx context.Context, spec auth.KeySpec) (auth.Key, string, error) {
	if spec.TeamID == "" {
		return auth.Key{}, "", fmt.Errorf("%w: a key belongs to a team", auth.ErrInvalidSpec)
	}
	if len(spec.Scopes) == 0 {
		return auth.Key{}, "", fmt.Errorf("%w: a key needs at least one scope", auth.ErrInvalidSpec)
	}
	for _, s := range spec.Scopes {
		if !slices.Contains(auth.AllScopes, s) {
			return auth.Key{}, "", fmt.Errorf("%w: unknown scope %q (want one of %s)", auth.ErrInvalidSpec, s, strings.Join(auth.AllScopes, ", "))
		}
	}
	buf := make([]byte, secretBytes)
	if _, err := rand.Read(buf); err != nil {
		return auth.Key{}, "", fmt.Errorf("auth-apikey: random: %w", err)
	}
	secret := KeyPrefix + base64.RawURLEncoding.EncodeToString(buf)
	idBuf := make([]byte, 8)
	if _, err := rand.Read(idBuf); err != nil {
		return auth.Key{}, "", fmt.Errorf("auth-apikey: random: %w", err)
	}
	now := p.now()
	k := auth.Key{
		ID: "key_" + hex.EncodeToString(idBuf), Prefix: secret[:visiblePrefixLen], Name: spec.Name,
		TeamID: spec.TeamID, ProjectID: spec.ProjectID, Actor: spec.Actor, Scopes: spec.Scopes,
		CreatedAt: time.UnixMilli(now.UnixMilli()), ExpiresAt: spec.ExpiresAt,
	}
	expires := int64(0)
	if !spec.ExpiresAt.IsZero() {
		expires = spec.ExpiresAt.UnixMilli()
	}
	_, err := p.db.ExecContext(ctx, `INSERT INTO api_keys (id, key_hash, prefix, name, team_id, project_id, actor, scopes, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, Hash(secret), k.Prefix, k.Name, k.TeamID, k.ProjectID, k.Actor, strings.Join(k.Scopes, ","), now.UnixMilli(), expires)
	if err != nil {
		return auth.Key{}, "", fmt.Errorf("auth-apikey: create key: %w", err)
	}
	return k, secret, nil
}

// ListKeys lists keys without their secrets.
func (p *Provider) ListKeys(ctx context.Context, teamID string) ([]auth.Key, error) {
	p.flush(ctx)
	rows, err := p.db.QueryContext(ctx, `SELECT id, prefix, name, team_id, project_id, actor, scopes, created_at, expires_at, revoked_at, last_used_at
		FROM api_keys WHERE ? = '' OR team_id = ? ORDER BY created_at, id`, teamID, teamID)
	if err != nil {
		return nil, fmt.Errorf("auth-apikey: list keys: %w", err)
	}
	defer rows.Close()
	var out []auth.Key
	for rows.Next() {
		var (
			k                                  auth.Key
			scopes                             string
			created, expires, revoked, lastUse int64
		)
		if err := rows.Scan(&k.ID, &k.Prefix, &k.Name, &k.TeamID, &k.ProjectID, &k.Actor, &scopes, &created, &expires, &revoked, &lastUse); err != nil {
			return nil, fmt.Errorf("auth-apikey: list keys: %w", err)
		}
		k.Scopes = splitScopes(scopes)
		k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.LastUsedAt = msTime(created), msTime(expires), msTime(revoked), msTime(lastUse)
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeKey revokes a key. Revoking twice is not an error.
func (p *Provider) RevokeKey(ctx context.Context, id string) error {
	res, err := p.db.ExecContext(ctx, `UPDATE api_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END WHERE id = ?`, p.now().UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("auth-apikey: revoke %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", auth.ErrNotFound, id)
	}
	return nil
}

// Close flushes last-used times and closes the store.
func (p *Provider) Close() error {
	var err error
	p.closeOnce.Do(func() {
		close(p.stop)
		<-p.done
		p.flush(context.Background())
		err = errors.Join(p.byHash.Close(), p.db.Close())
	})
	return err
}

func (p *Provider) flushLoop() {
	defer close(p.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.flush(context.Background())
		}
	}
}

// flush writes the batched last-used times in one transaction.
func (p *Provider) flush(ctx context.Context) {
	p.mu.Lock()
	batch := p.lastUsed
	p.lastUsed = map[string]int64{}
	p.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	for id, at := range batch {
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET last_used_at = MAX(last_used_at, ?) WHERE id = ?`, at, id); err != nil {
			return
		}
	}
	_ = tx.Commit()
}

func splitScopes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func msTime(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}
