// Package searchtest is test support for host/search and host/contextpack:
// a migrated store in a temporary directory with helpers that insert memory
// rows through host/memory, and a deterministic corpus generator for
// benchmarks.
package searchtest

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/store/storetest"

	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/store"
)

// Env is a migrated store in a test's temporary directory.
type Env struct {
	Store *store.Store
	seq   atomic.Int64
}

// New opens and migrates a store in tb.TempDir(); it is closed by cleanup.
func New(tb testing.TB) *Env {
	tb.Helper()
	return &Env{Store: storetest.New(tb)}
}

// Reader is the store's reader pool, what search and context packs query.
func (e *Env) Reader() *sql.DB { return e.Store.Reader() }

func (e *Env) tx(tb testing.TB, fn func(tx *sql.Tx) error) {
	tb.Helper()
	if err := e.Store.Tx(context.Background(), fn); err != nil {
		tb.Fatal(err)
	}
}

// Team creates a team (LocalTeam exists already).
func (e *Env) Team(tb testing.TB, id string) {
	tb.Helper()
	e.tx(tb, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO teams (id, name, slug, created_at_epoch, updated_at_epoch) VALUES (?, ?, ?, 0, 0)
			ON CONFLICT DO NOTHING`, id, id, id)
		return err
	})
}

// Session creates a session of a team's project (created as needed).
func (e *Env) Session(tb testing.TB, team, project, platform, contentID string, at time.Time) memory.Session {
	tb.Helper()
	var s memory.Session
	e.tx(tb, func(tx *sql.Tx) error {
		ctx := context.Background()
		pid, err := memory.EnsureProject(ctx, tx, team, project, "/src/"+project, at)
		if err != nil {
			return err
		}
		s, _, err = memory.EnsureSession(ctx, tx, memory.NewSession{TeamID: team, ProjectID: pid, Project: project,
			PlatformSource: platform, ContentSessionID: contentID, Cwd: "/src/" + project, StartedAt: at})
		return err
	})
	return s
}

// Observation stores o as an observation of session s and returns its id.
func (e *Env) Observation(tb testing.TB, s memory.Session, o memory.Observation) int64 {
	tb.Helper()
	o.TeamID, o.ProjectID, o.SessionID, o.MemorySessionID, o.Project = s.TeamID, s.ProjectID, s.ID, s.MemorySessionID, s.Project
	if o.GenerationKey == "" {
		o.GenerationKey = fmt.Sprintf("test-obs-%d", e.seq.Add(1))
	}
	var id int64
	e.tx(tb, func(tx *sql.Tx) error {
		var err error
		id, _, err = memory.InsertObservation(context.Background(), tx, &o)
		return err
	})
	return id
}

// Summary stores sum as a summary of session s and returns its id.
func (e *Env) Summary(tb testing.TB, s memory.Session, sum memory.Summary) int64 {
	tb.Helper()
	sum.TeamID, sum.ProjectID, sum.SessionID, sum.MemorySessionID, sum.Project = s.TeamID, s.ProjectID, s.ID, s.MemorySessionID, s.Project
	if sum.GenerationKey == "" {
		sum.GenerationKey = fmt.Sprintf("test-sum-%d", e.seq.Add(1))
	}
	var id int64
	e.tx(tb, func(tx *sql.Tx) error {
		var err error
		id, _, err = memory.InsertSummary(context.Background(), tx, &sum)
		return err
	})
	return id
}

// Prompt stores prompt number n of session s and returns its id.
func (e *Env) Prompt(tb testing.TB, s memory.Session, n int, text string, at time.Time) int64 {
	tb.Helper()
	var id int64
	e.tx(tb, func(tx *sql.Tx) error {
		var err error
		id, err = memory.InsertPrompt(context.Background(), tx, memory.Prompt{SessionID: s.ID, ContentSessionID: s.ContentSessionID,
			Number: n, Text: text, Private: text == "", CreatedAt: at})
		return err
	})
	return id
}
