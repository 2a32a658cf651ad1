-- Memory: teams, projects, sessions, prompts, agent events, observations and
-- session summaries. sdk_sessions, user_prompts, observations and
-- session_summaries keep claude-mem's table names, columns and formats
-- (TEXT ISO-8601 times next to INTEGER epoch milliseconds, JSON arrays as
-- TEXT) so that an existing claude-mem.db can be imported; the columns
-- after "-- server" in each table are this server's additions.
-- Generation jobs and their history are the outbox of 0001.

CREATE TABLE teams (
	id               TEXT PRIMARY KEY,
	name             TEXT NOT NULL,
	slug             TEXT UNIQUE,
	metadata         TEXT NOT NULL DEFAULT '{}',
	created_at_epoch INTEGER NOT NULL,
	updated_at_epoch INTEGER NOT NULL
);
INSERT INTO teams (id, name, slug, created_at_epoch, updated_at_epoch)
	VALUES ('local', 'local', 'local', CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER));

CREATE TABLE projects (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	team_id          TEXT NOT NULL REFERENCES teams(id),
	name             TEXT NOT NULL,
	root_path        TEXT,
	metadata         TEXT NOT NULL DEFAULT '{}',
	created_at_epoch INTEGER NOT NULL,
	updated_at_epoch INTEGER NOT NULL,
	UNIQUE (team_id, name)
);

CREATE TABLE sdk_sessions (
	id                 INTEGER PRIMARY KEY AUTOINCREMENT,
	content_session_id TEXT NOT NULL,
	memory_session_id  TEXT UNIQUE,
	project            TEXT NOT NULL,
	platform_source    TEXT NOT NULL DEFAULT 'claude',
	user_prompt        TEXT,
	started_at         TEXT,
	started_at_epoch   INTEGER,
	completed_at       TEXT,
	completed_at_epoch INTEGER,
	status             TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'failed')),
	worker_port        INTEGER,
	prompt_counter     INTEGER NOT NULL DEFAULT 0,
	custom_title       TEXT,
	-- server
	team_id            TEXT NOT NULL REFERENCES teams(id),
	project_id         INTEGER NOT NULL REFERENCES projects(id),
	-- the turn the agent is in: the prompt number of the latest prompt
	-- received, a repeated one included; tool events belong to it
	current_prompt_number INTEGER NOT NULL DEFAULT 0,
	cwd                TEXT,
	agent_id           TEXT,
	agent_type         TEXT,
	updated_at_epoch   INTEGER
);
CREATE UNIQUE INDEX ux_sdk_sessions_platform_content ON sdk_sessions(platform_source, content_session_id);
CREATE INDEX idx_sdk_sessions_project ON sdk_sessions(project);
CREATE INDEX idx_sdk_sessions_status ON sdk_sessions(status);
CREATE INDEX idx_sdk_sessions_started ON sdk_sessions(started_at_epoch DESC);
CREATE INDEX idx_sdk_sessions_project_id ON sdk_sessions(project_id);

CREATE TABLE user_prompts (
	id                 INTEGER PRIMARY KEY AUTOINCREMENT,
	session_db_id      INTEGER NOT NULL REFERENCES sdk_sessions(id) ON DELETE CASCADE,
	content_session_id TEXT NOT NULL,
	prompt_number      INTEGER NOT NULL,
	prompt_text        TEXT NOT NULL,
	created_at         TEXT NOT NULL,
	created_at_epoch   INTEGER NOT NULL,
	synced_at          INTEGER,
	origin_device_id   TEXT,
	origin_local_id    INTEGER,
	sync_rev           TEXT DEFAULT '1',
	-- server: a prompt empty after stripping private blocks makes its turn
	-- private; the row keeps the numbering, with an empty text.
	is_private         INTEGER NOT NULL DEFAULT 0,
	agent_event_id     INTEGER,
	UNIQUE (session_db_id, prompt_number)
);
CREATE INDEX idx_user_prompts_content ON user_prompts(content_session_id, prompt_number);
CREATE INDEX idx_user_prompts_created ON user_prompts(created_at_epoch DESC);

