package provider

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/claude-mem/claude-mem-server/host/config"
)

// Estimator is implemented by providers that can tell what a request will
// cost before sending it. The anthropic and openai providers estimate the
// prompt's characters / 4 plus an output reserve.
type Estimator interface {
	EstimateObserve(req ObserveRequest) int64
	EstimateSummarize(req SummarizeRequest) int64
}

// Budgeted wraps a provider in token budgets: per UTC day server-wide, per
// project per UTC day, and per job (ObserveRequest.JobID,
// SummarizeRequest.JobID). Before each call it checks that the spend so far,
// plus the calls in flight, plus the call's estimate stays within every
// limit; after the call it records the real usage (also when the model's
// answer could not be parsed). When a budget would be exceeded it calls the
// fallback (the heuristic provider) instead if the budget says so, and
// records that it did; otherwise it returns an error wrapping ErrBudget.
//
// Spend is therefore bounded: it stops at a limit, overshooting it at most
// by what the calls in flight spent beyond their estimates.
//
// A Budgeted around the heuristic provider passes calls straight through:
// they cost nothing.
type Budgeted struct {
	inner    Provider
	fallback Provider
	budget   config.Budget
	usage    *UsageStore
	now      func() time.Time
	log      *slog.Logger

	mu       sync.Mutex
	reserved map[string]int64 // in-flight estimates by budget key
	active   bool             // the last call went to the fallback
	reason   string
	lastAt   time.Time
	fellBack int64
	refused  int64
}

var (
	_ Provider  = (*Budgeted)(nil)
	_ Estimator = (*Anthropic)(nil)
	_ Estimator = (*OpenAI)(nil)
)

// BudgetOption configures WithBudget.
type BudgetOption func(*Budgeted)

// WithClock sets the clock that decides the UTC day (for tests).
func WithClock(now func() time.Time) BudgetOption { return func(b *Budgeted) { b.now = now } }

// WithLogger logs budget hits to l. Nil (the default) is silent.
func WithLogger(l *slog.Logger) BudgetOption { return func(b *Budgeted) { b.log = l } }

// WithBudget wraps p in the budgets b, keeping spend in usage (which must
// not be nil). fallback serves the calls a budget turns away when
// b.FallbackToHeuristic is set; nil means a new Heuristic.
func WithBudget(p, fallback Provider, b config.Budget, usage *UsageStore, opts ...BudgetOption) *Budgeted {
	if usage == nil {
		panic("provider: WithBudget needs a UsageStore")
	}
	if fallback == nil {
		fallback = NewHeuristic()
	}
	bp := &Budgeted{
		inner: p, fallback: fallback, budget: b, usage: usage, now: time.Now,
		reserved: map[string]int64{},
	}
	for _, o := range opts {
		o(bp)
	}
	if bp.log == nil {
		bp.log = slog.New(slog.DiscardHandler)
	}
	bp.log = bp.log.With("component", "provider.budget", "provider", p.Name())
	return bp
}

// Name is the wrapped provider's name.
func (b *Budgeted) Name() string { return b.inner.Name() }

// Inner is the wrapped provider.
func (b *Budgeted) Inner() Provider { return b.inner }

// Observe calls the wrapped provider within the budgets.
func (b *Budgeted) Observe(ctx context.Context, req ObserveRequest) (ObserveResult, error) {
	if b.inner.Name() == HeuristicName {
		return b.inner.Observe(ctx, req)
	}
	var est int64
	if e, ok := b.inner.(Estimator); ok {
		est = e.EstimateObserve(req)
	}
	at := b.now()
	release, reason, err := b.reserve(ctx, at, req.Project, req.JobID, est)
	if err != nil {
		return ObserveResult{}, err
	}
	if reason != "" {
		if err := b.turnAway(ctx, at, req.Project, req.JobID, reason); err != nil {
			return ObserveResult{}, err
		}
		res, err := b.fallback.Observe(ctx, req)
		if err == nil {
			b.record(ctx, at, req.Project, req.JobID, res.Usage, true)
		}
		return res, err
	}
	defer release()
	res, err := b.inner.Observe(ctx, req)
	b.record(ctx, at, req.Project, req.JobID, res.Usage, false)
	return res, err
}

// Summarize calls the wrapped provider within the budgets.
func (b *Budgeted) Summarize(ctx context.Context, req SummarizeRequest) (SummarizeResult, error) {
	if b.inner.Name() == HeuristicName {
		return b.inner.Summarize(ctx, req)
	}
	var est int64
	if e, ok := b.inner.(Estimator); ok {
		est = e.EstimateSummarize(req)
	}
	at := b.now()
	release, reason, err := b.reserve(ctx, at, req.Project, req.JobID, est)
	if err != nil {
		return SummarizeResult{}, err
	}
	if reason != "" {
		if err := b.turnAway(ctx, at, req.Project, req.JobID, reason); err != nil {
			return SummarizeResult{}, err
		}
		res, err := b.fallback.Summarize(ctx, req)
		if err == nil {
			b.record(ctx, at, req.Project, req.JobID, res.Usage, true)
		}
		return res, err
	}
	defer release()
	res, err := b.inner.Summarize(ctx, req)
	b.record(ctx, at, req.Project, req.JobID, res.Usage, false)
	return res, err
}

