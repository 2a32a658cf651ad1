package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/claude-mem/claude-mem-server/host/jobs"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/privacy"
	"github.com/claude-mem/claude-mem-server/host/provider"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

// Observe is the handler of observe jobs. It loads the job's tool event and
// the other tool events of the session that are still waiting, up to
// Generation.BatchSize, in order; sends those not skipped to the provider;
// and stores the observations, each under a generation key, while marking
// every event of the batch observed, in one transaction. It is idempotent:
// an event already observed (by this job before a crash, or by an earlier
// job's batch) needs nothing more.
func (p *Pipeline) Observe(ctx context.Context, job jobs.Job) error {
	pl, err := decodePayload(job)
	if err != nil {
		return err
	}
	r := p.opts.Store.Reader()
	ev, err := memory.GetEvent(ctx, r, pl.TeamID, pl.EventID)
	if errors.Is(err, memory.ErrNotFound) {
		return nil // deleted since: nothing to observe
	}
	if err != nil {
		return err
	}
	if ev.ObservedByJob != "" {
		return nil
	}
	sess, err := memory.GetSession(ctx, r, pl.TeamID, ev.SessionID)
	if err != nil {
		return err
	}
	batch, err := memory.PendingToolEvents(ctx, r, sess.ID, ev.ID, p.opts.Generation.BatchSize)
	if err != nil {
		return err
	}
	req := provider.ObserveRequest{Project: sess.Project, SessionID: sess.ContentSessionID, JobID: job.ID}
	var ids, sources []int64
	var agent event.AgentEvent
	turn := 0
	for _, e := range batch {
		ids = append(ids, e.ID)
		ae, tev, keep, err := p.toolEvent(ctx, r, e)
		if err != nil {
			return err
		}
		if !keep {
			continue
		}
		req.Events = append(req.Events, tev)
		sources = append(sources, e.ID)
		turn = max(turn, e.PromptNumber)
		if agent.AgentID == "" && agent.AgentType == "" {
			agent = ae
		}
	}
	var res provider.ObserveResult
	if len(req.Events) > 0 {
		if err := p.requireProvider(); err != nil {
			return err
		}
		if pr, err := memory.GetPrompt(ctx, r, sess.ID, turn); err == nil {
			req.UserRequest = pr.Text
		}
		if res, err = p.callObserve(ctx, req); err != nil {
			return classify(err)
		}
	}
	model := res.Usage.Model
	if model == "" && p.opts.Provider != nil {
		model = p.opts.Provider.Name()
	}
	tokens := discoveryTokens(res)
	createdAt := ev.OccurredAt
	if n := len(batch); n > 0 {
		createdAt = batch[n-1].OccurredAt
	}
	now := p.now()
	return p.opts.Store.Tx(ctx, func(tx *sql.Tx) error {
		if err := memory.MarkObserved(ctx, tx, job.ID, ids, now); err != nil {
			return err
		}
		for i, o := range res.Observations {
			obs := &memory.Observation{
				TeamID: sess.TeamID, ProjectID: sess.ProjectID, SessionID: sess.ID, MemorySessionID: sess.MemorySessionID,
				Project: sess.Project, Type: o.Type, Title: o.Title, Subtitle: o.Subtitle, Facts: o.Facts, Narrative: o.Narrative,
				Concepts: o.Concepts, FilesRead: o.FilesRead, FilesModified: o.FilesModified, PromptNumber: turn,
				DiscoveryTokens: tokens[i], GeneratedByModel: model, AgentType: agent.AgentType, AgentID: agent.AgentID,
				JobID: job.ID, CreatedAt: createdAt, SourceEventIDs: sources,
			}
			if obs.Type == "" {
				obs.Type = "discovery"
			}
			obs.ContentHash = memory.ContentHash(obs.MemorySessionID, obs.Title, obs.Narrative)
			obs.GenerationKey = GenerationKey(job.ID, i, obs.ContentHash)
			if _, _, err := memory.InsertObservation(ctx, tx, obs); err != nil {
				return err
			}
		}
		return nil
	})
}

// toolEvent turns a stored event into what a provider sees, and reports
// whether to send it at all: not for a tool now on the skip list, nor for a
// private turn.
func (p *Pipeline) toolEvent(ctx context.Context, q memory.Querier, e memory.Event) (event.AgentEvent, provider.ToolEvent, bool, error) {
	var ae event.AgentEvent
	if err := json.Unmarshal(e.Payload, &ae); err != nil {
		return ae, provider.ToolEvent{}, false, jobs.Permanent(fmt.Errorf("pipeline: event %d payload: %w", e.ID, err))
	}
	if p.opts.Privacy.SkipTool(e.ToolName) || privacy.SessionMemoryMeta(e.ToolName, ae.ToolInput) {
		return ae, provider.ToolEvent{}, false, nil
	}
	private, err := memory.TurnPrivate(ctx, q, e.SessionID, e.PromptNumber)
	if err != nil || private {
		return ae, provider.ToolEvent{}, false, err
	}
	return ae, provider.ToolEvent{
		ToolName: e.ToolName, Input: string(ae.ToolInput), Output: string(ae.ToolResponse), Cwd: ae.Cwd,
		OccurredAt: e.OccurredAt, PromptNumber: e.PromptNumber,
	}, true, nil
}

