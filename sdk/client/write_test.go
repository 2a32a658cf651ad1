package client_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/client"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

func TestSessionsAndEvents(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c, team := newTeam(t)
	cs := team + "-cs-1" // content session ids are unique server-wide

	start := must(c.StartSession(ctx, client.StartSessionRequest{ContentSessionID: cs, Project: "shop", Cwd: "/src/shop", PlatformSource: "codex"}))(t)
	s := start.Session
	if start.Status != client.StatusCreated || s == nil || s.ID == 0 || s.TeamID != team || s.Project != "shop" || s.Status != "active" || s.PlatformSource != "codex" {
		t.Fatalf("start %+v", start)
	}
	again := must(c.StartSession(ctx, client.StartSessionRequest{ContentSessionID: cs, PlatformSource: "codex", Project: "shop"}))(t)
	if again.Status != client.StatusExisting || again.Session.ID != s.ID {
		t.Fatalf("start again %+v", again)
	}

	prompt := must(c.PostEvent(ctx, event.AgentEvent{Type: event.TypeUserPrompt, PlatformSource: "codex", ContentSessionID: cs,
		Project: "shop", Text: "run the tests"}, nil))(t)
	if prompt.Status != client.StatusCreated || prompt.SessionID != s.ID || prompt.PromptNumber != 1 || prompt.Job != nil {
		t.Fatalf("prompt %+v", prompt)
	}
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tool := event.AgentEvent{Type: event.TypeToolUse, PlatformSource: "codex", ContentSessionID: cs, Project: "shop",
		ToolName: "Bash", ToolUseID: "call-1", ToolInput: json.RawMessage(`{"command":"go test ./..."}`),
		ToolResponse: json.RawMessage(`{"stdout":"ok"}`), OccurredAt: at}
	res := must(c.PostEvent(ctx, tool, nil))(t)
	if res.Status != client.StatusCreated || res.EventID == 0 || res.Job == nil || res.Job.Kind != "observe" {
		t.Fatalf("tool event %+v", res)
	}
	repeat := must(c.PostEvent(ctx, tool, nil))(t)
	if repeat.Status != client.StatusExisting || repeat.EventID != res.EventID {
		t.Fatalf("repeat %+v, want the event %d", repeat, res.EventID)
	}

	batch := must(c.PostEventBatch(ctx, []event.AgentEvent{
		{Type: event.TypeToolUse, PlatformSource: "codex", ContentSessionID: cs, Project: "shop", ToolName: "Read", ToolUseID: "call-2",
			ToolInput: json.RawMessage(`{"file_path":"main.go"}`)},
		tool,
	}, &client.WriteOptions{NoGeneration: true}))(t)
	if batch.Created != 1 || batch.Existing != 1 || len(batch.Results) != 2 || batch.Results[0].Job != nil || batch.Results[1].EventID != res.EventID {
		t.Fatalf("batch %+v", batch)
	}

	ev := must(c.GetEvent(ctx, res.EventID))(t)
	var payload event.AgentEvent
	if err := json.Unmarshal(ev.Event.Payload, &payload); err != nil {
		t.Fatal(err)
	}
	if ev.Event.ID != res.EventID || ev.Event.SessionID != s.ID || ev.Event.ToolName != "Bash" || ev.Event.SourceAdapter != "api" ||
		!ev.Event.OccurredAt.Equal(at) || ev.Job == nil || ev.Job.ID != res.Job.ID || payload.ToolUseID != "call-1" {
		t.Fatalf("event %+v", ev)
	}
	job := waitJob(t, c, res.Job.ID)
	if job.Job.SessionID != s.ID || job.Job.ProjectID != s.ProjectID {
		t.Fatalf("job %+v", job)
	}

	detail := must(c.GetSession(ctx, s.ID))(t)
	if detail.Session.ID != s.ID || len(detail.Prompts) != 1 || detail.Prompts[0].Text != "run the tests" || len(detail.ObservationIDs) == 0 {
		t.Fatalf("session %+v", detail)
	}
	ev = must(c.GetEvent(ctx, res.EventID))(t)
	if !slices.Equal(ev.ObservationIDs, detail.ObservationIDs) {
		t.Fatalf("the event made %v, the session holds %v", ev.ObservationIDs, detail.ObservationIDs)
	}

	end := must(c.EndSession(ctx, s.ID, &client.EndSessionRequest{Reason: "done"}, nil))(t)
	if end.Status != "completed" || end.Session.CompletedAt.IsZero() || end.Job == nil || end.Job.Kind != "summarize" {
		t.Fatalf("end %+v", end)
	}
	waitJob(t, c, end.Job.ID)
	ended := must(c.EndSession(ctx, s.ID, nil, &client.WriteOptions{NoGeneration: true}))(t)
	if ended.Status != "completed" || ended.Job != nil {
		t.Fatalf("end again %+v", ended)
	}
	if detail = must(c.GetSession(ctx, s.ID))(t); len(detail.Summaries) != 1 || detail.Session.Status != "completed" {
		t.Fatalf("ended session %+v", detail)
	}

	// Prompts and summaries are searchable too.
	res2 := must(c.Search(ctx, client.SearchRequest{Query: "run the tests", Kinds: []string{client.KindPrompt, client.KindSummary}}))(t)
	var kinds []string
	for _, h := range res2.Hits {
		kinds = append(kinds, h.Kind)
		switch h.Kind {
		case client.KindPrompt:
			if h.Prompt == nil || h.Prompt.Text != "run the tests" || h.Prompt.Project != "shop" || h.Prompt.SessionID != s.ID {
				t.Fatalf("prompt hit %+v", h.Prompt)
			}
		case client.KindSummary:
			if h.Summary == nil || h.Summary.SessionID != s.ID {
				t.Fatalf("summary hit %+v", h.Summary)
			}
		}
	}
	if !slices.Contains(kinds, client.KindPrompt) {
		t.Fatalf("search for the prompt found %v", kinds)
	}

	_, err := c.PostEvent(ctx, event.AgentEvent{Type: event.TypeToolUse, ContentSessionID: cs}, nil)
	wantAPIError(t, err, http.StatusBadRequest, client.CodeInvalidEvent)
	_, err = c.GetEvent(ctx, 1<<40)
	wantAPIError(t, err, http.StatusNotFound, client.CodeNotFound)
	_, err = c.GetSession(ctx, 1<<40)
	wantAPIError(t, err, http.StatusNotFound, client.CodeNotFound)
	_, err = c.EndSession(ctx, 1<<40, nil, nil)
	wantAPIError(t, err, http.StatusNotFound, client.CodeNotFound)
}

