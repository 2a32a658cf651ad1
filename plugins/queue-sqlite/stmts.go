package queuesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// State numbers as stored; they equal the queue.State values.
//
//	1 waiting, 2 active, 3 delayed, 4 completed, 5 failed
//
// The SQL below spells them as literals so that SQLite can match the partial
// indexes of schema.go, whose WHERE clauses must appear verbatim in a query.

const jobColumns = `id, lane, kind, payload, state, attempts, max_attempts, backoff_ns,
	created_at_ms, available_at_ms, finished_at_ms, last_error`

// SQL of the write path. Each is prepared once on the write connection.
const (
	sqlInsert = `INSERT INTO jobs (id, lane, kind, payload, state, head, max_attempts, backoff_ns, available_at_ms, created_at_ms)
		VALUES (?1, ?2, ?3, ?4, 1, NOT EXISTS (SELECT 1 FROM jobs WHERE lane = ?2 AND state IN (1, 2, 3)), ?5, ?6, ?7, ?7)
		ON CONFLICT (id) DO NOTHING`

	sqlReady = `SELECT seq, ` + jobColumns + ` FROM jobs
		WHERE head = 1 AND state IN (1, 3) AND available_at_ms <= ?1
		ORDER BY available_at_ms, seq LIMIT ?2`

	sqlLease = `UPDATE jobs SET state = 2, token = ?1, worker = ?2, locked_until_ms = ?3 WHERE seq = ?4`

	sqlNextReady = `SELECT MIN(available_at_ms) FROM jobs WHERE head = 1 AND state IN (1, 3)`

	sqlMinLock = `SELECT MIN(locked_until_ms) FROM jobs WHERE state = 2`

	// sqlStall requeues expired leases. SET expressions see the old row, so
	// attempts + 1 is the count including this stall.
	sqlStall = `UPDATE jobs SET
			attempts        = attempts + 1,
			state           = CASE WHEN attempts + 1 >= max_attempts THEN 5 ELSE 1 END,
			head            = CASE WHEN attempts + 1 >= max_attempts THEN 0 ELSE 1 END,
			finished_at_ms  = CASE WHEN attempts + 1 >= max_attempts THEN ?1 ELSE NULL END,
			available_at_ms = ?1,
			last_error      = ?2,
			token           = NULL,
			locked_until_ms = NULL
		WHERE state = 2 AND locked_until_ms <= ?1
		RETURNING lane, state`

	// sqlPromote marks the lowest-seq unfinished job of a lane as its head;
	// a no-op when that job already is the head.
	sqlPromote = `UPDATE jobs SET head = 1
		WHERE seq = (SELECT seq FROM jobs WHERE lane = ?1 AND state IN (1, 2, 3) ORDER BY seq LIMIT 1) AND head = 0`

	sqlComplete = `UPDATE jobs SET state = 4, head = 0, token = NULL, locked_until_ms = NULL, finished_at_ms = ?1
		WHERE id = ?2 AND token = ?3 AND state = 2 AND locked_until_ms > ?1
		RETURNING lane`

	sqlLeased = `SELECT seq, lane, attempts, max_attempts, backoff_ns FROM jobs
		WHERE id = ?2 AND token = ?3 AND state = 2 AND locked_until_ms > ?1`

	sqlDelay = `UPDATE jobs SET state = 3, attempts = ?1, available_at_ms = ?2, last_error = ?3,
		token = NULL, locked_until_ms = NULL WHERE seq = ?4`

	sqlFail = `UPDATE jobs SET state = 5, head = 0, attempts = ?1, finished_at_ms = ?2, last_error = ?3,
		token = NULL, locked_until_ms = NULL WHERE seq = ?4`

	sqlExtend = `UPDATE jobs SET locked_until_ms = ?1
		WHERE id = ?2 AND token = ?3 AND state = 2 AND locked_until_ms > ?4`

	sqlStateOf = `SELECT state FROM jobs WHERE id = ?1`
)

// stmts holds the prepared write statements.
type stmts struct {
	insert, ready, lease, nextReady, minLock, stall, promote,
	complete, leased, delay, fail, extend, stateOf *sql.Stmt
}

func prepare(ctx context.Context, db *sql.DB) (stmts, error) {
	var s stmts
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&s.insert, sqlInsert}, {&s.ready, sqlReady}, {&s.lease, sqlLease},
		{&s.nextReady, sqlNextReady}, {&s.minLock, sqlMinLock}, {&s.stall, sqlStall},
		{&s.promote, sqlPromote}, {&s.complete, sqlComplete}, {&s.leased, sqlLeased},
		{&s.delay, sqlDelay}, {&s.fail, sqlFail}, {&s.extend, sqlExtend}, {&s.stateOf, sqlStateOf},
	} {
		st, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			s.close()
			return stmts{}, fmt.Errorf("prepare %.40q: %w", p.sql, err)
		}
		*p.dst = st
	}
	return s, nil
}

func (s *stmts) close() {
	for _, st := range []*sql.Stmt{
		s.insert, s.ready, s.lease, s.nextReady, s.minLock, s.stall, s.promote,
		s.complete, s.leased, s.delay, s.fail, s.extend, s.stateOf,
	} {
		if st != nil {
			st.Close()
		}
	}
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// scanJob reads the jobColumns, after any leading destinations in pre.
func scanJob(sc scanner, pre ...any) (queue.Job, error) {
	var (
		j                    queue.Job
		state                int
		backoff              int64
		created, avail, fins sql.NullInt64
	)
	dest := make([]any, 0, len(pre)+12)
	dest = append(dest, pre...)
	dest = append(dest, &j.ID, &j.Lane, &j.Kind, &j.Payload, &state, &j.Attempts, &j.MaxAttempts, &backoff,
		&created, &avail, &fins, &j.LastError)
	if err := sc.Scan(dest...); err != nil {
		return queue.Job{}, err
	}
	j.SchemaVersion = queue.SchemaVersion
	j.State = queue.State(state)
	j.Backoff = time.Duration(backoff)
	j.CreatedAt = msToTime(created)
	j.AvailableAt = msToTime(avail)
	j.FinishedAt = msToTime(fins)
	return j, nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
