package restapi

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/claude-mem/claude-mem-server/host/audit"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/search"
)

// MaxForgetIDs is the most ids one forget by id takes.
const MaxForgetIDs = 1000

// ForgetRequest is the body of POST /v1/forget: exactly one of IDs (memory
// ids; each is forgotten with its whole history), Project or ProjectID (a
// whole project: its sessions, prompts, events, memories and summaries),
// or Filter (current memories matching search filters, with their
// history).
type ForgetRequest struct {
	IDs       []int64       `json:"ids,omitempty"`
	Project   string        `json:"project,omitempty"`
	ProjectID int64         `json:"project_id,omitempty"`
	Filter    *ForgetFilter `json:"filter,omitempty"`
}

// ForgetFilter selects memories to forget: a query and/or the filters of a
// search. At least one is required. A query forgets only memories that
// have every one of its terms.
type ForgetFilter struct {
	Query string `json:"query,omitempty"`
	Filters
}

// ForgetResponse says what was removed from the store and its full-text
// indexes.
type ForgetResponse struct {
	Observations   int64   `json:"observations"`
	Summaries      int64   `json:"summaries"`
	Prompts        int64   `json:"prompts"`
	Events         int64   `json:"events"`
	Sessions       int64   `json:"sessions"`
	ObservationIDs []int64 `json:"observation_ids"`
	// More says a filter matched more memories than one request forgets
	// (search.MaxNewest); send it again.
	More bool `json:"more,omitempty"`
}

// forget is POST /v1/forget. Rows are deleted; the FTS triggers remove
// them from the full-text indexes in the same transaction.
func (a *API) forget(w http.ResponseWriter, r *http.Request) {
	tm, ok := team(w, r)
	if !ok {
		return
	}
	var body ForgetRequest
	if !httpapi.DecodeJSON(w, r, &body) {
		return
	}
	n := 0
	if len(body.IDs) > 0 {
		n++
	}
	if strings.TrimSpace(body.Project) != "" || body.ProjectID != 0 {
		n++
	}
	if body.Filter != nil {
		n++
	}
	if n != 1 {
		invalid(w, r, "send exactly one of ids, project (or project_id) and filter")
		return
	}
	switch {
	case len(body.IDs) > 0:
		a.forgetIDs(w, r, tm, body.IDs)
	case body.Filter != nil:
		a.forgetFilter(w, r, tm, *body.Filter)
	default:
		a.forgetProject(w, r, tm, strings.TrimSpace(body.Project), body.ProjectID)
	}
}

func (a *API) forgetIDs(w http.ResponseWriter, r *http.Request, tm string, ids []int64) {
	if len(ids) > MaxForgetIDs {
		invalid(w, r, "send at most %d ids", MaxForgetIDs)
		return
	}
	for _, id := range ids {
		if id <= 0 {
			invalid(w, r, "ids must be positive integers")
			return
		}
	}
	var resp ForgetResponse
	var missing int64
	err := a.opts.Store.Tx(r.Context(), func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := a.allowedMemory(r.Context(), tx, tm, id); err != nil {
				missing = id
				return err
			}
		}
		var err error
		resp, err = deleteHistories(r.Context(), tx, tm, ids)
		return err
	})
	if errors.Is(err, memory.ErrNotFound) {
		notFound(w, r, "no memory %d; nothing was forgotten", missing)
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.forgotten(w, r, "memories", 0, resp)
}

// deleteHistories deletes the memories ids with every version of their
// histories.
func deleteHistories(ctx context.Context, tx *sql.Tx, tm string, ids []int64) (ForgetResponse, error) {
	var chain []int64
	for _, id := range ids {
		hist, err := history(ctx, tx, tm, id)
		if err != nil {
			return ForgetResponse{}, err
		}
		for _, v := range hist {
			chain = append(chain, v.ID)
		}
	}
	return deleteObservations(ctx, tx, tm, chain)
}