func TestHooks(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c, team := newTeam(t)

	payload := []byte(`{"session_id":"` + team + `-hook-1","cwd":"/src/hooks","hook_event_name":"UserPromptSubmit","prompt":"fix the login bug"}`)
	reply := must(c.PostHook(ctx, "claude-code", "UserPromptSubmit", payload, nil))(t)
	if reply.Status != client.StatusCreated || reply.EventID == 0 || reply.SessionID == 0 || !json.Valid(reply.Body) {
		t.Fatalf("reply %+v (%s)", reply, reply.Body)
	}
	again := must(c.PostHook(ctx, "claude-code", "UserPromptSubmit", payload, nil))(t)
	if again.Status != client.StatusExisting || again.EventID != reply.EventID {
		t.Fatalf("repeat %+v", again)
	}
	ev := must(c.GetEvent(ctx, reply.EventID))(t)
	if ev.Event.SourceAdapter != "claude-code" || ev.Event.HookEvent != "UserPromptSubmit" || ev.Event.SessionID != reply.SessionID {
		t.Fatalf("event %+v", ev.Event)
	}
	sess := must(c.GetSession(ctx, reply.SessionID))(t)
	if sess.Session.Project != "hooks" || len(sess.Prompts) != 1 || sess.Prompts[0].Text != "fix the login bug" {
		t.Fatalf("session %+v", sess)
	}

	_, err := c.PostHook(ctx, "no-such-agent", "Stop", payload, nil)
	wantAPIError(t, err, http.StatusNotFound, client.CodeNotFound)
	_, err = c.PostHook(ctx, "claude-code", "UserPromptSubmit", []byte(`{"cwd":"/src"}`), nil)
	wantAPIError(t, err, http.StatusBadRequest, client.CodeRejected)
	_, err = c.PostHook(ctx, "claude-code", "NoSuchHook", payload, nil)
	wantAPIError(t, err, http.StatusBadRequest, client.CodeUnknownEvent)
	_, err = c.PostHook(ctx, "claude-code", "UserPromptSubmit", []byte(`not json`), nil)
	wantAPIError(t, err, http.StatusBadRequest, client.CodeInvalidJSON)
}

