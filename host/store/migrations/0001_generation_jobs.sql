-- The outbox: every generation job the host has acknowledged, whatever the
-- queue engine knows. The engine only carries jobs; this table is the truth
-- that startup reconciliation and engine switches re-enqueue from.
CREATE TABLE generation_jobs (
	id            TEXT PRIMARY KEY,
	lane          TEXT NOT NULL,
	kind          TEXT NOT NULL,
	payload       BLOB,
	status        TEXT NOT NULL,
	attempts      INTEGER NOT NULL DEFAULT 0,
	max_attempts  INTEGER NOT NULL,
	last_error    TEXT NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
);
CREATE INDEX generation_jobs_open ON generation_jobs(status, created_at)
	WHERE status IN ('queued', 'enqueued', 'processing', 'retry_scheduled');

-- Every status change of a job, appended, never updated.
CREATE TABLE generation_job_events (
	id         INTEGER PRIMARY KEY,
	job_id     TEXT NOT NULL REFERENCES generation_jobs(id) ON DELETE CASCADE,
	status     TEXT NOT NULL,
	attempt    INTEGER NOT NULL,
	detail     TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);
CREATE INDEX generation_job_events_job ON generation_job_events(job_id, id);
