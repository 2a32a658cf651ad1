package pipeline

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/claude-mem/claude-mem-server/host/audit"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/jobs"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

// Error codes of the write path, on top of httpapi's.
const (
	CodeInvalidEvent  = "invalid_event"
	CodeTooManyEvents = "too_many_events"
	CodeUnknownEvent  = "unknown_event"
	CodeRejected      = "rejected"
)

// Response headers of a hook reply, whose body belongs to the agent.
const (
	HeaderEventID   = "X-Claude-Mem-Event-Id"
	HeaderSessionID = "X-Claude-Mem-Session-Id"
	HeaderJobID     = "X-Claude-Mem-Job-Id"
	HeaderStatus    = "X-Claude-Mem-Status"
)

// team resolves the request's team, answering the error itself.
func (p *Pipeline) team(w http.ResponseWriter, r *http.Request) (string, bool) {
	t, err := p.opts.Team(r)
	if err != nil {
		httpapi.WriteError(w, r, http.StatusForbidden, "forbidden", err.Error())
		return "", false
	}
	return t, true
}

// writer is the preamble of the write routes: the caller's team and
// ?generate=, answering the error itself.
func (p *Pipeline) writer(w http.ResponseWriter, r *http.Request) (string, bool, bool) {
	team, ok := p.team(w, r)
	if !ok {
		return "", false, false
	}
	gen, ok := generate(w, r)
	return team, gen, ok
}

// generate reads ?generate=, default true.
func generate(w http.ResponseWriter, r *http.Request) (bool, bool) {
	switch v := r.URL.Query().Get("generate"); strings.ToLower(v) {
	case "", "true", "1":
		return true, true
	case "false", "0":
		return false, true
	default:
		httpapi.WriteError(w, r, http.StatusBadRequest, httpapi.CodeBadRequest, fmt.Sprintf("generate=%q must be true or false", v))
		return false, false
	}
}

// writeIngestErr answers an error of Ingest.
func writeIngestErr(w http.ResponseWriter, r *http.Request, err error) {
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		httpapi.WriteError(w, r, http.StatusBadRequest, CodeInvalidEvent, ve.Msg)
	case errors.Is(err, ErrProjectForbidden):
		httpapi.WriteError(w, r, http.StatusForbidden, "forbidden", "this key is bound to another project than the event's")
	default:
		httpapi.WriteErr(w, r, err)
	}
}

func statusOf(results []Result) int {
	for _, res := range results {
		if res.Status == StatusCreated {
			return http.StatusCreated
		}
	}
	return http.StatusOK
}

// postEvent is POST /v1/events: one AgentEvent.
func (p *Pipeline) postEvent(w http.ResponseWriter, r *http.Request) {
	team, gen, ok := p.writer(w, r)
	if !ok {
		return
	}
	var ev event.AgentEvent
	if !httpapi.DecodeJSON(w, r, &ev) {
		return
	}
	if err := Validate(ev); err != nil {
		writeIngestErr(w, r, err)
		return
	}
	results, err := p.Ingest(r.Context(), team, []Input{{Event: ev, Source: SourceAPI}}, gen)
	if err != nil {
		writeIngestErr(w, r, err)
		return
	}
	httpapi.WriteJSON(w, statusOf(results), results[0])
}

// batchBody is a batch: a JSON array of events, or {"events": [...]}.
type batchBody struct {
	Events []event.AgentEvent
}

func (b *batchBody) UnmarshalJSON(data []byte) error {
	trimmed := bytes.TrimSpace(data)
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return dec.Decode(&b.Events)
	}
	var obj struct {
		Events []event.AgentEvent `json:"events"`
	}
	if err := dec.Decode(&obj); err != nil {
		return err
	}
	b.Events = obj.Events
	return nil
}

// BatchResponse is the answer to POST /v1/events/batch.
type BatchResponse struct {
	Results  []Result `json:"results"`
	Created  int      `json:"created"`
	Existing int      `json:"existing"`
	Skipped  int      `json:"skipped"`
}

