-- The audit log: who did what, with which key, to which team and project,
-- and, for reads, which memories were returned. Rows are append-only:
-- updates are refused, and so is deleting a row younger than a day, so
-- retention pruning (auth.audit_retention, at least 24h) is the only way
-- rows leave the table.
CREATE TABLE audit_log (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	created_at_epoch INTEGER NOT NULL,
	actor            TEXT NOT NULL DEFAULT '',
	api_key_id       TEXT NOT NULL DEFAULT '',
	team_id          TEXT NOT NULL DEFAULT '',
	project_id       INTEGER,
	action           TEXT NOT NULL,
	resource         TEXT NOT NULL DEFAULT '',
	request_id       TEXT NOT NULL DEFAULT '',
	status           INTEGER NOT NULL DEFAULT 0,
	-- the memories a read returned, as a JSON array of "obs:12", "sum:3"…
	memory_ids       TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX idx_audit_log_team ON audit_log(team_id, id);
CREATE INDEX idx_audit_log_created ON audit_log(created_at_epoch);
CREATE INDEX idx_audit_log_key ON audit_log(api_key_id, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_early_delete BEFORE DELETE ON audit_log
	WHEN old.created_at_epoch > CAST(unixepoch('subsec') * 1000 AS INTEGER) - 86400000
BEGIN
	SELECT RAISE(ABORT, 'audit_log rows younger than a day cannot be deleted');
END;
