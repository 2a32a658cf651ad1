package server

import (
	"context"
	"time"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/audit"
	"github.com/claude-mem/claude-mem-server/host/contextpack"
	"github.com/claude-mem/claude-mem-server/host/legacyapi"
	"github.com/claude-mem/claude-mem-server/host/pipeline"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

// contextTimeout bounds building a context: a hook waits for it, and
// without it the hook still works.
const contextTimeout = 2 * time.Second

// hookContext is the pipeline's context seam: the SessionStart pack of the
// session's project, and the memory relevant to a prompt. Other events get
// none.
func (s *Server) hookContext(ctx context.Context, req pipeline.ContextRequest) (string, error) {
	projects := hookProjects(req)
	if _, bound := access.BoundProject(ctx); bound {
		// A key bound to one project sees that project's memory only, not
		// a worktree parent's.
		projects = []string{req.Session.Project}
	}
	pack := contextpack.Request{TeamID: req.TeamID, Projects: projects}
	switch req.Event.Type {
	case event.TypeSessionStart:
		pack.MaxTokens = s.opts.Config.Context.MaxTokens
	case event.TypeUserPrompt:
		if req.Event.Text == "" || req.Event.Metadata["skip"] == "true" || s.opts.Config.Context.PromptMaxTokens == 0 {
			return "", nil // private, or not typed by the user
		}
		pack.Prompt, pack.MaxTokens = req.Event.Text, s.opts.Config.Context.PromptMaxTokens
	default:
		return "", nil
	}
	ctx, cancel := context.WithTimeout(ctx, contextTimeout)
	defer cancel()
	p, err := contextpack.Build(ctx, s.store.Reader(), pack)
	if err != nil || (p.Empty && pack.Prompt != "") {
		return "", err
	}
	auditServed(ctx, p)
	return p.Text, nil
}

// auditServed records which memories a context pack handed out, so it is
// known what was recalled and by whom.
func auditServed(ctx context.Context, p contextpack.Pack) {
	ids := make([]string, 0, len(p.Observations)+len(p.Summaries))
	for _, id := range p.Observations {
		ids = append(ids, audit.MemoryID(audit.KindObservation, id))
	}
	for _, id := range p.Summaries {
		ids = append(ids, audit.MemoryID(audit.KindSummary, id))
	}
	audit.Annotate(ctx, audit.Memories(ids...))
}

// hookProjects are the projects a session's context draws from: a
// worktree's parent, then the session's own project (the header names the
// last), as claude-mem reads them.
func hookProjects(req pipeline.ContextRequest) []string {
	var out []string
	if parent := req.Event.Metadata["project_parent"]; parent != "" && parent != req.Session.Project {
		out = append(out, parent)
	}
	if req.Session.Project != "" {
		out = append(out, req.Session.Project)
	}
	return out
}

// legacyContext renders GET /api/context/inject: as the SessionStart hook
// context, for the projects and platform claude-mem's hook names. full
// lifts the counts and the budget. The ANSI terminal format (colors=true)
// is not rendered: the agent format is returned for it too.
func (s *Server) legacyContext(ctx context.Context, req legacyapi.ContextRequest) (string, error) {
	pack := contextpack.Request{TeamID: req.TeamID, Projects: req.Projects, PlatformSource: req.PlatformSource, MaxTokens: s.opts.Config.Context.MaxTokens}
	if req.Full {
		pack.MaxObservations, pack.MaxSummaries, pack.MaxTokens = contextpack.MaxItems, contextpack.MaxItems, 0
	}
	ctx, cancel := context.WithTimeout(ctx, contextTimeout)
	defer cancel()
	p, err := contextpack.Build(ctx, s.store.Reader(), pack)
	if err != nil {
		return "", err
	}
	auditServed(ctx, p)
	return p.Text, nil
}
