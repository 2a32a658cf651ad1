package plugin

import (
	"context"
	"errors"
	"fmt"
	"sync"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/claude-mem/claude-mem-server/sdk/internal/pb/pluginv1"
)

// DispenseKey is the name under which every plugin serves its one plugin.
const DispenseKey = "main"

// maxMsgSize bounds one gRPC message in either direction. Batches of events
// can be large; the gRPC default of 4 MiB is too small.
const maxMsgSize = 64 << 20

// ErrNotConfigured is returned by a plugin that is called before the host
// configured it.
var ErrNotConfigured = errors.New("plugin: not configured yet")

// Server is what a per-kind package hands to the go-plugin wiring: how to
// describe, configure and register the plugin.
type Server struct {
	Info Info
	// Configure is called once the host has negotiated a version.
	Configure func(ctx context.Context, cfg Config) error
	// Health is optional.
	Health func(ctx context.Context) Health
	// Register registers the kind's own gRPC service.
	Register func(s *grpc.Server)
	// Close, when set, releases the implementation once the host has
	// shut the plugin down, so files are closed cleanly before exit.
	Close func() error
}

// Conn is what the host gets when it dispenses a plugin: the Meta client,
// the kind's own client, and a channel closed when the plugin process goes
// away.
type Conn struct {
	Meta    *MetaClient
	Service any
	Done    <-chan struct{}
}

// GRPCPlugin adapts a Server (plugin side) or a client constructor (host
// side) to go-plugin.
type GRPCPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	Impl      *Server
	NewClient func(conn *grpc.ClientConn) any
}

var _ goplugin.GRPCPlugin = (*GRPCPlugin)(nil)

// GRPCServer registers the Meta service and the kind's service.
func (p *GRPCPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("plugin: no server implementation")
	}
	pluginv1.RegisterMetaServer(s, &metaServer{srv: p.Impl})
	p.Impl.Register(s)
	return nil
}

// GRPCClient builds the host-side Conn. ctx is cancelled when the plugin
// process exits, which is how the host's supervisor learns of a crash.
func (p *GRPCPlugin) GRPCClient(ctx context.Context, _ *goplugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	if p.NewClient == nil {
		return nil, errors.New("plugin: no client constructor")
	}
	return &Conn{Meta: &MetaClient{c: pluginv1.NewMetaClient(conn)}, Service: p.NewClient(conn), Done: ctx.Done()}, nil
}

// ServerOptions are the gRPC server options every plugin uses.
func ServerOptions(opts []grpc.ServerOption) []grpc.ServerOption {
	return append(opts, grpc.MaxRecvMsgSize(maxMsgSize), grpc.MaxSendMsgSize(maxMsgSize))
}

type metaServer struct {
	pluginv1.UnimplementedMetaServer
	srv *Server
}

func (m *metaServer) Describe(context.Context, *pluginv1.DescribeRequest) (*pluginv1.DescribeResponse, error) {
	i := m.srv.Info
	resp := &pluginv1.DescribeResponse{
		Name: i.Name, Version: i.Version, Kind: string(i.Kind),
		Capabilities: i.Capabilities, Description: i.Description,
	}
	for _, v := range i.ProtocolVersions {
		resp.ProtocolVersions = append(resp.ProtocolVersions, int32(v))
	}
	return resp, nil
}

func (m *metaServer) Configure(ctx context.Context, req *pluginv1.ConfigureRequest) (*pluginv1.ConfigureResponse, error) {
	cfg := Config{ProtocolVersion: int(req.GetProtocolVersion()), DataDir: req.GetDataDir(), Settings: req.GetSettings(), Logger: logger()}
	if err := m.srv.Configure(ctx, cfg); err != nil {
		return nil, err
	}
	return &pluginv1.ConfigureResponse{}, nil
}

func (m *metaServer) Health(ctx context.Context, _ *pluginv1.HealthRequest) (*pluginv1.HealthResponse, error) {
	h := Health{Status: HealthOK}
	if m.srv.Health != nil {
		h = m.srv.Health(ctx)
	}
	return &pluginv1.HealthResponse{Status: h.Status, Detail: h.Detail}, nil
}

