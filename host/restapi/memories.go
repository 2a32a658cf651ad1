package restapi

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/audit"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/search"
)

// TypeManual is the observation type of a memory written through
// POST /v1/memories.
const TypeManual = "manual"

// Limits of a memory's fields.
const (
	MaxMemoryText  = 64 << 10
	MaxMemoryTitle = 500
	MaxListItems   = 100
)

// Memory is an observation with its place in its history.
type Memory struct {
	memory.Observation
	// ValidFrom is when this version became current; ValidTo when it was
	// superseded (null while current), by SupersededBy.
	ValidFrom    time.Time  `json:"valid_from"`
	ValidTo      *time.Time `json:"valid_to"`
	SupersededBy *int64     `json:"superseded_by"`
	Current      bool       `json:"current"`
}

// Version is one version of a memory in its history, oldest first.
type Version struct {
	ID           int64      `json:"id"`
	ValidFrom    time.Time  `json:"valid_from"`
	ValidTo      *time.Time `json:"valid_to"`
	SupersededBy *int64     `json:"superseded_by"`
}

// MemoryResponse is the answer to the memory routes.
type MemoryResponse struct {
	Memory Memory `json:"memory"`
	// RequestedID is the id in the path; Memory is the version of its
	// history current now, or at AsOf.
	RequestedID int64      `json:"requested_id,omitempty"`
	AsOf        *time.Time `json:"as_of,omitempty"`
	History     []Version  `json:"history,omitempty"`
	// Created is false when POST /v1/memories found the same memory.
	Created *bool `json:"created,omitempty"`
	// Superseded is the version a supersede replaced.
	Superseded *Memory `json:"superseded,omitempty"`
}

// MemoryRequest is the body of POST /v1/memories, and of a supersede
// (which takes no project).
type MemoryRequest struct {
	Project  string   `json:"project,omitempty"`
	Text     string   `json:"text"`
	Title    string   `json:"title,omitempty"`
	Concepts []string `json:"concepts,omitempty"`
	Facts    []string `json:"facts,omitempty"`
}

// PatchMemoryRequest is the body of PATCH /v1/memories/{id}: the fields to
// change, in place, on the current version.
type PatchMemoryRequest struct {
	Title    *string   `json:"title,omitempty"`
	Text     *string   `json:"text,omitempty"`
	Concepts *[]string `json:"concepts,omitempty"`
	Facts    *[]string `json:"facts,omitempty"`
}

func (a *API) clean(s string) string {
	if a.opts.Privacy != nil {
		s = a.opts.Privacy.Text(s)
	}
	return strings.TrimSpace(s)
}

