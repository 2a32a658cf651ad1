-- Token spend of the generation providers, so that budgets hold across
-- restarts. One row per UTC day and project; tokens is input + output.
-- fallbacks counts the calls a budget sent to the heuristic provider
-- instead of the model.
CREATE TABLE provider_usage (
	day           TEXT NOT NULL,
	project       TEXT NOT NULL,
	input_tokens  INTEGER NOT NULL DEFAULT 0,
	output_tokens INTEGER NOT NULL DEFAULT 0,
	tokens        INTEGER NOT NULL DEFAULT 0,
	calls         INTEGER NOT NULL DEFAULT 0,
	fallbacks     INTEGER NOT NULL DEFAULT 0,
	updated_at    INTEGER NOT NULL,
	PRIMARY KEY (day, project)
) WITHOUT ROWID;

-- Token spend per generation job, for the per-job budget. Rows of jobs
-- untouched for a week are pruned.
CREATE TABLE provider_job_usage (
	job_id     TEXT PRIMARY KEY,
	tokens     INTEGER NOT NULL DEFAULT 0,
	calls      INTEGER NOT NULL DEFAULT 0,
	updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX provider_job_usage_updated ON provider_job_usage(updated_at);
