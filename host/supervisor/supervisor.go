// Package supervisor launches the host's plugins as separate processes
// through go-plugin, negotiates their protocol version, and keeps them
// running: a plugin that crashes is restarted with capped exponential
// backoff, and calls made while it is down fail with ErrUnavailable.
package supervisor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/auth"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// ErrUnavailable is returned for a plugin that is not running right now.
var ErrUnavailable = errors.New("plugin unavailable")

// Supported lists the protocol versions this host speaks, per kind.
var Supported = map[plugin.Kind][]int{
	plugin.KindQueue:   {queue.ProtocolVersion},
	plugin.KindAuth:    {auth.ProtocolVersion},
	plugin.KindAdapter: {adapter.ProtocolVersion},
}

func clientPlugin(k plugin.Kind) *plugin.GRPCPlugin {
	switch k {
	case plugin.KindQueue:
		return queue.ClientPlugin()
	case plugin.KindAuth:
		return auth.ClientPlugin()
	default:
		return adapter.ClientPlugin()
	}
}

// Spec says how to run one plugin.
type Spec struct {
	Kind plugin.Kind
	Name string
	// Path and Args are the command to run. A bundled plugin is the host's
	// own binary with `plugin serve <kind> <name>`.
	Path string
	Args []string
	// SHA256 pins an external plugin's binary; empty for bundled plugins,
	// which are the host binary itself.
	SHA256 string
	// Settings are handed to the plugin in Configure.
	Settings map[string]string
}

// Options configure a Supervisor.
type Options struct {
	DataDir string
	// StartTimeout bounds a plugin's start and handshake. Default 5s.
	StartTimeout time.Duration
	// Logger receives the host's and the plugins' logs. Default: discard.
	Logger hclog.Logger
	// MaxBackoff caps the delay between restarts. Default 10s.
	MaxBackoff time.Duration
	// OnRestart, when set, is called after a crashed plugin is running
	// again.
	OnRestart func(p *Plugin)
}

// State is a plugin's state.
type State string

// Plugin states.
const (
	StateStarting   State = "starting"
	StateRunning    State = "running"
	StateRestarting State = "restarting"
	StateStopped    State = "stopped"
)

// Status describes one plugin for /v1/info and `server status`.
type Status struct {
	Kind         plugin.Kind `json:"kind"`
	Name         string      `json:"name"`
	Version      string      `json:"version"`
	Protocol     int         `json:"protocol"`
	State        State       `json:"state"`
	Restarts     int         `json:"restarts"`
	PID          int         `json:"pid"`
	Capabilities []string    `json:"capabilities,omitempty"`
	LastError    string      `json:"last_error,omitempty"`
}

// Supervisor owns a set of plugin processes.
type Supervisor struct {
	opts    Options
	mu      sync.Mutex
	plugins []*Plugin
	closed  bool
}

// New returns a Supervisor.
func New(opts Options) *Supervisor {
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 10 * time.Second
	}
	return &Supervisor{opts: opts}
}

// Start launches a plugin, negotiates its version and configures it. An
// error here is final: the caller (server start) reports it and exits.
// After a successful start the plugin is restarted whenever it dies.
func (s *Supervisor) Start(ctx context.Context, spec Spec) (*Plugin, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, fmt.Errorf("plugin %s: supervisor stopped", spec.Name)
	}
	s.mu.Unlock()
	if spec.SHA256 != "" {
		if err := VerifyChecksum(spec.Path, spec.SHA256); err != nil {
			return nil, fmt.Errorf("plugin %s: %w", spec.Name, err)
		}
	}
	p := &Plugin{spec: spec, sup: s, log: s.opts.Logger.Named(spec.Name), up: make(chan struct{})}
	if err := p.launch(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.plugins = append(s.plugins, p)
	s.mu.Unlock()
	go p.watch()
	return p, nil
}

// Statuses reports every plugin.
func (s *Supervisor) Statuses() []Status {
	s.mu.Lock()
	ps := append([]*Plugin(nil), s.plugins...)
	s.mu.Unlock()
	out := make([]Status, len(ps))
	for i, p := range ps {
		out[i] = p.Status()
	}
	return out
}

