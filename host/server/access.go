package server

import (
	"fmt"
	"net"
	"net/http"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/audit"
	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/supervisor"
	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

// checkExposure refuses local mode on an address other machines can reach:
// local mode trusts every loopback request, and a server that listens
// elsewhere has only keys to tell callers apart.
func checkExposure(cfg config.Config, l net.Listener) error {
	if cfg.Auth.Mode != config.AuthLocal {
		return nil
	}
	host := cfg.Server.Host
	if l != nil {
		host = l.Addr().String()
	}
	if access.LoopbackHost(host) {
		return nil
	}
	return fmt.Errorf("server: refusing to listen on %s in local auth mode, which lets anyone who can reach it act as the owner; "+
		"create a key with `claude-mem server api-key create --team local --scope '*' --name admin` and restart with CLAUDE_MEM_AUTH_MODE=api-key "+
		"(auth.mode: api-key), or listen on 127.0.0.1", host)
}

// setupAccess starts the audit log and builds the authentication and
// authorization middleware, before the router that installs it.
func (s *Server) setupAccess(cfg config.Config) error {
	s.audit = audit.New(s.store, audit.Options{Retention: cfg.Auth.AuditRetention, Logger: s.log.Named("audit")})
	acc, err := access.New(access.Options{
		Mode: cfg.Auth.Mode, Provider: s.Auth, Audit: s.audit,
		RateLimitPerMinute: cfg.Auth.RateLimitPerMinute, Logger: s.log.Named("access"), OnDenied: s.metrics.AuthFailure,
	})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	s.access = acc
	return nil
}

// accessMiddleware is what the router runs on every request.
func (s *Server) accessMiddleware() []func(http.Handler) http.Handler {
	return []func(http.Handler) http.Handler{s.access.Middleware}
}

// mountAccess serves the admin API and the audit log.
func (s *Server) mountAccess() {
	api := &access.API{Admin: s.Admin(), Audit: s.audit}
	api.Mount(s.router)
}

// Auth returns the auth provider, or supervisor.ErrUnavailable while its
// plugin is down. When several auth plugins run (an external one besides
// the bundled auth-apikey), the last one started serves.
func (s *Server) Auth() (auth.Provider, error) {
	if s.auth == nil {
		return nil, fmt.Errorf("no auth plugin is running: %w", supervisor.ErrUnavailable)
	}
	return supervisor.Service[auth.Provider](s.auth)
}

// Access is the authentication and authorization layer: its Policy holds
// every route's scope.
func (s *Server) Access() *access.Access { return s.access }

// Admin manages teams, projects and keys, as the admin API does.
func (s *Server) Admin() *access.Admin {
	return &access.Admin{Store: s.store, Provider: s.Auth, Revoked: s.access.Forget}
}

// Audit is the audit log.
func (s *Server) Audit() *audit.Log { return s.audit }
