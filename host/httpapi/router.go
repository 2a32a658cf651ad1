package httpapi

import (
	"context"
	"net/http"
	"runtime/debug"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/hashicorp/go-hclog"
)

// Deps are what the host's own routes read.
type Deps struct {
	// Info builds the /v1/info document.
	Info func(ctx context.Context) Info
	// Health answers /healthz. It is probed often (container healthchecks),
	// so it should check only what decides ok or degraded. Nil means: take
	// the status from Info.
	Health func(ctx context.Context) Health
	// MaxBodyBytes bounds every request body.
	MaxBodyBytes int64
	Logger       hclog.Logger
	// Middleware runs on every request after the host's own (request ID,
	// panic recovery, body limit) and before routing: authentication and
	// authorization (host/access).
	Middleware []func(http.Handler) http.Handler
}

// NewRouter returns the router with the host's routes. Later packages mount
// theirs on it.
func NewRouter(d Deps) chi.Router {
	if d.Logger == nil {
		d.Logger = hclog.NewNullLogger()
	}
	r := chi.NewRouter()
	r.Use(middleware.RequestID, requestIDHeader, recoverer(d.Logger), bodyLimit(d.MaxBodyBytes))
	r.Use(d.Middleware...)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, http.StatusNotFound, CodeNotFound, "no route for "+r.Method+" "+r.URL.Path)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, http.StatusMethodNotAllowed, CodeMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path)
	})
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if d.Health != nil {
			WriteJSON(w, http.StatusOK, d.Health(r.Context()))
			return
		}
		info := d.Info(r.Context())
		WriteJSON(w, http.StatusOK, Health{Status: info.Status, Runtime: info.Runtime})
	})
	r.Get("/v1/info", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, d.Info(r.Context()))
	})
	return r
}

// RequestID returns the request's ID.
func RequestID(ctx context.Context) string { return middleware.GetReqID(ctx) }

// requestIDHeader echoes the request ID so clients can quote it.
func requestIDHeader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", RequestID(r.Context()))
		next.ServeHTTP(w, r)
	})
}

// recoverer turns a panic into a logged 500 with a JSON body. A panic is a
// bug; the stack goes to the log, not to the client.
func recoverer(log hclog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.Error("panic in handler", "request_id", RequestID(r.Context()), "panic", v, "stack", string(debug.Stack()))
					WriteError(w, r, http.StatusInternalServerError, CodeInternal, "internal error; see the server log for request "+RequestID(r.Context()))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// bodyLimit caps request bodies; DecodeJSON turns the overflow into a 413.
func bodyLimit(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n > 0 && r.Body != nil {
				if r.ContentLength > n {
					WriteError(w, r, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "request body exceeds the server limit")
					return
				}
				r.Body = http.MaxBytesReader(w, r.Body, n)
			}
			next.ServeHTTP(w, r)
		})
	}
}
