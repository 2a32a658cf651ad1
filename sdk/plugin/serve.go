package plugin

import (
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// LogLevelEnv is the environment variable through which the host tells a
// plugin how verbose to be.
const LogLevelEnv = "CLAUDE_MEM_PLUGIN_LOG_LEVEL"

var (
	loggerOnce sync.Once
	pluginLog  hclog.Logger
)

// logger is the plugin-side logger: JSON on stderr, which go-plugin parses
// and re-logs in the host at the same level. Nothing may go to stdout,
// which carries the handshake.
func logger() hclog.Logger {
	loggerOnce.Do(func() {
		level := hclog.LevelFromString(os.Getenv(LogLevelEnv))
		if level == hclog.NoLevel {
			level = hclog.Warn // run outside a host (tests): stay quiet
		}
		pluginLog = hclog.New(&hclog.LoggerOptions{
			Level:      level,
			Output:     os.Stderr,
			JSONFormat: true,
		})
	})
	return pluginLog
}

// Serve runs a plugin until the host goes away. Plugin authors call the
// per-kind helper (queue.Serve and so on), which calls this.
func Serve(s *Server) {
	log := logger()
	if err := s.Info.Validate(); err != nil {
		log.Error("refusing to serve", "error", err)
		os.Exit(1)
	}
	go watchParent(log, os.Getppid())
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: Handshake(s.Info.Kind),
		VersionedPlugins: map[int]goplugin.PluginSet{
			EnvelopeVersion: {DispenseKey: &GRPCPlugin{Impl: s}},
		},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(ServerOptions(opts)...)
		},
		Logger: log,
	})
	// goplugin.Serve returns once the host has asked the plugin to shut
	// down (a host that dies instead is covered by watchParent).
	if s.Close != nil {
		if err := s.Close(); err != nil {
			log.Error("closing the plugin failed", "error", err)
		}
	}
}

// watchParent exits the plugin when its host dies. go-plugin does not notice
// host death, and Pdeathsig (set by the host on Linux) is not available
// everywhere; when the parent dies the plugin is re-parented, so a changed
// parent pid is the signal.
func watchParent(log hclog.Logger, parent int) {
	for range time.Tick(500 * time.Millisecond) {
		if os.Getppid() != parent {
			log.Warn("host process went away; exiting", "parent", parent)
			os.Exit(0)
		}
	}
}
