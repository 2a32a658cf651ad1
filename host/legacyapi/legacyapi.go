// Package legacyapi serves the TypeScript claude-mem worker's /api routes
// (behaviour §2 and §12) with their exact request and response shapes, so
// that claude-mem's hooks, MCP server, skills and viewer work against this
// server unchanged.
//
// The write routes (/api/sessions/init, /api/sessions/observations and
// /api/sessions/summarize) map their bodies onto AgentEvents and write them
// through the same pipeline as /v1/events and /v1/hooks: privacy filtering,
// skip rules, idempotency, the outbox and the generation jobs are the ones
// of the /v1 routes. The read routes read the same store.
//
// # Liveness
//
// Every claude-mem hook probes GET /api/health and GET /api/readiness before
// it calls anything (behaviour §1.5). /api/health never sends a "version":
// claude-mem compares that field with its own plugin version and, on a
// mismatch, SIGKILLs the process named in worker.pid and spawns its own
// worker. Without the field the hooks treat the server as current.
//
// # Transport
//
// CORS follows claude-mem (§2.1): a request may come without an Origin (hooks,
// curl), or with one on http://localhost:<port> or http://127.0.0.1:<port>,
// which is echoed; any other origin is refused with 403. OPTIONS answers
// 204. Errors are {"error": "..."}; a body that fails validation is
// {"error": "ValidationError", "issues": [{path, message, code}]}.
package legacyapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/hashicorp/go-hclog"

	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/pipeline"
	"github.com/claude-mem/claude-mem-server/host/privacy"
	"github.com/claude-mem/claude-mem-server/host/store"
)

// ContextRequest asks for the SessionStart context of GET
// /api/context/inject.
type ContextRequest struct {
	TeamID string
	// Projects are the projects to draw from, the primary one last (a
	// worktree sends its parent, then itself).
	Projects []string
	// PlatformSource keeps the memory of one platform; empty is all.
	PlatformSource string
	// Full lifts the count limits (claude-mem's full=true).
	Full bool
	// Colors asks for the ANSI terminal format (colors=true).
	Colors bool
}

// ContextFunc renders the context text; "" is no context.
type ContextFunc func(ctx context.Context, req ContextRequest) (string, error)

// Options configure the legacy API.
type Options struct {
	// Store is the host store. Required.
	Store *store.Store
	// Pipeline writes the events of the write routes. Required.
	Pipeline *pipeline.Pipeline
	// Privacy strips and redacts what /api/memory/save stores, and cleans
	// prompts for the duplicate check of /api/sessions/init. Required.
	Privacy *privacy.Filter
	// Team returns the team a request acts for. Default: memory.LocalTeam.
	Team func(r *http.Request) (string, error)
	// Status reports the server's health for /api/health: "ok" or
	// "degraded". Default: always "ok".
	Status func(ctx context.Context) string
	// Context renders /api/context/inject. Default: no context (an empty
	// text/plain body, which claude-mem's hooks accept).
	Context ContextFunc
	// Version is the server version, reported by /api/version and
	// /api/stats (never by /api/health; see the package doc).
	Version string
	// Runtime names this implementation in /api/health.
	Runtime string
	// StartedAt is when the server started. Default: when New ran.
	StartedAt time.Time
	Logger    hclog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// API serves the legacy routes.
type API struct {
	opts Options
	log  hclog.Logger
}

// New checks opts and returns the API.
func New(opts Options) (*API, error) {
	if opts.Store == nil || opts.Pipeline == nil || opts.Privacy == nil {
		return nil, errors.New("legacyapi: Store, Pipeline and Privacy are required")
	}
	if opts.Team == nil {
		opts.Team = func(*http.Request) (string, error) { return memory.LocalTeam, nil }
	}
	if opts.Status == nil {
		opts.Status = func(context.Context) string { return "ok" }
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.StartedAt.IsZero() {
		opts.StartedAt = opts.Now()
	}
	return &API{opts: opts, log: opts.Logger}, nil
}

// Mount adds /health and the /api routes to r.
func (a *API) Mount(r chi.Router) {
	r.With(cors).Get("/health", a.rootHealth)
	r.With(cors).Options("/health", preflight)
	r.Route("/api", func(r chi.Router) {
		r.Use(cors)
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodOptions {
				preflight(w, r)
				return
			}
			writeError(w, http.StatusNotFound, "Not found: "+r.Method+" "+r.URL.Path)
		})
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodOptions {
				preflight(w, r)
				return
			}
			writeError(w, http.StatusNotFound, "Not found: "+r.Method+" "+r.URL.Path)
		})

		r.Get("/health", a.health)
		r.Get("/readiness", a.readiness)
		r.Get("/version", a.version)

		r.Post("/sessions/init", a.sessionInit)
		r.Post("/sessions/observations", a.sessionObservation)
		r.Post("/sessions/summarize", a.sessionSummarize)
		r.Post("/memory/save", a.memorySave)

		r.Get("/context/inject", a.contextInject)
		r.Post("/context/semantic", a.contextSemantic)
		r.Get("/observations/by-file", a.observationsByFile)
		r.Post("/observations/batch", a.observationsBatch)
		r.Get("/search", a.search)
		r.Get("/timeline", a.timeline)
		r.Get("/projects", a.projects)
		r.Get("/stats", a.stats)
	})
}

