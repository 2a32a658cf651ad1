package legacyapi

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/pipeline"
	"github.com/claude-mem/claude-mem-server/sdk/event"
	"github.com/claude-mem/claude-mem-server/sdk/project"
)

// SourceLegacy is the source of the events the legacy write routes store
// (agent_events.source_adapter).
const SourceLegacy = "legacy-api"

// duplicateWindow is claude-mem's: the same prompt again within it is a
// duplicate (behaviour §2.3).
const duplicateWindow = 10 * time.Second

// Reasons of the legacy write routes on top of the pipeline's.
const (
	ReasonDuplicate       = "duplicate"
	ReasonSubagentContext = "subagent_context"
)

// now is the time of an event: the pipeline keys events without an id of
// their own by their content and time, so two identical tool calls of a
// session stay two events.
func (a *API) now() time.Time { return a.opts.Now().UTC().Truncate(time.Millisecond) }

// ingest writes one event through the pipeline and answers its failure.
func (a *API) ingest(w http.ResponseWriter, r *http.Request, team string, ev event.AgentEvent) (pipeline.Result, bool) {
	if err := pipeline.Validate(ev); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return pipeline.Result{}, false
	}
	results, err := a.opts.Pipeline.Ingest(r.Context(), team, []pipeline.Input{{Event: ev, Source: SourceLegacy}}, true)
	var ve *pipeline.ValidationError
	switch {
	case errors.As(err, &ve):
		writeError(w, http.StatusBadRequest, ve.Msg)
		return pipeline.Result{}, false
	case errors.Is(err, pipeline.ErrProjectForbidden):
		writeError(w, http.StatusForbidden, "this key is bound to another project than the event's")
		return pipeline.Result{}, false
	case err != nil:
		a.internal(w, r, err)
		return pipeline.Result{}, false
	}
	return results[0], true
}

// rawJSON is a JSON value kept as sent; null counts as absent.
func rawJSON(m json.RawMessage) json.RawMessage {
	if t := bytes.TrimSpace(m); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return nil
	}
	return m
}

// initBody is POST /api/sessions/init.
type initBody struct {
	ContentSessionID string  `json:"contentSessionId"`
	Project          string  `json:"project"`
	Prompt           *string `json:"prompt"`
	PlatformSource   string  `json:"platformSource"`
	PlatformSource2  string  `json:"platform_source"`
	CustomTitle      string  `json:"customTitle"`
}

// initReply is the answer of POST /api/sessions/init.
type initReply struct {
	SessionDBID     int64  `json:"sessionDbId,omitempty"`
	PromptNumber    int    `json:"promptNumber,omitempty"`
	Skipped         bool   `json:"skipped"`
	Reason          string `json:"reason,omitempty"`
	ContextInjected *bool  `json:"contextInjected,omitempty"`
	Status          string `json:"status,omitempty"`
}

// sessionInit is POST /api/sessions/init: a user prompt (UserPromptSubmit).
func (a *API) sessionInit(w http.ResponseWriter, r *http.Request) {
	team, ok := a.team(w, r)
	if !ok {
		return
	}
	var body initBody
	if !decodeBody(w, r, &body) {
		return
	}
	if strings.TrimSpace(body.ContentSessionID) == "" {
		writeValidation(w, required("contentSessionId"))
		return
	}
	prompt := ""
	if body.Prompt != nil {
		prompt = *body.Prompt
	}
	platform := platformFrom(r, body.PlatformSource, body.PlatformSource2)
	no := false
	if dup, sess, n := a.duplicatePrompt(r, team, platform, body.ContentSessionID, prompt); dup {
		writeJSON(w, http.StatusOK, initReply{SessionDBID: sess, PromptNumber: n, Skipped: true, Reason: ReasonDuplicate, ContextInjected: &no})
		return
	}
	ev := event.AgentEvent{
		Type: event.TypeUserPrompt, HookEvent: "UserPromptSubmit", PlatformSource: platform,
		ContentSessionID: body.ContentSessionID, Project: strings.TrimSpace(body.Project), Text: prompt, OccurredAt: a.now(),
	}
	if body.CustomTitle != "" {
		ev.Metadata = map[string]string{"custom_title": body.CustomTitle}
	}
	res, ok := a.ingest(w, r, team, ev)
	if !ok {
		return
	}
	switch {
	case res.Status == pipeline.StatusSkipped:
		writeJSON(w, http.StatusOK, initReply{SessionDBID: res.SessionID, PromptNumber: res.PromptNumber, Skipped: true, Reason: res.Reason})
	case res.Reason == pipeline.ReasonPrivate:
		writeJSON(w, http.StatusOK, initReply{SessionDBID: res.SessionID, PromptNumber: res.PromptNumber, Skipped: true, Reason: pipeline.ReasonPrivate})
	default:
		writeJSON(w, http.StatusOK, initReply{SessionDBID: res.SessionID, PromptNumber: res.PromptNumber, ContextInjected: &no, Status: "initialized"})
	}
}

