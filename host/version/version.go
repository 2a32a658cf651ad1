// Package version holds the build's version, set at link time with
// -ldflags "-X github.com/claude-mem/claude-mem-server/host/version.Version=v1.2.3".
package version

// Version is the claude-mem server version.
var Version = "0.1.0-dev"

// Runtime names this implementation in /healthz, /v1/info and /api/health.
const Runtime = "claude-mem-server-go"