-- Every event an agent reported, privacy-stripped and redacted. payload is
-- the normalized AgentEvent as JSON.
CREATE TABLE agent_events (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	idempotency_key   TEXT NOT NULL UNIQUE,
	team_id           TEXT NOT NULL REFERENCES teams(id),
	project_id        INTEGER NOT NULL REFERENCES projects(id),
	session_id        INTEGER NOT NULL REFERENCES sdk_sessions(id) ON DELETE CASCADE,
	source_adapter    TEXT NOT NULL,
	source_event_id   TEXT,
	event_type        TEXT NOT NULL,
	hook_event        TEXT,
	platform_source   TEXT NOT NULL,
	tool_name         TEXT,
	prompt_number     INTEGER NOT NULL DEFAULT 0,
	payload           TEXT NOT NULL,
	occurred_at       TEXT NOT NULL,
	occurred_at_epoch INTEGER NOT NULL,
	received_at       TEXT NOT NULL,
	received_at_epoch INTEGER NOT NULL,
	-- the generation job this event caused, if any
	job_id            TEXT,
	-- the observe job that turned this (tool) event into observations
	observed_by_job   TEXT,
	observed_at_epoch INTEGER
);
CREATE INDEX idx_agent_events_session ON agent_events(session_id, id);
CREATE INDEX idx_agent_events_pending ON agent_events(session_id, id)
	WHERE event_type = 'tool_use' AND observed_by_job IS NULL AND job_id IS NOT NULL;

CREATE TABLE observations (
	id                  INTEGER PRIMARY KEY AUTOINCREMENT,
	memory_session_id   TEXT NOT NULL REFERENCES sdk_sessions(memory_session_id) ON DELETE CASCADE,
	project             TEXT NOT NULL,
	text                TEXT,
	type                TEXT NOT NULL,
	title               TEXT,
	subtitle            TEXT,
	facts               TEXT,
	narrative           TEXT,
	concepts            TEXT,
	files_read          TEXT,
	files_modified      TEXT,
	prompt_number       INTEGER,
	discovery_tokens    INTEGER DEFAULT 0,
	content_hash        TEXT,
	generated_by_model  TEXT,
	relevance_count     INTEGER DEFAULT 0,
	merged_into_project TEXT,
	agent_type          TEXT,
	agent_id            TEXT,
	metadata            TEXT,
	created_at          TEXT NOT NULL,
	created_at_epoch    INTEGER NOT NULL,
	synced_at           INTEGER,
	origin_device_id    TEXT,
	origin_local_id     INTEGER,
	sync_rev            TEXT DEFAULT '1',
	-- server
	team_id             TEXT NOT NULL REFERENCES teams(id),
	project_id          INTEGER NOT NULL REFERENCES projects(id),
	session_id          INTEGER NOT NULL REFERENCES sdk_sessions(id) ON DELETE CASCADE,
	generation_key      TEXT UNIQUE,
	job_id              TEXT
);
CREATE UNIQUE INDEX ux_observations_session_hash ON observations(memory_session_id, content_hash);
CREATE INDEX idx_observations_project ON observations(project);
CREATE INDEX idx_observations_type ON observations(type);
CREATE INDEX idx_observations_created ON observations(created_at_epoch DESC);
CREATE INDEX idx_observations_session ON observations(session_id, id);

-- Which agent events an observation came from.
CREATE TABLE observation_sources (
	observation_id INTEGER NOT NULL REFERENCES observations(id) ON DELETE CASCADE,
	agent_event_id INTEGER NOT NULL REFERENCES agent_events(id) ON DELETE CASCADE,
	PRIMARY KEY (observation_id, agent_event_id)
);
CREATE INDEX idx_observation_sources_event ON observation_sources(agent_event_id);

CREATE TABLE session_summaries (
	id                  INTEGER PRIMARY KEY AUTOINCREMENT,
	memory_session_id   TEXT NOT NULL REFERENCES sdk_sessions(memory_session_id) ON DELETE CASCADE,
	project             TEXT NOT NULL,
	request             TEXT,
	investigated        TEXT,
	learned             TEXT,
	completed           TEXT,
	next_steps          TEXT,
	files_read          TEXT,
	files_edited        TEXT,
	notes               TEXT,
	prompt_number       INTEGER,
	discovery_tokens    INTEGER DEFAULT 0,
	merged_into_project TEXT,
	created_at          TEXT NOT NULL,
	created_at_epoch    INTEGER NOT NULL,
	synced_at           INTEGER,
	origin_device_id    TEXT,
	origin_local_id     INTEGER,
	sync_rev            TEXT DEFAULT '1',
	-- server
	team_id             TEXT NOT NULL REFERENCES teams(id),
	project_id          INTEGER NOT NULL REFERENCES projects(id),
	session_id          INTEGER NOT NULL REFERENCES sdk_sessions(id) ON DELETE CASCADE,
	generated_by_model  TEXT,
	generation_key      TEXT UNIQUE,
	job_id              TEXT
);
CREATE INDEX idx_session_summaries_session ON session_summaries(session_id, id);
CREATE INDEX idx_session_summaries_project ON session_summaries(project);
CREATE INDEX idx_session_summaries_created ON session_summaries(created_at_epoch DESC);