// MetaClient calls a plugin's Meta service.
type MetaClient struct {
	c pluginv1.MetaClient
}

// Describe asks the plugin what it is.
func (m *MetaClient) Describe(ctx context.Context) (Info, error) {
	resp, err := m.c.Describe(ctx, &pluginv1.DescribeRequest{})
	if err != nil {
		return Info{}, fmt.Errorf("describe: %w", err)
	}
	info := Info{
		Name: resp.GetName(), Version: resp.GetVersion(), Kind: Kind(resp.GetKind()),
		Capabilities: resp.GetCapabilities(), Description: resp.GetDescription(),
	}
	for _, v := range resp.GetProtocolVersions() {
		info.ProtocolVersions = append(info.ProtocolVersions, int(v))
	}
	return info, nil
}

// Configure hands the plugin its configuration.
func (m *MetaClient) Configure(ctx context.Context, cfg Config) error {
	_, err := m.c.Configure(ctx, &pluginv1.ConfigureRequest{
		ProtocolVersion: int32(cfg.ProtocolVersion), DataDir: cfg.DataDir, Settings: cfg.Settings,
	})
	if err != nil {
		return fmt.Errorf("configure: %w", err)
	}
	return nil
}

// Health asks the plugin how it is.
func (m *MetaClient) Health(ctx context.Context) (Health, error) {
	resp, err := m.c.Health(ctx, &pluginv1.HealthRequest{})
	if err != nil {
		return Health{}, fmt.Errorf("health: %w", err)
	}
	return Health{Status: resp.GetStatus(), Detail: resp.GetDetail()}, nil
}

// Lazy holds a plugin implementation that exists only once the host has
// configured the plugin. The per-kind Serve helpers use it so that a plugin
// can be launched, described and negotiated before it opens any file or
// connection.
type Lazy[T any] struct {
	mu  sync.RWMutex
	val T
	set bool
}

// Set stores the implementation.
func (l *Lazy[T]) Set(v T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.val, l.set = v, true
}

// Get returns the implementation, or ErrNotConfigured.
func (l *Lazy[T]) Get() (T, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if !l.set {
		var zero T
		return zero, ErrNotConfigured
	}
	return l.val, nil
}

// NewServer builds the plugin side of a kind: the implementation is opened by
// open when the host configures the plugin, and register exposes it on the
// gRPC server through lazy. Implementations that also satisfy HealthChecker
// report their health through Meta.Health.
func NewServer[T any](info Info, open func(context.Context, Config) (T, error), register func(*grpc.Server, *Lazy[T])) *Server {
	lazy := &Lazy[T]{}
	return &Server{
		Info: info,
		Configure: func(ctx context.Context, cfg Config) error {
			if _, err := lazy.Get(); err == nil {
				return fmt.Errorf("%s plugin %s: already configured", info.Kind, info.Name)
			}
			impl, err := open(ctx, cfg)
			if err != nil {
				return fmt.Errorf("%s plugin %s: open: %w", info.Kind, info.Name, err)
			}
			lazy.Set(impl)
			cfg.Logger.Info("plugin configured", "plugin", info.Name, "protocol", cfg.ProtocolVersion)
			return nil
		},
		Health: func(ctx context.Context) Health {
			impl, err := lazy.Get()
			if err != nil {
				return Health{Status: HealthDegraded, Detail: err.Error()}
			}
			if hc, ok := any(impl).(HealthChecker); ok {
				return hc.Health(ctx)
			}
			return Health{Status: HealthOK}
		},
		Register: func(s *grpc.Server) { register(s, lazy) },
		Close: func() error {
			impl, err := lazy.Get()
			if err != nil {
				return nil // never configured: nothing to release
			}
			if c, ok := any(impl).(interface{ Close() error }); ok {
				return c.Close()
			}
			return nil
		},
	}
}