// Stop kills every plugin and waits for them to exit.
func (s *Supervisor) Stop() {
	s.mu.Lock()
	s.closed = true
	ps := s.plugins
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(p.stop)
	}
	wg.Wait()
}

// VerifyChecksum compares a file's SHA-256 with the pinned one.
func VerifyChecksum(path, want string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("checksum: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("checksum %s: %w", path, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if !strings.EqualFold(got, want) {
		return fmt.Errorf("checksum mismatch for %s: config pins sha256 %s but the file has sha256 %s; "+
			"refusing to run it (if you upgraded the plugin on purpose, put the new hash in plugins.external)", path, strings.ToLower(want), got)
	}
	return nil
}

// Plugin is one supervised plugin process.
type Plugin struct {
	spec Spec
	sup  *Supervisor
	log  hclog.Logger

	mu        sync.Mutex
	client    *goplugin.Client
	conn      *plugin.Conn
	info      plugin.Info
	protocol  int
	state     State
	restarts  int
	pid       int
	lastErr   string
	startedAt time.Time
	up        chan struct{} // closed while running
	stopping  bool
}

// Name is the plugin's configured name.
func (p *Plugin) Name() string { return p.spec.Name }

// Kind is the plugin's kind.
func (p *Plugin) Kind() plugin.Kind { return p.spec.Kind }

// Status reports the plugin's state.
func (p *Plugin) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Status{
		Kind: p.spec.Kind, Name: p.spec.Name, Version: p.info.Version, Protocol: p.protocol,
		State: p.state, Restarts: p.restarts, PID: p.pid, Capabilities: p.info.Capabilities, LastError: p.lastErr,
	}
}

// Service returns the plugin's typed client, or ErrUnavailable while the
// plugin is down.
func Service[T any](p *Plugin) (T, error) {
	var zero T
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != StateRunning || p.conn == nil {
		return zero, fmt.Errorf("%s plugin %s is %s: %w", p.spec.Kind, p.spec.Name, p.state, ErrUnavailable)
	}
	svc, ok := p.conn.Service.(T)
	if !ok {
		return zero, fmt.Errorf("plugin %s: service is %T", p.spec.Name, p.conn.Service)
	}
	return svc, nil
}

// WaitUp blocks until the plugin is running or ctx ends.
func (p *Plugin) WaitUp(ctx context.Context) error {
	p.mu.Lock()
	up := p.up
	p.mu.Unlock()
	select {
	case <-up:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Health asks the running plugin how it is.
func (p *Plugin) Health(ctx context.Context) (plugin.Health, error) {
	p.mu.Lock()
	conn, state := p.conn, p.state
	p.mu.Unlock()
	if state != StateRunning || conn == nil {
		return plugin.Health{}, fmt.Errorf("plugin %s is %s: %w", p.spec.Name, state, ErrUnavailable)
	}
	return conn.Meta.Health(ctx)
}

// launch starts the process and brings it to running.
func (p *Plugin) launch(ctx context.Context) error {
	p.setState(StateStarting, "")
	cmd := exec.Command(p.spec.Path, p.spec.Args...)
	// The host environment is not inherited: plugins get what they need
	// through Configure, and secrets in the host's environment stay there.
	cmd.Env = []string{plugin.LogLevelEnv + "=" + levelName(p.sup.opts.Logger)}
	isolate(cmd)
	cfg := &goplugin.ClientConfig{
		HandshakeConfig:  plugin.Handshake(p.spec.Kind),
		VersionedPlugins: map[int]goplugin.PluginSet{plugin.EnvelopeVersion: {plugin.DispenseKey: clientPlugin(p.spec.Kind)}},
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     p.sup.opts.StartTimeout,
		Logger:           p.log,
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20))},
	}
	if p.spec.SHA256 != "" {
		sum, err := hex.DecodeString(p.spec.SHA256)
		if err != nil {
			return fmt.Errorf("plugin %s: sha256 %q is not hex: %w", p.spec.Name, p.spec.SHA256, err)
		}
		cfg.SecureConfig = &goplugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	client := goplugin.NewClient(cfg)
	conn, info, version, err := p.handshake(ctx, client)
	if err != nil {
		client.Kill()
		p.setState(StateRestarting, err.Error())
		return err
	}
	pid := 0
	if rc := client.ReattachConfig(); rc != nil {
		pid = rc.Pid
	}
	p.mu.Lock()
	p.client, p.conn, p.info, p.protocol, p.pid = client, conn, info, version, pid
	p.state, p.lastErr, p.startedAt = StateRunning, "", time.Now()
	close(p.up)
	p.mu.Unlock()
	p.log.Info("plugin running", "kind", p.spec.Kind, "version", info.Version, "protocol", version, "pid", pid)
	return nil
}

