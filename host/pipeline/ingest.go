package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/host/jobs"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/privacy"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

// MaxBatch is the most events one POST /v1/events/batch may carry.
const MaxBatch = 500

// Limits on event fields, checked by Validate.
const (
	maxIDLen       = 512
	maxToolNameLen = 256
)

// SourceAPI is the source of events posted to /v1/events.
const SourceAPI = "api"

// Result statuses.
const (
	StatusCreated  = "created"
	StatusExisting = "existing"
	StatusSkipped  = "skipped"
)

// Skip reasons, as claude-mem names them.
const (
	ReasonProjectExcluded   = "project_excluded"
	ReasonToolExcluded      = "tool_excluded"
	ReasonSessionMemoryMeta = "session_memory_meta"
	ReasonInternalProtocol  = "internal_protocol"
	ReasonPrivate           = "private"
)

// Input is one event to write.
type Input struct {
	Event event.AgentEvent
	// Source is what normalized the event: an adapter's public name, or
	// SourceAPI.
	Source string
	// Material identifies a hook event that has no tool_use_id; see
	// IdempotencyKey. Nil for /v1/events.
	Material []byte
}

// JobRef is a generation job in an answer.
type JobRef struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Status string `json:"status"`
}

// Result is the outcome of writing one event.
type Result struct {
	// Status is created, existing (a repeat: the IDs are the original
	// ones) or skipped (nothing stored; see Reason).
	Status       string  `json:"status"`
	Reason       string  `json:"reason,omitempty"`
	EventType    string  `json:"event_type"`
	EventID      int64   `json:"event_id,omitempty"`
	SessionID    int64   `json:"session_id,omitempty"`
	PromptNumber int     `json:"prompt_number,omitempty"`
	Job          *JobRef `json:"generation_job"`

	event   event.AgentEvent // filtered
	session memory.Session
}

// ValidationError is bad input: the client must change the event.
type ValidationError struct{ Msg string }

func (e *ValidationError) Error() string { return e.Msg }

func invalid(format string, args ...any) error {
	return &ValidationError{Msg: fmt.Sprintf(format, args...)}
}

// Validate checks an event before anything is stored.
func Validate(ev event.AgentEvent) error {
	if ev.SchemaVersion != 0 && ev.SchemaVersion != event.SchemaVersion {
		return invalid("schema_version %d is not supported; send %d", ev.SchemaVersion, event.SchemaVersion)
	}
	known := false
	for _, t := range event.Types {
		known = known || t == ev.Type
	}
	if !known {
		names := make([]string, len(event.Types))
		for i, t := range event.Types {
			names[i] = string(t)
		}
		return invalid("type %q is not an event type; use one of %s", ev.Type, strings.Join(names, ", "))
	}
	switch {
	case strings.TrimSpace(ev.ContentSessionID) == "":
		return invalid("content_session_id is required")
	case len(ev.ContentSessionID) > maxIDLen:
		return invalid("content_session_id is longer than %d bytes", maxIDLen)
	case len(ev.ToolUseID) > maxIDLen || len(ev.IdempotencyKey) > maxIDLen:
		return invalid("tool_use_id and idempotency_key may be at most %d bytes", maxIDLen)
	case len(ev.ToolName) > maxToolNameLen:
		return invalid("tool_name is longer than %d bytes", maxToolNameLen)
	case (ev.Type == event.TypeToolUse || ev.Type == event.TypePreToolUse) && ev.ToolName == "":
		return invalid("a %s event needs tool_name", ev.Type)
	case len(ev.ToolInput) > 0 && !json.Valid(ev.ToolInput), len(ev.ToolResponse) > 0 && !json.Valid(ev.ToolResponse):
		return invalid("tool_input and tool_response must be JSON")
	}
	return nil
}

// prepared is an event after privacy filtering, ready to store.
type prepared struct {
	ev      event.AgentEvent
	source  string
	key     string
	skip    string
	private bool // a prompt empty after stripping
	project string
}

