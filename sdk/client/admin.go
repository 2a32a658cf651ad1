package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Scopes of API keys (CreateKeyRequest.Scopes).
const (
	ScopeRead  = "memories:read"
	ScopeWrite = "memories:write"
	ScopeAdmin = "admin"
	// ScopeAll is every scope, on every team.
	ScopeAll = "*"
)

// Key states (Key.Status).
const (
	KeyActive  = "active"
	KeyExpired = "expired"
	KeyRevoked = "revoked"
)

// Team is a team.
type Team struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// TeamList is the answer to GET /v1/admin/teams.
type TeamList struct {
	Teams []Team `json:"teams"`
}

// CreateTeamRequest is the body of POST /v1/admin/teams.
type CreateTeamRequest struct {
	// ID is lowercase letters, digits, - and _; default: derived from
	// Name.
	ID   string `json:"id"`
	Name string `json:"name"`
}

// CreateAdminProjectRequest is the body of POST /v1/admin/projects.
type CreateAdminProjectRequest struct {
	// Team defaults to the caller's.
	Team     string `json:"team"`
	Name     string `json:"name"`
	RootPath string `json:"root_path"`
}

// Key is an API key, without its secret.
type Key struct {
	ID     string `json:"id"`
	Prefix string `json:"prefix"`
	Name   string `json:"name,omitempty"`
	TeamID string `json:"team_id"`
	// ProjectID is the id of the project the key is bound to, if any.
	ProjectID  string    `json:"project_id,omitempty"`
	Actor      string    `json:"actor,omitempty"`
	Scopes     []string  `json:"scopes"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// KeyList is the answer to GET /v1/admin/api-keys.
type KeyList struct {
	Keys []Key `json:"keys"`
}

// CreateKeyRequest is the body of POST /v1/admin/api-keys.
type CreateKeyRequest struct {
	// Team defaults to the caller's.
	Team string `json:"team"`
	// Project, a project's id or name in Team, binds the key to it.
	Project string   `json:"project"`
	Scopes  []string `json:"scopes"`
	Name    string   `json:"name"`
	// Actor is who the key's requests are attributed to; default: Name.
	Actor string `json:"actor"`
	// ExpiresIn ("30d", "12h") or ExpiresAt make the key expire.
	ExpiresIn string    `json:"expires_in"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// CreatedKey is the answer to POST /v1/admin/api-keys: the key and its
// secret, which the server shows this once.
type CreatedKey struct {
	Key    Key    `json:"key"`
	Secret string `json:"secret"`
}

// AdminListOptions are the query parameters of the admin lists. A nil
// *AdminListOptions lists the caller's team.
type AdminListOptions struct {
	// Team lists another team; it needs the * scope.
	Team string
}

func (o *AdminListOptions) values() url.Values {
	if o == nil || o.Team == "" {
		return nil
	}
	return url.Values{"team": {o.Team}}
}

// ListTeams is GET /v1/admin/teams: every team for a * key, else the
// caller's.
func (c *Client) ListTeams(ctx context.Context) (*TeamList, error) {
	var out TeamList
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/admin/teams"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateTeam is POST /v1/admin/teams. It needs the * scope; an existing
// id is a 409.
func (c *Client) CreateTeam(ctx context.Context, req CreateTeamRequest) (*Team, error) {
	var out Team
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/admin/teams", body: req}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAdminProjects is GET /v1/admin/projects. opts may be nil.
func (c *Client) ListAdminProjects(ctx context.Context, opts *AdminListOptions) (*ProjectList, error) {
	var out ProjectList
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/admin/projects", query: opts.values()}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateAdminProject is POST /v1/admin/projects: a project of any team the
// caller administers. created is false when the team already had it.
func (c *Client) CreateAdminProject(ctx context.Context, req CreateAdminProjectRequest) (p *Project, created bool, err error) {
	var out Project
	status, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/admin/projects", body: req}, &out)
	if err != nil {
		return nil, false, err
	}
	return &out, status == http.StatusCreated, nil
}

// ListAPIKeys is GET /v1/admin/api-keys. opts may be nil.
func (c *Client) ListAPIKeys(ctx context.Context, opts *AdminListOptions) (*KeyList, error) {
	var out KeyList
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/admin/api-keys", query: opts.values()}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateAPIKey is POST /v1/admin/api-keys. Keep the secret: it is not
// shown again.
func (c *Client) CreateAPIKey(ctx context.Context, req CreateKeyRequest) (*CreatedKey, error) {
	var out CreatedKey
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/admin/api-keys", body: req}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RevokeAPIKey is POST /v1/admin/api-keys/{id}/revoke; the key is refused
// (401) from then on.
func (c *Client) RevokeAPIKey(ctx context.Context, id string) (*Key, error) {
	var out Key
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/admin/api-keys/" + escape(id) + "/revoke"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	ID        int64     `json:"id"`
	Time      time.Time `json:"time"`
	Actor     string    `json:"actor"`
	KeyID     string    `json:"key_id,omitempty"`
	TeamID    string    `json:"team_id"`
	ProjectID int64     `json:"project_id,omitempty"`
	// Action is "search", "memory.write", "key.create", …
	Action    string `json:"action"`
	Resource  string `json:"resource,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Status    int    `json:"status,omitempty"`
	// MemoryIDs are the memories a read returned: "obs:12", "sum:3",
	// "prompt:7".
	MemoryIDs []string `json:"memory_ids"`
}

// AuditPage is the answer to GET /v1/audit, newest first. NextBefore, when
// not 0, is the AuditQuery.Before of the next page.
type AuditPage struct {
	Entries    []AuditEntry `json:"entries"`
	NextBefore int64        `json:"next_before,omitempty"`
}

// AuditQuery filters and pages GET /v1/audit. A nil *AuditQuery is the
// first page of the caller's team.
type AuditQuery struct {
	Action string
	// KeyID is an API key's id.
	KeyID string
	Actor string
	// Since and Until bound the entries' time.
	Since time.Time
	Until time.Time
	// Before is AuditPage.NextBefore, to read the next page.
	Before int64
	// Limit is the page size (0: the server's default).
	Limit int
	// Team reads another team's log; it needs the * scope.
	Team string
}

func (q *AuditQuery) values() url.Values {
	v := url.Values{}
	if q == nil {
		return v
	}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("action", q.Action)
	set("key", q.KeyID)
	set("actor", q.Actor)
	set("team", q.Team)
	if !q.Since.IsZero() {
		v.Set("since", strconv.FormatInt(q.Since.UnixMilli(), 10))
	}
	if !q.Until.IsZero() {
		v.Set("until", strconv.FormatInt(q.Until.UnixMilli(), 10))
	}
	if q.Before > 0 {
		v.Set("before", strconv.FormatInt(q.Before, 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// Audit is GET /v1/audit: the audit log, filtered and paged. It needs the
// admin scope.
func (c *Client) Audit(ctx context.Context, q *AuditQuery) (*AuditPage, error) {
	var out AuditPage
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/audit", query: q.values()}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