-- Full-text search: external-content FTS5 tables kept in sync by triggers.
CREATE VIRTUAL TABLE observations_fts USING fts5(
	title, subtitle, narrative, text, facts, concepts,
	content='observations', content_rowid='id'
);
CREATE TRIGGER observations_ai AFTER INSERT ON observations BEGIN
	INSERT INTO observations_fts(rowid, title, subtitle, narrative, text, facts, concepts)
	VALUES (new.id, new.title, new.subtitle, new.narrative, new.text, new.facts, new.concepts);
END;
CREATE TRIGGER observations_ad AFTER DELETE ON observations BEGIN
	INSERT INTO observations_fts(observations_fts, rowid, title, subtitle, narrative, text, facts, concepts)
	VALUES ('delete', old.id, old.title, old.subtitle, old.narrative, old.text, old.facts, old.concepts);
END;
CREATE TRIGGER observations_au AFTER UPDATE ON observations BEGIN
	INSERT INTO observations_fts(observations_fts, rowid, title, subtitle, narrative, text, facts, concepts)
	VALUES ('delete', old.id, old.title, old.subtitle, old.narrative, old.text, old.facts, old.concepts);
	INSERT INTO observations_fts(rowid, title, subtitle, narrative, text, facts, concepts)
	VALUES (new.id, new.title, new.subtitle, new.narrative, new.text, new.facts, new.concepts);
END;

CREATE VIRTUAL TABLE session_summaries_fts USING fts5(
	request, investigated, learned, completed, next_steps, notes,
	content='session_summaries', content_rowid='id'
);
CREATE TRIGGER session_summaries_ai AFTER INSERT ON session_summaries BEGIN
	INSERT INTO session_summaries_fts(rowid, request, investigated, learned, completed, next_steps, notes)
	VALUES (new.id, new.request, new.investigated, new.learned, new.completed, new.next_steps, new.notes);
END;
CREATE TRIGGER session_summaries_ad AFTER DELETE ON session_summaries BEGIN
	INSERT INTO session_summaries_fts(session_summaries_fts, rowid, request, investigated, learned, completed, next_steps, notes)
	VALUES ('delete', old.id, old.request, old.investigated, old.learned, old.completed, old.next_steps, old.notes);
END;
CREATE TRIGGER session_summaries_au AFTER UPDATE ON session_summaries BEGIN
	INSERT INTO session_summaries_fts(session_summaries_fts, rowid, request, investigated, learned, completed, next_steps, notes)
	VALUES ('delete', old.id, old.request, old.investigated, old.learned, old.completed, old.next_steps, old.notes);
	INSERT INTO session_summaries_fts(rowid, request, investigated, learned, completed, next_steps, notes)
	VALUES (new.id, new.request, new.investigated, new.learned, new.completed, new.next_steps, new.notes);
END;

CREATE VIRTUAL TABLE user_prompts_fts USING fts5(
	prompt_text,
	content='user_prompts', content_rowid='id'
);
CREATE TRIGGER user_prompts_ai AFTER INSERT ON user_prompts BEGIN
	INSERT INTO user_prompts_fts(rowid, prompt_text) VALUES (new.id, new.prompt_text);
END;
CREATE TRIGGER user_prompts_ad AFTER DELETE ON user_prompts BEGIN
	INSERT INTO user_prompts_fts(user_prompts_fts, rowid, prompt_text) VALUES ('delete', old.id, old.prompt_text);
END;
CREATE TRIGGER user_prompts_au AFTER UPDATE ON user_prompts BEGIN
	INSERT INTO user_prompts_fts(user_prompts_fts, rowid, prompt_text) VALUES ('delete', old.id, old.prompt_text);
	INSERT INTO user_prompts_fts(rowid, prompt_text) VALUES (new.id, new.prompt_text);
END;