func isTool(t event.Type) bool { return t == event.TypeToolUse || t == event.TypePreToolUse }

// prepare derives the idempotency key, applies the skip rules, and strips
// and redacts every text of the event.
func (p *Pipeline) prepare(teamID string, in Input, now time.Time) prepared {
	ev := in.Event
	ev.PlatformSource = NormalizePlatform(ev.PlatformSource)
	ev.SchemaVersion = event.SchemaVersion
	pr := prepared{source: in.Source, key: IdempotencyKey(teamID, in.Source, ev.PlatformSource, ev, in.Material)}
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = now
	}
	ev.OccurredAt = ev.OccurredAt.UTC()
	f := p.opts.Privacy
	switch {
	case f.ExcludedProject(ev.Cwd):
		pr.skip = ReasonProjectExcluded
	case isTool(ev.Type) && f.SkipTool(ev.ToolName):
		pr.skip = ReasonToolExcluded
	case isTool(ev.Type) && privacy.SessionMemoryMeta(ev.ToolName, ev.ToolInput):
		pr.skip = ReasonSessionMemoryMeta
	case ev.Type == event.TypeUserPrompt && (privacy.TaskNotificationOnly(ev.Text) || ev.Metadata["skip_reason"] == "task-notification"):
		pr.skip = ReasonInternalProtocol
	}
	if pr.skip != "" {
		// Nothing of a skipped event is kept, not even in the answer.
		pr.ev = event.AgentEvent{SchemaVersion: ev.SchemaVersion, Type: ev.Type, HookEvent: ev.HookEvent,
			PlatformSource: ev.PlatformSource, ContentSessionID: f.Text(ev.ContentSessionID), OccurredAt: ev.OccurredAt}
		return pr
	}
	if ev.Type == event.TypeUserPrompt && strings.TrimSpace(ev.Text) == "" {
		ev.Text = "[media prompt]" // as claude-mem: an image-only prompt
	} else {
		ev.Text = f.Text(ev.Text)
		pr.private = ev.Type == event.TypeUserPrompt && strings.TrimSpace(ev.Text) == ""
	}
	ev.ContentSessionID = f.Text(ev.ContentSessionID)
	ev.ToolInput = f.JSON(ev.ToolInput)
	ev.ToolResponse = f.JSON(ev.ToolResponse)
	ev.Cwd = f.Text(ev.Cwd)
	ev.Project = f.Text(ev.Project)
	ev.TranscriptPath = f.Text(ev.TranscriptPath)
	ev.IdempotencyKey = f.Text(ev.IdempotencyKey)
	ev.AgentID, ev.AgentType = f.Text(ev.AgentID), f.Text(ev.AgentType)
	if len(ev.Metadata) > 0 {
		md := make(map[string]string, len(ev.Metadata))
		for k, v := range ev.Metadata {
			md[f.Text(k)] = f.Text(v)
		}
		ev.Metadata = md
	}
	pr.ev = ev
	pr.project = ProjectName(ev.Project, ev.Cwd)
	return pr
}

