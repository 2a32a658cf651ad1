package client

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Health is the answer to GET /healthz.
type Health struct {
	Status  string `json:"status"`
	Runtime string `json:"runtime,omitempty"`
}

// Info is the answer to GET /v1/info: the server, its plugins and its
// queue.
type Info struct {
	Name          string         `json:"name"`
	Runtime       string         `json:"runtime"`
	Version       string         `json:"version"`
	Status        string         `json:"status"`
	StatusDetail  string         `json:"status_detail,omitempty"`
	PID           int            `json:"pid"`
	StartedAt     time.Time      `json:"started_at"`
	UptimeSeconds int64          `json:"uptime_seconds"`
	QueueEngine   string         `json:"queue_engine"`
	AuthMode      string         `json:"auth_mode"`
	Plugins       []PluginStatus `json:"plugins"`
	Queue         *QueueCounts   `json:"queue,omitempty"`
	// Outbox counts generation jobs by status.
	Outbox map[string]int64 `json:"outbox"`
	// Generation is the provider's budget state, when it has one.
	Generation *BudgetStatus `json:"generation,omitempty"`
}

// PluginStatus is one plugin process of the server.
type PluginStatus struct {
	Kind         string   `json:"kind"`
	Name         string   `json:"name"`
	Version      string   `json:"version"`
	Protocol     int      `json:"protocol"`
	State        string   `json:"state"`
	Restarts     int      `json:"restarts"`
	PID          int      `json:"pid"`
	Capabilities []string `json:"capabilities,omitempty"`
	LastError    string   `json:"last_error,omitempty"`
}

// QueueCounts are the queue engine's job counts.
type QueueCounts struct {
	Waiting   int64 `json:"waiting"`
	Active    int64 `json:"active"`
	Delayed   int64 `json:"delayed"`
	Completed int64 `json:"completed"`
	Failed    int64 `json:"failed"`
}

// BudgetStatus is the generation provider's budgets and today's spend.
type BudgetStatus struct {
	Provider          string    `json:"provider"`
	FallbackActive    bool      `json:"fallback_active"`
	Reason            string    `json:"reason,omitempty"`
	LastFallbackAt    time.Time `json:"last_fallback_at,omitzero"`
	Fallbacks         int64     `json:"fallbacks"`
	Refused           int64     `json:"refused"`
	Today             DayUsage  `json:"today"`
	DailyLimit        int64     `json:"daily_limit"`
	ProjectDailyLimit int64     `json:"project_daily_limit"`
	JobLimit          int64     `json:"job_limit"`
	FallbackEnabled   bool      `json:"fallback_to_heuristic"`
}

// DayUsage is one UTC day's generation spend.
type DayUsage struct {
	Day          string `json:"day"`
	InputTokens  int64  `json:"input_tokens"`
	OutputTokens int64  `json:"output_tokens"`
	Tokens       int64  `json:"tokens"`
	Calls        int64  `json:"calls"`
	Fallbacks    int64  `json:"fallbacks"`
}

// Health is GET /healthz. It needs no key.
func (c *Client) Health(ctx context.Context) (*Health, error) {
	var out Health
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/healthz"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Info is GET /v1/info. Any valid key may call it.
func (c *Client) Info(ctx context.Context) (*Info, error) {
	var out Info
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/info"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// OpenAPI is GET /v1/openapi.json: the server's OpenAPI document, as it
// sends it.
func (c *Client) OpenAPI(ctx context.Context) ([]byte, error) {
	const path = "/v1/openapi.json"
	resp, err := c.send(ctx, request{method: http.MethodGet, path: path})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := readBody(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("client: GET %s: read answer: %w", path, err)
	}
	return data, nil
}
