package queuevalkey

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/redis/go-redis/v9"

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
		// go-redis logs connection trouble through a process-wide logger
		// straight to stderr; route it through hclog so the host sees it
		// structured, at debug, instead of once per failed dial.
		redis.SetLogger(redisLog{cfg.Logger})
		return Open(ctx, Options{URL: cfg.Settings[SettingURL], Prefix: cfg.Settings[SettingPrefix]})
	})
}

type redisLog struct{ l hclog.Logger }

func (r redisLog) Printf(_ context.Context, format string, v ...any) {
	if r.l != nil {
		r.l.Debug(fmt.Sprintf(format, v...), "component", "go-redis")
	}
}
