package server

import (
	"context"
	"fmt"
	"time"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/legacyapi"
	"github.com/claude-mem/claude-mem-server/host/pipeline"
	"github.com/claude-mem/claude-mem-server/host/privacy"
	"github.com/claude-mem/claude-mem-server/host/version"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
)

// mountLegacy serves the TypeScript claude-mem worker's /api routes
// (package legacyapi), writing through the same pipeline as /v1.
func (s *Server) mountLegacy(pl *pipeline.Pipeline, filter *privacy.Filter) error {
	api, err := legacyapi.New(legacyapi.Options{
		Store: s.store, Pipeline: pl, Privacy: filter, Status: s.legacyStatus, Team: access.TeamOf, Context: s.legacyContext,
		Version: version.Version, Runtime: version.Runtime, StartedAt: s.startedAt, Logger: s.log.Named("legacy-api"),
	})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	api.Mount(s.router)
	return nil
}

// legacyStatus is the status of /api/health: degraded while the queue
// engine is, which loses nothing (writes wait in the outbox).
func (s *Server) legacyStatus(ctx context.Context) string {
	if s.queue == nil {
		return plugin.HealthDegraded
	}
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if h, err := s.queue.Health(ctx); err != nil || h.Status != plugin.HealthOK {
		return plugin.HealthDegraded
	}
	return plugin.HealthOK
}
