// Package exchange exports a team's memory as versioned JSONL and imports
// it back, and imports the official MCP memory server's memory.jsonl
// knowledge graph.
//
// # Format
//
// One JSON object per line, each with a "kind". The first line is the
// header {"kind":"header","format":"claude-mem-server-export","version":1};
// the last is {"kind":"end","counts":{...}}. In between, in this order:
// project, session, event, prompt, observation, summary lines, each
// ordered by their row id. A line carries its table's columns by name
// (projects, sdk_sessions, agent_events, user_prompts, observations with
// their history columns valid_from, valid_to, and session_summaries), in
// the schema's column order, except the local row ids and the team; those
// are replaced by stable references:
//
//   - ref_project: the project's name (in the importing team);
//   - ref_session_platform + ref_session_content: the session's platform
//     source and content session id (its unique key);
//   - ref_agent_event (prompts): the event's idempotency key;
//   - ref (observations): the observation's identity, "g:"+generation_key,
//     else "h:"+memory_session_id+"/"+content_hash, else a hash of its text;
//     ref_superseded_by names the newer version the same way, and
//     ref_events the idempotency keys of the events it came from.
//
// An import refuses a file without its header or end line, or whose end
// counts do not match its lines. An export reads one snapshot (a read
// transaction). Export then import into an empty server, then export
// again, gives the same bytes. Import is atomic (one transaction: a bad line stores
// nothing, and names its line number) and idempotent: every row is keyed
// by the store's unique keys (project name, session key, event
// idempotency key, session+prompt number, observation ref, summary
// generation key or session+time+prompt number) and rows already there
// are skipped. Everything is imported into the caller's team; a session
// or event key that exists in another team fails the import.
//
// # MCP memory.jsonl
//
// The MCP memory server's lines are mapped to manual memories of one
// project (default "mcp-memory") in its manual session:
//
//   - {"type":"entity","name","entityType","observations"}: one memory,
//     title = name, subtitle = entityType, narrative = the observations, one
//     per line, facts = the observations, concepts = ["entity", entityType];
//   - {"type":"relation","from","to","relationType"}: one memory, title
//     "from relationType to", subtitle "relation", concepts =
//     ["relation", relationType], facts = [from, relationType, to], and
//     metadata {"mcp_relation":{"from","to","relationType"}}.
//
// Each memory's generation key is its team, project and a hash of its
// line's content, so importing the same file again adds nothing, and a
// changed entity adds a new memory (the old one is not superseded).
package exchange

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/claude-mem/claude-mem-server/host/store"
)

// Format and Version are the header's.
const (
	Format  = "claude-mem-server-export"
	Version = 1
)

// Import formats.
const (
	FormatClaudeMem = "claude-mem-jsonl"
	FormatMCPMemory = "mcp-memory"
)

// Kinds of lines, in export order.
const (
	KindHeader      = "header"
	KindProject     = "project"
	KindSession     = "session"
	KindEvent       = "event"
	KindPrompt      = "prompt"
	KindObservation = "observation"
	KindSummary     = "summary"
	KindEnd         = "end"
)

// tableKinds are the data kinds in export order.
var tableKinds = []string{KindProject, KindSession, KindEvent, KindPrompt, KindObservation, KindSummary}

var tables = map[string]string{
	KindProject: "projects", KindSession: "sdk_sessions", KindEvent: "agent_events",
	KindPrompt: "user_prompts", KindObservation: "observations", KindSummary: "session_summaries",
}

// excluded are the local columns a line does not carry.
var excluded = map[string]bool{
	"id": true, "team_id": true, "project_id": true, "session_id": true, "session_db_id": true,
	"superseded_by": true, "agent_event_id": true,
}

// LineError is a bad line of an import.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Counts are one kind's figures.
type Counts struct {
	Read     int64 `json:"read"`
	Imported int64 `json:"imported"`
	Existing int64 `json:"existing"`
}

// Report is what an import did, by kind.
type Report struct {
	Format string            `json:"format"`
	Kinds  map[string]Counts `json:"kinds"`
}

// Added is the number of rows added.
func (r Report) Added() int64 {
	var n int64
	for _, c := range r.Kinds {
		n += c.Imported
	}
	return n
}

// Progress receives progress: a kind starts with size rows (-1 unknown),
// then rows are counted.
type Progress interface {
	Table(label string, size int64)
	Add(n int64)
	Done()
}

type noProgress struct{}

func (noProgress) Table(string, int64) {}
func (noProgress) Add(int64)           {}
func (noProgress) Done()               {}

// columns are a table's columns in schema order.
func columns(ctx context.Context, q querier, table string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// obsRef is an observation's stable identity.
func obsRef(genKey, memSession, hash sql.NullString, created sql.NullInt64, title, narrative, text sql.NullString) string {
	switch {
	case genKey.Valid && genKey.String != "":
		return "g:" + genKey.String
	case hash.Valid && hash.String != "":
		return "h:" + memSession.String + "/" + hash.String
	}
	h := sha256.New()
	for _, s := range []string{memSession.String, fmt.Sprint(created.Int64), title.String, narrative.String, text.String} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "x:" + hex.EncodeToString(h.Sum(nil))
}

// Export writes the team's memory to w.
func Export(ctx context.Context, st *store.Store, team string, w io.Writer, prog Progress) (map[string]int64, error) {
	if prog == nil {
		prog = noProgress{}
	}
	defer prog.Done()
	// One read transaction: a consistent snapshot while the server writes.
	db, err := st.Reader().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer db.Rollback() //nolint:errcheck // read-only
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, `{"kind":%q,"format":%q,"version":%d}`+"\n", KindHeader, Format, Version)
	counts := map[string]int64{}
	// The refs of superseding observations.
	refs := map[int64]string{}
	rows, err := db.QueryContext(ctx, `SELECT id, generation_key, memory_session_id, content_hash, created_at_epoch, title, narrative, text
		FROM observations WHERE team_id = ? AND id IN (SELECT superseded_by FROM observations WHERE team_id = ? AND superseded_by IS NOT NULL)`, team, team)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		var gk, ms, hash, title, narr, text sql.NullString
		var created sql.NullInt64
		if err := rows.Scan(&id, &gk, &ms, &hash, &created, &title, &narr, &text); err != nil {
			rows.Close()
			return nil, err
		}
		refs[id] = obsRef(gk, ms, hash, created, title, narr, text)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, kind := range tableKinds {
		n, err := exportKind(ctx, db, team, kind, bw, refs, prog)
		if err != nil {
			return nil, fmt.Errorf("exchange: export %s: %w", kind, err)
		}
		counts[kind] = n
	}
	cb, _ := json.Marshal(counts) // map keys are sorted
	fmt.Fprintf(bw, `{"kind":%q,"counts":%s}`+"\n", KindEnd, cb)
	return counts, bw.Flush()
}