// Ingest writes events for a team in one transaction: all are stored, or
// none. Validate them first. With generate false no generation job is
// created. Jobs are dispatched after the commit.
func (p *Pipeline) Ingest(ctx context.Context, teamID string, in []Input, generate bool) ([]Result, error) {
	now := p.now()
	prep := make([]prepared, len(in))
	for i := range in {
		prep[i] = p.prepare(teamID, in[i], now)
	}
	results := make([]Result, len(in))
	var newJobs []string
	err := p.opts.Store.Tx(ctx, func(tx *sql.Tx) error {
		newJobs = newJobs[:0]
		c := &txCache{projects: map[string]int64{}, sessions: map[string]memory.Session{}}
		for i, pr := range prep {
			r, newJob, err := p.write(ctx, tx, c, teamID, pr, generate, now)
			if err != nil {
				return err
			}
			results[i] = r
			if newJob != "" {
				newJobs = append(newJobs, newJob)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.dispatch(ctx, newJobs, results)
	return results, nil
}

// dispatch enqueues the new jobs and reports their status in results; a
// repeat reports its job's current status.
func (p *Pipeline) dispatch(ctx context.Context, newJobs []string, results []Result) {
	// The jobs are durable in the outbox; the engine gets them from the
	// background dispatcher, so the reply says "queued".
	status := jobs.StatusQueued
	if p.opts.Jobs != nil {
		p.opts.Jobs.DispatchAsync(newJobs)
	}
	fresh := make(map[string]bool, len(newJobs))
	for _, id := range newJobs {
		fresh[id] = true
	}
	for i := range results {
		j := results[i].Job
		switch {
		case j == nil:
		case fresh[j.ID]:
			j.Status = status
		default:
			j.Status = p.jobStatus(ctx, j.ID)
		}
	}
}

func (p *Pipeline) jobStatus(ctx context.Context, id string) string {
	var st string
	err := p.opts.Store.Reader().QueryRowContext(ctx, `SELECT status FROM generation_jobs WHERE id = ?`, id).Scan(&st)
	if err != nil {
		return "unknown"
	}
	return st
}

// txCache holds what a transaction already looked up or changed: the
// projects and sessions of a batch's events, which are mostly the same.
type txCache struct {
	projects map[string]int64          // by name
	sessions map[string]memory.Session // by platform source and content session id
}

func sessionKey(platform, contentSessionID string) string {
	return platform + "\x00" + contentSessionID
}

// session returns the event's session, creating it (and its project).
func (c *txCache) session(ctx context.Context, tx *sql.Tx, teamID string, pr prepared, now time.Time) (memory.Session, error) {
	key := sessionKey(pr.ev.PlatformSource, pr.ev.ContentSessionID)
	if s, ok := c.sessions[key]; ok {
		return s, nil
	}
	if s, err := memory.FindSession(ctx, tx, teamID, pr.ev.PlatformSource, pr.ev.ContentSessionID); err == nil {
		c.sessions[key] = s
		return s, nil
	} else if !errors.Is(err, memory.ErrNotFound) {
		return memory.Session{}, err
	}
	projectID, ok := c.projects[pr.project]
	if !ok {
		var err error
		if projectID, err = memory.EnsureProject(ctx, tx, teamID, pr.project, pr.ev.Cwd, now); err != nil {
			return memory.Session{}, err
		}
		c.projects[pr.project] = projectID
	}
	ev := pr.ev
	s, _, err := memory.EnsureSession(ctx, tx, memory.NewSession{
		TeamID: teamID, ProjectID: projectID, Project: pr.project, PlatformSource: ev.PlatformSource,
		ContentSessionID: ev.ContentSessionID, Cwd: ev.Cwd, AgentID: ev.AgentID, AgentType: ev.AgentType, StartedAt: ev.OccurredAt,
	})
	if err != nil {
		return memory.Session{}, err
	}
	c.sessions[key] = s
	return s, nil
}

func (c *txCache) update(s memory.Session) {
	c.sessions[sessionKey(s.PlatformSource, s.ContentSessionID)] = s
}

// write stores one prepared event inside tx and returns its result and the
// ID of the job it created, if any.
func (p *Pipeline) write(ctx context.Context, tx *sql.Tx, c *txCache, teamID string, pr prepared, generate bool, now time.Time) (Result, string, error) {
	ev := pr.ev
	res := Result{EventType: string(ev.Type), event: ev}
	if pr.skip != "" {
		res.Status, res.Reason = StatusSkipped, pr.skip
		return res, "", nil
	}
	if old, err := memory.EventByKey(ctx, tx, pr.key); err == nil {
		sess, ok := c.sessions[sessionKey(ev.PlatformSource, ev.ContentSessionID)]
		if !ok || sess.ID != old.SessionID {
			if sess, err = memory.GetSession(ctx, tx, teamID, old.SessionID); err != nil {
				return res, "", err
			}
		}
		if !p.projectAllowed(ctx, sess.ProjectID) {
			return res, "", ErrProjectForbidden
		}
		res.Status, res.EventID, res.SessionID, res.PromptNumber, res.session = StatusExisting, old.ID, old.SessionID, old.PromptNumber, sess
		if old.Type == string(event.TypeUserPrompt) && sess.CurrentPrompt != old.PromptNumber {
			// A replayed prompt: the events that follow belong to its turn.
			if err := memory.SetCurrentPrompt(ctx, tx, sess.ID, old.PromptNumber); err != nil {
				return res, "", err
			}
			sess.CurrentPrompt = old.PromptNumber
			c.update(sess)
		}
		if old.JobID != "" {
			res.Job = &JobRef{ID: old.JobID, Kind: jobKind(old.JobID)}
		}
		return res, "", nil
	} else if !errors.Is(err, memory.ErrNotFound) {
		return res, "", err
	}

	sess, err := c.session(ctx, tx, teamID, pr, now)
	if err != nil {
		return res, "", err
	}
	if !p.projectAllowed(ctx, sess.ProjectID) {
		return res, "", ErrProjectForbidden // rolls back what c.session created
	}
	res.session = sess
	n := sess.CurrentPrompt
	switch ev.Type {
	case event.TypeUserPrompt:
		text := ev.Text
		if pr.private {
			text = ""
		}
		if n, err = memory.NextPrompt(ctx, tx, sess.ID, text, now); err != nil {
			return res, "", err
		}
		sess.PromptCounter, sess.CurrentPrompt = n, n
		if sess.UserPrompt == "" {
			sess.UserPrompt = memory.Truncate(text, memory.MaxPromptChars)
		}
		c.update(sess)
		res.session = sess
	case event.TypeToolUse, event.TypePreToolUse, event.TypeAssistantMessage:
		private, err := memory.TurnPrivate(ctx, tx, sess.ID, n)
		if err != nil {
			return res, "", err
		}
		if private {
			res.Status, res.Reason, res.SessionID = StatusSkipped, ReasonPrivate, sess.ID
			return res, "", nil
		}
	}

	stored := memory.Event{
		IdempotencyKey: pr.key, TeamID: teamID, ProjectID: sess.ProjectID, SessionID: sess.ID, SourceAdapter: pr.source,
		SourceEventID: ev.ToolUseID, Type: string(ev.Type), HookEvent: ev.HookEvent, PlatformSource: ev.PlatformSource,
		ToolName: ev.ToolName, PromptNumber: n, OccurredAt: ev.OccurredAt, ReceivedAt: now,
	}
	var job *jobs.Job
	if generate {
		if job, err = p.jobFor(ctx, tx, teamID, sess, ev, pr.key, n); err != nil {
			return res, "", err
		}
	}
	if job != nil {
		stored.JobID = job.ID
	}
	if stored.Payload, err = json.Marshal(ev); err != nil {
		return res, "", fmt.Errorf("pipeline: encode event: %w", err)
	}
	if err := memory.InsertEvent(ctx, tx, &stored); err != nil {
		return res, "", err
	}
	var newJob string
	if job != nil {
		if job.Kind == KindObserve {
			job = p.newJob(job.ID, KindObserve, jobPayload{TeamID: teamID, ProjectID: sess.ProjectID, SessionID: sess.ID, EventID: stored.ID, PromptNumber: n}, sess.ID)
		}
		created, err := jobs.Add(ctx, tx, []jobs.Job{*job})
		if err != nil {
			return res, "", err
		}
		res.Job = &JobRef{ID: job.ID, Kind: job.Kind}
		if created[0] {
			newJob = job.ID
		}
	}
	switch ev.Type {
	case event.TypeUserPrompt:
		text := ev.Text
		if pr.private {
			text = ""
		}
		if _, err := memory.InsertPrompt(ctx, tx, memory.Prompt{SessionID: sess.ID, ContentSessionID: sess.ContentSessionID, Number: n,
			Text: text, Private: pr.private, AgentEventID: stored.ID, CreatedAt: ev.OccurredAt}); err != nil {
			return res, "", err
		}
		if pr.private {
			res.Reason = ReasonPrivate
		}
	case event.TypeSessionEnd:
		if res.session, err = memory.CompleteSession(ctx, tx, teamID, sess.ID, now); err != nil {
			return res, "", err
		}
		c.update(res.session)
	}
	res.Status, res.EventID, res.SessionID, res.PromptNumber = StatusCreated, stored.ID, sess.ID, n
	return res, newJob, nil
}

// jobFor returns the generation job an event causes, if any: a tool use is
// observed; a final answer (Stop) and a session end summarize the turn.
func (p *Pipeline) jobFor(ctx context.Context, tx *sql.Tx, teamID string, sess memory.Session, ev event.AgentEvent, key string, n int) (*jobs.Job, error) {
	switch ev.Type {
	case event.TypeToolUse:
		return p.newJob(ObserveJobID(key), KindObserve, jobPayload{TeamID: teamID, ProjectID: sess.ProjectID, SessionID: sess.ID, PromptNumber: n}, sess.ID), nil
	case event.TypeAssistantMessage:
		// As claude-mem: no summary while a Stop hook is re-running, nor
		// for a subagent's answer.
		if ev.Metadata["stop_hook_active"] == "true" || ev.Metadata["subagent"] == "true" || ev.AgentID != "" {
			return nil, nil
		}
		return p.summaryJob(teamID, sess, n), nil
	case event.TypeSessionEnd:
		return p.endJob(ctx, tx, teamID, sess)
	}
	return nil, nil
}

// endJob is the summary job a session end causes: the last turn's, unless
// there was none or it was private.
func (p *Pipeline) endJob(ctx context.Context, tx *sql.Tx, teamID string, sess memory.Session) (*jobs.Job, error) {
	if sess.PromptCounter == 0 {
		return nil, nil
	}
	private, err := memory.TurnPrivate(ctx, tx, sess.ID, sess.PromptCounter)
	if err != nil || private {
		return nil, err
	}
	return p.summaryJob(teamID, sess, sess.PromptCounter), nil
}

func (p *Pipeline) summaryJob(teamID string, sess memory.Session, n int) *jobs.Job {
	return p.newJob(SummaryJobID(teamID, sess.ID, n), KindSummarize, jobPayload{TeamID: teamID, ProjectID: sess.ProjectID, SessionID: sess.ID, PromptNumber: n}, sess.ID)
}

func (p *Pipeline) newJob(id, kind string, pl jobPayload, sessionID int64) *jobs.Job {
	pl.V = 1
	b, _ := json.Marshal(pl)
	return &jobs.Job{ID: id, Lane: Lane(sessionID), Kind: kind, Payload: b, MaxAttempts: p.opts.MaxAttempts, Backoff: p.opts.Backoff}
}

// jobPayload is what a job carries: IDs only, never content.
type jobPayload struct {
	V         int    `json:"v"`
	TeamID    string `json:"team_id"`
	ProjectID int64  `json:"project_id"`
	SessionID int64  `json:"session_id"`
	// EventID is the tool event an observe job is about.
	EventID int64 `json:"event_id,omitempty"`
	// PromptNumber is the turn: the one a tool event followed, or the one
	// a summary covers.
	PromptNumber int `json:"prompt_number"`
}

func jobKind(id string) string {
	if strings.HasPrefix(id, "sum_") {
		return KindSummarize
	}
	return KindObserve
}