// postBatch is POST /v1/events/batch: 1 to MaxBatch events, all validated
// before any is stored, stored atomically.
func (p *Pipeline) postBatch(w http.ResponseWriter, r *http.Request) {
	team, gen, ok := p.writer(w, r)
	if !ok {
		return
	}
	var body batchBody
	if !httpapi.DecodeJSON(w, r, &body) {
		return
	}
	switch n := len(body.Events); {
	case n == 0:
		httpapi.WriteError(w, r, http.StatusBadRequest, CodeInvalidEvent, "the batch is empty; send 1 to 500 events")
		return
	case n > MaxBatch:
		httpapi.WriteError(w, r, http.StatusRequestEntityTooLarge, CodeTooManyEvents,
			fmt.Sprintf("the batch has %d events; send at most %d per request", n, MaxBatch))
		return
	}
	in := make([]Input, len(body.Events))
	for i, ev := range body.Events {
		if err := Validate(ev); err != nil {
			httpapi.WriteError(w, r, http.StatusBadRequest, CodeInvalidEvent, fmt.Sprintf("events[%d]: %v; nothing was stored", i, err))
			return
		}
		in[i] = Input{Event: ev, Source: SourceAPI}
	}
	results, err := p.Ingest(r.Context(), team, in, gen)
	if err != nil {
		writeIngestErr(w, r, err)
		return
	}
	resp := BatchResponse{Results: results}
	for _, res := range results {
		switch res.Status {
		case StatusCreated:
			resp.Created++
		case StatusExisting:
			resp.Existing++
		default:
			resp.Skipped++
		}
	}
	httpapi.WriteJSON(w, statusOf(results), resp)
}

// EventResponse is the answer to GET /v1/events/{id}.
type EventResponse struct {
	Event          memory.Event `json:"event"`
	Job            *JobRef      `json:"generation_job"`
	ObservationIDs []int64      `json:"observation_ids"`
}

// getEvent is GET /v1/events/{id}.
func (p *Pipeline) getEvent(w http.ResponseWriter, r *http.Request) {
	team, ok := p.team(w, r)
	if !ok {
		return
	}
	id, ok := httpapi.PathID(w, r, "event")
	if !ok {
		return
	}
	ev, err := memory.GetEvent(r.Context(), p.opts.Store.Reader(), team, id)
	if err == nil && !p.projectAllowed(r.Context(), ev.ProjectID) {
		err = memory.ErrNotFound // another project's row: as if it did not exist
	}
	if errors.Is(err, memory.ErrNotFound) {
		httpapi.WriteError(w, r, http.StatusNotFound, httpapi.CodeNotFound, fmt.Sprintf("no event %d", id))
		return
	}
	if err != nil {
		httpapi.WriteErr(w, r, err)
		return
	}
	resp := EventResponse{Event: ev, ObservationIDs: []int64{}}
	if ev.JobID != "" {
		resp.Job = &JobRef{ID: ev.JobID, Kind: jobKind(ev.JobID), Status: p.jobStatus(r.Context(), ev.JobID)}
	}
	obs, err := memory.EventObservations(r.Context(), p.opts.Store.Reader(), ev.ID)
	if err != nil {
		httpapi.WriteErr(w, r, err)
		return
	}
	recalled := []string{audit.MemoryID(audit.KindEvent, ev.ID)}
	for _, o := range obs {
		resp.ObservationIDs = append(resp.ObservationIDs, o.ID)
		recalled = append(recalled, audit.MemoryID(audit.KindObservation, o.ID))
	}
	audit.Annotate(r.Context(), audit.Resource(audit.MemoryID(audit.KindEvent, ev.ID)), audit.Project(ev.ProjectID), audit.Memories(recalled...))
	httpapi.WriteJSON(w, http.StatusOK, resp)
}

// StartSessionRequest is the body of POST /v1/sessions/start.
type StartSessionRequest struct {
	ContentSessionID string `json:"content_session_id"`
	PlatformSource   string `json:"platform_source"`
	Project          string `json:"project"`
	Cwd              string `json:"cwd"`
	AgentID          string `json:"agent_id"`
	AgentType        string `json:"agent_type"`
}

// SessionResponse is the answer of the session routes.
type SessionResponse struct {
	Status  string          `json:"status"`
	Reason  string          `json:"reason,omitempty"`
	Session *memory.Session `json:"session"`
	Job     *JobRef         `json:"generation_job,omitempty"`
}

