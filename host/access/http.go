package access

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/claude-mem/claude-mem-server/host/audit"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

// API serves the admin routes and the audit log; see Routes for their
// scopes.
type API struct {
	Admin *Admin
	// Audit is the log GET /v1/audit reads; nil answers 404.
	Audit *audit.Log
}

// TeamList answers GET /v1/admin/teams.
type TeamList struct {
	Teams []Team `json:"teams"`
}

// ProjectList answers GET /v1/admin/projects.
type ProjectList struct {
	Projects []Project `json:"projects"`
}

// KeyList answers GET /v1/admin/api-keys.
type KeyList struct {
	Keys []Key `json:"keys"`
}

// AuditPage answers GET /v1/audit. NextBefore, when not 0, is the before=
// of the next page.
type AuditPage struct {
	Entries    []audit.Entry `json:"entries"`
	NextBefore int64         `json:"next_before,omitempty"`
}

// Mount adds the admin routes and GET /v1/audit to r.
func (api *API) Mount(r chi.Router) {
	r.Get("/v1/admin/teams", api.listTeams)
	r.Post("/v1/admin/teams", api.createTeam)
	r.Get("/v1/admin/projects", api.listProjects)
	r.Post("/v1/admin/projects", api.createProject)
	r.Get("/v1/admin/api-keys", api.listKeys)
	r.Post("/v1/admin/api-keys", api.createKey)
	r.Post("/v1/admin/api-keys/{id}/revoke", api.revokeKey)
	r.Get("/v1/audit", api.listAudit)
}

// caller returns the request's principal; the middleware always sets one
// on these routes, and its absence is answered as a missing credential.
func caller(w http.ResponseWriter, r *http.Request) (auth.Principal, bool) {
	p, ok := PrincipalFrom(r.Context())
	if !ok {
		httpapi.WriteError(w, r, http.StatusUnauthorized, CodeUnauthenticated, "not authenticated")
	}
	return p, ok
}

// WriteAdminErr answers an error of Admin.
func WriteAdminErr(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		httpapi.WriteError(w, r, http.StatusNotFound, httpapi.CodeNotFound, err.Error())
	case errors.Is(err, ErrForbidden):
		httpapi.WriteError(w, r, http.StatusForbidden, CodeForbidden, err.Error())
	case errors.Is(err, ErrInvalid):
		httpapi.WriteError(w, r, http.StatusBadRequest, httpapi.CodeBadRequest, err.Error())
	case errors.Is(err, ErrConflict):
		httpapi.WriteError(w, r, http.StatusConflict, "conflict", err.Error())
	default:
		httpapi.WriteErr(w, r, err)
	}
}

