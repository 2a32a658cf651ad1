// Package restapi serves the REST v1 routes of the public surface that
// read and manage memory: projects, sessions, search, context packs,
// memories with their history (supersede, as_of), forget, and generation
// jobs. The write path (sessions/start, events, hooks) is host/pipeline's.
//
// Every handler scopes its rows to the caller's team (access.TeamOf) and,
// for a key bound to a project, to that project (access.ProjectAllowed,
// access.ProjectFilter): rows of another team or project are answered
// 404, never 403. Writes aimed at another project by a bound key are 403,
// as in the write path. Reads annotate their audit entry with the memories
// they returned (audit.Annotate).
//
// Memories are observations. A manual memory (POST /v1/memories) is an
// observation of type "manual" in its project's manual session; it never
// causes generation. Supersede keeps history (migration 0006): the old row
// gets valid_to and superseded_by, and only current rows are searched.
package restapi

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/hashicorp/go-hclog"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/jobs"
	"github.com/claude-mem/claude-mem-server/host/privacy"
	"github.com/claude-mem/claude-mem-server/host/store"
)

// Error codes of this package, on top of httpapi's.
const (
	CodeForbidden  = "forbidden"
	CodeConflict   = "conflict"
	CodeInvalid    = "invalid_request"
	CodeSuperseded = "superseded"
)

// Options configure the API.
type Options struct {
	Store *store.Store
	// Jobs is the outbox, for job retries.
	Jobs *jobs.Service
	// Privacy strips and redacts the text of manual memories; nil stores
	// it as sent.
	Privacy *privacy.Filter
	Logger  hclog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// API is the REST v1 memory API.
type API struct {
	opts Options
	log  hclog.Logger
}

// New returns the API.
func New(opts Options) *API {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &API{opts: opts, log: opts.Logger}
}

// Mount adds the routes to r. Their scopes are declared in access.Routes.
func (a *API) Mount(r chi.Router) {
	r.Get("/v1/projects", a.listProjects)
	r.Post("/v1/projects", a.createProject)
	r.Get("/v1/projects/{id}", a.getProject)
	r.Get("/v1/sessions/{id}", a.getSession)
	r.Post("/v1/search", a.search)
	r.Post("/v1/context", a.context)
	r.Post("/v1/memories", a.createMemory)
	r.Get("/v1/memories/{id}", a.getMemory)
	r.Patch("/v1/memories/{id}", a.patchMemory)
	r.Post("/v1/memories/{id}/supersede", a.supersede)
	r.Post("/v1/forget", a.forget)
	r.Post("/v1/reindex", a.reindex)
	r.Get("/v1/jobs/{id}", a.getJob)
	r.Post("/v1/jobs/{id}/retry", a.retryJob)
}

func (a *API) now() time.Time { return a.opts.Now().UTC() }

// team resolves the caller's team, answering the error itself.
func team(w http.ResponseWriter, r *http.Request) (string, bool) {
	t, err := access.TeamOf(r)
	if err != nil {
		httpapi.WriteError(w, r, http.StatusForbidden, CodeForbidden, err.Error())
		return "", false
	}
	return t, true
}

// teamAndID is the preamble of the routes on one row: the caller's team
// and the {id} path parameter, answering the error itself.
func teamAndID(w http.ResponseWriter, r *http.Request, what string) (string, int64, bool) {
	tm, ok := team(w, r)
	if !ok {
		return "", 0, false
	}
	id, ok := httpapi.PathID(w, r, what)
	return tm, id, ok
}

func notFound(w http.ResponseWriter, r *http.Request, format string, args ...any) {
	httpapi.WriteError(w, r, http.StatusNotFound, httpapi.CodeNotFound, fmt.Sprintf(format, args...))
}

func invalid(w http.ResponseWriter, r *http.Request, format string, args ...any) {
	httpapi.WriteError(w, r, http.StatusBadRequest, CodeInvalid, fmt.Sprintf(format, args...))
}

func (a *API) internal(w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, context.Canceled) {
		a.log.Error("request failed", "path", r.URL.Path, "request_id", httpapi.RequestID(r.Context()), "error", err)
	}
	httpapi.WriteErr(w, r, err)
}

// parseTime reads an RFC 3339 time; "" is zero.
func parseTime(s, field string) (time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("%s=%q is not an RFC 3339 time (2026-05-01T12:00:00Z)", field, s)
	}
	return t, nil
}

// fromEpoch turns epoch milliseconds into a time; NULL is nil.
func fromEpoch(ms sql.NullInt64) *time.Time {
	if !ms.Valid {
		return nil
	}
	t := time.UnixMilli(ms.Int64).UTC()
	return &t
}

// Handler returns the API's routes on a router of their own, for callers
// in the host that serve the same operations another way (host/mcpserver
// dispatches its tools to it in process, with the caller's context).
func (a *API) Handler() http.Handler {
	r := chi.NewRouter()
	a.Mount(r)
	return r
}

type memoryTypeKey struct{}

// WithMemoryType returns ctx under which POST /v1/memories stores its
// memory with observation type typ instead of TypeManual (host/mcpserver's
// memory_record_decision stores "decision").
func WithMemoryType(ctx context.Context, typ string) context.Context {
	return context.WithValue(ctx, memoryTypeKey{}, typ)
}

func memoryType(ctx context.Context) string {
	if t, ok := ctx.Value(memoryTypeKey{}).(string); ok && t != "" {
		return t
	}
	return TypeManual
}