func (a *API) cleanList(list []string) []string {
	var out []string
	for _, s := range list {
		if s = a.clean(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// validate checks and cleans a memory's content.
func (a *API) validate(req *MemoryRequest) error {
	if len(req.Text) > MaxMemoryText || len(req.Title) > MaxMemoryTitle {
		return fmt.Errorf("text is at most %d bytes, title at most %d", MaxMemoryText, MaxMemoryTitle)
	}
	if len(req.Concepts) > MaxListItems || len(req.Facts) > MaxListItems {
		return fmt.Errorf("concepts and facts hold at most %d items", MaxListItems)
	}
	if strings.TrimSpace(req.Text) == "" {
		return errors.New("text is required")
	}
	req.Text = a.clean(req.Text)
	if req.Text == "" {
		return errors.New("text is empty once its private blocks are removed; nothing was saved")
	}
	req.Title = a.clean(req.Title)
	if req.Title == "" {
		req.Title = memory.FirstLine(req.Text, 80)
	}
	req.Concepts, req.Facts = a.cleanList(req.Concepts), a.cleanList(req.Facts)
	return nil
}

var errForbiddenProject = errors.New("restapi: this key is bound to another project")

// createMemory is POST /v1/memories: a manual memory. It never causes
// generation.
func (a *API) createMemory(w http.ResponseWriter, r *http.Request) {
	tm, ok := team(w, r)
	if !ok {
		return
	}
	var body MemoryRequest
	if !httpapi.DecodeJSON(w, r, &body) {
		return
	}
	proj := strings.TrimSpace(body.Project)
	if proj == "" || len(proj) > 200 {
		invalid(w, r, "project is required: the name of a project (1 to 200 characters)")
		return
	}
	if err := a.validate(&body); err != nil {
		invalid(w, r, "%v", err)
		return
	}
	now := a.now()
	var id int64
	var created bool
	err := a.opts.Store.Tx(r.Context(), func(tx *sql.Tx) error {
		var projectID int64
		if bound, isBound := access.BoundProject(r.Context()); isBound {
			p, err := projectByName(r.Context(), tx, tm, proj)
			if errors.Is(err, memory.ErrNotFound) || (err == nil && p.ID != bound) {
				return errForbiddenProject
			}
			if err != nil {
				return err
			}
			projectID = p.ID
		} else {
			var err error
			if projectID, err = memory.EnsureProject(r.Context(), tx, tm, proj, "", now); err != nil {
				return err
			}
		}
		sess, err := memory.EnsureManualSession(r.Context(), tx, tm, projectID, proj, now)
		if err != nil {
			return err
		}
		id, created, err = memory.InsertObservation(r.Context(), tx, &memory.Observation{
			TeamID: tm, ProjectID: projectID, SessionID: sess.ID, MemorySessionID: sess.MemorySessionID, Project: proj,
			Type: memoryType(r.Context()), Title: body.Title, Subtitle: "Manual memory", Narrative: body.Text, Concepts: body.Concepts,
			Facts: body.Facts, GeneratedByModel: "manual", CreatedAt: now,
		})
		return err
	})
	switch {
	case errors.Is(err, errForbiddenProject):
		httpapi.WriteError(w, r, http.StatusForbidden, CodeForbidden, "this key is bound to another project than "+proj)
		return
	case err != nil:
		a.internal(w, r, err)
		return
	}
	m, err := a.loadMemory(r.Context(), a.opts.Store.Writer(), tm, id)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	audit.Annotate(r.Context(), audit.Resource(audit.MemoryID(audit.KindObservation, id)), audit.Project(m.ProjectID))
	httpapi.WriteJSON(w, status, MemoryResponse{Memory: m, Created: &created})
}

// loadMemory reads one of the team's observations with its validity,
// whatever project; memory.ErrNotFound if there is none.
func (a *API) loadMemory(ctx context.Context, q memory.Querier, tm string, id int64) (Memory, error) {
	obs, err := search.GetObservations(ctx, q, tm, []int64{id})
	if err != nil {
		return Memory{}, err
	}
	if len(obs) == 0 {
		return Memory{}, memory.ErrNotFound
	}
	v, err := loadVersion(ctx, q, tm, id)
	if err != nil {
		return Memory{}, err
	}
	return Memory{Observation: obs[0], ValidFrom: v.ValidFrom, ValidTo: v.ValidTo, SupersededBy: v.SupersededBy, Current: v.ValidTo == nil}, nil
}

func loadVersion(ctx context.Context, q memory.Querier, tm string, id int64) (Version, error) {
	var from int64
	var to, by sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(valid_from, created_at_epoch), valid_to, superseded_by FROM observations
		WHERE id = ? AND team_id = ?`, id, tm).Scan(&from, &to, &by)
	if errors.Is(err, sql.ErrNoRows) {
		return Version{}, memory.ErrNotFound
	}
	if err != nil {
		return Version{}, fmt.Errorf("restapi: memory %d: %w", id, err)
	}
	v := Version{ID: id, ValidFrom: time.UnixMilli(from).UTC(), ValidTo: fromEpoch(to)}
	if by.Valid {
		v.SupersededBy = &by.Int64
	}
	return v, nil
}

// maxHistory bounds the versions of one memory that are walked.
const maxHistory = 1000

// history returns every version of the memory id belongs to, oldest first.
func history(ctx context.Context, q memory.Querier, tm string, id int64) ([]Version, error) {
	first := id
	for range maxHistory {
		var prev int64
		err := q.QueryRowContext(ctx, `SELECT id FROM observations WHERE superseded_by = ? AND team_id = ? ORDER BY id LIMIT 1`, first, tm).Scan(&prev)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("restapi: history of %d: %w", id, err)
		}
		first = prev
	}
	var out []Version
	seen := map[int64]bool{}
	for next := first; len(out) < maxHistory && !seen[next]; {
		seen[next] = true
		v, err := loadVersion(ctx, q, tm, next)
		if errors.Is(err, memory.ErrNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		if v.SupersededBy == nil {
			break
		}
		next = *v.SupersededBy
	}
	return out, nil
}

// allowedMemory loads the memory for a request: memory.ErrNotFound unless
// it is the team's and in a project the caller may see.
func (a *API) allowedMemory(ctx context.Context, q memory.Querier, tm string, id int64) (Memory, error) {
	m, err := a.loadMemory(ctx, q, tm, id)
	if err == nil && !access.ProjectAllowed(ctx, m.ProjectID) {
		return Memory{}, memory.ErrNotFound
	}
	return m, err
}

// getMemory is GET /v1/memories/{id}[?as_of=RFC3339]: the version of the
// memory's history current now, or at as_of.
func (a *API) getMemory(w http.ResponseWriter, r *http.Request) {
	tm, id, ok := teamAndID(w, r, "memory")
	if !ok {
		return
	}
	asOf, err := parseTime(r.URL.Query().Get("as_of"), "as_of")
	if err != nil {
		invalid(w, r, "%v", err)
		return
	}
	q := a.opts.Store.Reader()
	m, err := a.allowedMemory(r.Context(), q, tm, id)
	if errors.Is(err, memory.ErrNotFound) {
		notFound(w, r, "no memory %d", id)
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	hist, err := history(r.Context(), q, tm, id)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	pick := int64(0)
	for _, v := range hist {
		if asOf.IsZero() {
			if v.ValidTo == nil {
				pick = v.ID
			}
			continue
		}
		if !v.ValidFrom.After(asOf) && (v.ValidTo == nil || v.ValidTo.After(asOf)) {
			pick = v.ID
		}
	}
	if pick == 0 {
		if !asOf.IsZero() {
			notFound(w, r, "memory %d did not exist at %s", id, asOf.UTC().Format(time.RFC3339Nano))
			return
		}
		pick = id // a broken history: the version asked for
	}
	if pick != id {
		if m, err = a.loadMemory(r.Context(), q, tm, pick); err != nil {
			a.internal(w, r, err)
			return
		}
	}
	resp := MemoryResponse{Memory: m, RequestedID: id, History: hist}
	if !asOf.IsZero() {
		t := asOf.UTC()
		resp.AsOf = &t
	}
	audit.Annotate(r.Context(), audit.Resource(audit.MemoryID(audit.KindObservation, id)), audit.Project(m.ProjectID),
		audit.Memories(audit.MemoryID(audit.KindObservation, m.ID)))
	httpapi.WriteJSON(w, http.StatusOK, resp)
}

var (
	errSuperseded = errors.New("restapi: superseded")
	errDuplicate  = errors.New("restapi: duplicate content")
)

func jsonList(list []string) string {
	if len(list) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(list)
	return string(b)
}

// patchMemory is PATCH /v1/memories/{id}: edits the current version in
// place (no history). A superseded version cannot be edited (409).
func (a *API) patchMemory(w http.ResponseWriter, r *http.Request) {
	tm, id, ok := teamAndID(w, r, "memory")
	if !ok {
		return
	}
	var body PatchMemoryRequest
	if !httpapi.DecodeJSON(w, r, &body) {
		return
	}
	if body.Title == nil && body.Text == nil && body.Concepts == nil && body.Facts == nil {
		invalid(w, r, "send at least one of title, text, concepts, facts")
		return
	}
	var m Memory
	err := a.opts.Store.Tx(r.Context(), func(tx *sql.Tx) error {
		var err error
		if m, err = a.allowedMemory(r.Context(), tx, tm, id); err != nil {
			return err
		}
		if !m.Current {
			return errSuperseded
		}
		req := MemoryRequest{Text: m.Narrative, Title: m.Title, Concepts: m.Concepts, Facts: m.Facts}
		if body.Text != nil {
			req.Text = *body.Text
		}
		if body.Title != nil {
			req.Title = *body.Title
		}
		if body.Concepts != nil {
			req.Concepts = *body.Concepts
		}
		if body.Facts != nil {
			req.Facts = *body.Facts
		}
		if err := a.validate(&req); err != nil {
			return errBadFilter{err.Error()}
		}
		hash := memory.ContentHash(m.MemorySessionID, req.Title, req.Text)
		var dup int64
		err = tx.QueryRowContext(r.Context(), `SELECT id FROM observations WHERE memory_session_id = ? AND content_hash = ? AND id != ?`,
			m.MemorySessionID, hash, id).Scan(&dup)
		if err == nil {
			return fmt.Errorf("%w: memory %d has the same title and text", errDuplicate, dup)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = tx.ExecContext(r.Context(), `UPDATE observations SET title = ?, narrative = ?, concepts = ?, facts = ?, content_hash = ?
			WHERE id = ? AND valid_to IS NULL`, req.Title, req.Text, jsonList(req.Concepts), jsonList(req.Facts), hash, id)
		if err != nil {
			return err
		}
		m, err = a.loadMemory(r.Context(), tx, tm, id)
		return err
	})
	if a.writeMemoryErr(w, r, err, id, m) {
		return
	}
	audit.Annotate(r.Context(), audit.Resource(audit.MemoryID(audit.KindObservation, id)), audit.Project(m.ProjectID))
	httpapi.WriteJSON(w, http.StatusOK, MemoryResponse{Memory: m})
}

// writeMemoryErr answers err of a memory write; it reports whether it did.
func (a *API) writeMemoryErr(w http.ResponseWriter, r *http.Request, err error, id int64, m Memory) bool {
	var bad errBadFilter
	switch {
	case err == nil:
		return false
	case errors.Is(err, memory.ErrNotFound):
		notFound(w, r, "no memory %d", id)
	case errors.Is(err, errSuperseded):
		msg := fmt.Sprintf("memory %d is superseded", id)
		if m.SupersededBy != nil {
			msg += fmt.Sprintf(" by %d; change the current version", *m.SupersededBy)
		}
		httpapi.WriteError(w, r, http.StatusConflict, CodeSuperseded, msg)
	case errors.Is(err, errDuplicate):
		httpapi.WriteError(w, r, http.StatusConflict, CodeConflict, strings.TrimPrefix(err.Error(), "restapi: "))
	case errors.As(err, &bad):
		invalid(w, r, "%v", bad)
	default:
		a.internal(w, r, err)
	}
	return true
}

// supersede is POST /v1/memories/{id}/supersede: a new version replaces
// the current one, which keeps its row with valid_to and superseded_by.
func (a *API) supersede(w http.ResponseWriter, r *http.Request) {
	tm, id, ok := teamAndID(w, r, "memory")
	if !ok {
		return
	}
	var body MemoryRequest
	if !httpapi.DecodeJSON(w, r, &body) {
		return
	}
	if body.Project != "" {
		invalid(w, r, "a new version stays in its memory's project; send no project")
		return
	}
	if err := a.validate(&body); err != nil {
		invalid(w, r, "%v", err)
		return
	}
	now := a.now()
	var old, cur Memory
	err := a.opts.Store.Tx(r.Context(), func(tx *sql.Tx) error {
		var err error
		if old, err = a.allowedMemory(r.Context(), tx, tm, id); err != nil {
			return err
		}
		if !old.Current {
			return errSuperseded
		}
		o := &memory.Observation{
			TeamID: tm, ProjectID: old.ProjectID, SessionID: old.SessionID, MemorySessionID: old.MemorySessionID, Project: old.Project,
			Type: old.Type, Title: body.Title, Subtitle: old.Subtitle, Narrative: body.Text, Concepts: body.Concepts, Facts: body.Facts,
			FilesRead: old.FilesRead, FilesModified: old.FilesModified, PromptNumber: old.PromptNumber, GeneratedByModel: "manual",
			AgentType: old.AgentType, AgentID: old.AgentID, GenerationKey: fmt.Sprintf("supersede:%d", id), CreatedAt: now,
		}
		newID, created, err := memory.InsertObservation(r.Context(), tx, o)
		if err != nil {
			return err
		}
		if !created {
			return fmt.Errorf("%w: memory %d already has this title and text", errDuplicate, newID)
		}
		res, err := tx.ExecContext(r.Context(), `UPDATE observations SET valid_to = ?, superseded_by = ? WHERE id = ? AND valid_to IS NULL`,
			now.UnixMilli(), newID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errSuperseded
		}
		if old, err = a.loadMemory(r.Context(), tx, tm, id); err != nil {
			return err
		}
		cur, err = a.loadMemory(r.Context(), tx, tm, newID)
		return err
	})
	if a.writeMemoryErr(w, r, err, id, old) {
		return
	}
	audit.Annotate(r.Context(), audit.Resource(audit.MemoryID(audit.KindObservation, id)), audit.Project(old.ProjectID),
		audit.Memories(audit.MemoryID(audit.KindObservation, cur.ID)))
	httpapi.WriteJSON(w, http.StatusCreated, MemoryResponse{Memory: cur, RequestedID: id, Superseded: &old})
}
