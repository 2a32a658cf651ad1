// Package importer imports a TypeScript claude-mem database
// (~/.claude-mem/claude-mem.db, behaviour §4) into the server's store:
// its sessions, user prompts, observations and session summaries, with
// their timestamps, projects and platform sources.
//
// The source is opened read-only and never changed. The import can be run
// again at any time and adds only what is new:
//
//   - a session is the same session when its platform source and content
//     session id are (the store's unique key; a session this server already
//     recorded live is reused, and what is imported joins it);
//   - a prompt when its session and prompt number are;
//   - an observation when its memory session and content hash are
//     (claude-mem's own dedupe key; rows without a hash get one computed as
//     claude-mem computes it);
//   - a summary when its session, prompt number, time and text are (a hash
//     of them is its generation key).
//
// Rows whose session is missing (claude-mem does not enforce its foreign
// keys) are not dropped: they get a session of their own, named after the
// missing id.
package importer

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/pipeline"
	"github.com/claude-mem/claude-mem-server/host/store"
	"github.com/claude-mem/claude-mem-server/sdk/project"
)

// DefaultBatchSize is how many rows one write transaction imports, so that
// a running server's writes interleave with a long import.
const DefaultBatchSize = 500

// Options configure an import.
type Options struct {
	// Source is the claude-mem.db to import. Required.
	Source string
	// Store is the destination, migrated. Required.
	Store *store.Store
	// TeamID owns what is imported. Default: memory.LocalTeam.
	TeamID string
	// Progress, when set, receives a progress bar (redrawn in place when
	// ProgressTTY, else a line per table).
	Progress    io.Writer
	ProgressTTY bool
	// BatchSize defaults to DefaultBatchSize.
	BatchSize int
	// Now is the clock for rows without any time. Default: time.Now.
	Now func() time.Time
}

// Counts are one table's figures.
type Counts struct {
	// Read rows of the source.
	Read int64 `json:"read"`
	// Imported rows added to the store.
	Imported int64 `json:"imported"`
	// Existing rows that were already in the store.
	Existing int64 `json:"existing"`
}

// Report is what an import did.
type Report struct {
	Source       string `json:"source"`
	Sessions     Counts `json:"sessions"`
	Prompts      Counts `json:"prompts"`
	Observations Counts `json:"observations"`
	Summaries    Counts `json:"summaries"`
	// Projects is the number of projects created.
	Projects int64 `json:"projects_created"`
	// OrphanSessions are the sessions created for rows whose session was
	// missing from the source.
	OrphanSessions int64 `json:"orphan_sessions"`
}

// Added is the number of rows the import added.
func (r Report) Added() int64 {
	return r.Sessions.Imported + r.Prompts.Imported + r.Observations.Imported + r.Summaries.Imported
}

// ErrNotClaudeMem is returned when the source has no sdk_sessions table.
var ErrNotClaudeMem = errors.New("not a claude-mem database (it has no sdk_sessions table)")

// session is a session of the store that imported rows attach to.
type session struct {
	id        int64
	memoryID  string
	projectID int64
	project   string
}

// run is one import.
type run struct {
	opts   Options
	src    *sql.DB
	cols   map[string]map[string]bool
	report Report
	prog   *progress
	now    time.Time

	sizes     map[string]int64     // rows per source table
	stmts     map[string]*sql.Stmt // of the current batch's transaction
	projects  map[string]int64
	bySrcID   map[int64]session  // source sdk_sessions.id
	byMemory  map[string]session // source memory_session_id
	byContent map[string]session // source content_session_id (first platform seen)
}