func exportKind(ctx context.Context, db querier, team, kind string, w *bufio.Writer, refs map[int64]string, prog Progress) (int64, error) {
	table := tables[kind]
	cols, err := columns(ctx, db, table)
	if err != nil {
		return 0, err
	}
	var keep []string
	for _, c := range cols {
		if !excluded[c] {
			keep = append(keep, "t."+c)
		}
	}
	var extra []string
	var from string
	switch kind {
	case KindProject:
		from = "projects t WHERE t.team_id = ?"
	case KindSession:
		extra = []string{"p.name"}
		from = "sdk_sessions t JOIN projects p ON p.id = t.project_id WHERE t.team_id = ?"
	case KindEvent:
		extra = []string{"p.name", "s.platform_source", "s.content_session_id"}
		from = "agent_events t JOIN projects p ON p.id = t.project_id JOIN sdk_sessions s ON s.id = t.session_id WHERE t.team_id = ?"
	case KindPrompt:
		extra = []string{"s.platform_source", "s.content_session_id", "e.idempotency_key"}
		from = "user_prompts t JOIN sdk_sessions s ON s.id = t.session_db_id LEFT JOIN agent_events e ON e.id = t.agent_event_id WHERE s.team_id = ?"
	case KindObservation:
		extra = []string{"p.name", "s.platform_source", "s.content_session_id", "t.superseded_by",
			"(SELECT json_group_array(idempotency_key) FROM (SELECT e.idempotency_key FROM observation_sources os JOIN agent_events e ON e.id = os.agent_event_id WHERE os.observation_id = t.id ORDER BY e.idempotency_key))",
			"t.generation_key", "t.memory_session_id", "t.content_hash", "t.created_at_epoch", "t.title", "t.narrative", "t.text"}
		from = "observations t JOIN projects p ON p.id = t.project_id JOIN sdk_sessions s ON s.id = t.session_id WHERE t.team_id = ?"
	case KindSummary:
		extra = []string{"p.name", "s.platform_source", "s.content_session_id"}
		from = "session_summaries t JOIN projects p ON p.id = t.project_id JOIN sdk_sessions s ON s.id = t.session_id WHERE t.team_id = ?"
	}
	var size int64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+from, team).Scan(&size); err != nil {
		return 0, err
	}
	prog.Table(kind+"s", size)
	rows, err := db.QueryContext(ctx, "SELECT "+strings.Join(append(slices.Clone(keep), extra...), ", ")+" FROM "+from+" ORDER BY t.id", team)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	vals := make([]any, len(keep)+len(extra))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	var line bytes.Buffer
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		line.Reset()
		fmt.Fprintf(&line, `{"kind":%q`, kind)
		put := func(name string, v any) {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			vb, _ := json.Marshal(v)
			fmt.Fprintf(&line, `,%q:%s`, name, vb)
		}
		for i, c := range keep {
			put(strings.TrimPrefix(c, "t."), vals[i])
		}
		ex := vals[len(keep):]
		switch kind {
		case KindSession:
			put("ref_project", ex[0])
		case KindEvent, KindSummary:
			put("ref_project", ex[0])
			put("ref_session_platform", ex[1])
			put("ref_session_content", ex[2])
		case KindPrompt:
			put("ref_session_platform", ex[0])
			put("ref_session_content", ex[1])
			put("ref_agent_event", ex[2])
		case KindObservation:
			put("ref_project", ex[0])
			put("ref_session_platform", ex[1])
			put("ref_session_content", ex[2])
			var sup any
			if id, ok := ex[3].(int64); ok {
				sup = refs[id]
			}
			put("ref_superseded_by", sup)
			var evs json.RawMessage = []byte("[]")
			if s := str(ex[4]); s != "" {
				evs = json.RawMessage(s)
			}
			fmt.Fprintf(&line, `,"ref_events":%s`, evs)
			put("ref", obsRef(ns(ex[5]), ns(ex[6]), ns(ex[7]), ni(ex[8]), ns(ex[9]), ns(ex[10]), ns(ex[11])))
		}
		line.WriteString("}\n")
		if _, err := w.Write(line.Bytes()); err != nil {
			return n, err
		}
		n++
		prog.Add(1)
	}
	return n, rows.Err()
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return ""
}

func ns(v any) sql.NullString {
	if v == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: str(v), Valid: true}
}

func ni(v any) sql.NullInt64 {
	if x, ok := v.(int64); ok {
		return sql.NullInt64{Int64: x, Valid: true}
	}
	return sql.NullInt64{}
}

var errBadFormat = errors.New("unknown format")
