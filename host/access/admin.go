package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/host/store"
	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

// Errors of Admin; the admin API answers them with 404, 403, 400 and 409.
var (
	ErrNotFound  = errors.New("not found")
	ErrForbidden = errors.New("forbidden")
	ErrInvalid   = errors.New("invalid request")
	ErrConflict  = errors.New("already exists")
)

// Admin manages teams and projects (in the host store) and keys (through
// the auth provider) on behalf of a caller, within what the caller may
// see: its own team, unless it holds "*"; its own project, if its key is
// bound to one. Things outside are ErrNotFound, so their existence does
// not leak. The admin API and the CLI (on a stopped server's data dir)
// both go through it.
type Admin struct {
	Store *store.Store
	// Provider returns the auth provider.
	Provider func() (auth.Provider, error)
	// Revoked, when set, is called after a key is revoked (Access.Forget).
	Revoked func(keyID string)
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Team is a team.
type Team struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Project is a project of a team.
type Project struct {
	ID        int64     `json:"id"`
	TeamID    string    `json:"team_id"`
	Name      string    `json:"name"`
	RootPath  string    `json:"root_path,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Key states.
const (
	KeyActive  = "active"
	KeyExpired = "expired"
	KeyRevoked = "revoked"
)

// Key is an API key as the admin API shows it: never its secret.
type Key struct {
	ID         string    `json:"id"`
	Prefix     string    `json:"prefix"`
	Name       string    `json:"name,omitempty"`
	TeamID     string    `json:"team_id"`
	ProjectID  string    `json:"project_id,omitempty"`
	Actor      string    `json:"actor,omitempty"`
	Scopes     []string  `json:"scopes"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// CreateTeamRequest is the body of POST /v1/admin/teams.
type CreateTeamRequest struct {
	// ID is the team's identifier: lowercase letters, digits, - and _.
	// Default: derived from Name.
	ID   string `json:"id"`
	Name string `json:"name"`
}

// CreateProjectRequest is the body of POST /v1/admin/projects.
type CreateProjectRequest struct {
	// Team defaults to the caller's.
	Team     string `json:"team"`
	Name     string `json:"name"`
	RootPath string `json:"root_path"`
}

// CreateKeyRequest is the body of POST /v1/admin/api-keys.
type CreateKeyRequest struct {
	// Team defaults to the caller's.
	Team string `json:"team"`
	// Project, a project's ID or name in Team, binds the key to it.
	Project string   `json:"project"`
	Scopes  []string `json:"scopes"`
	Name    string   `json:"name"`
	// Actor is who the key's requests are attributed to. Default: Name.
	Actor string `json:"actor"`
	// ExpiresIn ("30d", "12h") or ExpiresAt make the key expire.
	ExpiresIn string    `json:"expires_in"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// CreatedKey answers POST /v1/admin/api-keys: the key, and its secret,
// shown this once.
type CreatedKey struct {
	Key    Key    `json:"key"`
	Secret string `json:"secret"`
}

var teamID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

const maxNameLen = 200

func (a *Admin) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Teams lists the teams the caller sees: every team for "*", else its own.
func (a *Admin) Teams(ctx context.Context, caller auth.Principal) ([]Team, error) {
	q := `SELECT id, name, created_at_epoch FROM teams`
	var args []any
	if !caller.Has(auth.ScopeAll) {
		q += ` WHERE id = ?`
		args = append(args, caller.TeamID)
	}
	rows, err := a.Store.Reader().QueryContext(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("access: list teams: %w", err)
	}
	defer rows.Close()
	out := []Team{}
	for rows.Next() {
		var t Team
		var at int64
		if err := rows.Scan(&t.ID, &t.Name, &at); err != nil {
			return nil, fmt.Errorf("access: list teams: %w", err)
		}
		t.CreatedAt = time.UnixMilli(at).UTC()
		out = append(out, t)
	}
	return out, rows.Err()
}

// CreateTeam creates a team; it needs "*".
func (a *Admin) CreateTeam(ctx context.Context, caller auth.Principal, req CreateTeamRequest) (Team, error) {
	if !caller.Has(auth.ScopeAll) {
		return Team{}, fmt.Errorf("%w: creating a team needs the * scope", ErrForbidden)
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.ID == "" {
		req.ID = slug(req.Name)
	}
	if req.Name == "" {
		req.Name = req.ID
	}
	if !teamID.MatchString(req.ID) {
		return Team{}, fmt.Errorf("%w: team id %q must be 1 to 64 lowercase letters, digits, - or _, starting with a letter or digit", ErrInvalid, req.ID)
	}
	if len(req.Name) > maxNameLen {
		return Team{}, fmt.Errorf("%w: team name is longer than %d bytes", ErrInvalid, maxNameLen)
	}
	now := a.now()
	res, err := a.Store.Writer().ExecContext(ctx, `INSERT INTO teams (id, name, slug, created_at_epoch, updated_at_epoch)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, req.ID, req.Name, req.ID, now.UnixMilli(), now.UnixMilli())
	if err != nil {
		return Team{}, fmt.Errorf("access: create team %s: %w", req.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Team{}, fmt.Errorf("%w: team %q", ErrConflict, req.ID)
	}
	return Team{ID: req.ID, Name: req.Name, CreatedAt: time.UnixMilli(now.UnixMilli()).UTC()}, nil
}

// slug turns a name into a team id.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimRight(b.String(), "-")
	if len(s) > 64 {
		s = strings.TrimRight(s[:64], "-")
	}
	return s
}

// team resolves the team a caller asks about: its own by default; another
// only with "*" (else, or when it does not exist, ErrNotFound).
func (a *Admin) team(ctx context.Context, caller auth.Principal, requested string) (string, error) {
	if requested == "" || requested == caller.TeamID {
		return caller.TeamID, nil
	}
	if !caller.Has(auth.ScopeAll) {
		return "", fmt.Errorf("%w: no team %q", ErrNotFound, requested)
	}
	var id string
	err := a.Store.Reader().QueryRowContext(ctx, `SELECT id FROM teams WHERE id = ?`, requested).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: no team %q", ErrNotFound, requested)
	}
	if err != nil {
		return "", fmt.Errorf("access: team %s: %w", requested, err)
	}
	return id, nil
}