// discoveryTokens returns each observation's share of the call's tokens:
// the provider's own split when it made one, else an even split whose
// shares add up to the total.
func discoveryTokens(res provider.ObserveResult) []int64 {
	n := len(res.Observations)
	out := make([]int64, n)
	given := false
	for i, o := range res.Observations {
		out[i] = o.DiscoveryTokens
		given = given || o.DiscoveryTokens != 0
	}
	if given || n == 0 {
		return out
	}
	total := res.Usage.Total()
	for i := range out {
		out[i] = total / int64(n)
	}
	out[0] += total % int64(n)
	return out
}

func (p *Pipeline) callObserve(ctx context.Context, req provider.ObserveRequest) (provider.ObserveResult, error) {
	if t := p.opts.Generation.Timeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	return p.opts.Provider.Observe(ctx, req)
}

// Summarize is the handler of summarize jobs: the turn's prompt, final
// answer and tool events become a session summary, stored under a
// generation key. A private turn is not summarized.
func (p *Pipeline) Summarize(ctx context.Context, job jobs.Job) error {
	pl, err := decodePayload(job)
	if err != nil {
		return err
	}
	r := p.opts.Store.Reader()
	sess, err := memory.GetSession(ctx, r, pl.TeamID, pl.SessionID)
	if errors.Is(err, memory.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	n := pl.PromptNumber
	if private, err := memory.TurnPrivate(ctx, r, sess.ID, n); err != nil || private {
		return err
	}
	req := provider.SummarizeRequest{Project: sess.Project, SessionID: sess.ContentSessionID, JobID: job.ID}
	if pr, err := memory.GetPrompt(ctx, r, sess.ID, n); err == nil {
		req.UserRequest = pr.Text
	} else if !errors.Is(err, memory.ErrNotFound) {
		return err
	}
	answers, err := memory.TurnEvents(ctx, r, sess.ID, memory.EventAssistantMessage, n, 1)
	if err != nil {
		return err
	}
	if len(answers) == 1 {
		var ae event.AgentEvent
		if err := json.Unmarshal(answers[0].Payload, &ae); err == nil {
			req.LastAssistantMessage = ae.Text
		}
	}
	tools, err := memory.TurnEvents(ctx, r, sess.ID, memory.EventToolUse, n, p.opts.Generation.BatchSize)
	if err != nil {
		return err
	}
	slices.Reverse(tools) // oldest first
	for _, e := range tools {
		_, tev, keep, err := p.toolEvent(ctx, r, e)
		if err != nil {
			return err
		}
		if keep {
			req.Events = append(req.Events, tev)
		}
	}
	if req.UserRequest == "" && req.LastAssistantMessage == "" && len(req.Events) == 0 {
		return nil
	}
	if err := p.requireProvider(); err != nil {
		return err
	}
	if t := p.opts.Generation.Timeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	res, err := p.opts.Provider.Summarize(ctx, req)
	if err != nil {
		return classify(err)
	}
	if res.Summary == nil {
		return nil
	}
	s := res.Summary
	sum := &memory.Summary{
		TeamID: sess.TeamID, ProjectID: sess.ProjectID, SessionID: sess.ID, MemorySessionID: sess.MemorySessionID,
		Project: sess.Project, Request: s.Request, Investigated: s.Investigated, Learned: s.Learned, Completed: s.Completed,
		NextSteps: s.NextSteps, Notes: s.Notes, FilesRead: s.FilesRead, FilesEdited: s.FilesEdited, PromptNumber: n,
		DiscoveryTokens: res.Usage.Total(), GeneratedByModel: res.Usage.Model, JobID: job.ID, CreatedAt: p.now(),
	}
	if sum.GeneratedByModel == "" {
		sum.GeneratedByModel = p.opts.Provider.Name()
	}
	hash := memory.ContentHash(sess.MemorySessionID, s.Request, s.Completed+"\x00"+s.Learned+"\x00"+s.Investigated+"\x00"+s.NextSteps)
	sum.GenerationKey = GenerationKey(job.ID, 0, hash)
	return p.opts.Store.Tx(ctx, func(tx *sql.Tx) error {
		// A retry after a committed attempt finds the summary stored; a
		// model may word it differently this time, so look by job.
		var existing int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM session_summaries WHERE job_id = ?`, job.ID).Scan(&existing); err != nil {
			return fmt.Errorf("pipeline: summary of job %s: %w", job.ID, err)
		}
		if existing > 0 {
			return nil
		}
		_, _, err := memory.InsertSummary(ctx, tx, sum)
		return err
	})
}

func decodePayload(job jobs.Job) (jobPayload, error) {
	var pl jobPayload
	if err := json.Unmarshal(job.Payload, &pl); err != nil || pl.V != 1 || pl.TeamID == "" {
		return pl, jobs.Permanent(fmt.Errorf("pipeline: job %s has an invalid payload", job.ID))
	}
	return pl, nil
}

// classify marks the provider errors that retrying cannot fix.
func classify(err error) error {
	switch {
	case errors.Is(err, provider.ErrUnparseable), errors.Is(err, provider.ErrBudget), errors.Is(err, provider.ErrRejected):
		return jobs.Permanent(err)
	}
	return err
}