func (a *API) forgetFilter(w http.ResponseWriter, r *http.Request, tm string, f ForgetFilter) {
	fl := f.Filters
	if strings.TrimSpace(f.Query) == "" && len(fl.Projects) == 0 && len(fl.ProjectIDs) == 0 && fl.PlatformSource == "" && len(fl.Types) == 0 &&
		len(fl.Concepts) == 0 && len(fl.Files) == 0 && fl.DateStart == "" && fl.DateEnd == "" {
		invalid(w, r, "a filter needs a query or at least one filter; to forget a whole project send project")
		return
	}
	req, none, err := toSearch(r, tm, fl)
	if err != nil {
		invalid(w, r, "%v", err)
		return
	}
	req.Kinds = []search.Kind{search.KindObservation}
	var ids []int64
	more := false
	q := a.opts.Store.Reader()
	switch {
	case none:
	case strings.TrimSpace(f.Query) != "":
		req.Query, req.Limit = f.Query, search.MaxLimit
		for req.Offset = 0; req.Offset <= search.MaxOffset; req.Offset += search.MaxLimit {
			res, err := search.Search(r.Context(), q, req)
			if err != nil {
				a.internal(w, r, err)
				return
			}
			if res.Match != search.MatchAll {
				break // rows with only some of the terms are not what was asked for
			}
			for _, h := range res.Hits {
				ids = append(ids, h.ID)
			}
			if len(res.Hits) < search.MaxLimit {
				break
			}
			more = req.Offset+search.MaxLimit > search.MaxOffset
		}
	default:
		hits, err := search.Newest(r.Context(), q, req, search.MaxNewest)
		if err != nil {
			a.internal(w, r, err)
			return
		}
		for _, h := range hits {
			ids = append(ids, h.ID)
		}
		more = len(hits) == search.MaxNewest
	}
	var resp ForgetResponse
	err = a.opts.Store.Tx(r.Context(), func(tx *sql.Tx) error {
		var err error
		resp, err = deleteHistories(r.Context(), tx, tm, ids)
		return err
	})
	if err != nil {
		a.internal(w, r, err)
		return
	}
	resp.More = more
	a.forgotten(w, r, "filter", 0, resp)
}

// deleteObservations deletes the team's observations with these ids.
func deleteObservations(ctx context.Context, tx *sql.Tx, tm string, ids []int64) (ForgetResponse, error) {
	resp := ForgetResponse{ObservationIDs: []int64{}}
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		res, err := tx.ExecContext(ctx, `DELETE FROM observations WHERE id = ? AND team_id = ?`, id, tm)
		if err != nil {
			return resp, fmt.Errorf("restapi: forget memory %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			resp.Observations++
			resp.ObservationIDs = append(resp.ObservationIDs, id)
		}
	}
	return resp, nil
}

func (a *API) forgetProject(w http.ResponseWriter, r *http.Request, tm, name string, id int64) {
	if id < 0 {
		invalid(w, r, "project_id must be a positive integer")
		return
	}
	var resp ForgetResponse
	var p Project
	err := a.opts.Store.Tx(r.Context(), func(tx *sql.Tx) error {
		var err error
		if id > 0 {
			p, err = projectByID(r.Context(), tx, tm, id)
		} else {
			p, err = projectByName(r.Context(), tx, tm, name)
		}
		if err != nil {
			return err
		}
		if name != "" && p.Name != name {
			return memory.ErrNotFound
		}
		resp.ObservationIDs = []int64{}
		rows, err := tx.QueryContext(r.Context(), `SELECT id FROM observations WHERE project_id = ? AND team_id = ? ORDER BY id`, p.ID, tm)
		if err != nil {
			return err
		}
		for rows.Next() {
			var oid int64
			if err := rows.Scan(&oid); err != nil {
				rows.Close()
				return err
			}
			resp.ObservationIDs = append(resp.ObservationIDs, oid)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		steps := []struct {
			n     *int64
			query string
		}{
			{&resp.Observations, `DELETE FROM observations WHERE project_id = ? AND team_id = ?`},
			{&resp.Summaries, `DELETE FROM session_summaries WHERE project_id = ? AND team_id = ?`},
			{&resp.Prompts, `DELETE FROM user_prompts WHERE session_db_id IN (SELECT id FROM sdk_sessions WHERE project_id = ? AND team_id = ?)`},
			{&resp.Events, `DELETE FROM agent_events WHERE project_id = ? AND team_id = ?`},
			{&resp.Sessions, `DELETE FROM sdk_sessions WHERE project_id = ? AND team_id = ?`},
		}
		for _, s := range steps {
			res, err := tx.ExecContext(r.Context(), s.query, p.ID, tm)
			if err != nil {
				return fmt.Errorf("restapi: forget project %d: %w", p.ID, err)
			}
			*s.n, _ = res.RowsAffected()
		}
		return nil
	})
	if errors.Is(err, memory.ErrNotFound) {
		if id > 0 {
			notFound(w, r, "no project %d", id)
		} else {
			notFound(w, r, "no project %q", name)
		}
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.forgotten(w, r, "project:"+itoa(p.ID), p.ID, resp)
}

// forgotten audits and answers a forget.
func (a *API) forgotten(w http.ResponseWriter, r *http.Request, resource string, project int64, resp ForgetResponse) {
	if resp.ObservationIDs == nil {
		resp.ObservationIDs = []int64{}
	}
	ids := make([]string, len(resp.ObservationIDs))
	for i, id := range resp.ObservationIDs {
		ids[i] = audit.MemoryID(audit.KindObservation, id)
	}
	opts := []audit.Option{audit.Resource(resource), audit.Memories(ids...)}
	if project != 0 {
		opts = append(opts, audit.Project(project))
	}
	audit.Annotate(r.Context(), opts...)
	httpapi.WriteJSON(w, http.StatusOK, resp)
}