func TestJobs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c, team := newTeam(t)
	res := must(c.PostEvent(ctx, event.AgentEvent{Type: event.TypeToolUse, ContentSessionID: team + "-jobs-1", Project: "jobs",
		ToolName: "Bash", ToolUseID: "t1", ToolInput: json.RawMessage(`{"command":"ls"}`)}, nil))(t)
	job := waitJob(t, c, res.Job.ID)
	if job.Job.Kind != "observe" || job.Job.Attempts != 1 || len(job.History) < 2 || job.History[0].Status != client.JobQueued {
		t.Fatalf("job %+v", job)
	}
	_, err := c.RetryJob(ctx, res.Job.ID)
	wantAPIError(t, err, http.StatusConflict, client.CodeConflict)
	if !client.IsConflict(err) {
		t.Fatalf("IsConflict(%v) = false", err)
	}

	// A failed job goes back to the queue.
	if _, err := shared.Store().Writer().ExecContext(ctx, `UPDATE generation_jobs SET status = 'failed', last_error = 'boom' WHERE id = ?`, res.Job.ID); err != nil {
		t.Fatal(err)
	}
	if failed := must(c.GetJob(ctx, res.Job.ID))(t); failed.Job.Status != client.JobFailed || failed.Job.LastError != "boom" {
		t.Fatalf("failed job %+v", failed.Job)
	}
	// The failure is faked in the outbox only: the engine still holds the
	// job as completed, and the retry must still run it again.
	retried := must(c.RetryJob(ctx, res.Job.ID))(t)
	if retried.Job.Status == client.JobFailed || retried.Job.Attempts > 1 || retried.Job.LastError != "" ||
		!slices.ContainsFunc(retried.History, func(e client.JobEvent) bool { return e.Detail == "retry requested" }) {
		t.Fatalf("retried job %+v", retried)
	}
	done := waitJob(t, c, res.Job.ID)
	if last := done.History[len(done.History)-1]; last.Status != client.JobCompleted || last.At.Before(retried.History[len(retried.History)-1].At) {
		t.Fatalf("the retried job did not run again: %+v", done.History)
	}

	_, err = c.GetJob(ctx, "no-such-job")
	wantAPIError(t, err, http.StatusNotFound, client.CodeNotFound)
	other, _ := newTeam(t)
	_, err = other.GetJob(ctx, res.Job.ID)
	wantAPIError(t, err, http.StatusNotFound, client.CodeNotFound)
}

// waitJob polls a job until it completes.
func waitJob(t *testing.T, c *client.Client, id string) *client.JobResponse {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		job := must(c.GetJob(t.Context(), id))(t)
		switch {
		case job.Job.Status == client.JobCompleted:
			return job
		case job.Job.Status == client.JobFailed || time.Now().After(deadline):
			t.Fatalf("job %s: %+v", id, job)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