// reserve checks the budgets for a call estimated at est tokens and, when
// they allow it, holds est against them until release is called (after the
// real usage is recorded). A non-empty reason means a budget refuses.
func (b *Budgeted) reserve(ctx context.Context, at time.Time, project, job string, est int64) (release func(), reason string, err error) {
	day := Day(at)
	keys := []string{"d\x00" + day, "p\x00" + day + "\x00" + project}
	if job != "" {
		keys = append(keys, "j\x00"+job)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	spent, err := b.usage.Spent(ctx, day, project, job)
	if err != nil {
		return nil, "", fmt.Errorf("budget check: %w: %w", ErrTransient, err)
	}
	checks := []struct {
		limit, spent int64
		key, what    string
	}{
		{b.budget.DailyTokens, spent.Day, keys[0], "daily token budget (generation.budget.daily_tokens)"},
		{b.budget.ProjectDailyTokens, spent.Project, keys[1], "daily token budget of project " + strconv.Quote(project) + " (generation.budget.project_daily_tokens)"},
	}
	if job != "" {
		checks = append(checks, struct {
			limit, spent int64
			key, what    string
		}{b.budget.JobTokens, spent.Job, keys[2], "token budget of job " + strconv.Quote(job) + " (generation.budget.job_tokens)"})
	}
	for _, c := range checks {
		if c.limit <= 0 {
			continue
		}
		inFlight := b.reserved[c.key]
		// Exhausted, or this call would go past the limit.
		if c.spent+inFlight >= c.limit || c.spent+inFlight+est > c.limit {
			return nil, fmt.Sprintf("%s of %d tokens reached: %d spent, %d in flight, this call needs about %d",
				c.what, c.limit, c.spent, inFlight, est), nil
		}
	}
	for _, k := range keys {
		b.reserved[k] += est
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			for _, k := range keys {
				if b.reserved[k] -= est; b.reserved[k] <= 0 {
					delete(b.reserved, k)
				}
			}
		})
	}, "", nil
}

// turnAway notes a budget hit and returns ErrBudget unless the fallback
// should serve the call.
func (b *Budgeted) turnAway(ctx context.Context, at time.Time, project, job, reason string) error {
	b.mu.Lock()
	b.active, b.reason, b.lastAt = true, reason, at
	if b.budget.FallbackToHeuristic {
		b.fellBack++
	} else {
		b.refused++
	}
	b.mu.Unlock()
	if !b.budget.FallbackToHeuristic {
		b.log.WarnContext(ctx, "token budget reached; refusing the call", "project", project, "job", job, "reason", reason)
		return fmt.Errorf("%w: %s", ErrBudget, reason)
	}
	b.log.WarnContext(ctx, "token budget reached; using the heuristic provider", "project", project, "job", job, "reason", reason)
	return nil
}

// record stores a call's usage. A failure is logged, not returned: the
// observations are already paid for, and the next budget check reads the
// store again (and fails closed if it cannot).
func (b *Budgeted) record(ctx context.Context, at time.Time, project, job string, u Usage, fallback bool) {
	if !fallback {
		b.mu.Lock()
		b.active = false
		b.mu.Unlock()
	}
	err := b.usage.Record(context.WithoutCancel(ctx), UsageRecord{At: at, Project: project, JobID: job, Usage: u, Fallback: fallback})
	if err != nil {
		b.log.ErrorContext(ctx, "record token usage", "project", project, "job", job, "tokens", u.Total(), "err", err)
	}
}

// BudgetStatus is the budget state /v1/info shows.
type BudgetStatus struct {
	// Provider is the configured provider.
	Provider string `json:"provider"`
	// FallbackActive is true while calls are being turned away: the
	// latest call hit a budget (and went to the heuristic provider, or was
	// refused when the fallback is off).
	FallbackActive bool `json:"fallback_active"`
	// Reason is the latest budget hit, kept after it clears.
	Reason         string    `json:"reason,omitempty"`
	LastFallbackAt time.Time `json:"last_fallback_at,omitzero"`
	// Fallbacks and Refused count, since the process started, the calls
	// sent to the heuristic provider and the calls refused with ErrBudget.
	Fallbacks int64 `json:"fallbacks"`
	Refused   int64 `json:"refused"`
	// Today is this UTC day's spend from the store, all projects.
	Today DayUsage `json:"today"`
	// DailyLimit, ProjectDailyLimit and JobLimit are the limits (0: none).
	DailyLimit        int64 `json:"daily_limit"`
	ProjectDailyLimit int64 `json:"project_daily_limit"`
	JobLimit          int64 `json:"job_limit"`
	FallbackEnabled   bool  `json:"fallback_to_heuristic"`
}

// Status reports the budgets and today's spend.
func (b *Budgeted) Status(ctx context.Context) (BudgetStatus, error) {
	b.mu.Lock()
	s := BudgetStatus{
		Provider: b.inner.Name(), FallbackActive: b.active, Reason: b.reason, LastFallbackAt: b.lastAt,
		Fallbacks: b.fellBack, Refused: b.refused,
		DailyLimit: b.budget.DailyTokens, ProjectDailyLimit: b.budget.ProjectDailyTokens,
		JobLimit: b.budget.JobTokens, FallbackEnabled: b.budget.FallbackToHeuristic,
	}
	b.mu.Unlock()
	today, err := b.usage.DayTotals(ctx, Day(b.now()))
	if err != nil {
		return s, err
	}
	s.Today = today
	return s, nil
}