// startSession is POST /v1/sessions/start: the session of (platform
// source, content session id), created if new (201) or as it is (200).
func (p *Pipeline) startSession(w http.ResponseWriter, r *http.Request) {
	team, ok := p.team(w, r)
	if !ok {
		return
	}
	var req StartSessionRequest
	if !httpapi.DecodeJSON(w, r, &req) {
		return
	}
	ev := event.AgentEvent{Type: event.TypeSessionStart, PlatformSource: req.PlatformSource, ContentSessionID: req.ContentSessionID,
		Project: req.Project, Cwd: req.Cwd, AgentID: req.AgentID, AgentType: req.AgentType}
	if err := Validate(ev); err != nil {
		writeIngestErr(w, r, err)
		return
	}
	now := p.now()
	pr := p.prepare(team, Input{Event: ev, Source: SourceAPI}, now)
	if pr.skip != "" {
		httpapi.WriteJSON(w, http.StatusOK, SessionResponse{Status: StatusSkipped, Reason: pr.skip})
		return
	}
	var sess memory.Session
	var created bool
	err := p.opts.Store.Tx(r.Context(), func(tx *sql.Tx) error {
		projectID, err := memory.EnsureProject(r.Context(), tx, team, pr.project, pr.ev.Cwd, now)
		if err != nil {
			return err
		}
		sess, created, err = memory.EnsureSession(r.Context(), tx, memory.NewSession{
			TeamID: team, ProjectID: projectID, Project: pr.project, PlatformSource: pr.ev.PlatformSource,
			ContentSessionID: pr.ev.ContentSessionID, Cwd: pr.ev.Cwd, AgentID: pr.ev.AgentID, AgentType: pr.ev.AgentType, StartedAt: now,
		})
		if err == nil && (!p.projectAllowed(r.Context(), projectID) || !p.projectAllowed(r.Context(), sess.ProjectID)) {
			err = ErrProjectForbidden // rolls back the project and session
		}
		return err
	})
	if err != nil {
		writeIngestErr(w, r, err)
		return
	}
	if created {
		httpapi.WriteJSON(w, http.StatusCreated, SessionResponse{Status: StatusCreated, Session: &sess})
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, SessionResponse{Status: StatusExisting, Session: &sess})
}

// EndSessionRequest is the optional body of POST /v1/sessions/{id}/end.
type EndSessionRequest struct {
	Reason string `json:"reason"`
}

// endSession is POST /v1/sessions/{id}/end: marks the session completed
// and enqueues the summary of its last turn.
func (p *Pipeline) endSession(w http.ResponseWriter, r *http.Request) {
	team, gen, ok := p.writer(w, r)
	if !ok {
		return
	}
	id, ok := httpapi.PathID(w, r, "session")
	if !ok {
		return
	}
	if r.ContentLength != 0 {
		var req EndSessionRequest
		if !httpapi.DecodeJSON(w, r, &req) {
			return
		}
	}
	var sess memory.Session
	var job *jobs.Job
	var created bool
	err := p.opts.Store.Tx(r.Context(), func(tx *sql.Tx) error {
		s, err := memory.CompleteSession(r.Context(), tx, team, id, p.now())
		if err != nil {
			return err
		}
		if !p.projectAllowed(r.Context(), s.ProjectID) {
			return memory.ErrNotFound // another project's session; rolls back
		}
		sess = s
		if !gen {
			return nil
		}
		if job, err = p.endJob(r.Context(), tx, team, sess); err != nil || job == nil {
			return err
		}
		c, err := jobs.Add(r.Context(), tx, []jobs.Job{*job})
		created = err == nil && c[0]
		return err
	})
	if errors.Is(err, memory.ErrNotFound) {
		httpapi.WriteError(w, r, http.StatusNotFound, httpapi.CodeNotFound, fmt.Sprintf("no session %d", id))
		return
	}
	if err != nil {
		httpapi.WriteErr(w, r, err)
		return
	}
	resp := SessionResponse{Status: sess.Status, Session: &sess}
	if job != nil {
		results := []Result{{Job: &JobRef{ID: job.ID, Kind: job.Kind}}}
		var fresh []string
		if created {
			fresh = []string{job.ID}
		}
		p.dispatch(r.Context(), fresh, results)
		resp.Job = results[0].Job
	}
	httpapi.WriteJSON(w, http.StatusOK, resp)
}

