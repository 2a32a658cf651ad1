package httpapi

import (
	"github.com/claude-mem/claude-mem-server/host/provider"
	"github.com/claude-mem/claude-mem-server/host/supervisor"
)

// Health is the /healthz document.
type Health struct {
	Status  string `json:"status"`
	Runtime string `json:"runtime,omitempty"`
}

// Info is the /v1/info document.
type Info struct {
	Name          string              `json:"name"`
	Runtime       string              `json:"runtime"`
	Version       string              `json:"version"`
	Status        string              `json:"status"`
	StatusDetail  string              `json:"status_detail,omitempty"`
	PID           int                 `json:"pid"`
	StartedAt     string              `json:"started_at"`
	UptimeSeconds int64               `json:"uptime_seconds"`
	QueueEngine   string              `json:"queue_engine"`
	AuthMode      string              `json:"auth_mode"`
	Plugins       []supervisor.Status `json:"plugins"`
	Queue         *QueueCounts        `json:"queue,omitempty"`
	Outbox        map[string]int64    `json:"outbox"`
	// Generation is the provider's budget state: whether spend hit a limit
	// and the worker fell back to the heuristic provider.
	Generation *provider.BudgetStatus `json:"generation,omitempty"`
}

// QueueCounts are the engine's job counts.
type QueueCounts struct {
	Waiting   int64 `json:"waiting"`
	Active    int64 `json:"active"`
	Delayed   int64 `json:"delayed"`
	Completed int64 `json:"completed"`
	Failed    int64 `json:"failed"`
}
