package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/store/storetest"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/jobs"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/pipeline"
	"github.com/claude-mem/claude-mem-server/host/privacy"
	"github.com/claude-mem/claude-mem-server/host/provider"
	"github.com/claude-mem/claude-mem-server/host/store"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

// fakeProvider stands in for a model in the unit tests of the handlers
// (the end-to-end tests use the real providers). It records every request.
type fakeProvider struct {
	mu        sync.Mutex
	observe   []provider.ObserveRequest
	summarize []provider.SummarizeRequest
	err       error
}

func (f *fakeProvider) Name() string { return "fake" }

func (f *fakeProvider) Observe(_ context.Context, req provider.ObserveRequest) (provider.ObserveResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.observe = append(f.observe, req)
	if f.err != nil {
		return provider.ObserveResult{}, f.err
	}
	res := provider.ObserveResult{Usage: provider.Usage{InputTokens: 90, OutputTokens: 10, Model: "fake-1"}}
	for _, e := range req.Events {
		res.Observations = append(res.Observations, provider.Observation{Type: "discovery", Title: "Used " + e.ToolName + " " + e.Input, Narrative: e.Output})
	}
	return res, nil
}

func (f *fakeProvider) Summarize(_ context.Context, req provider.SummarizeRequest) (provider.SummarizeResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.summarize = append(f.summarize, req)
	if f.err != nil {
		return provider.SummarizeResult{}, f.err
	}
	return provider.SummarizeResult{
		Summary: &provider.Summary{Request: req.UserRequest, Completed: req.LastAssistantMessage, FilesEdited: []string{"a.go"}},
		Usage:   provider.Usage{InputTokens: 50, OutputTokens: 5, Model: "fake-1"},
	}, nil
}

func (f *fakeProvider) calls() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.observe), len(f.summarize)
}

type unitBundle struct {
	st   *store.Store
	p    *pipeline.Pipeline
	fake *fakeProvider
}

func unitSetup(t *testing.T, priv config.Privacy, batch int) *unitBundle {
	return unitSetupTB(t, priv, batch)
}

func unitSetupTB(t testing.TB, priv config.Privacy, batch int) *unitBundle {
	t.Helper()
	st := storetest.New(t)
	b := &unitBundle{st: st, fake: &fakeProvider{}}
	b.p = b.pipeline(t, priv, batch)
	return b
}