func (api *API) listTeams(w http.ResponseWriter, r *http.Request) {
	p, ok := caller(w, r)
	if !ok {
		return
	}
	teams, err := api.Admin.Teams(r.Context(), p)
	if err != nil {
		WriteAdminErr(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, TeamList{Teams: teams})
}

func (api *API) createTeam(w http.ResponseWriter, r *http.Request) {
	p, ok := caller(w, r)
	if !ok {
		return
	}
	var req CreateTeamRequest
	if !httpapi.DecodeJSON(w, r, &req) {
		return
	}
	t, err := api.Admin.CreateTeam(r.Context(), p, req)
	if err != nil {
		WriteAdminErr(w, r, err)
		return
	}
	audit.Annotate(r.Context(), audit.Resource("team:"+t.ID), audit.Team(t.ID))
	httpapi.WriteJSON(w, http.StatusCreated, t)
}

func (api *API) listProjects(w http.ResponseWriter, r *http.Request) {
	p, ok := caller(w, r)
	if !ok {
		return
	}
	projects, err := api.Admin.Projects(r.Context(), p, r.URL.Query().Get("team"))
	if err != nil {
		WriteAdminErr(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, ProjectList{Projects: projects})
}

func (api *API) createProject(w http.ResponseWriter, r *http.Request) {
	p, ok := caller(w, r)
	if !ok {
		return
	}
	var req CreateProjectRequest
	if !httpapi.DecodeJSON(w, r, &req) {
		return
	}
	proj, created, err := api.Admin.CreateProject(r.Context(), p, req)
	if err != nil {
		WriteAdminErr(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		audit.Annotate(r.Context(), audit.Resource("project:"+strconv.FormatInt(proj.ID, 10)), audit.Team(proj.TeamID), audit.Project(proj.ID))
	} else {
		audit.Annotate(r.Context(), audit.Action("")) // nothing changed
	}
	httpapi.WriteJSON(w, status, proj)
}

func (api *API) listKeys(w http.ResponseWriter, r *http.Request) {
	p, ok := caller(w, r)
	if !ok {
		return
	}
	keys, err := api.Admin.Keys(r.Context(), p, r.URL.Query().Get("team"))
	if err != nil {
		WriteAdminErr(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, KeyList{Keys: keys})
}

func (api *API) createKey(w http.ResponseWriter, r *http.Request) {
	p, ok := caller(w, r)
	if !ok {
		return
	}
	var req CreateKeyRequest
	if !httpapi.DecodeJSON(w, r, &req) {
		return
	}
	k, err := api.Admin.CreateKey(r.Context(), p, req)
	if err != nil {
		WriteAdminErr(w, r, err)
		return
	}
	audit.Annotate(r.Context(), audit.Resource("key:"+k.Key.ID), audit.Team(k.Key.TeamID), audit.Project(projectID(k.Key.ProjectID)))
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteJSON(w, http.StatusCreated, k)
}

func (api *API) revokeKey(w http.ResponseWriter, r *http.Request) {
	p, ok := caller(w, r)
	if !ok {
		return
	}
	id := chi.URLParam(r, "id")
	k, err := api.Admin.RevokeKey(r.Context(), p, id)
	if err != nil {
		WriteAdminErr(w, r, err)
		return
	}
	audit.Annotate(r.Context(), audit.Resource("key:"+id), audit.Team(k.TeamID), audit.Project(projectID(k.ProjectID)))
	httpapi.WriteJSON(w, http.StatusOK, k)
}

// listAudit is GET /v1/audit?action=&key=&actor=&since=&until=&before=&limit=&team=.
// since and until are RFC 3339 times or epoch milliseconds.
func (api *API) listAudit(w http.ResponseWriter, r *http.Request) {
	p, ok := caller(w, r)
	if !ok {
		return
	}
	if api.Audit == nil {
		httpapi.WriteError(w, r, http.StatusNotFound, httpapi.CodeNotFound, "this server keeps no audit log")
		return
	}
	q := r.URL.Query()
	f := audit.Filter{Action: q.Get("action"), KeyID: q.Get("key"), Actor: q.Get("actor")}
	var err error
	if f.Since, err = parseTime(q.Get("since")); err != nil {
		httpapi.WriteError(w, r, http.StatusBadRequest, httpapi.CodeBadRequest, "since: "+err.Error())
		return
	}
	if f.Until, err = parseTime(q.Get("until")); err != nil {
		httpapi.WriteError(w, r, http.StatusBadRequest, httpapi.CodeBadRequest, "until: "+err.Error())
		return
	}
	if f.Before, ok = nonNegative(w, r, "before"); !ok {
		return
	}
	limit, ok := nonNegative(w, r, "limit")
	if !ok {
		return
	}
	f.Limit = int(min(limit, audit.MaxLimit+1))
	team := q.Get("team")
	switch {
	case team == "" && p.Has(auth.ScopeAll):
		// every team
	case team == "" || team == p.TeamID:
		f.TeamID = p.TeamID
	case p.Has(auth.ScopeAll):
		f.TeamID = team
	default:
		httpapi.WriteError(w, r, http.StatusNotFound, httpapi.CodeNotFound, "no team "+strconv.Quote(team))
		return
	}
	if bound, ok := boundProject(p); ok {
		f.ProjectID = bound
	}
	if err := api.Audit.Flush(r.Context()); err != nil {
		httpapi.WriteErr(w, r, err)
		return
	}
	entries, next, err := api.Audit.Query(r.Context(), f)
	if errors.Is(err, audit.ErrBadFilter) {
		httpapi.WriteError(w, r, http.StatusBadRequest, httpapi.CodeBadRequest, err.Error())
		return
	}
	if err != nil {
		httpapi.WriteErr(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, AuditPage{Entries: entries, NextBefore: next})
}

// projectID parses a key's project binding; 0 when there is none.
func projectID(s string) int64 {
	id, _ := strconv.ParseInt(s, 10, 64)
	return id
}

// nonNegative reads an optional integer query parameter.
func nonNegative(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		httpapi.WriteError(w, r, http.StatusBadRequest, httpapi.CodeBadRequest, name+" must be a non-negative integer")
		return 0, false
	}
	return n, true
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errors.New("want an RFC 3339 time or epoch milliseconds")
	}
	return t, nil
}
