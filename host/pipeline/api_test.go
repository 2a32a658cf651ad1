package pipeline_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/pipeline"
)

func apiEvent(session string, i int) map[string]any {
	return map[string]any{
		"type": "tool_use", "platform_source": "codex", "content_session_id": session, "cwd": "/src/api",
		"tool_name": "Bash", "tool_use_id": fmt.Sprintf("call_%d", i), "tool_input": map[string]any{"command": fmt.Sprintf("echo %d", i)},
		"tool_response": map[string]any{"stdout": fmt.Sprint(i)}, "occurred_at": "2026-05-01T12:00:00Z",
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBadInputGets4xxAndStoresNothing(t *testing.T) {
	t.Parallel()
	b := e2eSetup(t, nil)
	var tooMany []any
	for i := range pipeline.MaxBatch + 1 {
		tooMany = append(tooMany, apiEvent("s-bad", i))
	}
	oneBad := []any{apiEvent("s-bad", 1), apiEvent("s-bad", 2), map[string]any{"type": "tool_use", "tool_name": "Bash"}}
	hook := `{"session_id":"s-bad","cwd":"/src/api","prompt":"hi"}`
	for name, tc := range map[string]struct {
		path, body string
		status     int
		code       string
	}{
		"501 events":              {"/v1/events/batch", string(mustJSON(t, map[string]any{"events": tooMany})), http.StatusRequestEntityTooLarge, pipeline.CodeTooManyEvents},
		"501 events as an array":  {"/v1/events/batch", string(mustJSON(t, tooMany)), http.StatusRequestEntityTooLarge, pipeline.CodeTooManyEvents},
		"empty batch":             {"/v1/events/batch", `{"events":[]}`, http.StatusBadRequest, pipeline.CodeInvalidEvent},
		"one invalid in a batch":  {"/v1/events/batch", string(mustJSON(t, oneBad)), http.StatusBadRequest, pipeline.CodeInvalidEvent},
		"malformed batch":         {"/v1/events/batch", `{"events":[{"type":"tool_use",`, http.StatusBadRequest, httpapi.CodeInvalidJSON},
		"unknown field in batch":  {"/v1/events/batch", `[{"type":"tool_use","content_session_id":"s","tool_name":"x","colour":1}]`, http.StatusBadRequest, httpapi.CodeInvalidJSON},
		"malformed event":         {"/v1/events", `{"type": "user_prompt", "content_session_id": }`, http.StatusBadRequest, httpapi.CodeInvalidJSON},
		"empty body":              {"/v1/events", ``, http.StatusBadRequest, httpapi.CodeInvalidJSON},
		"trailing data":           {"/v1/events", `{"type":"user_prompt","content_session_id":"s","text":"a"} {}`, http.StatusBadRequest, httpapi.CodeInvalidJSON},
		"unknown field":           {"/v1/events", `{"type":"user_prompt","content_session_id":"s","prompt":"a"}`, http.StatusBadRequest, httpapi.CodeInvalidJSON},
		"wrong type":              {"/v1/events", `{"type":"user_prompt","content_session_id":42}`, http.StatusBadRequest, httpapi.CodeInvalidJSON},
		"bad time":                {"/v1/events", `{"type":"user_prompt","content_session_id":"s","occurred_at":"yesterday"}`, http.StatusBadRequest, httpapi.CodeInvalidJSON},
		"missing session":         {"/v1/events", `{"type":"user_prompt","text":"a"}`, http.StatusBadRequest, pipeline.CodeInvalidEvent},
		"unknown type":            {"/v1/events", `{"type":"telepathy","content_session_id":"s"}`, http.StatusBadRequest, pipeline.CodeInvalidEvent},
		"tool without name":       {"/v1/events", `{"type":"tool_use","content_session_id":"s"}`, http.StatusBadRequest, pipeline.CodeInvalidEvent},
		"bad schema version":      {"/v1/events", `{"schema_version":2,"type":"user_prompt","content_session_id":"s"}`, http.StatusBadRequest, pipeline.CodeInvalidEvent},
		"bad generate":            {"/v1/events?generate=maybe", `{"type":"user_prompt","content_session_id":"s"}`, http.StatusBadRequest, httpapi.CodeBadRequest},
		"oversize":                {"/v1/events", `{"type":"user_prompt","content_session_id":"s","text":"` + strings.Repeat("a", 5<<20) + `"}`, http.StatusRequestEntityTooLarge, httpapi.CodeBodyTooLarge},
		"unknown adapter":         {"/v1/hooks/nope/PostToolUse", hook, http.StatusNotFound, httpapi.CodeNotFound},
		"unknown hook event":      {"/v1/hooks/claude-code/Telepathy", hook, http.StatusBadRequest, pipeline.CodeUnknownEvent},
		"malformed hook":          {"/v1/hooks/claude-code/UserPromptSubmit", `{"session_id":`, http.StatusBadRequest, httpapi.CodeInvalidJSON},
		"hook without session id": {"/v1/hooks/claude-code/UserPromptSubmit", `{"cwd":"/src/api","prompt":"hi"}`, http.StatusBadRequest, pipeline.CodeRejected},
		"hook not an object":      {"/v1/hooks/claude-code/UserPromptSubmit", `[1,2]`, http.StatusBadRequest, pipeline.CodeRejected},
		"empty hook":              {"/v1/hooks/claude-code/Stop", ``, http.StatusBadRequest, httpapi.CodeInvalidJSON},
		"unknown session end":     {"/v1/sessions/999/end", ``, http.StatusNotFound, httpapi.CodeNotFound},
		"bad session id":          {"/v1/sessions/abc/end", ``, http.StatusBadRequest, httpapi.CodeBadRequest},
		"start without session":   {"/v1/sessions/start", `{"cwd":"/src/api"}`, http.StatusBadRequest, pipeline.CodeInvalidEvent},
		"start unknown field":     {"/v1/sessions/start", `{"content_session_id":"s","projectId":"x"}`, http.StatusBadRequest, httpapi.CodeInvalidJSON},
	} {
		r := b.post(t, tc.path, "application/json", []byte(tc.body))
		var body httpapi.ErrorBody
		if err := json.Unmarshal(r.body, &body); err != nil || r.status != tc.status || body.Code != tc.code || body.Error == "" {
			t.Errorf("%s: %d %s; want %d %s", name, r.status, r.body, tc.status, tc.code)
		}
	}
	var status struct{}
	if code := b.get(t, "/v1/events/1", &status); code != http.StatusNotFound {
		t.Errorf("GET /v1/events/1 = %d", code)
	}
	for table, n := range b.counts(t) {
		if n != 0 && table != "projects" {
			t.Errorf("bad input stored %d rows in %s", n, table)
		}
	}
	if n := b.counts(t)["projects"]; n != 0 {
		t.Errorf("bad input stored %d projects", n)
	}
}

func TestEventsSessionsAndGenerateFalse(t *testing.T) {
	t.Parallel()
	b := e2eSetup(t, nil)

	// A session is started once: 201, then 200 with the same session.
	start := `{"content_session_id":"sess-api","platform_source":"OpenCode","cwd":"/src/api"}`
	var s1, s2 pipeline.SessionResponse
	r := b.post(t, "/v1/sessions/start", "application/json", []byte(start))
	if err := json.Unmarshal(r.body, &s1); err != nil || r.status != http.StatusCreated || s1.Session == nil || s1.Session.Project != "api" || s1.Session.PlatformSource != "opencode" {
		t.Fatalf("start: %d %s", r.status, r.body)
	}
	r = b.post(t, "/v1/sessions/start", "application/json", []byte(start))
	if err := json.Unmarshal(r.body, &s2); err != nil || r.status != http.StatusOK || s2.Session.ID != s1.Session.ID || s2.Status != pipeline.StatusExisting {
		t.Fatalf("start again: %d %s", r.status, r.body)
	}

	// One event: 201 with IDs, then a repeat: 200 with the same IDs.
	prompt := `{"type":"user_prompt","platform_source":"opencode","content_session_id":"sess-api","cwd":"/src/api","text":"add a health check","occurred_at":"2026-05-01T12:00:00Z"}`
	var e1, e2 pipeline.Result
	r = b.post(t, "/v1/events", "application/json", []byte(prompt))
	if err := json.Unmarshal(r.body, &e1); err != nil || r.status != http.StatusCreated || e1.EventID == 0 || e1.SessionID != s1.Session.ID || e1.PromptNumber != 1 || e1.Job != nil {
		t.Fatalf("event: %d %s", r.status, r.body)
	}
	r = b.post(t, "/v1/events", "application/json", []byte(prompt))
	if err := json.Unmarshal(r.body, &e2); err != nil || r.status != http.StatusOK || e2.EventID != e1.EventID || e2.Status != pipeline.StatusExisting {
		t.Fatalf("repeat: %d %s", r.status, r.body)
	}

	// A batch with a repeat inside it, then the same batch again.
	batch := []any{apiEvent("sess-api", 1), apiEvent("sess-api", 2), apiEvent("sess-api", 1)}
	for i := range batch {
		batch[i].(map[string]any)["platform_source"] = "opencode"
	}
	var br pipeline.BatchResponse
	r = b.post(t, "/v1/events/batch", "application/json", mustJSON(t, map[string]any{"events": batch}))
	if err := json.Unmarshal(r.body, &br); err != nil || r.status != http.StatusCreated || br.Created != 2 || br.Existing != 1 ||
		br.Results[0].EventID != br.Results[2].EventID || br.Results[0].Job == nil || br.Results[0].Job.Kind != pipeline.KindObserve {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	r = b.post(t, "/v1/events/batch", "application/json", mustJSON(t, batch))
	var again pipeline.BatchResponse
	if err := json.Unmarshal(r.body, &again); err != nil || r.status != http.StatusOK || again.Existing != 3 || again.Results[1].Job.ID != br.Results[1].Job.ID {
		t.Fatalf("batch again: %d %s", r.status, r.body)
	}
	b.waitIdle(t)

	var got pipeline.EventResponse
	if code := b.get(t, fmt.Sprintf("/v1/events/%d", br.Results[0].EventID), &got); code != http.StatusOK || got.Event.Type != "tool_use" ||
		got.Event.SourceEventID != "call_1" || got.Job == nil || got.Job.Status != "completed" || len(got.ObservationIDs) == 0 ||
		!strings.Contains(string(got.Event.Payload), `"echo 1"`) {
		t.Fatalf("GET event: %d %+v", code, got)
	}

	// ?generate=false stores without a job.
	var quiet pipeline.BatchResponse
	nogen := []any{apiEvent("sess-quiet", 1), apiEvent("sess-quiet", 2)}
	r = b.post(t, "/v1/events/batch?generate=false", "application/json", mustJSON(t, nogen))
	if err := json.Unmarshal(r.body, &quiet); err != nil || r.status != http.StatusCreated || quiet.Created != 2 || quiet.Results[0].Job != nil {
		t.Fatalf("generate=false: %d %s", r.status, r.body)
	}
	var jobsFor int
	if err := b.srv.Store().Reader().QueryRow(`SELECT COUNT(*) FROM agent_events WHERE session_id = ? AND job_id IS NOT NULL`, quiet.Results[0].SessionID).Scan(&jobsFor); err != nil || jobsFor != 0 {
		t.Fatalf("generate=false events have %d jobs (%v)", jobsFor, err)
	}
	hook := `{"session_id":"sess-quiet-hook","cwd":"/src/api","hook_event_name":"UserPromptSubmit","prompt":"quiet","prompt_id":"p1"}`
	if r := b.post(t, "/v1/hooks/claude-code/UserPromptSubmit?generate=false", "application/json", []byte(hook)); r.status != http.StatusCreated || r.header.Get(pipeline.HeaderJobID) != "" {
		t.Fatalf("hook with generate=false: %d %v", r.status, r.header)
	}
	before := b.counts(t)["generation_jobs"]
	r = b.post(t, fmt.Sprintf("/v1/sessions/%d/end?generate=false", quiet.Results[0].SessionID), "application/json", nil)
	var ended pipeline.SessionResponse
	if err := json.Unmarshal(r.body, &ended); err != nil || r.status != http.StatusOK || ended.Job != nil || ended.Session.Status != "completed" {
		t.Fatalf("end with generate=false: %d %s", r.status, r.body)
	}
	if after := b.counts(t)["generation_jobs"]; after != before {
		t.Fatalf("generate=false created %d jobs", after-before)
	}

	// Ending the session enqueues the summary of its last turn; ending it
	// again answers the same job.
	var end1, end2 pipeline.SessionResponse
	r = b.post(t, fmt.Sprintf("/v1/sessions/%d/end", s1.Session.ID), "application/json", []byte(`{"reason":"exit"}`))
	if err := json.Unmarshal(r.body, &end1); err != nil || r.status != http.StatusOK || end1.Job == nil || end1.Job.Kind != pipeline.KindSummarize || end1.Session.Status != "completed" {
		t.Fatalf("end: %d %s", r.status, r.body)
	}
	r = b.post(t, fmt.Sprintf("/v1/sessions/%d/end", s1.Session.ID), "application/json", nil)
	if err := json.Unmarshal(r.body, &end2); err != nil || end2.Job == nil || end2.Job.ID != end1.Job.ID {
		t.Fatalf("end again: %d %s", r.status, r.body)
	}
	b.waitIdle(t)
	var summaries int
	if err := b.srv.Store().Reader().QueryRow(`SELECT COUNT(*) FROM session_summaries WHERE session_id = ?`, s1.Session.ID).Scan(&summaries); err != nil || summaries != 1 {
		t.Fatalf("%d summaries (%v)", summaries, err)
	}
}
