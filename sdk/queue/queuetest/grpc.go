package queuetest

import (
	"context"
	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/plugin"
	"github.com/claude-mem/claude-mem-server/sdk/plugin/plugintest"
	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// overGRPC puts e behind the real queue.v1 gRPC server and client, in
// process, so the suite checks that every call and error survives the wire.
func overGRPC(t *testing.T, e queue.Engine) queue.Engine {
	t.Helper()
	srv := queue.NewServer(plugin.Info{Name: "queuetest", Version: "0.0.0"},
		func(context.Context, plugin.Config) (queue.Engine, error) { return e, nil })
	return plugintest.Dispense[queue.Engine](t, srv, queue.ClientPlugin())
}