// duplicatePrompt reports whether prompt, cleaned as it would be stored,
// is the session's latest prompt and arrived within duplicateWindow; it
// then returns that prompt's session and number.
func (a *API) duplicatePrompt(r *http.Request, team, platform, contentSessionID, prompt string) (bool, int64, int) {
	clean := a.opts.Privacy.Text(prompt)
	if strings.TrimSpace(prompt) == "" {
		clean = "[media prompt]"
	}
	if strings.TrimSpace(clean) == "" {
		return false, 0, 0 // private: the pipeline answers it
	}
	if platform == "" {
		platform = pipeline.NormalizePlatform("")
	}
	ctx := r.Context()
	sess, err := memory.FindSession(ctx, a.opts.Store.Reader(), team, platform, contentSessionID)
	if err != nil {
		return false, 0, 0
	}
	var n int
	var text string
	var at int64
	err = a.opts.Store.Reader().QueryRowContext(ctx, `SELECT prompt_number, prompt_text, created_at_epoch FROM user_prompts
		WHERE session_db_id = ? ORDER BY prompt_number DESC LIMIT 1`, sess.ID).Scan(&n, &text, &at)
	if err != nil {
		return false, 0, 0
	}
	if text != memory.Truncate(clean, memory.MaxPromptChars) || a.now().Sub(time.UnixMilli(at)) > duplicateWindow {
		return false, 0, 0
	}
	return true, sess.ID, n
}

// observationBody is POST /api/sessions/observations.
type observationBody struct {
	ContentSessionID string          `json:"contentSessionId"`
	ToolName         string          `json:"tool_name"`
	ToolInput        json.RawMessage `json:"tool_input"`
	ToolResponse     json.RawMessage `json:"tool_response"`
	Cwd              string          `json:"cwd"`
	AgentID          string          `json:"agentId"`
	AgentType        string          `json:"agentType"`
	PlatformSource   string          `json:"platformSource"`
	PlatformSource2  string          `json:"platform_source"`
	ToolUseID        string          `json:"tool_use_id"`
	ToolUseID2       string          `json:"toolUseId"`
}

// statusReply is the answer of the observation and summary routes.
type statusReply struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

func replyFor(res pipeline.Result) statusReply {
	if res.Status == pipeline.StatusSkipped {
		return statusReply{Status: "skipped", Reason: res.Reason}
	}
	return statusReply{Status: "queued"}
}

// sessionObservation is POST /api/sessions/observations: a tool use
// (PostToolUse, or a file edit of Cursor and Windsurf).
func (a *API) sessionObservation(w http.ResponseWriter, r *http.Request) {
	team, ok := a.team(w, r)
	if !ok {
		return
	}
	var body observationBody
	if !decodeBody(w, r, &body) {
		return
	}
	var issues []issue
	if strings.TrimSpace(body.ContentSessionID) == "" {
		issues = append(issues, required("contentSessionId"))
	}
	if strings.TrimSpace(body.ToolName) == "" {
		issues = append(issues, required("tool_name"))
	}
	if len(issues) > 0 {
		writeValidation(w, issues...)
		return
	}
	ev := event.AgentEvent{
		Type: event.TypeToolUse, HookEvent: "PostToolUse", PlatformSource: platformFrom(r, body.PlatformSource, body.PlatformSource2),
		ContentSessionID: body.ContentSessionID, Cwd: body.Cwd, ToolName: body.ToolName,
		ToolInput: rawJSON(body.ToolInput), ToolResponse: rawJSON(body.ToolResponse),
		AgentID: body.AgentID, AgentType: body.AgentType, OccurredAt: a.now(),
	}
	if ev.ToolUseID = body.ToolUseID; ev.ToolUseID == "" {
		ev.ToolUseID = body.ToolUseID2
	}
	if strings.TrimSpace(body.Cwd) != "" {
		// As the hooks name it: the git root's base name, worktrees as
		// parent/worktree.
		ev.Project, _ = project.For(body.Cwd)
	}
	res, ok := a.ingest(w, r, team, ev)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, replyFor(res))
}

