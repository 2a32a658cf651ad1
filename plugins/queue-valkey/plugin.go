package queuevalkey

import (
	"context"

	"github.com/claude-mem/claude-mem-server/sdk/plugin"
	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// Info describes the plugin.
var Info = plugin.Info{
	Name:             "queue-valkey",
	Version:          "0.1.0",
	Kind:             plugin.KindQueue,
	ProtocolVersions: []int{queue.ProtocolVersion},
	Capabilities:     []string{"multi-host"},
	Description:      "queue engine on Valkey or Redis, for several hosts sharing one queue",
}

// Settings the host passes in Configure.
const (
	SettingURL    = "url"
	SettingPrefix = "prefix"
)

// Serve runs the engine as a plugin.
func Serve() {
	queue.Serve(Info, func(ctx context.Context, cfg plugin.Config) (queue.Engine, error) {
		return Open(ctx, Options{URL: cfg.Settings[SettingURL], Prefix: cfg.Settings[SettingPrefix]})
	})
}
