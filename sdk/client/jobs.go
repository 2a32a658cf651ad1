package client

import (
	"context"
	"net/http"
	"time"
)

// Job statuses (Job.Status).
const (
	JobQueued         = "queued"
	JobEnqueued       = "enqueued"
	JobProcessing     = "processing"
	JobRetryScheduled = "retry_scheduled"
	JobCompleted      = "completed"
	JobFailed         = "failed"
	JobCancelled      = "cancelled"
)

// Job is a generation job of the server's outbox.
type Job struct {
	ID string `json:"id"`
	// Kind is "observe" or "summarize"; Lane orders a session's jobs.
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

// GetJob is GET /v1/jobs/{id}: a generation job's status and history.
func (c *Client) GetJob(ctx context.Context, id string) (*JobResponse, error) {
	var out JobResponse
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/jobs/" + escape(id)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RetryJob is POST /v1/jobs/{id}/retry: a failed job is queued again with
// its attempts reset. A job that has not failed is a 409.
func (c *Client) RetryJob(ctx context.Context, id string) (*JobResponse, error) {
	var out JobResponse
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/jobs/" + escape(id) + "/retry"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
