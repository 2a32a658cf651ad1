package adapter

import (
	"context"

	"google.golang.org/grpc"

	"github.com/claude-mem/claude-mem-server/sdk/internal/pb/adapterv1"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
)

// Factory opens an adapter once the host has configured the plugin.
type Factory func(ctx context.Context, cfg plugin.Config) (Adapter, error)

// Serve runs an adapter plugin. Call it from the plugin's main.
func Serve(info plugin.Info, open Factory) { plugin.Serve(NewServer(info, open)) }

// NewServer builds the plugin-side wiring for an adapter.
func NewServer(info plugin.Info, open Factory) *plugin.Server {
	info.Kind = plugin.KindAdapter
	if len(info.ProtocolVersions) == 0 {
		info.ProtocolVersions = []int{ProtocolVersion}
	}
	return plugin.NewServer(info, open, func(s *grpc.Server, impl *plugin.Lazy[Adapter]) {
		adapterv1.RegisterAdapterServer(s, &grpcServer{impl: impl})
	})
}

// ClientPlugin is the host side of the go-plugin wiring for adapter plugins.
func ClientPlugin() *plugin.GRPCPlugin {
	return &plugin.GRPCPlugin{NewClient: func(conn *grpc.ClientConn) any { return NewClient(conn) }}
}
