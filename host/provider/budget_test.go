package provider_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/store/storetest"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/provider"
	"github.com/claude-mem/claude-mem-server/host/store"
)

// costly is a model provider that spends a fixed number of tokens per call
// and estimates est before it.
type costly struct {
	spend, est int64
	err        error // returned with the usage, when set
	calls      atomic.Int64
}

func (c *costly) Name() string { return "anthropic" }

func (c *costly) EstimateObserve(provider.ObserveRequest) int64     { return c.est }
func (c *costly) EstimateSummarize(provider.SummarizeRequest) int64 { return c.est }

func (c *costly) Observe(ctx context.Context, req provider.ObserveRequest) (provider.ObserveResult, error) {
	c.calls.Add(1)
	u := provider.Usage{InputTokens: c.spend - c.spend/10, OutputTokens: c.spend / 10, Model: "claude-test"}
	if c.err != nil {
		return provider.ObserveResult{Usage: u}, c.err
	}
	return provider.ObserveResult{Observations: []provider.Observation{{Type: "discovery", Title: "model"}}, Usage: u}, nil
}

func (c *costly) Summarize(ctx context.Context, req provider.SummarizeRequest) (provider.SummarizeResult, error) {
	c.calls.Add(1)
	return provider.SummarizeResult{Summary: &provider.Summary{Request: "model"}, Usage: provider.Usage{InputTokens: c.spend, Model: "claude-test"}}, nil
}

type budgetBundle struct {
	st    *store.Store
	usage *provider.UsageStore
	path  string
}

func setupBudget(t *testing.T) *budgetBundle {
	t.Helper()
	path := filepath.Join(t.TempDir(), store.FileName)
	st := storetest.Open(t, path)
	return &budgetBundle{st: st, usage: provider.NewUsageStore(st), path: path}
}

func fixedClock(at time.Time) func() time.Time { return func() time.Time { return at } }

func observeReq(project, job string) provider.ObserveRequest {
	return provider.ObserveRequest{Project: project, JobID: job, Events: []provider.ToolEvent{
		ev(0, "Edit", map[string]any{"file_path": testCwd + "/a.go", "old_string": "a", "new_string": "b"}, map[string]any{}),
	}}
}

func TestBudgetStopsSpendAtDailyLimit(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		spend, est int64
		wantCalls  int64
	}{
		"estimate right": {spend: 1000, est: 1000, wantCalls: 10},
		// The model spends twice its estimate: spend still stops, one call
		// past the limit at most.
		"estimate low": {spend: 2000, est: 1000, wantCalls: 5},
		"no estimate":  {spend: 1000, est: 0, wantCalls: 10},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bb := setupBudget(t)
			inner := &costly{spend: tc.spend, est: tc.est}
			b := provider.WithBudget(inner, nil, config.Budget{DailyTokens: 10_000, FallbackToHeuristic: true}, bb.usage,
				provider.WithClock(fixedClock(t0)))
			ctx := context.Background()
			for i := range 200 {
				res, err := b.Observe(ctx, observeReq("p", fmt.Sprintf("job-%d", i)))
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Observations) == 0 {
					t.Fatalf("call %d: no observations", i)
				}
			}
			if got := inner.calls.Load(); got != tc.wantCalls {
				t.Errorf("model called %d times, want %d", got, tc.wantCalls)
			}
			day, err := bb.usage.DayTotals(ctx, provider.Day(t0))
			if err != nil {
				t.Fatal(err)
			}
			if day.Tokens > 10_000+tc.spend || day.Tokens < 10_000-tc.spend {
				t.Errorf("spent %d tokens against a limit of 10000", day.Tokens)
			}
			if day.Calls != 200 || day.Fallbacks != 200-tc.wantCalls {
				t.Errorf("day = %+v", day)
			}
			st, err := b.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !st.FallbackActive || !strings.Contains(st.Reason, "daily token budget") || st.Fallbacks != 200-tc.wantCalls || st.Today.Tokens != day.Tokens {
				t.Errorf("status = %+v", st)
			}
		})
	}
}

