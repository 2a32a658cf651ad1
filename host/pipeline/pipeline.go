// Package pipeline is the memory write path and the generation worker.
//
// Every write goes through the same steps: validate, normalize (through an
// adapter plugin for hooks, or the generic AgentEvent JSON of /v1/events),
// strip private blocks and redact secrets, store the event and its
// generation job in one SQLite transaction, enqueue the job after the
// commit, and answer with the IDs. Event IDs and job IDs are derived from
// the event's idempotency key, so a repeated post is a no-op that answers
// with the original IDs.
//
// The worker handles two job kinds: observe (a batch of a session's pending
// tool events becomes observations) and summarize (a turn becomes a session
// summary). Jobs carry IDs only; the worker loads content from SQLite.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/hashicorp/go-hclog"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/jobs"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/privacy"
	"github.com/claude-mem/claude-mem-server/host/provider"
	"github.com/claude-mem/claude-mem-server/host/store"
	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

// ErrProjectForbidden is returned when a request's key is bound to another
// project than the one its event belongs to; it is answered with 403.
var ErrProjectForbidden = errors.New("pipeline: this key is bound to another project than the event's")

// projectAllowed applies Options.Project.
func (p *Pipeline) projectAllowed(ctx context.Context, projectID int64) bool {
	return p.opts.Project == nil || p.opts.Project(ctx, projectID)
}

// ErrUnknownAdapter is what Options.Adapter returns (wrapped) for a source
// no adapter serves.
var ErrUnknownAdapter = errors.New("pipeline: no adapter for this source")

// ContextRequest asks for the memory context a hook should hand back to its
// agent (SessionStart, UserPromptSubmit).
type ContextRequest struct {
	TeamID string
	// HookEvent is the agent's own event name.
	HookEvent string
	// Event is the normalized, privacy-filtered event.
	Event   event.AgentEvent
	Session memory.Session
}

// ContextFunc returns the context text for a hook reply, or "" for none.
// Context injection is a later issue; this is its seam.
type ContextFunc func(ctx context.Context, req ContextRequest) (string, error)

// Options configure a Pipeline.
type Options struct {
	// Store is the host store holding memory and the outbox. Required.
	Store *store.Store
	// Jobs dispatches jobs after their transaction committed. Required for
	// the HTTP routes; the job handlers do not use it.
	Jobs *jobs.Service
	// Adapter returns the adapter plugin serving a source; an unknown
	// source is an error wrapping ErrUnknownAdapter.
	Adapter func(source string) (adapter.Adapter, error)
	// Provider generates observations and summaries. Required for the job
	// handlers.
	Provider provider.Provider
	// Privacy is the privacy filter. Required.
	Privacy *privacy.Filter
	// Generation bounds the worker: BatchSize and Timeout are used.
	Generation config.Generation
	// Team returns the team a request acts for. Default: memory.LocalTeam
	// for every request (auth and teams are a later issue).
	Team func(r *http.Request) (string, error)
	// Project reports whether the request (its context) may read and
	// write rows of a project of its team: a key bound to one project may
	// touch no other (access.ProjectAllowed). Default: every project.
	Project func(ctx context.Context, projectID int64) bool
	// Context supplies the context of hook replies. Default: none.
	Context ContextFunc
	// MaxAttempts and Backoff are the retry policy of generation jobs.
	// Defaults: 3 and 5s, as claude-mem's server.
	MaxAttempts int
	Backoff     time.Duration
	Logger      hclog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Pipeline is the write path and the generation worker.
type Pipeline struct {
	opts Options
	log  hclog.Logger
}

// New checks opts and returns a Pipeline.
func New(opts Options) (*Pipeline, error) {
	if opts.Store == nil || opts.Privacy == nil {
		return nil, errors.New("pipeline: Store and Privacy are required")
	}
	if opts.Team == nil {
		opts.Team = func(*http.Request) (string, error) { return memory.LocalTeam, nil }
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 3
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 5 * time.Second
	}
	if opts.Generation.BatchSize <= 0 {
		opts.Generation.BatchSize = config.DefaultBatchSize
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Pipeline{opts: opts, log: opts.Logger}, nil
}

// Mount adds the write routes to r.
func (p *Pipeline) Mount(r chi.Router) {
	r.Post("/v1/sessions/start", p.startSession)
	r.Post("/v1/sessions/{id}/end", p.endSession)
	r.Post("/v1/events", p.postEvent)
	r.Post("/v1/events/batch", p.postBatch)
	r.Get("/v1/events/{id}", p.getEvent)
	r.Post("/v1/hooks/{adapter}/{event}", p.postHook)
}

// Register registers the job handlers with handle (server.Handle).
func (p *Pipeline) Register(handle func(kind string, h jobs.Handler)) {
	handle(KindObserve, p.Observe)
	handle(KindSummarize, p.Summarize)
}

func (p *Pipeline) now() time.Time { return p.opts.Now().UTC() }

func (p *Pipeline) requireProvider() error {
	if p.opts.Provider == nil {
		return jobs.Permanent(fmt.Errorf("pipeline: no generation provider configured"))
	}
	return nil
}
