// Package importertest builds TypeScript claude-mem databases for tests:
// claude-mem's schema (behaviour §4) holding a small, realistic history.
package importertest

import (
	"database/sql"
	"testing"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// Schema is claude-mem's SQLite schema as its migrations leave it (plugin
// 13.x): the four tables the importer reads, their indexes, the FTS5
// tables and triggers, and the bookkeeping tables it ignores.
const Schema = `
CREATE TABLE schema_versions (id INTEGER PRIMARY KEY, version INTEGER UNIQUE NOT NULL, applied_at TEXT NOT NULL);
CREATE TABLE sdk_sessions (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	content_session_id TEXT NOT NULL,
	memory_session_id TEXT UNIQUE,
	project TEXT NOT NULL,
	platform_source TEXT NOT NULL DEFAULT 'claude',
	user_prompt TEXT,
	started_at TEXT NOT NULL,
	started_at_epoch INTEGER NOT NULL,
	completed_at TEXT,
	completed_at_epoch INTEGER,
	status TEXT CHECK(status IN ('active', 'completed', 'failed')) NOT NULL DEFAULT 'active',
	worker_port INTEGER,
	prompt_counter INTEGER DEFAULT 0,
	custom_title TEXT
);
CREATE UNIQUE INDEX ux_sdk_sessions_platform_content ON sdk_sessions(platform_source, content_session_id);
CREATE INDEX idx_sdk_sessions_claude_id ON sdk_sessions(content_session_id);
CREATE INDEX idx_sdk_sessions_sdk_id ON sdk_sessions(memory_session_id);
CREATE INDEX idx_sdk_sessions_project ON sdk_sessions(project);
CREATE INDEX idx_sdk_sessions_status ON sdk_sessions(status);
CREATE INDEX idx_sdk_sessions_started ON sdk_sessions(started_at_epoch DESC);
CREATE INDEX idx_sdk_sessions_platform_source ON sdk_sessions(platform_source);

CREATE TABLE observations (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	memory_session_id TEXT NOT NULL,
	project TEXT NOT NULL,
	text TEXT,
	type TEXT NOT NULL,
	title TEXT,
	subtitle TEXT,
	facts TEXT,
	narrative TEXT,
	concepts TEXT,
	files_read TEXT,
	files_modified TEXT,
	prompt_number INTEGER,
	discovery_tokens INTEGER DEFAULT 0,
	content_hash TEXT,
	generated_by_model TEXT,
	relevance_count INTEGER DEFAULT 0,
	merged_into_project TEXT,
	agent_type TEXT,
	agent_id TEXT,
	metadata TEXT,
	created_at TEXT NOT NULL,
	created_at_epoch INTEGER NOT NULL,
	synced_at INTEGER,
	origin_device_id TEXT,
	origin_local_id INTEGER,
	sync_rev TEXT DEFAULT '1',
	FOREIGN KEY(memory_session_id) REFERENCES sdk_sessions(memory_session_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX ux_observations_session_hash ON observations(memory_session_id, content_hash);
CREATE INDEX idx_observations_sdk_session ON observations(memory_session_id);
CREATE INDEX idx_observations_project ON observations(project);
CREATE INDEX idx_observations_type ON observations(type);
CREATE INDEX idx_observations_created ON observations(created_at_epoch DESC);

CREATE TABLE session_summaries (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	memory_session_id TEXT NOT NULL,
	project TEXT NOT NULL,
	request TEXT,
	investigated TEXT,
	learned TEXT,
	completed TEXT,
	next_steps TEXT,
	files_read TEXT,
	files_edited TEXT,
	notes TEXT,
	prompt_number INTEGER,
	discovery_tokens INTEGER DEFAULT 0,
	merged_into_project TEXT,
	created_at TEXT NOT NULL,
	created_at_epoch INTEGER NOT NULL,
	synced_at INTEGER,
	origin_device_id TEXT,
	origin_local_id INTEGER,
	sync_rev TEXT DEFAULT '1',
	FOREIGN KEY(memory_session_id) REFERENCES sdk_sessions(memory_session_id) ON DELETE CASCADE
);
CREATE INDEX idx_session_summaries_sdk_session ON session_summaries(memory_session_id);
CREATE INDEX idx_session_summaries_project ON session_summaries(project);
CREATE INDEX idx_session_summaries_created ON session_summaries(created_at_epoch DESC);

CREATE TABLE user_prompts (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	session_db_id INTEGER REFERENCES sdk_sessions(id) ON DELETE CASCADE,
	content_session_id TEXT NOT NULL,
	prompt_number INTEGER NOT NULL,
	prompt_text TEXT NOT NULL,
	created_at TEXT NOT NULL,
	created_at_epoch INTEGER NOT NULL,
	synced_at INTEGER,
	origin_device_id TEXT,
	origin_local_id INTEGER,
	sync_rev TEXT DEFAULT '1'
);
CREATE INDEX idx_user_prompts_claude_session ON user_prompts(content_session_id);
CREATE INDEX idx_user_prompts_created ON user_prompts(created_at_epoch DESC);
CREATE INDEX idx_user_prompts_prompt_number ON user_prompts(prompt_number);
CREATE INDEX idx_user_prompts_lookup ON user_prompts(content_session_id, prompt_number);

CREATE TABLE pending_messages (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	session_db_id INTEGER NOT NULL,
	content_session_id TEXT NOT NULL,
	message_type TEXT NOT NULL CHECK(message_type IN ('observation', 'summarize')),
	tool_name TEXT, tool_input TEXT, tool_response TEXT, cwd TEXT,
	last_user_message TEXT, last_assistant_message TEXT, prompt_number INTEGER,
	status TEXT NOT NULL DEFAULT 'pending' CHECK(status IN ('pending', 'processing')),
	created_at_epoch INTEGER NOT NULL, agent_type TEXT, agent_id TEXT, tool_use_id TEXT
);

CREATE VIRTUAL TABLE observations_fts USING fts5(title, subtitle, narrative, text, facts, concepts, content='observations', content_rowid='id');
CREATE TRIGGER observations_ai AFTER INSERT ON observations BEGIN
	INSERT INTO observations_fts(rowid, title, subtitle, narrative, text, facts, concepts)
	VALUES (new.id, new.title, new.subtitle, new.narrative, new.text, new.facts, new.concepts);
END;
CREATE VIRTUAL TABLE session_summaries_fts USING fts5(request, investigated, learned, completed, next_steps, notes, content='session_summaries', content_rowid='id');
CREATE TRIGGER session_summaries_ai AFTER INSERT ON session_summaries BEGIN
	INSERT INTO session_summaries_fts(rowid, request, investigated, learned, completed, next_steps, notes)
	VALUES (new.id, new.request, new.investigated, new.learned, new.completed, new.next_steps, new.notes);
END;
CREATE VIRTUAL TABLE user_prompts_fts USING fts5(prompt_text, content='user_prompts', content_rowid='id');
CREATE TRIGGER user_prompts_ai AFTER INSERT ON user_prompts BEGIN
	INSERT INTO user_prompts_fts(rowid, prompt_text) VALUES (new.id, new.prompt_text);
END;
`

// History is the rows Build inserts. Times are epoch milliseconds with
// the ISO text claude-mem writes next to them.
const History = `
INSERT INTO schema_versions (version, applied_at) VALUES (48, '2026-01-10T09:00:00.000Z'), (49, '2026-01-10T09:00:00.000Z');

-- A finished Claude Code session in shop, an unfinished one in infra, a
-- Codex session in shop, and a session whose observer never started (no
-- memory session id) from before platform_source existed.
INSERT INTO sdk_sessions (id, content_session_id, memory_session_id, project, platform_source, user_prompt, started_at, started_at_epoch,
	completed_at, completed_at_epoch, status, worker_port, prompt_counter, custom_title) VALUES
(1, '0a1b2c3d-shop-1', 'sdk-7f3e9a', 'shop', 'claude', 'The checkout total is off by a cent; fix the rounding.',
	'2026-01-12T09:15:02.114Z', 1768209302114, '2026-01-12T10:02:45.870Z', 1768212165870, 'completed', 37701, 2, NULL),
(2, '5e6f7a8b-infra-1', 'sdk-a41c07', 'infra', 'claude', 'Why does the deploy job time out on staging?',
	'2026-01-15T14:40:10.002Z', 1768488010002, NULL, NULL, 'active', 37701, 1, 'deploy timeouts'),
(3, 'codex-019a-shop', 'codex-mem-19a', 'shop', 'codex', 'add discount codes',
	'2026-01-20T08:00:00.000Z', 1768896000000, '2026-01-20T08:30:00.000Z', 1768897800000, 'completed', NULL, 1, NULL),
(4, 'f00dfeed-old', NULL, 'shop', '', 'hello', '2025-11-02T17:00:00.000Z', 1762102800000, NULL, NULL, 'failed', NULL, 0, NULL);

INSERT INTO user_prompts (id, session_db_id, content_session_id, prompt_number, prompt_text, created_at, created_at_epoch) VALUES
(1, 1, '0a1b2c3d-shop-1', 1, 'The checkout total is off by a cent; fix the rounding.', '2026-01-12T09:15:02.120Z', 1768209302120),
(2, 1, '0a1b2c3d-shop-1', 2, 'Now add a regression test for the cents.', '2026-01-12T09:48:30.500Z', 1768211310500),
(3, 2, '5e6f7a8b-infra-1', 1, 'Why does the deploy job time out on staging?', '2026-01-15T14:40:10.010Z', 1768488010010),
(4, 3, 'codex-019a-shop', 1, 'add discount codes', '2026-01-20T08:00:00.100Z', 1768896000100),
-- written by a claude-mem version that stored seconds
(5, 4, 'f00dfeed-old', 1, 'hello', '2025-11-02T17:00:00.000Z', 1762102800);

INSERT INTO observations (id, memory_session_id, project, text, type, title, subtitle, facts, narrative, concepts, files_read, files_modified,
	prompt_number, discovery_tokens, content_hash, generated_by_model, relevance_count, merged_into_project, agent_type, agent_id, metadata,
	created_at, created_at_epoch) VALUES
(1, 'sdk-7f3e9a', 'shop', NULL, 'discovery', 'Cart totals are summed as float64', 'Rounding drift in Total()',
	'["Total() sums item prices as float64","10.000000001 != 10 in cart_test.go:14"]',
	'Investigated the failing checkout test: Total() adds float64 prices, so sums drift by a fraction of a cent.',
	'["how-it-works","problem-solution"]', '["/home/dev/src/shop/cart/cart.go","/home/dev/src/shop/cart/cart_test.go"]', '[]',
	1, 1840, '1a2b3c4d5e6f7a8b', 'claude-haiku-4-5-20251001', 3, NULL, NULL, NULL, NULL, '2026-01-12T09:21:40.333Z', 1768209700333),
(2, 'sdk-7f3e9a', 'shop', NULL, 'bugfix', 'Keep cart totals in integer cents', 'Total returns int64 cents',
	'["Total() now returns int64 cents via sumCents()","go test ./cart/... passes"]',
	'Fixed the rounding bug by keeping money in integer cents end to end; the checkout test passes.',
	'["problem-solution","what-changed"]', '["/home/dev/src/shop/cart/cart.go"]', '["/home/dev/src/shop/cart/cart.go"]',
	1, 2210, '9f8e7d6c5b4a3928', 'claude-haiku-4-5-20251001', 0, NULL, NULL, NULL, NULL, '2026-01-12T09:40:02.001Z', 1768210802001),
-- an old row without a content hash, written by a subagent
(3, 'sdk-7f3e9a', 'shop', NULL, 'change', 'Regression test for cent rounding', NULL,
	'["cart_test.go: TestTotalCents"]', 'Added TestTotalCents covering 0.1 + 0.2 style sums.',
	'["what-changed"]', '[]', '["/home/dev/src/shop/cart/cart_test.go"]',
	2, 900, NULL, 'claude-haiku-4-5-20251001', 0, NULL, 'general-purpose', 'agent-42', '{"source":"subagent"}', '2026-01-12T09:55:10.000Z', 1768211710000),
(4, 'sdk-a41c07', 'infra', NULL, 'discovery', 'Deploy job waits on a 300s health check', 'Staging probe path is wrong',
	'["deploy.yaml health check path /healthz","staging serves /health"]',
	'The staging deploy times out because the readiness probe polls /healthz while the service answers on /health.',
	'["gotcha"]', '["/home/dev/src/infra/deploy.yaml"]', '[]',
	1, 3100, 'aa11bb22cc33dd44', 'claude-haiku-4-5-20251001', 1, NULL, NULL, NULL, NULL, '2026-01-15T14:52:00.000Z', 1768488720000),
(5, 'codex-mem-19a', 'shop', NULL, 'feature', 'Discount codes applied at checkout', NULL,
	'["applyDiscount(cents, code)"]', 'Added discount codes: Total takes a code and subtracts its amount.',
	'["what-changed"]', '[]', '["/home/dev/src/shop/cart/discount.go"]',
	1, 1500, 'ee55ff66aa77bb88', 'gpt-4o-mini', 0, NULL, NULL, NULL, NULL, '2026-01-20T08:20:00.000Z', 1768896000000 + 1200000),
-- a manual memory (/api/memory/save): its memory session has no sdk_sessions row
(6, 'manual-shop', 'shop', NULL, 'discovery', 'Deploys go through staging first', 'Manual memory',
	'[]', 'Deploys go through the staging cluster first; never push to prod on Fridays.',
	'[]', '[]', '[]', NULL, 0, 'cc99dd00ee11ff22', NULL, 0, 'shop-legacy', NULL, NULL, NULL, '2026-01-18T12:00:00.000Z', 1768737600000);

INSERT INTO session_summaries (id, memory_session_id, project, request, investigated, learned, completed, next_steps, files_read, files_edited,
	notes, prompt_number, discovery_tokens, merged_into_project, created_at, created_at_epoch) VALUES
(1, 'sdk-7f3e9a', 'shop', 'Fix the checkout rounding bug', 'cart.go Total() and the failing test',
	'float64 sums drift', 'Totals kept in integer cents; test passes', 'Add a regression test',
	'["/home/dev/src/shop/cart/cart.go"]', '["/home/dev/src/shop/cart/cart.go"]', NULL, 1, 4050, NULL, '2026-01-12T09:45:00.000Z', 1768211100000),
(2, 'sdk-7f3e9a', 'shop', 'Add a regression test for the cents', 'cart_test.go',
	NULL, 'TestTotalCents added', NULL, '[]', '["/home/dev/src/shop/cart/cart_test.go"]', 'Subagent wrote the test', 2, 900, NULL,
	'2026-01-12T10:02:40.000Z', 1768212160000),
(3, 'sdk-a41c07', 'infra', 'Why does the deploy time out on staging?', 'deploy.yaml probes',
	'The probe path differs between envs', NULL, 'Fix the probe path in deploy.yaml', '["/home/dev/src/infra/deploy.yaml"]', '[]', NULL, 1, 3100,
	NULL, '2026-01-15T15:00:00.000Z', 1768489200000);
`

// Counts are the rows History holds per table.
var Counts = map[string]int64{"sdk_sessions": 4, "user_prompts": 5, "observations": 6, "session_summaries": 3}

// Build writes a claude-mem database holding History at path.
func Build(t testing.TB, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range []string{Schema, History} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("importertest: build %s: %v", path, err)
		}
	}
}
