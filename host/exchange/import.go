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
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/store"
)

// ImportOptions configure an import.
type ImportOptions struct {
	Store *store.Store
	// Team receives everything imported. Default: memory.LocalTeam.
	Team string
	// Format is FormatClaudeMem (default) or FormatMCPMemory.
	Format string
	// Project is the project of MCP memories. Default "mcp-memory".
	Project  string
	Progress Progress
	// Now is the clock of MCP memories. Default: time.Now.
	Now func() time.Time
}

// MaxLine is the longest line an import accepts.
const MaxLine = 64 << 20

type line struct {
	n    int
	kind string
	obj  map[string]any
}

// readLines parses r, one JSON object per line; blank lines are skipped.
func readLines(r io.Reader, kindField string) ([]line, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLine)
	var out []line
	n := 0
	for sc.Scan() {
		n++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil || obj == nil {
			return nil, &LineError{n, fmt.Errorf("not a JSON object: %v", err)}
		}
		if dec.More() {
			return nil, &LineError{n, errors.New("more than one JSON value on the line")}
		}
		k, _ := obj[kindField].(string)
		out = append(out, line{n, k, obj})
	}
	if err := sc.Err(); err != nil {
		return nil, &LineError{n + 1, err}
	}
	return out, nil
}

// Import reads r and imports it into the team, in one transaction.
func Import(ctx context.Context, opts ImportOptions, r io.Reader) (Report, error) {
	if opts.Team == "" {
		opts.Team = memory.LocalTeam
	}
	if opts.Format == "" {
		opts.Format = FormatClaudeMem
	}
	if opts.Progress == nil {
		opts.Progress = noProgress{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Project == "" {
		opts.Project = "mcp-memory"
	}
	rep := Report{Format: opts.Format, Kinds: map[string]Counts{}}
	defer opts.Progress.Done()
	switch opts.Format {
	case FormatClaudeMem:
		lines, err := readLines(r, "kind")
		if err != nil {
			return rep, err
		}
		err = opts.Store.Tx(ctx, func(tx *sql.Tx) error { return importLines(ctx, tx, opts, lines, &rep) })
		return rep, err
	case FormatMCPMemory:
		lines, err := readLines(r, "type")
		if err != nil {
			return rep, err
		}
		err = opts.Store.Tx(ctx, func(tx *sql.Tx) error { return importMCP(ctx, tx, opts, lines, &rep) })
		return rep, err
	}
	return rep, fmt.Errorf("%w %q: use %s or %s", errBadFormat, opts.Format, FormatClaudeMem, FormatMCPMemory)
}

// errNotBefore is a reference to a row neither in the team nor earlier in the file.
var errNotBefore = errors.New("not in the team, nor in the file before this line")

// ErrBadFormat is an unknown import format.
var ErrBadFormat = errBadFormat

type importer struct {
	ctx      context.Context
	tx       *sql.Tx
	team     string
	cols     map[string]map[string]bool
	projects map[string]int64
	sessions map[[2]string]int64
	obs      map[string]int64
	// supersede is applied once every observation is in.
	supersede []pendingSup
}

type pendingSup struct {
	line int
	id   int64
	ref  string
}

func importLines(ctx context.Context, tx *sql.Tx, opts ImportOptions, lines []line, rep *Report) error {
	if len(lines) == 0 || lines[0].kind != KindHeader {
		return &LineError{1, fmt.Errorf("the first line must be the header {\"kind\":\"header\",\"format\":%q,\"version\":%d}", Format, Version)}
	}
	h := lines[0].obj
	if f, _ := h["format"].(string); f != Format {
		return &LineError{lines[0].n, fmt.Errorf("format %q is not %q", h["format"], Format)}
	}
	if v, _ := h["version"].(json.Number); v.String() != fmt.Sprint(Version) {
		return &LineError{lines[0].n, fmt.Errorf("version %v is not supported (this server reads version %d)", h["version"], Version)}
	}
	im := &importer{ctx: ctx, tx: tx, team: opts.Team, cols: map[string]map[string]bool{},
		projects: map[string]int64{}, sessions: map[[2]string]int64{}, obs: map[string]int64{}}
	for kind, table := range tables {
		cols, err := columns(ctx, tx, table)
		if err != nil {
			return err
		}
		im.cols[kind] = map[string]bool{}
		for _, c := range cols {
			if !excluded[c] {
				im.cols[kind][c] = true
			}
		}
	}
	last := lines[len(lines)-1]
	if len(lines) < 2 || last.kind != KindEnd {
		return &LineError{last.n, errors.New(`the file ends without its {"kind":"end"} line: it was cut short`)}
	}
	body := lines[1 : len(lines)-1]
	sizes := map[string]int64{}
	for _, l := range body {
		if l.kind == KindEnd || l.kind == KindHeader {
			return &LineError{l.n, fmt.Errorf("a %s line in the middle of the file", l.kind)}
		}
		if _, ok := tables[l.kind]; !ok {
			return &LineError{l.n, fmt.Errorf("unknown kind %q", l.kind)}
		}
		sizes[l.kind]++
	}
	cur := ""
	for _, l := range body {
		if l.kind != cur {
			cur = l.kind
			opts.Progress.Table(cur+"s", sizes[cur])
		}
		added, err := im.row(l)
		if err != nil {
			return &LineError{l.n, err}
		}
		c := rep.Kinds[l.kind]
		c.Read++
		if added {
			c.Imported++
		} else {
			c.Existing++
		}
		rep.Kinds[l.kind] = c
		opts.Progress.Add(1)
	}
	// The end line's counts, when given, must match: a file that lost
	// lines in the middle is refused.
	if counts, ok := last.obj["counts"].(map[string]any); ok {
		for _, kind := range tableKinds {
			var want int64
			if v, ok := counts[kind].(json.Number); ok {
				want, _ = v.Int64()
			}
			if sizes[kind] != want {
				return &LineError{last.n, fmt.Errorf("the end line counts %d %s lines; the file has %d", want, kind, sizes[kind])}
			}
		}
	}
	for _, p := range im.supersede {
		id, err := im.observation(p.ref)
		if err != nil {
			return &LineError{p.line, fmt.Errorf("ref_superseded_by: %w", err)}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE observations SET superseded_by = ? WHERE id = ?`, id, p.id); err != nil {
			return &LineError{p.line, err}
		}
	}
	return nil
}

func (im *importer) project(name string) (int64, error) {
	if id, ok := im.projects[name]; ok {
		return id, nil
	}
	var id int64
	err := im.tx.QueryRowContext(im.ctx, `SELECT id FROM projects WHERE team_id = ? AND name = ?`, im.team, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("project %q is not in the file before this line", name)
	}
	im.projects[name] = id
	return id, err
}

func (im *importer) session(platform, content string) (int64, error) {
	k := [2]string{platform, content}
	if id, ok := im.sessions[k]; ok {
		return id, nil
	}
	var id int64
	err := im.tx.QueryRowContext(im.ctx, `SELECT id FROM sdk_sessions WHERE team_id = ? AND platform_source = ? AND content_session_id = ?`,
		im.team, platform, content).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("session %s/%s: %w", platform, content, errNotBefore)
	}
	if err != nil {
		return 0, err
	}
	im.sessions[k] = id
	return id, nil
}

func (im *importer) observation(ref string) (int64, error) {
	if id, ok := im.obs[ref]; ok {
		return id, nil
	}
	return 0, fmt.Errorf("observation %q is not in the file", ref)
}

func sval(obj map[string]any, k string) string {
	s, _ := obj[k].(string)
	return s
}

// value converts a decoded JSON value to a column value.
func value(v any) (any, error) {
	switch x := v.(type) {
	case nil, string:
		return x, nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		return x.Float64()
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	}
	return nil, fmt.Errorf("a column value must be a string, a number or null, not %T", v)
}

// row imports one line; it reports whether it added the row.
func (im *importer) row(l line) (bool, error) {
	cols := []string{"team_id"}
	args := []any{im.team}
	if l.kind == KindPrompt {
		cols, args = nil, nil
	}
	for k, v := range l.obj {
		if k == "kind" || strings.HasPrefix(k, "ref") {
			continue
		}
		if !im.cols[l.kind][k] {
			return false, fmt.Errorf("%s has no column %q", l.kind, k)
		}
		val, err := value(v)
		if err != nil {
			return false, fmt.Errorf("%s: %w", k, err)
		}
		cols = append(cols, k)
		args = append(args, val)
	}
	need := func(k string) (string, error) {
		s := sval(l.obj, k)
		if s == "" {
			return "", fmt.Errorf("%s is required", k)
		}
		return s, nil
	}
	var sessionID int64
	if l.kind != KindProject && l.kind != KindSession {
		plat, err := need("ref_session_platform")
		if err != nil {
			return false, err
		}
		content, err := need("ref_session_content")
		if err != nil {
			return false, err
		}
		if sessionID, err = im.session(plat, content); err != nil {
			return false, err
		}
	}
	if l.kind != KindProject && l.kind != KindPrompt {
		name, err := need("ref_project")
		if err != nil {
			return false, err
		}
		pid, err := im.project(name)
		if err != nil {
			return false, err
		}
		cols, args = append(cols, "project_id"), append(args, pid)
	}
	switch l.kind {
	case KindProject:
		if sval(l.obj, "name") == "" {
			return false, errors.New("name is required")
		}
	case KindSession:
		plat, content := sval(l.obj, "platform_source"), sval(l.obj, "content_session_id")
		if content == "" {
			return false, errors.New("content_session_id is required")
		}
		if plat == "" {
			plat = "claude"
		}
		if _, err := im.session(plat, content); err == nil {
			return false, nil
		} else if !errors.Is(err, errNotBefore) {
			return false, err
		}
	case KindEvent:
		var team string
		err := im.tx.QueryRowContext(im.ctx, `SELECT team_id FROM agent_events WHERE idempotency_key = ?`, sval(l.obj, "idempotency_key")).Scan(&team)
		if err == nil {
			if team != im.team {
				return false, errors.New("an event with this idempotency_key belongs to another team")
			}
			return false, nil
		}
		cols, args = append(cols, "session_id"), append(args, sessionID)
	case KindPrompt:
		cols, args = append(cols, "session_db_id"), append(args, sessionID)
		if k := sval(l.obj, "ref_agent_event"); k != "" {
			var id int64
			if err := im.tx.QueryRowContext(im.ctx, `SELECT id FROM agent_events WHERE idempotency_key = ? AND team_id = ?`, k, im.team).Scan(&id); err != nil {
				return false, fmt.Errorf("ref_agent_event %q: no such event before this line", k)
			}
			cols, args = append(cols, "agent_event_id"), append(args, id)
		}
	case KindObservation, KindSummary:
		cols, args = append(cols, "session_id"), append(args, sessionID)
	}
	if l.kind == KindSummary && sval(l.obj, "generation_key") == "" {
		var id int64
		err := im.tx.QueryRowContext(im.ctx, `SELECT id FROM session_summaries WHERE session_id = ? AND created_at_epoch IS ? AND prompt_number IS ?`,
			sessionID, mustValue(l.obj["created_at_epoch"]), mustValue(l.obj["prompt_number"])).Scan(&id)
		if err == nil {
			return false, nil
		}
	}
	var ref string
	if l.kind == KindObservation {
		if ref = sval(l.obj, "ref"); ref == "" {
			return false, errors.New("ref is required")
		}
		if id, err := im.findObservation(l.obj, ref); err != nil {
			return false, err
		} else if id != 0 {
			im.obs[ref] = id
			return false, nil
		}
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",")
	res, err := im.tx.ExecContext(im.ctx, "INSERT INTO "+tables[l.kind]+" ("+strings.Join(cols, ", ")+") VALUES ("+marks+") ON CONFLICT DO NOTHING", args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	if n == 0 {
		switch l.kind {
		case KindSession:
			// Its key was not there: its memory_session_id is.
			return false, fmt.Errorf("memory_session_id %q belongs to another session", sval(l.obj, "memory_session_id"))
		case KindObservation:
			// Another unique key matched (generation key, or session and hash).
			var id int64
			var team string
			err := im.tx.QueryRowContext(im.ctx, `SELECT id, team_id FROM observations WHERE generation_key = ? OR (memory_session_id = ? AND content_hash = ?)`,
				mustValue(l.obj["generation_key"]), sval(l.obj, "memory_session_id"), sval(l.obj, "content_hash")).Scan(&id, &team)
			if err != nil {
				return false, fmt.Errorf("observation %q: %w", ref, err)
			}
			if team != im.team {
				return false, errors.New("this observation belongs to another team")
			}
			im.obs[ref] = id
		}
		return false, nil
	}
	id, err := res.LastInsertId()
	if err != nil {
		return false, err
	}
	switch l.kind {
	case KindSession:
		plat := sval(l.obj, "platform_source")
		if plat == "" {
			plat = "claude"
		}
		im.sessions[[2]string{plat, sval(l.obj, "content_session_id")}] = id
	case KindProject:
		im.projects[sval(l.obj, "name")] = id
	case KindObservation:
		im.obs[ref] = id
		if evs, ok := l.obj["ref_events"].([]any); ok {
			for _, e := range evs {
				k, _ := e.(string)
				if _, err := im.tx.ExecContext(im.ctx, `INSERT OR IGNORE INTO observation_sources (observation_id, agent_event_id)
					SELECT ?, id FROM agent_events WHERE idempotency_key = ? AND team_id = ?`, id, k, im.team); err != nil {
					return false, err
				}
			}
		}
		if sup := sval(l.obj, "ref_superseded_by"); sup != "" {
			im.supersede = append(im.supersede, pendingSup{l.n, id, sup})
		}
	}
	return true, nil
}

func mustValue(v any) any {
	x, _ := value(v)
	return x
}

// findObservation finds the observation of ref in the team; 0 if none.
func (im *importer) findObservation(obj map[string]any, ref string) (int64, error) {
	var q string
	var args []any
	switch {
	case strings.HasPrefix(ref, "g:"):
		q, args = `SELECT id, team_id FROM observations WHERE generation_key = ?`, []any{ref[2:]}
	case strings.HasPrefix(ref, "h:"):
		q, args = `SELECT id, team_id FROM observations WHERE memory_session_id = ? AND content_hash = ?`,
			[]any{sval(obj, "memory_session_id"), sval(obj, "content_hash")}
	default:
		q, args = `SELECT id, team_id FROM observations WHERE memory_session_id = ? AND created_at_epoch IS ? AND title IS ? AND narrative IS ? AND text IS ?`,
			[]any{sval(obj, "memory_session_id"), mustValue(obj["created_at_epoch"]), mustValue(obj["title"]), mustValue(obj["narrative"]), mustValue(obj["text"])}
	}
	var id int64
	var team string
	err := im.tx.QueryRowContext(im.ctx, q, args...).Scan(&id, &team)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, err
	case team != im.team:
		return 0, errors.New("this observation belongs to another team")
	}
	return id, nil
}

// mcpEntity and mcpRelation are memory.jsonl's lines.
type mcpLine struct {
	Type         string   `json:"type"`
	Name         string   `json:"name"`
	EntityType   string   `json:"entityType"`
	Observations []string `json:"observations"`
	From         string   `json:"from"`
	To           string   `json:"to"`
	RelationType string   `json:"relationType"`
}

func importMCP(ctx context.Context, tx *sql.Tx, opts ImportOptions, lines []line, rep *Report) error {
	now := opts.Now().UTC()
	opts.Progress.Table("entities and relations", int64(len(lines)))
	var sess memory.Session
	var projectID int64
	for _, l := range lines {
		b, _ := json.Marshal(l.obj)
		var m mcpLine
		if err := json.Unmarshal(b, &m); err != nil {
			return &LineError{l.n, err}
		}
		o := memory.Observation{TeamID: opts.Team, Project: opts.Project, Type: "manual", GeneratedByModel: "manual", CreatedAt: now}
		switch m.Type {
		case "entity":
			if strings.TrimSpace(m.Name) == "" {
				return &LineError{l.n, errors.New("an entity needs a name")}
			}
			o.Title, o.Subtitle = m.Name, m.EntityType
			o.Narrative = strings.Join(m.Observations, "\n")
			o.Facts = append([]string{}, m.Observations...)
			o.Concepts = []string{"entity"}
			if m.EntityType != "" {
				o.Concepts = append(o.Concepts, m.EntityType)
			}
		case "relation":
			if m.From == "" || m.To == "" || m.RelationType == "" {
				return &LineError{l.n, errors.New("a relation needs from, to and relationType")}
			}
			o.Title = m.From + " " + m.RelationType + " " + m.To
			o.Subtitle = "relation"
			o.Narrative = o.Title
			o.Facts = []string{m.From, m.RelationType, m.To}
			o.Concepts = []string{"relation", m.RelationType}
		default:
			return &LineError{l.n, fmt.Errorf("type %q is neither entity nor relation", m.Type)}
		}
		if projectID == 0 {
			var err error
			if projectID, err = memory.EnsureProject(ctx, tx, opts.Team, opts.Project, "", now); err != nil {
				return err
			}
			if sess, err = memory.EnsureManualSession(ctx, tx, opts.Team, projectID, opts.Project, now); err != nil {
				return &LineError{l.n, err}
			}
		}
		o.ProjectID, o.SessionID, o.MemorySessionID = projectID, sess.ID, sess.MemorySessionID
		sum := sha256.Sum256(b)
		o.GenerationKey = "mcp-memory:" + opts.Team + ":" + opts.Project + ":" + hex.EncodeToString(sum[:16])
		id, created, err := memory.InsertObservation(ctx, tx, &o)
		if err != nil {
			return &LineError{l.n, err}
		}
		if m.Type == "relation" && created {
			meta, _ := json.Marshal(map[string]any{"mcp_relation": map[string]string{"from": m.From, "to": m.To, "relationType": m.RelationType}})
			if _, err := tx.ExecContext(ctx, `UPDATE observations SET metadata = ? WHERE id = ?`, string(meta), id); err != nil {
				return err
			}
		}
		c := rep.Kinds[m.Type]
		c.Read++
		if created {
			c.Imported++
		} else {
			c.Existing++
		}
		rep.Kinds[m.Type] = c
		opts.Progress.Add(1)
	}
	return nil
}
