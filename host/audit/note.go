package audit

import (
	"context"
	"slices"
	"sync"
)

// Note is what a handler adds to its request's audit entry: the access
// middleware writes the entry after the handler returns, from the route's
// declared action and the note.
type Note struct {
	mu        sync.Mutex
	action    string
	resource  string
	teamID    string
	projectID int64
	memoryIDs []string
}

type noteKey struct{}

// WithNote returns a context carrying a fresh note, and the note.
func WithNote(ctx context.Context) (context.Context, *Note) {
	n := &Note{}
	return context.WithValue(ctx, noteKey{}, n), n
}

// Option refines a note.
type Option func(*Note)

// Action replaces the route's declared action (a search served by a
// generic route, say). An action on a route that declares none makes the
// request audited.
func Action(a string) Option { return func(n *Note) { n.action = a } }

// Resource names what the request acted on ("event:12"); the default is
// the request's method and path.
func Resource(r string) Option { return func(n *Note) { n.resource = r } }

// Team records the team the request acted on when it is not the caller's
// (a "*" key managing another team), so that the entry is that team's.
func Team(id string) Option { return func(n *Note) { n.teamID = id } }

// Project records the project the request acted on.
func Project(id int64) Option { return func(n *Note) { n.projectID = id } }

// Memories adds memories the request returned (see MemoryID).
func Memories(ids ...string) Option {
	return func(n *Note) { n.memoryIDs = append(n.memoryIDs, ids...) }
}

// Annotate refines the audit entry of the request ctx belongs to. Without
// a note in ctx (a job, a test) it does nothing.
func Annotate(ctx context.Context, opts ...Option) {
	n, ok := ctx.Value(noteKey{}).(*Note)
	if !ok {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, o := range opts {
		o(n)
	}
}

// Values returns the note's fields.
func (n *Note) Values() (action, resource, teamID string, projectID int64, memoryIDs []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.action, n.resource, n.teamID, n.projectID, slices.Clone(n.memoryIDs)
}
