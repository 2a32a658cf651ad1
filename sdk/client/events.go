package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/event"
)

// WriteOptions are the query parameters of the write routes (events,
// hooks, session end). A nil *WriteOptions is the defaults.
type WriteOptions struct {
	// NoGeneration stores the write but creates no generation job
	// (?generate=false).
	NoGeneration bool
}

func (o *WriteOptions) values() url.Values {
	if o == nil || !o.NoGeneration {
		return nil
	}
	return url.Values{"generate": {"false"}}
}

// Statuses of a write (EventResult.Status, HookReply.Status).
const (
	StatusCreated  = "created"
	StatusExisting = "existing"
	StatusSkipped  = "skipped"
)

// JobRef names a generation job and its outbox status.
type JobRef struct {
	ID string `json:"id"`
	// Kind is "observe" or "summarize".
	Kind   string `json:"kind"`
	Status string `json:"status"`
}

// EventResult is the answer to POST /v1/events, and one result of a batch.
type EventResult struct {
	// Status is StatusCreated, StatusExisting (a repeat: the ids are the
	// original ones) or StatusSkipped (nothing stored; see Reason).
	Status       string `json:"status"`
	Reason       string `json:"reason,omitempty"`
	EventType    string `json:"event_type"`
	EventID      int64  `json:"event_id,omitempty"`
	SessionID    int64  `json:"session_id,omitempty"`
	PromptNumber int    `json:"prompt_number,omitempty"`
	// Job is nil when the event causes no generation.
	Job *JobRef `json:"generation_job"`
}

// BatchResponse is the answer to POST /v1/events/batch.
type BatchResponse struct {
	Results  []EventResult `json:"results"`
	Created  int           `json:"created"`
	Existing int           `json:"existing"`
	Skipped  int           `json:"skipped"`
}

// StoredEvent is an agent event as the server stored it.
type StoredEvent struct {
	ID             int64  `json:"id"`
	IdempotencyKey string `json:"idempotency_key"`
	TeamID         string `json:"team_id"`
	ProjectID      int64  `json:"project_id"`
	SessionID      int64  `json:"session_id"`
	// SourceAdapter is the adapter that normalized it, or "api".
	SourceAdapter  string `json:"source_adapter"`
	SourceEventID  string `json:"source_event_id,omitempty"`
	Type           string `json:"event_type"`
	HookEvent      string `json:"hook_event,omitempty"`
	PlatformSource string `json:"platform_source"`
	ToolName       string `json:"tool_name,omitempty"`
	PromptNumber   int    `json:"prompt_number"`
	// Payload is the stored, privacy-filtered event.AgentEvent.
	Payload       json.RawMessage `json:"payload"`
	OccurredAt    time.Time       `json:"occurred_at"`
	ReceivedAt    time.Time       `json:"received_at"`
	JobID         string          `json:"job_id,omitempty"`
	ObservedByJob string          `json:"observed_by_job,omitempty"`
}

// EventDetail is the answer to GET /v1/events/{id}.
type EventDetail struct {
	Event StoredEvent `json:"event"`
	// Job is nil when the event caused none.
	Job            *JobRef `json:"generation_job"`
	ObservationIDs []int64 `json:"observation_ids"`
}

// PostEvent is POST /v1/events: one event, in the generic AgentEvent
// shape (docs/generic-events.md).
func (c *Client) PostEvent(ctx context.Context, ev event.AgentEvent, opts *WriteOptions) (*EventResult, error) {
	var out EventResult
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/events", query: opts.values(), body: ev}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PostEventBatch is POST /v1/events/batch: 1 to 500 events, validated
// before any is stored and stored atomically.
func (c *Client) PostEventBatch(ctx context.Context, events []event.AgentEvent, opts *WriteOptions) (*BatchResponse, error) {
	body := struct {
		Events []event.AgentEvent `json:"events"`
	}{events}
	var out BatchResponse
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/events/batch", query: opts.values(), body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetEvent is GET /v1/events/{id}: a stored event, its job and the
// memories made from it.
func (c *Client) GetEvent(ctx context.Context, id int64) (*EventDetail, error) {
	var out EventDetail
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/events/" + itoa(id)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// HookReply is the answer to a hook: the adapter's reply for the agent, and
// what was stored, from the response headers.
type HookReply struct {
	// Body is the JSON the adapter renders for the agent, to hand back to
	// it as is.
	Body json.RawMessage
	// Status is StatusCreated, StatusExisting or StatusSkipped; empty when
	// the hook stored no event.
	Status    string
	EventID   int64
	SessionID int64
	JobID     string
}

// PostHook is POST /v1/hooks/{adapter}/{event}: payload is a raw agent
// hook payload, exactly as the agent sends it (adapter "claude-code",
// hookEvent "PostToolUse", …).
func (c *Client) PostHook(ctx context.Context, adapter, hookEvent string, payload []byte, opts *WriteOptions) (*HookReply, error) {
	path := "/v1/hooks/" + escape(adapter) + "/" + escape(hookEvent)
	resp, err := c.send(ctx, request{method: http.MethodPost, path: path, query: opts.values(),
		raw: bytes.NewReader(payload), contentType: "application/json"})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := readBody(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("client: POST %s: read answer: %w", path, err)
	}
	out := &HookReply{Body: json.RawMessage(data), Status: resp.Header.Get("X-Claude-Mem-Status"), JobID: resp.Header.Get("X-Claude-Mem-Job-Id")}
	out.EventID, _ = strconv.ParseInt(resp.Header.Get("X-Claude-Mem-Event-Id"), 10, 64)
	out.SessionID, _ = strconv.ParseInt(resp.Header.Get("X-Claude-Mem-Session-Id"), 10, 64)
	return out, nil
}