// postHook is POST /v1/hooks/{adapter}/{event}: a raw agent hook payload,
// normalized by the adapter plugin, written like any event; the body of
// the answer is what the adapter renders for the agent.
func (p *Pipeline) postHook(w http.ResponseWriter, r *http.Request) {
	team, gen, ok := p.writer(w, r)
	if !ok {
		return
	}
	source, hook := chi.URLParam(r, "adapter"), chi.URLParam(r, "event")
	if p.opts.Adapter == nil {
		httpapi.WriteError(w, r, http.StatusNotFound, httpapi.CodeNotFound, "no adapters are configured")
		return
	}
	a, err := p.opts.Adapter(source)
	if errors.Is(err, ErrUnknownAdapter) {
		httpapi.WriteError(w, r, http.StatusNotFound, httpapi.CodeNotFound, fmt.Sprintf("no adapter is named %q; see the adapter plugins in /v1/info", source))
		return
	}
	if err != nil {
		httpapi.WriteErr(w, r, err)
		return
	}
	raw, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		httpapi.WriteError(w, r, http.StatusRequestEntityTooLarge, httpapi.CodeBodyTooLarge, fmt.Sprintf("request body exceeds %d bytes", tooBig.Limit))
		return
	case err != nil:
		httpapi.WriteError(w, r, http.StatusBadRequest, httpapi.CodeBadRequest, "read body: "+err.Error())
		return
	case len(bytes.TrimSpace(raw)) == 0:
		httpapi.WriteError(w, r, http.StatusBadRequest, httpapi.CodeInvalidJSON, "request body is empty; send the hook's JSON payload")
		return
	case !json.Valid(raw):
		httpapi.WriteError(w, r, http.StatusBadRequest, httpapi.CodeInvalidJSON, "request body is not valid JSON")
		return
	}
	norm, err := a.Normalize(r.Context(), adapter.NormalizeRequest{Source: source, Event: hook, Raw: raw})
	if errors.Is(err, adapter.ErrUnknownEvent) {
		httpapi.WriteError(w, r, http.StatusBadRequest, CodeUnknownEvent, fmt.Sprintf("adapter %s does not know hook event %q", source, hook))
		return
	}
	if err != nil {
		httpapi.WriteErr(w, r, err)
		return
	}
	if norm.Rejection != "" {
		httpapi.WriteError(w, r, http.StatusBadRequest, CodeRejected, "adapter "+source+" rejected the payload: "+norm.Rejection)
		return
	}
	canonical := Canonical(raw)
	in := make([]Input, len(norm.Events))
	for i, ev := range norm.Events {
		if err := Validate(ev); err != nil {
			httpapi.WriteError(w, r, http.StatusBadRequest, CodeInvalidEvent, fmt.Sprintf("adapter %s made an invalid event: %v", source, err))
			return
		}
		material := append(append([]byte(hook+"\x00"+strconv.Itoa(i)+"\x00"), canonical...), 0)
		in[i] = Input{Event: ev, Source: source, Material: material}
	}
	results, err := p.Ingest(r.Context(), team, in, gen)
	if err != nil {
		writeIngestErr(w, r, err)
		return
	}
	var rendered event.AgentEvent
	var sess memory.Session
	if len(results) > 0 {
		first := results[0]
		rendered, sess = first.event, first.session
		w.Header().Set(HeaderStatus, first.Status)
		if first.EventID != 0 {
			w.Header().Set(HeaderEventID, strconv.FormatInt(first.EventID, 10))
		}
		if first.SessionID != 0 {
			w.Header().Set(HeaderSessionID, strconv.FormatInt(first.SessionID, 10))
		}
		if first.Job != nil {
			w.Header().Set(HeaderJobID, first.Job.ID)
		}
	}
	text := p.hookContext(r.Context(), team, hook, rendered, sess)
	out, err := a.RenderHookOutput(r.Context(), adapter.RenderRequest{Event: hook, AgentEvent: rendered, Context: text})
	if err != nil {
		httpapi.WriteErr(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(statusOf(results))
	_, _ = w.Write(out)
}

// hookContext asks the context seam for the text to hand back; a failure
// only costs the context.
func (p *Pipeline) hookContext(ctx context.Context, team, hook string, ev event.AgentEvent, sess memory.Session) string {
	if p.opts.Context == nil || sess.ID == 0 {
		return ""
	}
	text, err := p.opts.Context(ctx, ContextRequest{TeamID: team, HookEvent: hook, Event: ev, Session: sess})
	if err != nil {
		p.log.Warn("hook context failed; answering without it", "hook", hook, "error", err)
		return ""
	}
	return text
}