func TestBudgetFallbackObservationsAreHeuristic(t *testing.T) {
	t.Parallel()
	bb := setupBudget(t)
	b := provider.WithBudget(&costly{spend: 1000, est: 1000}, provider.NewHeuristic(), config.Budget{DailyTokens: 500, FallbackToHeuristic: true}, bb.usage)
	res, err := b.Observe(context.Background(), observeReq("p", "j"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Usage.Model != "heuristic" || len(res.Observations) != 1 || res.Observations[0].Title != "Edited a.go" {
		t.Errorf("fallback result = %+v", res)
	}
	sum, err := b.Summarize(context.Background(), provider.SummarizeRequest{Project: "p", UserRequest: "do it"})
	if err != nil || sum.Usage.Model != "heuristic" || sum.Summary == nil || sum.Summary.Request != "do it" {
		t.Errorf("fallback summary = %+v, %v", sum, err)
	}
}

func TestBudgetWithoutFallbackRefuses(t *testing.T) {
	t.Parallel()
	bb := setupBudget(t)
	inner := &costly{spend: 1000, est: 1000}
	b := provider.WithBudget(inner, nil, config.Budget{DailyTokens: 3000}, bb.usage)
	ctx := context.Background()
	var refused int
	for range 10 {
		_, err := b.Observe(ctx, observeReq("p", ""))
		if errors.Is(err, provider.ErrBudget) {
			refused++
			if !strings.Contains(err.Error(), "generation.budget.daily_tokens") {
				t.Errorf("error %q does not name the setting", err)
			}
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if inner.calls.Load() != 3 || refused != 7 {
		t.Errorf("calls %d, refused %d", inner.calls.Load(), refused)
	}
	if _, err := b.Summarize(ctx, provider.SummarizeRequest{Project: "p"}); !errors.Is(err, provider.ErrBudget) {
		t.Errorf("summarize err = %v", err)
	}
	st, _ := b.Status(ctx)
	if st.Refused != 8 || st.Fallbacks != 0 || !st.FallbackActive {
		t.Errorf("status = %+v", st)
	}
}

func TestBudgetPerProjectAndPerJob(t *testing.T) {
	t.Parallel()
	bb := setupBudget(t)
	inner := &costly{spend: 1000, est: 1000}
	b := provider.WithBudget(inner, nil, config.Budget{ProjectDailyTokens: 3000, JobTokens: 2000, FallbackToHeuristic: true}, bb.usage,
		provider.WithClock(fixedClock(t0)))
	ctx := context.Background()
	call := func(project, job string) string {
		t.Helper()
		res, err := b.Observe(ctx, observeReq(project, job))
		if err != nil {
			t.Fatal(err)
		}
		return res.Usage.Model
	}
	// Job a1 may spend 2000: two model calls, then the heuristic.
	for i, want := range []string{"claude-test", "claude-test", "heuristic"} {
		if got := call("A", "a1"); got != want {
			t.Errorf("a1 call %d by %s, want %s", i, got, want)
		}
	}
	st, _ := b.Status(ctx)
	if !strings.Contains(st.Reason, `job "a1"`) {
		t.Errorf("reason = %q", st.Reason)
	}
	// Project A has 1000 left: one call of job a2, then the heuristic.
	if got := call("A", "a2"); got != "claude-test" {
		t.Errorf("a2 first call by %s", got)
	}
	if got := call("A", "a3"); got != "heuristic" {
		t.Errorf("project A over budget, call by %s", got)
	}
	st, _ = b.Status(ctx)
	if !strings.Contains(st.Reason, `project "A"`) {
		t.Errorf("reason = %q", st.Reason)
	}
	// Project B is untouched.
	if got := call("B", "b1"); got != "claude-test" {
		t.Errorf("project B call by %s", got)
	}
	st, _ = b.Status(ctx)
	if st.FallbackActive {
		t.Error("fallback still active after a model call went through")
	}
	spent, err := bb.usage.Spent(ctx, provider.Day(t0), "A", "a1")
	if err != nil || spent != (provider.Spend{Day: 4000, Project: 3000, Job: 2000}) {
		t.Errorf("spent = %+v, %v", spent, err)
	}
}

func TestBudgetPersistsAcrossRestartsAndResetsDaily(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), store.FileName)
	ctx := context.Background()
	limits := config.Budget{DailyTokens: 2500, FallbackToHeuristic: true}

	st1, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st1.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	first := &costly{spend: 1000, est: 1000}
	b1 := provider.WithBudget(first, nil, limits, provider.NewUsageStore(st1), provider.WithClock(fixedClock(t0)))
	for range 5 {
		if _, err := b1.Observe(ctx, observeReq("p", "")); err != nil {
			t.Fatal(err)
		}
	}
	if first.calls.Load() != 2 {
		t.Fatalf("first process made %d model calls", first.calls.Load())
	}
	if err := st1.Close(); err != nil {
		t.Fatal(err)
	}

	// A restart reads the spend back: no more model calls today.
	st2 := storetest.Open(t, path)
	second := &costly{spend: 1000, est: 1000}
	b2 := provider.WithBudget(second, nil, limits, provider.NewUsageStore(st2), provider.WithClock(fixedClock(t0.Add(time.Hour))))
	if _, err := b2.Observe(ctx, observeReq("p", "")); err != nil {
		t.Fatal(err)
	}
	if second.calls.Load() != 0 {
		t.Error("the budget forgot today's spend across a restart")
	}

	// The next UTC day starts from zero.
	b3 := provider.WithBudget(second, nil, limits, provider.NewUsageStore(st2), provider.WithClock(fixedClock(t0.Add(24*time.Hour))))
	if _, err := b3.Observe(ctx, observeReq("p", "")); err != nil {
		t.Fatal(err)
	}
	if second.calls.Load() != 1 {
		t.Error("the budget did not reset on the next UTC day")
	}
}

// Calls in flight hold their estimate, so concurrent workers cannot all
// slip under the limit at once.
func TestBudgetConcurrentCallsStopAtLimit(t *testing.T) {
	t.Parallel()
	bb := setupBudget(t)
	inner := &costly{spend: 1000, est: 1000}
	b := provider.WithBudget(inner, nil, config.Budget{DailyTokens: 10_000, FallbackToHeuristic: true}, bb.usage)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				if _, err := b.Observe(context.Background(), observeReq("p", fmt.Sprintf("w%d-%d", w, i))); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if got := inner.calls.Load(); got != 10 {
		t.Errorf("model called %d times, want 10", got)
	}
}

func TestBudgetRecordsUnparseableSpend(t *testing.T) {
	t.Parallel()
	bb := setupBudget(t)
	inner := &costly{spend: 1000, est: 1000, err: fmt.Errorf("anthropic observe: %w", provider.ErrUnparseable)}
	b := provider.WithBudget(inner, nil, config.Budget{DailyTokens: 2000, FallbackToHeuristic: true}, bb.usage)
	ctx := context.Background()
	for range 2 {
		if _, err := b.Observe(ctx, observeReq("p", "")); !errors.Is(err, provider.ErrUnparseable) {
			t.Fatalf("err = %v", err)
		}
	}
	if _, err := b.Observe(ctx, observeReq("p", "")); err != nil {
		t.Fatalf("third call should fall back: %v", err)
	}
	if inner.calls.Load() != 2 {
		t.Errorf("model called %d times: unparseable answers were not counted", inner.calls.Load())
	}
}

// End to end: a real provider against a fake Messages API, wrapped in a
// budget, in a loop: the API stops being called at the limit.
func TestBudgetStopsRealProviderSpend(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			bb := setupBudget(t)
			api := newFakeAPI(t, func(w http.ResponseWriter, r request) {
				// Report what the request really weighs, like an API would.
				in := int64(len(r.raw) / 4)
				io.WriteString(w, d.answer("<observation><title>t</title><narrative>n</narrative></observation>", in, 200))
			})
			const limit = 60_000
			b := provider.WithBudget(d.new(genConfig(api.URL)), nil, config.Budget{DailyTokens: limit, FallbackToHeuristic: true}, bb.usage)
			events := sessionEvents(200)
			ctx := context.Background()
			for i := 0; i < len(events); i += 10 {
				req := provider.ObserveRequest{Project: "p", JobID: fmt.Sprint(i), Events: events[i : i+10]}
				if _, err := b.Observe(ctx, req); err != nil {
					t.Fatal(err)
				}
			}
			day, _ := bb.usage.DayTotals(ctx, provider.Day(time.Now()))
			calls := len(api.requests())
			if calls == 0 || calls == 20 {
				t.Fatalf("%d API calls for 20 batches: the budget did not bite", calls)
			}
			if day.Tokens > limit {
				t.Errorf("spent %d tokens past the %d limit", day.Tokens, limit)
			}
			if day.Fallbacks != int64(20-calls) {
				t.Errorf("day = %+v, API calls %d", day, calls)
			}
			t.Logf("%d API calls, %d tokens, %d fallbacks", calls, day.Tokens, day.Fallbacks)
		})
	}
}

func TestBudgetPassesHeuristicThrough(t *testing.T) {
	t.Parallel()
	bb := setupBudget(t)
	b := provider.WithBudget(provider.NewHeuristic(), nil, config.Budget{DailyTokens: 1, FallbackToHeuristic: false}, bb.usage)
	for range 3 {
		if _, err := b.Observe(context.Background(), observeReq("p", "j")); err != nil {
			t.Fatal(err)
		}
	}
	st, err := b.Status(context.Background())
	if err != nil || st.Provider != "heuristic" || st.FallbackActive || st.Today.Calls != 0 {
		t.Errorf("status = %+v, %v", st, err)
	}
}

func TestNewWithBudget(t *testing.T) {
	t.Parallel()
	bb := setupBudget(t)
	b, err := provider.NewWithBudget(config.Generation{Provider: "openai", APIKey: "k", Budget: config.Budget{DailyTokens: 5}}, bb.st)
	if err != nil || b.Name() != "openai" {
		t.Fatalf("NewWithBudget = %v, %v", b, err)
	}
}