// Import imports opts.Source into opts.Store.
func Import(ctx context.Context, opts Options) (Report, error) {
	if opts.TeamID == "" {
		opts.TeamID = memory.LocalTeam
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	rep := Report{Source: opts.Source}
	if opts.Store == nil {
		return rep, errors.New("importer: no store")
	}
	if _, err := os.Stat(opts.Source); err != nil {
		return rep, fmt.Errorf("importer: %w", err)
	}
	// Read-only, and immutable to SQLite when no one writes it; a running
	// TypeScript worker's WAL is still read.
	src, err := sql.Open("sqlite", "file:"+opts.Source+"?mode=ro&_pragma=busy_timeout(5000)&_pragma=query_only(1)")
	if err != nil {
		return rep, fmt.Errorf("importer: open %s: %w", opts.Source, err)
	}
	defer src.Close()
	src.SetMaxOpenConns(1)
	r := &run{opts: opts, src: src, cols: map[string]map[string]bool{}, report: rep, now: opts.Now().UTC(),
		sizes: map[string]int64{}, projects: map[string]int64{}, bySrcID: map[int64]session{}, byMemory: map[string]session{}, byContent: map[string]session{}}
	if err := r.inspect(ctx); err != nil {
		return r.report, err
	}
	total, err := r.total(ctx)
	if err != nil {
		return r.report, err
	}
	r.prog = newProgress(opts.Progress, opts.ProgressTTY, total)
	defer r.prog.done()
	for _, step := range []func(context.Context) error{r.sessions, r.prompts, r.observations, r.summaries} {
		if err := step(ctx); err != nil {
			return r.report, err
		}
	}
	return r.report, nil
}

// inspect learns which tables and columns the source has: claude-mem's
// schema grew over ~50 migrations, and old databases lack newer columns.
func (r *run) inspect(ctx context.Context) error {
	for _, table := range []string{"sdk_sessions", "user_prompts", "observations", "session_summaries"} {
		rows, err := r.src.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
		if err != nil {
			return fmt.Errorf("importer: read the schema of %s: %w", r.opts.Source, err)
		}
		cols := map[string]bool{}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				rows.Close()
				return fmt.Errorf("importer: read the schema of %s: %w", r.opts.Source, err)
			}
			cols[name] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("importer: read the schema of %s: %w", r.opts.Source, err)
		}
		if len(cols) > 0 {
			r.cols[table] = cols
		}
	}
	if r.cols["sdk_sessions"] == nil {
		return fmt.Errorf("importer: %s is %w", r.opts.Source, ErrNotClaudeMem)
	}
	return nil
}

// col is the first of names the table has, or NULL.
func (r *run) col(table string, names ...string) string {
	for _, n := range names {
		if r.cols[table][n] {
			return `"` + n + `"`
		}
	}
	return "NULL"
}

func (r *run) total(ctx context.Context) (int64, error) {
	var total int64
	for table := range r.cols {
		var n int64
		if err := r.src.QueryRowContext(ctx, `SELECT COUNT(*) FROM "`+table+`"`).Scan(&n); err != nil {
			return 0, fmt.Errorf("importer: count %s: %w", table, err)
		}
		r.sizes[table] = n
		total += n
	}
	return total, nil
}

// batches streams the source query's rows to write, in transactions of
// BatchSize rows: memory stays bounded whatever the source's size, and a
// running server's writes interleave with the import.
func batches[T any](ctx context.Context, r *run, label, table, query string, scan func(*sql.Rows) (T, error), write func(*sql.Tx, T) error) error {
	r.prog.table(label, r.sizes[table])
	rows, err := r.src.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("importer: read %s: %w", label, err)
	}
	defer rows.Close()
	batch := make([]T, 0, r.opts.BatchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := r.opts.Store.Tx(ctx, func(tx *sql.Tx) error {
			r.stmts = map[string]*sql.Stmt{} // the transaction closes them
			for _, v := range batch {
				if err := write(tx, v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("importer: import %s: %w", label, err)
		}
		r.prog.add(int64(len(batch)))
		batch = batch[:0]
		return nil
	}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return fmt.Errorf("importer: read %s: %w", label, err)
		}
		if batch = append(batch, v); len(batch) == r.opts.BatchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("importer: read %s: %w", label, err)
	}
	return flush()
}

// exec runs one of the import's inserts, prepared once per transaction.
func (r *run) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	st, ok := r.stmts[query]
	if !ok {
		var err error
		if st, err = tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		r.stmts[query] = st
	}
	return st.ExecContext(ctx, args...)
}

// millis is a row's time in epoch milliseconds: its epoch column (seconds
// in the oldest rows are scaled), else its ISO text, else fallback.
func millis(epoch sql.NullInt64, iso sql.NullString, fallback time.Time) int64 {
	if epoch.Valid && epoch.Int64 > 0 {
		if epoch.Int64 < 100_000_000_000 { // before 1973 in ms: seconds
			return epoch.Int64 * 1000
		}
		return epoch.Int64
	}
	if iso.Valid {
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
			if t, err := time.Parse(layout, strings.TrimSpace(iso.String)); err == nil {
				return t.UnixMilli()
			}
		}
	}
	return fallback.UnixMilli()
}

