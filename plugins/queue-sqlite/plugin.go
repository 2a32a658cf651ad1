package queuesqlite

import (
	"context"
	"path/filepath"

	"github.com/claude-mem/claude-mem-server/sdk/plugin"
	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// Info describes the plugin.
var Info = plugin.Info{
	Name:             "queue-sqlite",
	Version:          "0.1.0",
	Kind:             plugin.KindQueue,
	ProtocolVersions: []int{queue.ProtocolVersion},
	Description:      "embedded queue engine on SQLite (WAL); no server to run",
}

// FileName is the engine's database file inside the data directory.
const FileName = "queue.db"

// Serve runs the engine as a plugin.
func Serve() {
	queue.Serve(Info, func(ctx context.Context, cfg plugin.Config) (queue.Engine, error) {
		return Open(ctx, filepath.Join(cfg.DataDir, FileName), Options{})
	})
}
