package restapi

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/audit"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/jobs"
	"github.com/claude-mem/claude-mem-server/host/memory"
)

// Job is a generation job of the outbox.
type Job struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	Lane        string    `json:"lane"`
	Status      string    `json:"status"`
	Attempts    int       `json:"attempts"`
	MaxAttempts int       `json:"max_attempts"`
	LastError   string    `json:"last_error,omitempty"`
	ProjectID   int64     `json:"project_id"`
	SessionID   int64     `json:"session_id"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// JobEvent is one status change of a job.
type JobEvent struct {
	Status  string    `json:"status"`
	Attempt int       `json:"attempt"`
	Detail  string    `json:"detail,omitempty"`
	At      time.Time `json:"at"`
}

// JobResponse is the answer to the job routes.
type JobResponse struct {
	Job     Job        `json:"job"`
	History []JobEvent `json:"history"`
}

// jobScope is the part of a job's payload that scopes it (see
// host/pipeline's job payload: ids only).
type jobScope struct {
	TeamID    string `json:"team_id"`
	ProjectID int64  `json:"project_id"`
	SessionID int64  `json:"session_id"`
}

// loadJob reads a job of the caller's team and project, with its history:
// memory.ErrNotFound otherwise.
func loadJob(ctx context.Context, q memory.Querier, tm, id string) (JobResponse, error) {
	var j Job
	var payload []byte
	var created, updated int64
	err := q.QueryRowContext(ctx, `SELECT id, kind, lane, status, attempts, max_attempts, last_error, payload, created_at, updated_at
		FROM generation_jobs WHERE id = ?`, id).Scan(&j.ID, &j.Kind, &j.Lane, &j.Status, &j.Attempts, &j.MaxAttempts, &j.LastError,
		&payload, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return JobResponse{}, memory.ErrNotFound
	}
	if err != nil {
		return JobResponse{}, fmt.Errorf("restapi: job %s: %w", id, err)
	}
	var sc jobScope
	if json.Unmarshal(payload, &sc) != nil || sc.TeamID != tm || !access.ProjectAllowed(ctx, sc.ProjectID) {
		return JobResponse{}, memory.ErrNotFound
	}
	j.ProjectID, j.SessionID = sc.ProjectID, sc.SessionID
	j.CreatedAt, j.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	resp := JobResponse{Job: j, History: []JobEvent{}}
	rows, err := q.QueryContext(ctx, `SELECT status, attempt, detail, created_at FROM generation_job_events WHERE job_id = ? ORDER BY id`, id)
	if err != nil {
		return JobResponse{}, fmt.Errorf("restapi: job %s history: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e JobEvent
		var at int64
		if err := rows.Scan(&e.Status, &e.Attempt, &e.Detail, &at); err != nil {
			return JobResponse{}, fmt.Errorf("restapi: job %s history: %w", id, err)
		}
		e.At = time.UnixMilli(at).UTC()
		resp.History = append(resp.History, e)
	}
	return resp, rows.Err()
}

func jobParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := chi.URLParam(r, "id")
	if id == "" || len(id) > 200 {
		httpapi.WriteError(w, r, http.StatusBadRequest, httpapi.CodeBadRequest, "job id must be 1 to 200 characters")
		return "", false
	}
	return id, true
}

// getJob is GET /v1/jobs/{id}: the job's outbox status and history.
func (a *API) getJob(w http.ResponseWriter, r *http.Request) {
	tm, ok := team(w, r)
	if !ok {
		return
	}
	id, ok := jobParam(w, r)
	if !ok {
		return
	}
	resp, err := loadJob(r.Context(), a.opts.Store.Reader(), tm, id)
	if errors.Is(err, memory.ErrNotFound) {
		notFound(w, r, "no job %q", id)
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	audit.Annotate(r.Context(), audit.Resource("job:"+id), audit.Project(resp.Job.ProjectID))
	httpapi.WriteJSON(w, http.StatusOK, resp)
}

// retryJob is POST /v1/jobs/{id}/retry: a failed job goes back to queued
// with its attempts reset (jobs.Service.Retry). Only failed jobs (409).
func (a *API) retryJob(w http.ResponseWriter, r *http.Request) {
	tm, ok := team(w, r)
	if !ok {
		return
	}
	id, ok := jobParam(w, r)
	if !ok {
		return
	}
	// The job must be the caller's to see before it is retried.
	_, err := loadJob(r.Context(), a.opts.Store.Reader(), tm, id)
	if err == nil {
		err = a.opts.Jobs.Retry(r.Context(), id)
	}
	switch {
	case errors.Is(err, memory.ErrNotFound), errors.Is(err, sql.ErrNoRows):
		notFound(w, r, "no job %q", id)
		return
	case errors.Is(err, jobs.ErrNotFailed):
		httpapi.WriteError(w, r, http.StatusConflict, CodeConflict, err.Error())
		return
	case err != nil:
		a.internal(w, r, err)
		return
	}
	resp, err := loadJob(r.Context(), a.opts.Store.Reader(), tm, id)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	audit.Annotate(r.Context(), audit.Resource("job:"+id), audit.Project(resp.Job.ProjectID))
	httpapi.WriteJSON(w, http.StatusOK, resp)
}