// isoOf keeps a row's ISO text, or writes one from ms.
func isoOf(iso sql.NullString, ms int64) string {
	if iso.Valid && strings.TrimSpace(iso.String) != "" {
		return iso.String
	}
	return memory.ISO(time.UnixMilli(ms))
}

func (r *run) project(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	if id, ok := r.projects[name]; ok {
		return id, nil
	}
	var before int64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM projects WHERE team_id = ? AND name = ?`, r.opts.TeamID, name).Scan(&before); err != nil {
		return 0, err
	}
	id, err := memory.EnsureProject(ctx, tx, r.opts.TeamID, name, "", r.now)
	if err != nil {
		return 0, err
	}
	if before == 0 {
		r.report.Projects++
	}
	r.projects[name] = id
	return id, nil
}

func projectName(s sql.NullString) string {
	if p := strings.TrimSpace(s.String); p != "" {
		return p
	}
	return project.Unknown
}

// srcSession is a row of the source's sdk_sessions.
type srcSession struct {
	id                       int64
	content, memory, project sql.NullString
	platform, userPrompt     sql.NullString
	startedAt, completedAt   sql.NullString
	startedMs, completedMs   sql.NullInt64
	status, customTitle      sql.NullString
	workerPort, promptCount  sql.NullInt64
}

func (r *run) sessions(ctx context.Context) error {
	t := "sdk_sessions"
	q := `SELECT id, ` + r.col(t, "content_session_id", "claude_session_id") + `, ` + r.col(t, "memory_session_id", "sdk_session_id") +
		`, ` + r.col(t, "project") + `, ` + r.col(t, "platform_source") + `, ` + r.col(t, "user_prompt") + `, ` + r.col(t, "started_at") +
		`, ` + r.col(t, "started_at_epoch") + `, ` + r.col(t, "completed_at") + `, ` + r.col(t, "completed_at_epoch") + `, ` + r.col(t, "status") +
		`, ` + r.col(t, "worker_port") + `, ` + r.col(t, "prompt_counter") + `, ` + r.col(t, "custom_title") + ` FROM sdk_sessions ORDER BY id`
	scan := func(rows *sql.Rows) (srcSession, error) {
		var s srcSession
		err := rows.Scan(&s.id, &s.content, &s.memory, &s.project, &s.platform, &s.userPrompt, &s.startedAt, &s.startedMs,
			&s.completedAt, &s.completedMs, &s.status, &s.workerPort, &s.promptCount, &s.customTitle)
		return s, err
	}
	return batches(ctx, r, "sessions", "sdk_sessions", q, scan, func(tx *sql.Tx, s srcSession) error {
		r.report.Sessions.Read++
		content := strings.TrimSpace(s.content.String)
		if content == "" {
			content = fmt.Sprintf("claude-mem-session-%d", s.id)
		}
		sess, created, err := r.ensureSession(ctx, tx, s, content)
		if err != nil {
			return err
		}
		if created {
			r.report.Sessions.Imported++
		} else {
			r.report.Sessions.Existing++
		}
		r.bySrcID[s.id] = sess
		if m := s.memory.String; m != "" {
			r.byMemory[m] = sess
		}
		if _, ok := r.byContent[content]; !ok {
			r.byContent[content] = sess
		}
		return nil
	})
}

// ensureSession inserts a session unless (platform, content) exists, and
// returns it.
func (r *run) ensureSession(ctx context.Context, tx *sql.Tx, s srcSession, content string) (session, bool, error) {
	platform := pipeline.NormalizePlatform(s.platform.String)
	name := projectName(s.project)
	projectID, err := r.project(ctx, tx, name)
	if err != nil {
		return session{}, false, err
	}
	started := millis(s.startedMs, s.startedAt, r.now)
	status := s.status.String
	if status != memory.StatusActive && status != memory.StatusCompleted && status != memory.StatusFailed {
		status = memory.StatusCompleted
	}
	var completedISO sql.NullString
	var completedMs sql.NullInt64
	if s.completedMs.Valid || s.completedAt.Valid {
		ms := millis(s.completedMs, s.completedAt, time.UnixMilli(started))
		completedISO = sql.NullString{String: isoOf(s.completedAt, ms), Valid: true}
		completedMs = sql.NullInt64{Int64: ms, Valid: true}
	}
	memoryID := strings.TrimSpace(s.memory.String)
	if memoryID == "" {
		memoryID = memory.MemorySessionID(r.opts.TeamID, platform, content)
	}
	n := s.promptCount.Int64
	insert := func(memID string) (bool, error) {
		res, err := r.exec(ctx, tx, `INSERT INTO sdk_sessions (content_session_id, memory_session_id, project, platform_source,
			user_prompt, started_at, started_at_epoch, completed_at, completed_at_epoch, status, worker_port, prompt_counter, custom_title,
			team_id, project_id, current_prompt_number, updated_at_epoch)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			content, memID, name, platform, nullIfEmpty(memory.Truncate(s.userPrompt.String, memory.MaxPromptChars)),
			isoOf(s.startedAt, started), started, completedISO, completedMs, status, s.workerPort, n, nullIfEmpty(s.customTitle.String),
			r.opts.TeamID, projectID, n, r.now.UnixMilli())
		if err != nil {
			return false, err
		}
		affected, err := res.RowsAffected()
		return affected == 1, err
	}
	created, err := insert(memoryID)
	if err != nil {
		return session{}, false, err
	}
	sess, err := r.find(ctx, tx, platform, content)
	if errors.Is(err, memory.ErrNotFound) {
		// The memory session id is taken by another session of the store:
		// give this one a derived id of its own.
		if created, err = insert(memory.MemorySessionID(r.opts.TeamID, platform, content)); err != nil {
			return session{}, false, err
		}
		sess, err = r.find(ctx, tx, platform, content)
	}
	return sess, created, err
}

