package queue

import (
	"context"

	"google.golang.org/grpc"

	"github.com/claude-mem/claude-mem-server/sdk/internal/pb/queuev1"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
)

// Factory opens an engine once the host has configured the plugin.
type Factory func(ctx context.Context, cfg plugin.Config) (Engine, error)

// Serve runs a queue engine plugin. Call it from the plugin's main; it
// returns when the host goes away.
func Serve(info plugin.Info, open Factory) { plugin.Serve(NewServer(info, open)) }

// NewServer builds the plugin-side wiring for a queue engine. Serve uses it;
// tests use it to run an engine behind a real gRPC connection in process.
func NewServer(info plugin.Info, open Factory) *plugin.Server {
	info.Kind = plugin.KindQueue
	if len(info.ProtocolVersions) == 0 {
		info.ProtocolVersions = []int{ProtocolVersion}
	}
	return plugin.NewServer(info, open, func(s *grpc.Server, impl *plugin.Lazy[Engine]) {
		queuev1.RegisterQueueServer(s, &grpcServer{impl: impl})
	})
}

// ClientPlugin is the host side of the go-plugin wiring for queue plugins.
func ClientPlugin() *plugin.GRPCPlugin {
	return &plugin.GRPCPlugin{NewClient: func(conn *grpc.ClientConn) any { return NewClient(conn) }}
}