// summarizeBody is POST /api/sessions/summarize.
type summarizeBody struct {
	ContentSessionID     string `json:"contentSessionId"`
	LastAssistantMessage string `json:"last_assistant_message"`
	AgentID              string `json:"agentId"`
	PlatformSource       string `json:"platformSource"`
	PlatformSource2      string `json:"platform_source"`
}

// sessionSummarize is POST /api/sessions/summarize: the final answer of a
// turn (Stop), which is summarized.
func (a *API) sessionSummarize(w http.ResponseWriter, r *http.Request) {
	team, ok := a.team(w, r)
	if !ok {
		return
	}
	var body summarizeBody
	if !decodeBody(w, r, &body) {
		return
	}
	if strings.TrimSpace(body.ContentSessionID) == "" {
		writeValidation(w, required("contentSessionId"))
		return
	}
	if body.AgentID != "" {
		// As claude-mem: a subagent's Stop is not the session's turn.
		writeJSON(w, http.StatusOK, statusReply{Status: "skipped", Reason: ReasonSubagentContext})
		return
	}
	ev := event.AgentEvent{
		Type: event.TypeAssistantMessage, HookEvent: "Stop", PlatformSource: platformFrom(r, body.PlatformSource, body.PlatformSource2),
		ContentSessionID: body.ContentSessionID, Text: body.LastAssistantMessage, OccurredAt: a.now(),
	}
	res, ok := a.ingest(w, r, team, ev)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, replyFor(res))
}

// saveBody is POST /api/memory/save; unknown fields are an error, as in
// claude-mem's strict schema.
type saveBody struct {
	Text     *string         `json:"text"`
	Title    string          `json:"title"`
	Project  string          `json:"project"`
	Metadata json.RawMessage `json:"metadata"`
}

type saveReply struct {
	Success bool   `json:"success"`
	ID      int64  `json:"id"`
	Title   string `json:"title"`
	Project string `json:"project"`
	Message string `json:"message"`
}

// memorySave is POST /api/memory/save: a memory the user (or a skill)
// writes directly, stored as a discovery observation.
func (a *API) memorySave(w http.ResponseWriter, r *http.Request) {
	team, ok := a.team(w, r)
	if !ok {
		return
	}
	var body saveBody
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "request entity too large")
			return
		}
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			writeValidation(w, issue{Path: []string{strings.Trim(field, `"`)}, Message: "Unrecognized key: " + field, Code: "unrecognized_keys"})
			return
		}
		writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return
	}
	if body.Text == nil || strings.TrimSpace(*body.Text) == "" {
		writeValidation(w, required("text"))
		return
	}
	f := a.opts.Privacy
	text := strings.TrimSpace(f.Text(*body.Text))
	if text == "" {
		writeError(w, http.StatusBadRequest, "text is empty once its private blocks are removed; nothing was saved")
		return
	}
	title := strings.TrimSpace(f.Text(body.Title))
	if title == "" {
		title = memory.FirstLine(text, 80)
	}
	proj := strings.TrimSpace(f.Text(body.Project))
	if proj == "" {
		proj = project.Unknown
	}
	now := a.now()
	var id int64
	err := a.opts.Store.Tx(r.Context(), func(tx *sql.Tx) error {
		projectID, err := memory.EnsureProject(r.Context(), tx, team, proj, "", now)
		if err != nil {
			return err
		}
		sess, err := memory.EnsureManualSession(r.Context(), tx, team, projectID, proj, now)
		if err != nil {
			return err
		}
		id, _, err = memory.InsertObservation(r.Context(), tx, &memory.Observation{
			TeamID: team, ProjectID: projectID, SessionID: sess.ID, MemorySessionID: sess.MemorySessionID, Project: proj,
			Type: "discovery", Title: title, Subtitle: "Manual memory", Narrative: text, GeneratedByModel: "manual", CreatedAt: now,
		})
		return err
	})
	if err != nil {
		a.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, saveReply{Success: true, ID: id, Title: title, Project: proj,
		Message: fmt.Sprintf("Memory saved as observation #%d", id)})
}
