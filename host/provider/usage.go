package provider

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/claude-mem/claude-mem-server/host/store"
)

// jobUsageRetention is how long per-job spend is kept after the job's last
// call; a job retried after that starts from zero again (the daily budgets
// still hold).
const jobUsageRetention = 7 * 24 * time.Hour

// UsageStore keeps provider token spend in the host store (tables
// provider_usage and provider_job_usage of migration 0003), so budgets
// survive restarts. It is safe for concurrent use.
type UsageStore struct {
	st *store.Store

	mu         sync.Mutex
	lastPruned string // UTC day of the last prune of job rows
}

// NewUsageStore returns the usage store on st, which must be migrated.
func NewUsageStore(st *store.Store) *UsageStore { return &UsageStore{st: st} }

// UsageRecord is one provider call to account for.
type UsageRecord struct {
	At      time.Time
	Project string
	// JobID is the job the call was for; empty for none.
	JobID string
	Usage Usage
	// Fallback says a budget sent the call to the heuristic provider.
	Fallback bool
}

// Day is the UTC day a time counts against, as stored: YYYY-MM-DD.
func Day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// Record adds a call's spend to its day, project and job, in one
// transaction.
func (u *UsageStore) Record(ctx context.Context, r UsageRecord) error {
	day, now := Day(r.At), r.At.UnixMilli()
	tokens := r.Usage.Total()
	fallbacks := 0
	if r.Fallback {
		fallbacks = 1
	}
	prune := u.shouldPrune(day)
	err := u.st.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO provider_usage (day, project, input_tokens, output_tokens, tokens, calls, fallbacks, updated_at)
			VALUES (?, ?, ?, ?, ?, 1, ?, ?)
			ON CONFLICT (day, project) DO UPDATE SET
				input_tokens = input_tokens + excluded.input_tokens,
				output_tokens = output_tokens + excluded.output_tokens,
				tokens = tokens + excluded.tokens,
				calls = calls + 1,
				fallbacks = fallbacks + excluded.fallbacks,
				updated_at = excluded.updated_at`,
			day, r.Project, r.Usage.InputTokens, r.Usage.OutputTokens, tokens, fallbacks, now); err != nil {
			return fmt.Errorf("record usage: %w", err)
		}
		if r.JobID != "" {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO provider_job_usage (job_id, tokens, calls, updated_at) VALUES (?, ?, 1, ?)
				ON CONFLICT (job_id) DO UPDATE SET
					tokens = tokens + excluded.tokens, calls = calls + 1, updated_at = excluded.updated_at`,
				r.JobID, tokens, now); err != nil {
				return fmt.Errorf("record job usage: %w", err)
			}
		}
		if prune {
			cutoff := r.At.Add(-jobUsageRetention).UnixMilli()
			if _, err := tx.ExecContext(ctx, `DELETE FROM provider_job_usage WHERE updated_at < ?`, cutoff); err != nil {
				return fmt.Errorf("prune job usage: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		u.mu.Lock()
		if u.lastPruned == day && prune {
			u.lastPruned = ""
		}
		u.mu.Unlock()
		return fmt.Errorf("provider: %w", err)
	}
	return nil
}

func (u *UsageStore) shouldPrune(day string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.lastPruned == day {
		return false
	}
	u.lastPruned = day
	return true
}

// Spend is what has been spent against each budget.
type Spend struct {
	Day     int64 // all projects, this UTC day
	Project int64 // this project, this UTC day
	Job     int64 // this job, ever (within the retention)
}

// Spent reads the spend of day (YYYY-MM-DD), project and job.
func (u *UsageStore) Spent(ctx context.Context, day, project, jobID string) (Spend, error) {
	var s Spend
	err := u.st.Reader().QueryRowContext(ctx, `
		SELECT
			COALESCE((SELECT SUM(tokens) FROM provider_usage WHERE day = ?1), 0),
			COALESCE((SELECT tokens FROM provider_usage WHERE day = ?1 AND project = ?2), 0),
			COALESCE((SELECT tokens FROM provider_job_usage WHERE job_id = ?3), 0)`,
		day, project, jobID).Scan(&s.Day, &s.Project, &s.Job)
	if err != nil {
		return Spend{}, fmt.Errorf("provider: read usage: %w", err)
	}
	return s, nil
}

// DayUsage is one UTC day's spend, all projects together.
type DayUsage struct {
	Day          string `json:"day"`
	InputTokens  int64  `json:"input_tokens"`
	OutputTokens int64  `json:"output_tokens"`
	Tokens       int64  `json:"tokens"`
	Calls        int64  `json:"calls"`
	Fallbacks    int64  `json:"fallbacks"`
}

// DayTotals reads the totals of day (YYYY-MM-DD).
func (u *UsageStore) DayTotals(ctx context.Context, day string) (DayUsage, error) {
	d := DayUsage{Day: day}
	err := u.st.Reader().QueryRowContext(ctx, `
		SELECT COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0), COALESCE(SUM(tokens), 0),
		       COALESCE(SUM(calls), 0), COALESCE(SUM(fallbacks), 0)
		FROM provider_usage WHERE day = ?`, day).
		Scan(&d.InputTokens, &d.OutputTokens, &d.Tokens, &d.Calls, &d.Fallbacks)
	if err != nil {
		return DayUsage{}, fmt.Errorf("provider: read usage: %w", err)
	}
	return d, nil
}