// Allowed CORS origins: claude-mem's viewer and local tools.
var originPrefixes = []string{"http://localhost:", "http://127.0.0.1:"}

// cors applies claude-mem's CORS rule (behaviour §2.1).
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" {
			allowed := false
			for _, p := range originPrefixes {
				allowed = allowed || strings.HasPrefix(origin, p)
			}
			w.Header().Add("Vary", "Origin")
			if !allowed {
				writeJSON(w, http.StatusForbidden, map[string]string{"error": "Forbidden", "message": "CORS: origin " + origin + " is not allowed; use http://localhost:<port> or http://127.0.0.1:<port>"})
				return
			}
			w.Header().Set("Access-Control-Allow-Origin", origin)
		}
		if r.Method == http.MethodOptions {
			preflight(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// preflight answers OPTIONS.
func preflight(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Access-Control-Allow-Methods", "GET,HEAD,POST,PUT,PATCH,DELETE")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type,Authorization,X-Requested-With")
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
}

// writeJSON writes v as claude-mem's Express does: no HTML escaping.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// errorBody is claude-mem's error shape.
type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// issue is one validation failure, zod's shape.
type issue struct {
	Path    []string `json:"path"`
	Message string   `json:"message"`
	Code    string   `json:"code"`
}

type validationBody struct {
	Error  string  `json:"error"`
	Issues []issue `json:"issues"`
}

func writeValidation(w http.ResponseWriter, issues ...issue) {
	writeJSON(w, http.StatusBadRequest, validationBody{Error: "ValidationError", Issues: issues})
}

func required(field string) issue {
	return issue{Path: []string{field}, Message: field + " is required", Code: "invalid_type"}
}

// internal answers an unexpected failure: 500, detail in the log.
func (a *API) internal(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Error("legacy api", "method", r.Method, "path", r.URL.Path, "error", err)
	writeError(w, http.StatusInternalServerError, "internal error; see the server log")
}

// team resolves the request's team, answering 403 itself.
func (a *API) team(w http.ResponseWriter, r *http.Request) (string, bool) {
	t, err := a.opts.Team(r)
	if err != nil {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "Forbidden", "message": err.Error()})
		return "", false
	}
	return t, true
}

// decodeBody reads a JSON object body leniently, as Express does: unknown
// fields are ignored. An empty body is an empty object.
func decodeBody(w http.ResponseWriter, r *http.Request, dst any) bool {
	dec := json.NewDecoder(r.Body)
	err := dec.Decode(dst)
	if err == nil || errors.Is(err, io.EOF) {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, http.StatusRequestEntityTooLarge, "request entity too large")
		return false
	}
	writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
	return false
}

// platformFrom reads the platform source where claude-mem looks for it
// (behaviour §1.8): query platformSource, query platform_source, the body's
// fields (given), header x-platform-source, header
// x-claude-mem-platform-source. Empty when none is given.
func platformFrom(r *http.Request, body ...string) string {
	q := r.URL.Query()
	candidates := append([]string{q.Get("platformSource"), q.Get("platform_source")}, body...)
	candidates = append(candidates, r.Header.Get("X-Platform-Source"), r.Header.Get("X-Claude-Mem-Platform-Source"))
	for _, c := range candidates {
		if strings.TrimSpace(c) != "" {
			return pipeline.NormalizePlatform(c)
		}
	}
	return ""
}

// csv splits a comma list, dropping empty parts.
func csv(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
