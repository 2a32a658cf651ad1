package adaptergeneric

import (
	"context"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
)

// Info describes the plugin.
var Info = plugin.Info{
	Name:             "adapter-generic",
	Version:          "0.1.0",
	Kind:             plugin.KindAdapter,
	ProtocolVersions: []int{adapter.ProtocolVersion},
	Description:      "versioned generic event JSON for Codex, OpenCode and custom agents",
}

// Serve runs the adapter as a plugin.
func Serve() {
	adapter.Serve(Info, func(context.Context, plugin.Config) (adapter.Adapter, error) { return New(), nil })
}
