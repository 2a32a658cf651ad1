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
// indexes of schema.go, whose WHERE clauses must appear in a query. Lane
// lookups name jobs_unfinished with INDEXED BY: without statistics the
// planner would pick jobs_lane and walk the lane's whole history. INDEXED BY
// also turns a query that cannot use the index into a prepare error.

const jobColumns = `id, lane, kind, payload, state, attempts, max_attempts, backoff_ns,
	created_at_ms, available_at_ms, finished_at_ms, last_error`

// laneHasUnfinished is true when lane ?2 has a waiting, active or delayed job.
const laneHasUnfinished = `EXISTS (SELECT 1 FROM jobs INDEXED BY jobs_unfinished WHERE lane = ?2 AND finished_at_ms IS NULL)`

// The SQL of every call, prepared once on the connection.
const (
	sqlInsert = `INSERT INTO jobs (id, lane, kind, payload, state, head, max_attempts, backoff_ns, available_at_ms, created_at_ms)
		VALUES (?1, ?2, ?3, ?4, 1, NOT ` + laneHasUnfinished + `, ?5, ?6, ?7, ?7)
		ON CONFLICT (id) DO NOTHING`

	// sqlReserve leases the due lane heads in one statement. Tokens are a
	// random per-call prefix plus the row's seq: unique, and unguessable to
	// anyone but the caller. RETURNING order is unspecified; the caller sorts.
	sqlReserve = `UPDATE jobs SET state = 2, token = ?1 || '.' || seq, worker = ?2, locked_until_ms = ?3
		WHERE seq IN (
			SELECT seq FROM jobs WHERE head = 1 AND state IN (1, 3) AND available_at_ms <= ?4
			ORDER BY available_at_ms, seq LIMIT ?5)
		RETURNING seq, token, ` + jobColumns

	sqlNextReady = `SELECT MIN(available_at_ms) FROM jobs WHERE head = 1 AND state IN (1, 3)`

	sqlMinLock = `SELECT MIN(locked_until_ms) FROM jobs WHERE locked_until_ms IS NOT NULL`

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
		WHERE locked_until_ms <= ?1 AND state = 2
		RETURNING lane, state`

	// sqlPromote marks the lowest-seq unfinished job of each lane in the
	// JSON array ?1 as its head; a no-op for a lane whose first job already
	// is the head.
	sqlPromote = `UPDATE jobs SET head = 1
		WHERE head = 0 AND seq IN (
			SELECT (SELECT seq FROM jobs INDEXED BY jobs_unfinished
				WHERE lane = l.value AND finished_at_ms IS NULL ORDER BY seq LIMIT 1)
			FROM json_each(?1) AS l)`

	// The token stays on a completed job: the bulk form reports it to tell
	// apart two calls for the same job.
	sqlComplete = `UPDATE jobs SET state = 4, head = 0, locked_until_ms = NULL, finished_at_ms = ?1
		WHERE id = ?2 AND token = ?3 AND state = 2 AND locked_until_ms > ?1
		RETURNING lane`

	// sqlCompleteMany completes the [id, token] pairs of the JSON array ?2
	// that hold a live lease.
	sqlCompleteMany = `UPDATE jobs SET state = 4, head = 0, locked_until_ms = NULL, finished_at_ms = ?1
		FROM (SELECT value ->> 0 AS cid, value ->> 1 AS ctoken FROM json_each(?2)) AS c
		WHERE jobs.id = c.cid AND jobs.token = c.ctoken AND jobs.state = 2 AND jobs.locked_until_ms > ?1
		RETURNING id, token, lane`

	sqlLeased = `SELECT seq, lane, attempts, max_attempts, backoff_ns FROM jobs
		WHERE id = ?2 AND token = ?3 AND state = 2 AND locked_until_ms > ?1`

	sqlDelay = `UPDATE jobs SET state = 3, attempts = ?1, available_at_ms = ?2, last_error = ?3,
		token = NULL, locked_until_ms = NULL WHERE seq = ?4`

	sqlFail = `UPDATE jobs SET state = 5, head = 0, attempts = ?1, finished_at_ms = ?2, last_error = ?3,
		token = NULL, locked_until_ms = NULL WHERE seq = ?4`

	sqlExtend = `UPDATE jobs SET locked_until_ms = ?1
		WHERE id = ?2 AND token = ?3 AND state = 2 AND locked_until_ms > ?4`

	sqlStateOf = `SELECT state FROM jobs WHERE id = ?1`

	sqlGet = `SELECT ` + jobColumns + ` FROM jobs WHERE id = ?1`

	sqlCountsAll = `SELECT state, COUNT(*) FROM jobs GROUP BY state`

	sqlCountsLane = `SELECT state, COUNT(*) FROM jobs WHERE lane = ?1 GROUP BY state`
)

// stmts holds the prepared statements.
type stmts struct {
	insert, reserve, nextReady, minLock, stall, promote,
	complete, completeMany, leased, delay, fail, extend, stateOf,
	get, countsAll, countsLane *sql.Stmt
}

func prepare(ctx context.Context, db *sql.Conn) (stmts, error) {
	var s stmts
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&s.insert, sqlInsert}, {&s.reserve, sqlReserve}, {&s.completeMany, sqlCompleteMany},
		{&s.nextReady, sqlNextReady}, {&s.minLock, sqlMinLock}, {&s.stall, sqlStall},
		{&s.promote, sqlPromote}, {&s.complete, sqlComplete}, {&s.leased, sqlLeased},
		{&s.delay, sqlDelay}, {&s.fail, sqlFail}, {&s.extend, sqlExtend}, {&s.stateOf, sqlStateOf},
		{&s.get, sqlGet}, {&s.countsAll, sqlCountsAll}, {&s.countsLane, sqlCountsLane},
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
		s.insert, s.reserve, s.completeMany, s.nextReady, s.minLock, s.stall, s.promote,
		s.complete, s.leased, s.delay, s.fail, s.extend, s.stateOf,
		s.get, s.countsAll, s.countsLane,
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