func (b *unitBundle) pipeline(t testing.TB, priv config.Privacy, batch int) *pipeline.Pipeline {
	t.Helper()
	f, err := privacy.New(priv)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(pipeline.Options{Store: b.st, Provider: b.fake, Privacy: f, Generation: config.Generation{BatchSize: batch}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (b *unitBundle) ingest(t *testing.T, evs ...event.AgentEvent) []pipeline.Result {
	t.Helper()
	in := make([]pipeline.Input, len(evs))
	for i, ev := range evs {
		if err := pipeline.Validate(ev); err != nil {
			t.Fatal(err)
		}
		in[i] = pipeline.Input{Event: ev, Source: pipeline.SourceAPI}
	}
	res, err := b.p.Ingest(context.Background(), memory.LocalTeam, in, true)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// job loads an outbox job as the runner would hand it to a handler.
func (b *unitBundle) job(t *testing.T, id string) jobs.Job {
	t.Helper()
	j := jobs.Job{ID: id, Attempt: 1}
	if err := b.st.Reader().QueryRow(`SELECT lane, kind, payload FROM generation_jobs WHERE id = ?`, id).Scan(&j.Lane, &j.Kind, &j.Payload); err != nil {
		t.Fatalf("job %s: %v", id, err)
	}
	return j
}

func (b *unitBundle) run(t *testing.T, id string) error {
	t.Helper()
	j := b.job(t, id)
	if j.Kind == pipeline.KindSummarize {
		return b.p.Summarize(context.Background(), j)
	}
	return b.p.Observe(context.Background(), j)
}

func (b *unitBundle) observations(t *testing.T, sessionID int64) []memory.Observation {
	t.Helper()
	obs, err := memory.ListObservations(context.Background(), b.st.Reader(), sessionID)
	if err != nil {
		t.Fatal(err)
	}
	return obs
}

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func toolEvent(session, id, tool string, i int) event.AgentEvent {
	return event.AgentEvent{Type: event.TypeToolUse, PlatformSource: "claude-code", ContentSessionID: session, Cwd: "/src/shop",
		ToolName: tool, ToolUseID: id, ToolInput: json.RawMessage(fmt.Sprintf(`{"file_path":"f%d.go"}`, i)),
		ToolResponse: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)), OccurredAt: t0.Add(time.Duration(i) * time.Second)}
}

func TestObserveBatchesPendingEventsOnce(t *testing.T) {
	t.Parallel()
	b := unitSetup(t, config.Privacy{}, 3)
	prompt := event.AgentEvent{Type: event.TypeUserPrompt, PlatformSource: "claude-code", ContentSessionID: "s1", Cwd: "/src/shop", Text: "add coupons", OccurredAt: t0}
	evs := []event.AgentEvent{prompt}
	for i := range 5 {
		evs = append(evs, toolEvent("s1", fmt.Sprintf("toolu_%d", i), "Read", i))
	}
	res := b.ingest(t, evs...)
	var jobIDs []string
	for _, r := range res[1:] {
		if r.Status != pipeline.StatusCreated || r.Job == nil || r.Job.Kind != pipeline.KindObserve || r.PromptNumber != 1 {
			t.Fatalf("result %+v", r)
		}
		jobIDs = append(jobIDs, r.Job.ID)
	}
	sessionID := res[0].SessionID
	for _, id := range jobIDs {
		if err := b.run(t, id); err != nil {
			t.Fatalf("job %s: %v", id, err)
		}
	}
	if n, _ := b.fake.calls(); n != 2 {
		t.Fatalf("%d provider calls, want 2 batches (3 + 2 events)", n)
	}
	first := b.fake.observe[0]
	if len(first.Events) != 3 || first.Events[0].Input != `{"file_path":"f0.go"}` || first.Events[2].Input != `{"file_path":"f2.go"}` ||
		first.UserRequest != "add coupons" || first.JobID != jobIDs[0] || first.Project != "shop" {
		t.Fatalf("first batch %+v", first)
	}
	obs := b.observations(t, sessionID)
	if len(obs) != 5 {
		t.Fatalf("%d observations, want 5", len(obs))
	}
	var tokens int64
	for i, o := range obs[:3] {
		tokens += o.DiscoveryTokens
		if o.GeneratedByModel != "fake-1" || o.PromptNumber != 1 || o.JobID != jobIDs[0] ||
			o.GenerationKey != pipeline.GenerationKey(jobIDs[0], i, o.ContentHash) {
			t.Errorf("observation %+v", o)
		}
	}
	if tokens != 100 {
		t.Errorf("discovery tokens of the first batch add up to %d, want the call's 100", tokens)
	}
	// A retry of a job whose work is committed changes nothing.
	for _, id := range jobIDs {
		if err := b.run(t, id); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := b.fake.calls(); n != 2 || len(b.observations(t, sessionID)) != 5 {
		t.Fatalf("a retry called the provider or stored again: %d calls", n)
	}
}

func TestObserveErrors(t *testing.T) {
	t.Parallel()
	b := unitSetup(t, config.Privacy{}, 10)
	res := b.ingest(t, toolEvent("s1", "toolu_1", "Bash", 1))
	jobID := res[0].Job.ID
	for name, tc := range map[string]struct {
		err       error
		permanent bool
	}{
		"unparseable": {fmt.Errorf("%w: prose", provider.ErrUnparseable), true},
		"budget":      {provider.ErrBudget, true},
		"transient":   {fmt.Errorf("%w: 503", provider.ErrTransient), false},
		"rate limit":  {provider.ErrRateLimited, false},
	} {
		b.fake.mu.Lock()
		b.fake.err = tc.err
		b.fake.mu.Unlock()
		err := b.run(t, jobID)
		if !errors.Is(err, tc.err) || jobs.IsPermanent(err) != tc.permanent {
			t.Errorf("%s: err = %v, permanent = %v; want %v", name, err, jobs.IsPermanent(err), tc.permanent)
		}
	}
	if obs := b.observations(t, res[0].SessionID); len(obs) != 0 {
		t.Fatalf("a failed attempt stored %d observations", len(obs))
	}
	b.fake.mu.Lock()
	b.fake.err = nil
	b.fake.mu.Unlock()
	if err := b.run(t, jobID); err != nil || len(b.observations(t, res[0].SessionID)) != 1 {
		t.Fatalf("after the errors: %v", err)
	}
}

func TestPrivateTurnsAndSkippedTools(t *testing.T) {
	t.Parallel()
	b := unitSetup(t, config.Privacy{SkipTools: []string{"TodoWrite"}}, 10)
	res := b.ingest(t,
		event.AgentEvent{Type: event.TypeUserPrompt, ContentSessionID: "s1", Cwd: "/src/shop", Text: "<private>all of it</private>", OccurredAt: t0},
		toolEvent("s1", "toolu_1", "Bash", 1),
		event.AgentEvent{Type: event.TypeAssistantMessage, ContentSessionID: "s1", Cwd: "/src/shop", Text: "done", OccurredAt: t0.Add(time.Minute)},
		event.AgentEvent{Type: event.TypeSessionEnd, ContentSessionID: "s1", Cwd: "/src/shop", OccurredAt: t0.Add(2 * time.Minute)},
		toolEvent("s1", "toolu_2", "TodoWrite", 2),
	)
	if res[0].Status != pipeline.StatusCreated || res[0].Reason != pipeline.ReasonPrivate || res[0].PromptNumber != 1 {
		t.Errorf("private prompt %+v", res[0])
	}
	for i, want := range map[int]string{1: pipeline.ReasonPrivate, 2: pipeline.ReasonPrivate, 4: pipeline.ReasonToolExcluded} {
		if res[i].Status != pipeline.StatusSkipped || res[i].Reason != want || res[i].EventID != 0 {
			t.Errorf("event %d: %+v, want skipped %s", i, res[i], want)
		}
	}
	if res[3].Status != pipeline.StatusCreated || res[3].Job != nil {
		t.Errorf("session end of a private turn %+v: no summary job", res[3])
	}
	prompts, _ := memory.ListPrompts(context.Background(), b.st.Reader(), res[0].SessionID)
	if len(prompts) != 1 || !prompts[0].Private || prompts[0].Text != "" {
		t.Fatalf("prompts %+v", prompts)
	}

	// A tool added to the skip list after its event was stored is still
	// not sent: the worker checks again.
	open := b.pipeline(t, config.Privacy{}, 10)
	r, err := open.Ingest(context.Background(), memory.LocalTeam, []pipeline.Input{{Event: toolEvent("s2", "toolu_9", "TodoWrite", 9), Source: pipeline.SourceAPI}}, true)
	if err != nil || r[0].Job == nil {
		t.Fatalf("ingest: %+v %v", r, err)
	}
	if err := b.run(t, r[0].Job.ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := b.fake.calls(); n != 0 {
		t.Fatalf("the provider saw %d calls", n)
	}
	ev, _ := memory.GetEvent(context.Background(), b.st.Reader(), memory.LocalTeam, r[0].EventID)
	if ev.ObservedByJob != r[0].Job.ID {
		t.Fatalf("the skipped event was not marked done: %+v", ev)
	}
}

func TestSummarizeOncePerTurn(t *testing.T) {
	t.Parallel()
	b := unitSetup(t, config.Privacy{}, 10)
	res := b.ingest(t,
		event.AgentEvent{Type: event.TypeUserPrompt, ContentSessionID: "s1", Cwd: "/src/shop", Text: "fix checkout", OccurredAt: t0},
		toolEvent("s1", "toolu_1", "Edit", 1),
		event.AgentEvent{Type: event.TypeAssistantMessage, ContentSessionID: "s1", Cwd: "/src/shop",
			Text: "Fixed it.<private>not this</private> Key sk-ant-api03-AbCdEfGhIjKlMnOp", OccurredAt: t0.Add(time.Minute)},
		event.AgentEvent{Type: event.TypeSessionEnd, ContentSessionID: "s1", Cwd: "/src/shop", OccurredAt: t0.Add(2 * time.Minute)},
	)
	stop, end := res[2], res[3]
	if stop.Job == nil || end.Job == nil || stop.Job.ID != end.Job.ID || stop.Job.Kind != pipeline.KindSummarize {
		t.Fatalf("Stop %+v and SessionEnd %+v must share the turn's summary job", stop.Job, end.Job)
	}
	if err := b.run(t, res[1].Job.ID); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := b.run(t, stop.Job.ID); err != nil {
			t.Fatal(err)
		}
	}
	_, n := b.fake.calls()
	req := b.fake.summarize[0]
	if req.UserRequest != "fix checkout" || strings.Contains(req.LastAssistantMessage, "not this") || strings.Contains(req.LastAssistantMessage, "AbCdEfGhIjKl") ||
		!strings.HasPrefix(req.LastAssistantMessage, "Fixed it.") || len(req.Events) != 1 || req.Events[0].ToolName != "Edit" {
		t.Fatalf("summarize request %+v", req)
	}
	sums, err := memory.ListSummaries(context.Background(), b.st.Reader(), stop.SessionID)
	if err != nil || len(sums) != 1 || n != 2 {
		t.Fatalf("%d summaries after %d calls (%v); want 1", len(sums), n, err)
	}
	if s := sums[0]; s.Request != "fix checkout" || s.DiscoveryTokens != 55 || s.GeneratedByModel != "fake-1" || s.PromptNumber != 1 || s.FilesEdited[0] != "a.go" {
		t.Fatalf("summary %+v", s)
	}
	sess, _ := memory.GetSession(context.Background(), b.st.Reader(), memory.LocalTeam, stop.SessionID)
	if sess.Status != memory.StatusCompleted {
		t.Fatalf("session %+v", sess)
	}
}

func TestIngestRepeatsAnswerTheOriginalIDs(t *testing.T) {
	t.Parallel()
	b := unitSetup(t, config.Privacy{}, 10)
	evs := []event.AgentEvent{
		{Type: event.TypeUserPrompt, ContentSessionID: "s1", Cwd: "/src/shop", Text: "one", OccurredAt: t0},
		toolEvent("s1", "toolu_1", "Read", 1),
		{Type: event.TypeUserPrompt, ContentSessionID: "s1", Cwd: "/src/shop", Text: "two", OccurredAt: t0.Add(time.Minute)},
	}
	first := b.ingest(t, evs...)
	again := b.ingest(t, evs...)
	for i := range first {
		f, a := first[i], again[i]
		if f.Status != pipeline.StatusCreated || a.Status != pipeline.StatusExisting || f.EventID != a.EventID || f.SessionID != a.SessionID || f.PromptNumber != a.PromptNumber {
			t.Errorf("event %d: first %+v, again %+v", i, f, a)
		}
	}
	if first[0].PromptNumber != 1 || first[1].PromptNumber != 1 || first[2].PromptNumber != 2 || first[1].Job.ID != again[1].Job.ID {
		t.Errorf("prompt numbers %d %d %d", first[0].PromptNumber, first[1].PromptNumber, first[2].PromptNumber)
	}
	counts, _ := memory.Counts(context.Background(), b.st.Reader())
	if counts["agent_events"] != 3 || counts["user_prompts"] != 2 || counts["sdk_sessions"] != 1 {
		t.Fatalf("counts %v", counts)
	}
}