// find returns the store's session of (platform, content session id).
func (r *run) find(ctx context.Context, tx *sql.Tx, platform, content string) (session, error) {
	s, err := memory.FindSession(ctx, tx, r.opts.TeamID, platform, content)
	if err != nil {
		return session{}, err
	}
	return session{id: s.ID, memoryID: s.MemorySessionID, projectID: s.ProjectID, project: s.Project}, nil
}

// orphan returns the session for rows whose source session is missing,
// creating it: content session id "claude-mem-orphan-<key>".
func (r *run) orphan(ctx context.Context, tx *sql.Tx, key, memoryID, proj string, at int64) (session, error) {
	content := "claude-mem-orphan-" + key
	if s, ok := r.byContent[content]; ok {
		return s, nil
	}
	s := srcSession{
		memory:    sql.NullString{String: memoryID, Valid: memoryID != ""},
		project:   sql.NullString{String: proj, Valid: true},
		startedMs: sql.NullInt64{Int64: at, Valid: true},
		status:    sql.NullString{String: memory.StatusCompleted, Valid: true},
	}
	sess, created, err := r.ensureSession(ctx, tx, s, content)
	if err != nil {
		return session{}, err
	}
	if created {
		r.report.OrphanSessions++
	}
	r.byContent[content] = sess
	if memoryID != "" {
		r.byMemory[memoryID] = sess
	}
	return sess, nil
}

