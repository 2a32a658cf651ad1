package auth

import (
	"context"

	"google.golang.org/grpc"

	"github.com/claude-mem/claude-mem-server/sdk/internal/pb/authv1"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
)

// Factory opens a provider once the host has configured the plugin.
type Factory func(ctx context.Context, cfg plugin.Config) (Provider, error)

// Serve runs an auth provider plugin. Call it from the plugin's main.
func Serve(info plugin.Info, open Factory) { plugin.Serve(NewServer(info, open)) }

// NewServer builds the plugin-side wiring for an auth provider.
func NewServer(info plugin.Info, open Factory) *plugin.Server {
	info.Kind = plugin.KindAuth
	if len(info.ProtocolVersions) == 0 {
		info.ProtocolVersions = []int{ProtocolVersion}
	}
	return plugin.NewServer(info, open, func(s *grpc.Server, impl *plugin.Lazy[Provider]) {
		authv1.RegisterAuthServer(s, &grpcServer{impl: impl})
	})
}

// ClientPlugin is the host side of the go-plugin wiring for auth plugins.
func ClientPlugin() *plugin.GRPCPlugin {
	return &plugin.GRPCPlugin{NewClient: func(conn *grpc.ClientConn) any { return NewClient(conn) }}
}
