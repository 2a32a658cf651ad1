package adapterclaudecode

import (
	"context"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
)

// Info describes the plugin.
var Info = plugin.Info{
	Name:             "adapter-claudecode",
	Version:          "0.1.0",
	Kind:             plugin.KindAdapter,
	ProtocolVersions: []int{adapter.ProtocolVersion},
	Description:      "Claude Code hooks",
}

// Serve runs the adapter as a plugin.
func Serve() {
	adapter.Serve(Info, func(context.Context, plugin.Config) (adapter.Adapter, error) { return New(), nil })
}