func nullIfEmpty(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// srcPrompt is a row of the source's user_prompts.
type srcPrompt struct {
	id                 int64
	sessionDBID        sql.NullInt64
	content, text, iso sql.NullString
	number, ms         sql.NullInt64
}

func (r *run) prompts(ctx context.Context) error {
	t := "user_prompts"
	if r.cols[t] == nil {
		return nil
	}
	q := `SELECT id, ` + r.col(t, "session_db_id") + `, ` + r.col(t, "content_session_id", "claude_session_id") + `, ` + r.col(t, "prompt_text") +
		`, ` + r.col(t, "created_at") + `, ` + r.col(t, "prompt_number") + `, ` + r.col(t, "created_at_epoch") + ` FROM user_prompts ORDER BY id`
	scan := func(rows *sql.Rows) (srcPrompt, error) {
		var p srcPrompt
		err := rows.Scan(&p.id, &p.sessionDBID, &p.content, &p.text, &p.iso, &p.number, &p.ms)
		return p, err
	}
	return batches(ctx, r, "prompts", "user_prompts", q, scan, func(tx *sql.Tx, p srcPrompt) error {
		r.report.Prompts.Read++
		ms := millis(p.ms, p.iso, r.now)
		sess, ok := r.bySrcID[p.sessionDBID.Int64]
		if !ok {
			sess, ok = r.byContent[p.content.String]
		}
		if !ok {
			var err error
			key := p.content.String
			if key == "" {
				key = fmt.Sprintf("prompt-%d", p.id)
			}
			if sess, err = r.orphan(ctx, tx, key, "", "", ms); err != nil {
				return err
			}
		}
		n := p.number.Int64
		if !p.number.Valid || n <= 0 {
			// claude-mem numbers every prompt; a row without one goes after
			// the session's others.
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(prompt_number), 0) + 1 FROM user_prompts WHERE session_db_id = ?`, sess.id).Scan(&n); err != nil {
				return err
			}
		}
		content := p.content.String
		if content == "" {
			if err := tx.QueryRowContext(ctx, `SELECT content_session_id FROM sdk_sessions WHERE id = ?`, sess.id).Scan(&content); err != nil {
				return err
			}
		}
		res, err := r.exec(ctx, tx, `INSERT INTO user_prompts (session_db_id, content_session_id, prompt_number, prompt_text,
			created_at, created_at_epoch, is_private) VALUES (?, ?, ?, ?, ?, ?, 0) ON CONFLICT DO NOTHING`,
			sess.id, content, n, memory.Truncate(p.text.String, memory.MaxPromptChars), isoOf(p.iso, ms), ms)
		if err != nil {
			return err
		}
		if affected, _ := res.RowsAffected(); affected == 1 {
			r.report.Prompts.Imported++
		} else {
			r.report.Prompts.Existing++
		}
		return nil
	})
}

// srcObservation is a row of the source's observations.
type srcObservation struct {
	id                                                         int64
	memoryID, project, text, typ, title, subtitle, facts       sql.NullString
	narrative, concepts, filesRead, filesModified, hash, model sql.NullString
	merged, agentType, agentID, metadata, iso                  sql.NullString
	promptNumber, discoveryTokens, relevance, ms               sql.NullInt64
}

func (r *run) observations(ctx context.Context) error {
	t := "observations"
	if r.cols[t] == nil {
		return nil
	}
	c := func(names ...string) string { return r.col(t, names...) }
	q := `SELECT id, ` + strings.Join([]string{c("memory_session_id", "sdk_session_id"), c("project"), c("text"), c("type"), c("title"), c("subtitle"),
		c("facts"), c("narrative"), c("concepts"), c("files_read"), c("files_modified"), c("content_hash"), c("generated_by_model"),
		c("merged_into_project"), c("agent_type"), c("agent_id"), c("metadata"), c("created_at"), c("prompt_number"), c("discovery_tokens"),
		c("relevance_count"), c("created_at_epoch")}, ", ") + ` FROM observations ORDER BY id`
	scan := func(rows *sql.Rows) (srcObservation, error) {
		var o srcObservation
		err := rows.Scan(&o.id, &o.memoryID, &o.project, &o.text, &o.typ, &o.title, &o.subtitle, &o.facts, &o.narrative, &o.concepts,
			&o.filesRead, &o.filesModified, &o.hash, &o.model, &o.merged, &o.agentType, &o.agentID, &o.metadata, &o.iso,
			&o.promptNumber, &o.discoveryTokens, &o.relevance, &o.ms)
		return o, err
	}
	return batches(ctx, r, "observations", "observations", q, scan, func(tx *sql.Tx, o srcObservation) error {
		r.report.Observations.Read++
		ms := millis(o.ms, o.iso, r.now)
		sess, err := r.sessionOf(ctx, tx, o.memoryID.String, o.project, ms)
		if err != nil {
			return err
		}
		name := strings.TrimSpace(o.project.String)
		if name == "" {
			name = sess.project
		}
		projectID, err := r.project(ctx, tx, name)
		if err != nil {
			return err
		}
		typ := strings.TrimSpace(o.typ.String)
		if typ == "" {
			typ = "discovery" // a type claude-mem's every mode has
		}
		hash := strings.TrimSpace(o.hash.String)
		if hash == "" {
			hash = memory.ContentHash(sess.memoryID, o.title.String, o.narrative.String)
		}
		res, err := r.exec(ctx, tx, `INSERT INTO observations (memory_session_id, project, text, type, title, subtitle, facts, narrative,
			concepts, files_read, files_modified, prompt_number, discovery_tokens, content_hash, generated_by_model, relevance_count,
			merged_into_project, agent_type, agent_id, metadata, created_at, created_at_epoch, team_id, project_id, session_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			sess.memoryID, name, o.text, typ, o.title, o.subtitle, o.facts, o.narrative, o.concepts, o.filesRead, o.filesModified,
			o.promptNumber, o.discoveryTokens.Int64, hash, o.model, o.relevance.Int64, o.merged, o.agentType, o.agentID, o.metadata,
			isoOf(o.iso, ms), ms, r.opts.TeamID, projectID, sess.id)
		if err != nil {
			return err
		}
		if affected, _ := res.RowsAffected(); affected == 1 {
			r.report.Observations.Imported++
		} else {
			r.report.Observations.Existing++
		}
		return nil
	})
}

// sessionOf is the session of a memory session id, an orphan one if the
// source has none.
func (r *run) sessionOf(ctx context.Context, tx *sql.Tx, memoryID string, proj sql.NullString, ms int64) (session, error) {
	if s, ok := r.byMemory[memoryID]; ok && memoryID != "" {
		return s, nil
	}
	key := memoryID
	if key == "" {
		key = "no-memory-session"
	}
	return r.orphan(ctx, tx, key, memoryID, projectName(proj), ms)
}

// srcSummary is a row of the source's session_summaries.
type srcSummary struct {
	id                                                                 int64
	memoryID, project, request, investigated, learned, completed, next sql.NullString
	filesRead, filesEdited, notes, merged, iso                         sql.NullString
	promptNumber, discoveryTokens, ms                                  sql.NullInt64
}

func (r *run) summaries(ctx context.Context) error {
	t := "session_summaries"
	if r.cols[t] == nil {
		return nil
	}
	c := func(names ...string) string { return r.col(t, names...) }
	q := `SELECT id, ` + strings.Join([]string{c("memory_session_id", "sdk_session_id"), c("project"), c("request"), c("investigated"), c("learned"),
		c("completed"), c("next_steps"), c("files_read"), c("files_edited"), c("notes"), c("merged_into_project"), c("created_at"),
		c("prompt_number"), c("discovery_tokens"), c("created_at_epoch")}, ", ") + ` FROM session_summaries ORDER BY id`
	scan := func(rows *sql.Rows) (srcSummary, error) {
		var m srcSummary
		err := rows.Scan(&m.id, &m.memoryID, &m.project, &m.request, &m.investigated, &m.learned, &m.completed, &m.next,
			&m.filesRead, &m.filesEdited, &m.notes, &m.merged, &m.iso, &m.promptNumber, &m.discoveryTokens, &m.ms)
		return m, err
	}
	return batches(ctx, r, "summaries", "session_summaries", q, scan, func(tx *sql.Tx, m srcSummary) error {
		r.report.Summaries.Read++
		ms := millis(m.ms, m.iso, r.now)
		sess, err := r.sessionOf(ctx, tx, m.memoryID.String, m.project, ms)
		if err != nil {
			return err
		}
		name := strings.TrimSpace(m.project.String)
		if name == "" {
			name = sess.project
		}
		projectID, err := r.project(ctx, tx, name)
		if err != nil {
			return err
		}
		key := summaryKey(sess.memoryID, m, ms)
		res, err := r.exec(ctx, tx, `INSERT INTO session_summaries (memory_session_id, project, request, investigated, learned,
			completed, next_steps, files_read, files_edited, notes, prompt_number, discovery_tokens, merged_into_project, created_at,
			created_at_epoch, team_id, project_id, session_id, generation_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			sess.memoryID, name, m.request, m.investigated, m.learned, m.completed, m.next, m.filesRead, m.filesEdited, m.notes,
			m.promptNumber, m.discoveryTokens.Int64, m.merged, isoOf(m.iso, ms), ms, r.opts.TeamID, projectID, sess.id, key)
		if err != nil {
			return err
		}
		if affected, _ := res.RowsAffected(); affected == 1 {
			r.report.Summaries.Imported++
		} else {
			r.report.Summaries.Existing++
		}
		return nil
	})
}

// summaryKey identifies an imported summary: session_summaries has no
// natural key, so its content and time are hashed into the generation key.
func summaryKey(memoryID string, m srcSummary, ms int64) string {
	h := sha256.New()
	for _, part := range []string{"claude-mem-import:v1", memoryID, fmt.Sprint(m.promptNumber.Int64), fmt.Sprint(ms),
		m.request.String, m.investigated.String, m.learned.String, m.completed.String, m.next.String, m.notes.String} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return "imp_" + hex.EncodeToString(h.Sum(nil))[:32]
}