func (p *Plugin) handshake(ctx context.Context, client *goplugin.Client) (*plugin.Conn, plugin.Info, int, error) {
	fail := func(format string, args ...any) (*plugin.Conn, plugin.Info, int, error) {
		return nil, plugin.Info{}, 0, fmt.Errorf("plugin %s: "+format, append([]any{p.spec.Name}, args...)...)
	}
	rpc, err := client.Client()
	if err != nil {
		return fail("start %s: %w", p.spec.Path, err)
	}
	raw, err := rpc.Dispense(plugin.DispenseKey)
	if err != nil {
		return fail("dispense: %w", err)
	}
	conn, ok := raw.(*plugin.Conn)
	if !ok {
		return fail("dispensed %T", raw)
	}
	info, err := conn.Meta.Describe(ctx)
	if err != nil {
		return fail("%w", err)
	}
	if info.Kind != p.spec.Kind {
		return fail("is a %s plugin, configured as %s", info.Kind, p.spec.Kind)
	}
	version, err := plugin.Negotiate(info, Supported[p.spec.Kind])
	if err != nil {
		return nil, plugin.Info{}, 0, err
	}
	settings := p.spec.Settings
	if err := conn.Meta.Configure(ctx, plugin.Config{ProtocolVersion: version, DataDir: p.sup.opts.DataDir, Settings: settings}); err != nil {
		return fail("%w", err)
	}
	return conn, info, version, nil
}

// watch restarts the plugin each time its process exits, until stop.
func (p *Plugin) watch() {
	backoff := 100 * time.Millisecond
	for {
		p.mu.Lock()
		done, client := p.conn.Done, p.client
		p.mu.Unlock()
		<-done
		if p.isStopping() {
			// stop is killing it: a second Kill here would race stop's
			// graceful wait, fail to close the connection that one closed,
			// and log that the plugin failed to exit gracefully.
			return
		}
		client.Kill()
		p.mu.Lock()
		if p.stopping {
			p.mu.Unlock()
			return
		}
		if time.Since(p.startedAt) > 30*time.Second {
			backoff = 100 * time.Millisecond
		}
		p.state, p.conn, p.pid, p.up = StateRestarting, nil, 0, make(chan struct{})
		p.restarts++
		p.mu.Unlock()
		p.log.Warn("plugin exited; restarting", "backoff", backoff)
		for {
			time.Sleep(backoff)
			backoff = min(backoff*2, p.sup.opts.MaxBackoff)
			if p.isStopping() {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), p.sup.opts.StartTimeout*2)
			err := p.launch(ctx)
			cancel()
			if err == nil {
				if p.sup.opts.OnRestart != nil {
					p.sup.opts.OnRestart(p)
				}
				break
			}
			p.log.Error("plugin restart failed", "error", err, "next_backoff", backoff)
		}
	}
}

func (p *Plugin) isStopping() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopping
}

func (p *Plugin) stop() {
	p.mu.Lock()
	p.stopping = true
	client := p.client
	p.state = StateStopped
	p.mu.Unlock()
	if client != nil {
		client.Kill()
	}
}

func (p *Plugin) setState(s State, lastErr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = s
	if lastErr != "" {
		p.lastErr = lastErr
	}
}

func levelName(l hclog.Logger) string {
	return strings.ToLower(l.GetLevel().String())
}