func (a *Admin) teamExists(ctx context.Context, id string) error {
	var n int
	if err := a.Store.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM teams WHERE id = ?`, id).Scan(&n); err != nil {
		return fmt.Errorf("access: team %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: no team %q; create it with `claude-mem server team create %s`", ErrNotFound, id, id)
	}
	return nil
}

// Projects lists the projects of a team ("" is the caller's) that the
// caller sees.
func (a *Admin) Projects(ctx context.Context, caller auth.Principal, team string) ([]Project, error) {
	team, err := a.team(ctx, caller, team)
	if err != nil {
		return nil, err
	}
	q := `SELECT id, team_id, name, COALESCE(root_path, ''), created_at_epoch FROM projects WHERE team_id = ?`
	args := []any{team}
	if bound, ok := boundProject(caller); ok {
		q += ` AND id = ?`
		args = append(args, bound)
	}
	rows, err := a.Store.Reader().QueryContext(ctx, q+` ORDER BY name`, args...)
	if err != nil {
		return nil, fmt.Errorf("access: list projects: %w", err)
	}
	defer rows.Close()
	out := []Project{}
	for rows.Next() {
		var p Project
		var at int64
		if err := rows.Scan(&p.ID, &p.TeamID, &p.Name, &p.RootPath, &at); err != nil {
			return nil, fmt.Errorf("access: list projects: %w", err)
		}
		p.CreatedAt = time.UnixMilli(at).UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// CreateProject creates a project, or returns the existing one of that
// name (created false).
func (a *Admin) CreateProject(ctx context.Context, caller auth.Principal, req CreateProjectRequest) (Project, bool, error) {
	if _, ok := boundProject(caller); ok {
		return Project{}, false, fmt.Errorf("%w: a key bound to a project cannot create projects", ErrForbidden)
	}
	team, err := a.team(ctx, caller, req.Team)
	if err != nil {
		return Project{}, false, err
	}
	if err := a.teamExists(ctx, team); err != nil {
		return Project{}, false, err
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > maxNameLen {
		return Project{}, false, fmt.Errorf("%w: a project needs a name of 1 to %d bytes", ErrInvalid, maxNameLen)
	}
	now := a.now().UnixMilli()
	var root sql.NullString
	if req.RootPath != "" {
		root = sql.NullString{String: req.RootPath, Valid: true}
	}
	res, err := a.Store.Writer().ExecContext(ctx, `INSERT INTO projects (team_id, name, root_path, created_at_epoch, updated_at_epoch)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT(team_id, name) DO NOTHING`, team, req.Name, root, now, now)
	if err != nil {
		return Project{}, false, fmt.Errorf("access: create project %q: %w", req.Name, err)
	}
	created, _ := res.RowsAffected()
	p, err := a.project(ctx, a.Store.Writer(), team, req.Name)
	return p, created == 1, err
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// project finds a project of team by ID or name.
func (a *Admin) project(ctx context.Context, q querier, team, ref string) (Project, error) {
	query := `SELECT id, team_id, name, COALESCE(root_path, ''), created_at_epoch FROM projects WHERE team_id = ? AND `
	var arg any = ref
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		query += `id = ?`
		arg = id
	} else {
		query += `name = ?`
	}
	var p Project
	var at int64
	err := q.QueryRowContext(ctx, query, team, arg).Scan(&p.ID, &p.TeamID, &p.Name, &p.RootPath, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Project{}, fmt.Errorf("%w: no project %q in team %s", ErrNotFound, ref, team)
	}
	if err != nil {
		return Project{}, fmt.Errorf("access: project %q: %w", ref, err)
	}
	p.CreatedAt = time.UnixMilli(at).UTC()
	return p, nil
}

func (a *Admin) provider() (auth.Provider, error) {
	if a.Provider == nil {
		return nil, errors.New("access: no auth provider")
	}
	return a.Provider()
}

// Keys lists the keys of a team ("" is the caller's; every team's for a
// "*" caller) that the caller sees.
func (a *Admin) Keys(ctx context.Context, caller auth.Principal, team string) ([]Key, error) {
	all := team == "" && caller.Has(auth.ScopeAll)
	if !all {
		var err error
		if team, err = a.team(ctx, caller, team); err != nil {
			return nil, err
		}
	}
	prov, err := a.provider()
	if err != nil {
		return nil, err
	}
	keys, err := prov.ListKeys(ctx, team)
	if err != nil {
		return nil, err
	}
	bound, isBound := boundProject(caller)
	now := a.now()
	out := []Key{}
	for _, k := range keys {
		if !all && k.TeamID != team {
			continue // a provider that ignores the filter must not leak
		}
		if isBound && k.ProjectID != strconv.FormatInt(bound, 10) {
			continue
		}
		out = append(out, keyOf(k, now))
	}
	return out, nil
}

func keyOf(k auth.Key, now time.Time) Key {
	st := KeyActive
	switch {
	case !k.RevokedAt.IsZero():
		st = KeyRevoked
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		st = KeyExpired
	}
	scopes := k.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return Key{
		ID: k.ID, Prefix: k.Prefix, Name: k.Name, TeamID: k.TeamID, ProjectID: k.ProjectID, Actor: k.Actor, Scopes: scopes, Status: st,
		CreatedAt: k.CreatedAt.UTC(), ExpiresAt: utc(k.ExpiresAt), RevokedAt: utc(k.RevokedAt), LastUsedAt: utc(k.LastUsedAt),
	}
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// CreateKey mints a key. A caller without "*" creates keys for its own
// team only and cannot grant "*"; a project-bound caller creates keys
// bound to its project only.
func (a *Admin) CreateKey(ctx context.Context, caller auth.Principal, req CreateKeyRequest) (CreatedKey, error) {
	team, err := a.team(ctx, caller, req.Team)
	if err != nil {
		return CreatedKey{}, err
	}
	if err := a.teamExists(ctx, team); err != nil {
		return CreatedKey{}, err
	}
	if len(req.Scopes) == 0 {
		return CreatedKey{}, fmt.Errorf("%w: a key needs at least one scope: %s", ErrInvalid, strings.Join(auth.AllScopes, ", "))
	}
	scopes := make([]string, 0, len(req.Scopes))
	for _, s := range req.Scopes {
		s = strings.TrimSpace(s)
		if !slices.Contains(auth.AllScopes, s) {
			return CreatedKey{}, fmt.Errorf("%w: unknown scope %q; use %s", ErrInvalid, s, strings.Join(auth.AllScopes, ", "))
		}
		if s == auth.ScopeAll && !caller.Has(auth.ScopeAll) {
			return CreatedKey{}, fmt.Errorf("%w: only a holder of * can grant *", ErrForbidden)
		}
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	project := ""
	bound, isBound := boundProject(caller)
	switch {
	case req.Project != "":
		p, err := a.project(ctx, a.Store.Reader(), team, req.Project)
		if err != nil {
			return CreatedKey{}, err
		}
		if isBound && p.ID != bound {
			return CreatedKey{}, fmt.Errorf("%w: no project %q in team %s", ErrNotFound, req.Project, team)
		}
		project = strconv.FormatInt(p.ID, 10)
	case isBound:
		project = strconv.FormatInt(bound, 10)
	}
	expires := req.ExpiresAt
	if req.ExpiresIn != "" {
		d, err := ParseExpiry(req.ExpiresIn)
		if err != nil {
			return CreatedKey{}, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		expires = a.now().Add(d)
	}
	if !expires.IsZero() && !expires.After(a.now()) {
		return CreatedKey{}, fmt.Errorf("%w: the expiry %s is in the past", ErrInvalid, expires.UTC().Format(time.RFC3339))
	}
	if len(req.Name) > maxNameLen || len(req.Actor) > maxNameLen {
		return CreatedKey{}, fmt.Errorf("%w: name and actor may be at most %d bytes", ErrInvalid, maxNameLen)
	}
	actor := req.Actor
	if actor == "" {
		actor = req.Name
	}
	if actor == "" {
		actor = "api-key"
	}
	prov, err := a.provider()
	if err != nil {
		return CreatedKey{}, err
	}
	k, secret, err := prov.CreateKey(ctx, auth.KeySpec{TeamID: team, ProjectID: project, Name: req.Name, Actor: actor, Scopes: scopes, ExpiresAt: expires})
	if errors.Is(err, auth.ErrInvalidSpec) {
		return CreatedKey{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err != nil {
		return CreatedKey{}, err
	}
	return CreatedKey{Key: keyOf(k, a.now()), Secret: secret}, nil
}

// RevokeKey revokes a key the caller sees.
func (a *Admin) RevokeKey(ctx context.Context, caller auth.Principal, id string) (Key, error) {
	keys, err := a.Keys(ctx, caller, "")
	if err != nil {
		return Key{}, err
	}
	i := slices.IndexFunc(keys, func(k Key) bool { return k.ID == id })
	if i < 0 {
		return Key{}, fmt.Errorf("%w: no key %q", ErrNotFound, id)
	}
	prov, err := a.provider()
	if err != nil {
		return Key{}, err
	}
	if err := prov.RevokeKey(ctx, id); errors.Is(err, auth.ErrNotFound) {
		return Key{}, fmt.Errorf("%w: no key %q", ErrNotFound, id)
	} else if err != nil {
		return Key{}, err
	}
	if a.Revoked != nil {
		a.Revoked(id)
	}
	k := keys[i]
	if k.RevokedAt.IsZero() {
		k.RevokedAt = a.now().UTC()
	}
	k.Status = KeyRevoked
	return k, nil
}

// ParseExpiry parses a key lifetime: a Go duration ("12h", "90m") or a
// number of days ("30d").
func ParseExpiry(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 36500 {
			return 0, fmt.Errorf("expiry %q: want a number of days such as 30d, or a duration such as 12h", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("expiry %q: want a number of days such as 30d, or a duration such as 12h", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("expiry %q is not positive", s)
	}
	return d, nil
}
