// Package auth is the contract between the claude-mem host and an auth
// provider plugin (protocol claudemem.auth.v1).
//
// Authentication belongs to the provider: it turns a credential into a
// Principal, and it creates, lists and revokes credentials. Authorization
// belongs to the host: teams, projects and scope checks on every row live
// there, so a provider can be replaced (by an OIDC one, say) without
// touching the host.
package auth

import (
	"context"
	"errors"
	"slices"
	"time"
)

// ProtocolVersion is the major version of claudemem.auth.v1.
const ProtocolVersion = 1

// SchemaVersion is the version of the Principal shape.
const SchemaVersion = 1

// Scopes a principal may hold.
const (
	ScopeRead  = "memories:read"
	ScopeWrite = "memories:write"
	ScopeAdmin = "admin"
	ScopeAll   = "*"
)

// AllScopes lists every scope.
var AllScopes = []string{ScopeRead, ScopeWrite, ScopeAdmin, ScopeAll}

// Principal is who a credential belongs to.
type Principal struct {
	SchemaVersion int
	KeyID         string
	TeamID        string
	// ProjectID, when set, binds the principal to one project.
	ProjectID string
	Scopes    []string
	Actor     string
	// ExpiresAt is zero for a credential that does not expire.
	ExpiresAt time.Time
}

// Has reports whether the principal holds scope, directly or through "*".
func (p Principal) Has(scope string) bool {
	return slices.Contains(p.Scopes, ScopeAll) || slices.Contains(p.Scopes, scope)
}

// KeySpec describes a key to create.
type KeySpec struct {
	TeamID    string
	ProjectID string
	Name      string
	Actor     string
	Scopes    []string
	ExpiresAt time.Time
}

// Key describes a stored key. It never holds the secret.
type Key struct {
	ID string
	// Prefix is the visible start of the key, so users can tell keys apart.
	Prefix     string
	Name       string
	TeamID     string
	ProjectID  string
	Actor      string
	Scopes     []string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RevokedAt  time.Time
	LastUsedAt time.Time
}

// Provider is an auth provider. Every method may be called concurrently.
type Provider interface {
	// Authenticate returns the principal of a credential, or
	// ErrUnauthenticated.
	Authenticate(ctx context.Context, credential string) (Principal, error)
	// CreateKey creates a key and returns it with its secret, which is shown
	// once and never stored in the clear.
	CreateKey(ctx context.Context, spec KeySpec) (Key, string, error)
	// ListKeys lists the keys of a team, or of every team when teamID is "".
	ListKeys(ctx context.Context, teamID string) ([]Key, error)
	// RevokeKey revokes a key; ErrNotFound when there is no such key.
	RevokeKey(ctx context.Context, id string) error
	// Close releases the provider's resources.
	Close() error
}

// Errors a provider returns.
var (
	ErrUnauthenticated = errors.New("auth: credential missing, invalid, expired or revoked")
	ErrNotFound        = errors.New("auth: key not found")
	ErrInvalidSpec     = errors.New("auth: invalid key spec")
	ErrUnsupported     = errors.New("auth: not supported by this provider")
)
