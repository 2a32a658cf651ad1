// Package plugin holds what every claude-mem plugin shares, whatever its
// kind: the description a plugin gives of itself, the configuration the host
// hands it, protocol negotiation, and the go-plugin wiring behind the
// per-kind Serve helpers (queue.Serve, auth.Serve, adapter.Serve).
//
// A plugin imports sdk/ and nothing from host/. Plugin authors use the
// per-kind packages; this package is for them only for Info, Config and
// Health.
package plugin

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
)

// Kind is the kind of a plugin.
type Kind string

// The plugin kinds.
const (
	KindQueue   Kind = "queue"
	KindAuth    Kind = "auth"
	KindAdapter Kind = "adapter"
)

// Kinds lists every kind, in the order the host starts them.
var Kinds = []Kind{KindQueue, KindAuth, KindAdapter}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// EnvelopeVersion is the go-plugin handshake protocol version. It is fixed:
// the real contract version is negotiated through Describe, which lets the
// host name every version a plugin offers when none matches.
const EnvelopeVersion = 1

// cookies are per kind, so that a binary of one kind can never be dispensed
// as another. They are a guard against mistakes, not a security measure.
var cookies = map[Kind]string{
	KindQueue:   "5b7c0f6e-queue-claude-mem",
	KindAuth:    "9d1e2a44-auth-claude-mem",
	KindAdapter: "c3f8b2d0-adapter-claude-mem",
}

// Handshake returns the go-plugin handshake for a kind.
func Handshake(k Kind) goplugin.HandshakeConfig {
	return goplugin.HandshakeConfig{
		ProtocolVersion:  EnvelopeVersion,
		MagicCookieKey:   "CLAUDE_MEM_PLUGIN_" + strings.ToUpper(string(k)),
		MagicCookieValue: cookies[k],
	}
}

// Info is what a plugin says about itself in Describe.
type Info struct {
	// Name identifies the plugin, e.g. "queue-sqlite".
	Name string
	// Version is the plugin's own semver.
	Version string
	Kind    Kind
	// ProtocolVersions lists the contract major versions the plugin speaks.
	ProtocolVersions []int
	// Capabilities names optional features the plugin supports.
	Capabilities []string
	Description  string
}

// Validate checks an Info before it is served.
func (i Info) Validate() error {
	switch {
	case i.Name == "":
		return fmt.Errorf("plugin info: empty name")
	case !i.Kind.Valid():
		return fmt.Errorf("plugin info %q: unknown kind %q", i.Name, i.Kind)
	case len(i.ProtocolVersions) == 0:
		return fmt.Errorf("plugin info %q: no protocol versions", i.Name)
	}
	return nil
}

// Config is what the host hands a plugin after negotiation.
type Config struct {
	// ProtocolVersion is the negotiated contract version.
	ProtocolVersion int
	// DataDir is the server's data directory; a plugin that keeps files
	// keeps them there.
	DataDir string
	// Settings are the plugin's own settings, as strings.
	Settings map[string]string
	// Logger writes to the host's log. It is set on the plugin side; it
	// does not cross the wire.
	Logger hclog.Logger
}

// Health is a plugin's own view of its health.
type Health struct {
	// Status is HealthOK or HealthDegraded.
	Status string
	Detail string
}

// Health statuses.
const (
	HealthOK       = "ok"
	HealthDegraded = "degraded"
)

// HealthChecker is implemented by plugins that can report degraded
// operation (a queue engine whose server is unreachable, say).
type HealthChecker interface {
	Health(ctx context.Context) Health
}

// VersionError is returned when a plugin and the host share no protocol
// version.
type VersionError struct {
	Plugin    string
	Kind      Kind
	Offered   []int
	Supported []int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("plugin %q (%s) speaks protocol versions %v, but this host supports %v: "+
		"install a build of the plugin for one of %v, or upgrade claude-mem",
		e.Plugin, e.Kind, e.Offered, e.Supported, e.Supported)
}

// Negotiate picks the highest protocol version that both the plugin and the
// host support.
func Negotiate(info Info, supported []int) (int, error) {
	best := 0
	for _, v := range info.ProtocolVersions {
		if slices.Contains(supported, v) && v > best {
			best = v
		}
	}
	if best == 0 {
		return 0, &VersionError{Plugin: info.Name, Kind: info.Kind, Offered: info.ProtocolVersions, Supported: supported}
	}
	return best, nil
}
