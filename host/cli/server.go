package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/daemon"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/server"
)

// Timing of `server start` in the background and of `server status`.
const (
	startWait    = 15 * time.Second
	startPoll    = 50 * time.Millisecond
	infoTimeout  = 2 * time.Second
	stopMargin   = 5 * time.Second // added to server.shutdown_timeout
	startLogTail = 20
)

// flagKeys maps the config flags shared by the server commands to config
// keys; --config names the config file instead.
var flagKeys = map[string]string{
	"data-dir":  "data_dir",
	"host":      "server.host",
	"port":      "server.port",
	"engine":    "queue.engine",
	"redis-url": "queue.redis_url",
	"log-level": "log.level",
}

// configFlags lists the config flags in the order they are forwarded to a
// background server.
var configFlags = []string{"config", "data-dir", "host", "port", "engine", "redis-url", "log-level"}

func addConfigFlags(fs *pflag.FlagSet) {
	fs.String("config", "", "config file (default <data-dir>/config.yaml)")
	fs.String("data-dir", "", "data directory (env CLAUDE_MEM_DATA_DIR; default ~/.claude-mem)")
	fs.String("host", "", "address to listen on (env CLAUDE_MEM_SERVER_HOST; default 127.0.0.1)")
	fs.Int("port", 0, "port to listen on (env CLAUDE_MEM_SERVER_PORT; default 37700 + uid%100)")
	fs.String("engine", "", "queue engine: sqlite or valkey (env CLAUDE_MEM_QUEUE_ENGINE; default sqlite)")
	fs.String("redis-url", "", "Valkey/Redis URL for the valkey engine (env CLAUDE_MEM_REDIS_URL)")
	fs.String("log-level", "", "trace, debug, info, warn or error (env CLAUDE_MEM_LOG_LEVEL; default info)")
}

// load builds the config from defaults, config file, environment and the
// command's flags.
func (a *app) load(cmd *cobra.Command) (config.Config, error) {
	fs := cmd.Flags()
	file, _ := fs.GetString("config")
	return config.Load(config.LoadOptions{Env: a.environ, Flags: fs, FlagKeys: flagKeys, ConfigFile: file})
}

// forwardedFlags are the config flags the user set, to hand to a background
// server so that it loads the same config.
func forwardedFlags(fs *pflag.FlagSet) []string {
	var out []string
	for _, name := range configFlags {
		if f := fs.Lookup(name); f != nil && f.Changed {
			out = append(out, "--"+name+"="+f.Value.String())
		}
	}
	return out
}

// serverCommand is `server` (full) or `worker` (start, stop, restart and
// status only).
func (a *app) serverCommand(name, short string, full bool) *cobra.Command {
	cmd := &cobra.Command{
		Use: name, Short: short, Args: cobra.NoArgs,
		// Runnable, so that an unknown subcommand is an error, not help.
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	addConfigFlags(cmd.PersistentFlags())
	cmd.AddCommand(a.startCommand(), a.stopCommand(), a.restartCommand(), a.statusCommand())
	if full {
		cmd.AddCommand(a.logsCommand(), a.migrateCommand(), a.doctorCommand(), a.healthcheckCommand())
		cmd.AddCommand(a.teamCommand(), a.projectCommand(), a.apiKeyCommand())
		cmd.AddCommand(a.importCommand(), a.exportCommand(), a.reindexCommand())
	}
	return cmd
}

func (a *app) startCommand() *cobra.Command {
	var foreground bool
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start the server in the background (or attached, with --foreground)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load(cmd)
			if err != nil {
				return err
			}
			if foreground {
				return a.runForeground(cmd.Context(), cfg)
			}
			return a.startBackground(cmd.Context(), cfg, cmd.Flags())
		},
	}
	cmd.Flags().BoolVar(&foreground, "foreground", false, "stay attached: log to stderr and stop on Ctrl-C")
	return cmd
}

// runForeground runs the server in this process until SIGINT or SIGTERM.
func (a *app) runForeground(ctx context.Context, cfg config.Config) error {
	log := hclog.New(&hclog.LoggerOptions{
		Name:   "claude-mem",
		Level:  hclog.LevelFromString(cfg.Log.Level),
		Output: a.stderr,
	})
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find the claude-mem binary to run the bundled plugins from: %w", err)
	}
	lock, err := daemon.Acquire(cfg.DataDir)
	if err != nil {
		return err
	}
	defer func() {
		if err := lock.Release(); err != nil {
			log.Warn("release the data dir lock", "error", err)
		}
	}()

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	startedAt := time.Now()
	srv, err := server.Start(ctx, server.Options{Config: cfg, Self: self, Logger: log})
	if err != nil {
		return err
	}
	port := cfg.Server.Port
	if tcp, ok := srv.Addr().(*net.TCPAddr); ok {
		port = tcp.Port
	}
	if err := lock.Publish(port, startedAt); err != nil {
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		_ = srv.Serve(cancelled) // stops what Start started
		return err
	}
	if err := srv.Serve(ctx); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// startBackground starts a detached `server start --foreground` and waits
// until it answers /healthz, exits, or startWait passes.
func (a *app) startBackground(ctx context.Context, cfg config.Config, fs *pflag.FlagSet) error {
	if pid, port, ok := daemon.Running(cfg.DataDir); ok {
		return &daemon.RunningError{DataDir: cfg.DataDir, PID: pid, Port: port}
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find the claude-mem binary to start: %w", err)
	}
	logFile := logPath(cfg)
	if err := os.MkdirAll(filepath.Dir(logFile), 0o700); err != nil {
		return fmt.Errorf("create the log directory: %w; check that %s is writable, or set CLAUDE_MEM_DATA_DIR", err, filepath.Dir(logFile))
	}
	var logStart int64
	if fi, err := os.Stat(logFile); err == nil {
		logStart = fi.Size()
	}
	args := append([]string{"server", "start", "--foreground"}, forwardedFlags(fs)...)
	proc, err := daemon.Spawn(self, args, logFile)
	if err != nil {
		return err
	}
	exited := make(chan string, 1)
	go func() {
		st, err := proc.Wait()
		if err != nil {
			exited <- err.Error()
			return
		}
		exited <- st.String()
	}()

	addr := dialAddr(cfg.Server.Host, cfg.Server.Port)
	deadline := time.NewTimer(startWait)
	defer deadline.Stop()
	tick := time.NewTicker(startPoll)
	defer tick.Stop()
	for {
		// Healthy, and it is our child that answers: the pid file is written
		// before the server serves its first request.
		if healthy(ctx, addr) {
			if pid, _, ok := daemon.Running(cfg.DataDir); ok && pid == proc.Pid {
				fmt.Fprintf(a.stdout, "claude-mem server started (pid %d) on http://%s; logs: %s\n", proc.Pid, addr, logFile)
				return nil
			}
		}
		select {
		case status := <-exited:
			a.printLogTail(logFile, logStart)
			return fmt.Errorf("the server exited during start-up (%s); the log above says why (full log: %s)", status, logFile)
		case <-deadline.C:
			return fmt.Errorf("the server (pid %d) did not answer on http://%s within %s; it may still be starting: "+
				"check `claude-mem server status` and the log %s, or stop it with `claude-mem server stop`", proc.Pid, addr, startWait, logFile)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// printLogTail prints the last lines the log got since offset, on stderr.
func (a *app) printLogTail(logFile string, offset int64) {
	f, err := os.Open(logFile)
	if err != nil {
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return
	}
	b, err := tailLines(f, offset, fi.Size(), startLogTail)
	if err != nil || len(b) == 0 {
		return
	}
	fmt.Fprintf(a.stderr, "--- last lines of %s ---\n", logFile)
	a.stderr.Write(b)
	if b[len(b)-1] != '\n' {
		fmt.Fprintln(a.stderr)
	}
	fmt.Fprintln(a.stderr, "---")
}

func (a *app) stopCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "stop",
		Short: "Stop the server gracefully (SIGKILL after server.shutdown_timeout + 5s)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load(cmd)
			if err != nil {
				return err
			}
			return a.stop(cmd.Context(), cfg)
		},
	}
}

func (a *app) stop(ctx context.Context, cfg config.Config) error {
	pid, _, ok := daemon.Running(cfg.DataDir)
	if !ok {
		fmt.Fprintln(a.stdout, "claude-mem server is not running")
		return nil
	}
	wait := cfg.Server.ShutdownTimeout + stopMargin
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	forced, err := daemon.Stop(ctx, pid)
	if err != nil {
		return fmt.Errorf("stop the server (pid %d): %w", pid, err)
	}
	daemon.Running(cfg.DataDir) // removes the files a killed server left
	if forced {
		fmt.Fprintf(a.stdout, "claude-mem server (pid %d) did not stop within %s and was killed\n", pid, wait)
		return nil
	}
	fmt.Fprintf(a.stdout, "claude-mem server stopped (pid %d)\n", pid)
	return nil
}

func (a *app) restartCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "restart",
		Short: "Stop the server if it runs, then start it in the background",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load(cmd)
			if err != nil {
				return err
			}
			if err := a.stop(cmd.Context(), cfg); err != nil {
				return err
			}
			return a.startBackground(cmd.Context(), cfg, cmd.Flags())
		},
	}
}

// statusJSON is `server status --json` for a running server.
type statusJSON struct {
	Running       bool         `json:"running"`
	PID           int          `json:"pid"`
	Port          int          `json:"port"`
	Address       string       `json:"address"`
	Version       string       `json:"version"`
	Status        string       `json:"status"`
	UptimeSeconds int64        `json:"uptime_seconds"`
	Engine        string       `json:"engine"`
	Plugins       []pluginJSON `json:"plugins"`
}

type pluginJSON struct {
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	Protocol int    `json:"protocol"`
	State    string `json:"state"`
	Restarts int    `json:"restarts"`
	PID      int    `json:"pid"`
}

func (a *app) statusCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether the server runs, and its plugins (exit code 3 when it does not run)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load(cmd)
			if err != nil {
				return err
			}
			return a.status(cmd.Context(), cfg, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) status(ctx context.Context, cfg config.Config, asJSON bool) error {
	pid, port, ok := daemon.Running(cfg.DataDir)
	if !ok {
		if asJSON {
			fmt.Fprintln(a.stdout, `{"running":false}`)
		} else {
			fmt.Fprintln(a.stdout, "claude-mem server is not running")
		}
		return exitCode(ExitNotRunning)
	}
	if port == 0 {
		port = cfg.Server.Port
	}
	addr := dialAddr(cfg.Server.Host, port)
	info, err := fetchInfo(ctx, addr, a.getenv(EnvAPIKey))
	if err != nil {
		return fmt.Errorf("the server (pid %d) runs but does not answer on http://%s: %w; see `claude-mem server logs`, or restart it with `claude-mem server restart`", pid, addr, err)
	}
	st := statusJSON{
		Running: true, PID: pid, Port: port, Address: "http://" + addr, Version: info.Version, Status: info.Status,
		UptimeSeconds: info.UptimeSeconds, Engine: info.QueueEngine, Plugins: []pluginJSON{},
	}
	for _, p := range info.Plugins {
		st.Plugins = append(st.Plugins, pluginJSON{
			Kind: string(p.Kind), Name: p.Name, Version: p.Version, Protocol: p.Protocol,
			State: string(p.State), Restarts: p.Restarts, PID: p.PID,
		})
	}
	if asJSON {
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s\n", b)
		return nil
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "claude-mem server is running (%s)\n", info.Status)
	fmt.Fprintf(w, "  pid:\t%d\n", pid)
	fmt.Fprintf(w, "  address:\thttp://%s\n", addr)
	fmt.Fprintf(w, "  version:\t%s\n", info.Version)
	fmt.Fprintf(w, "  uptime:\t%s\n", time.Duration(info.UptimeSeconds)*time.Second)
	fmt.Fprintf(w, "  engine:\t%s\n", info.QueueEngine)
	if info.StatusDetail != "" {
		fmt.Fprintf(w, "  detail:\t%s\n", info.StatusDetail)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "  plugins:")
	w = tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "    KIND\tNAME\tVERSION\tSTATE\tRESTARTS\tPID")
	for _, p := range st.Plugins {
		fmt.Fprintf(w, "    %s\t%s\t%s\t%s\t%d\t%d\n", p.Kind, p.Name, p.Version, p.State, p.Restarts, p.PID)
	}
	return w.Flush()
}

// logPath is where a background server logs.
func logPath(cfg config.Config) string {
	if cfg.Log.File != "" {
		return cfg.Log.File
	}
	return filepath.Join(cfg.DataDir, "logs", "server.log")
}

// dialAddr is the address to reach a server listening on host:port; a
// server on every interface is reached on loopback.
func dialAddr(host string, port int) string {
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if ip.To4() != nil {
			host = "127.0.0.1"
		} else {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// httpClient talks to the local server, never through a proxy.
var httpClient = &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}

func healthy(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// fetchInfo reads /v1/info, with key (CLAUDE_MEM_API_KEY) if set: a
// server in api-key mode answers only with one.
func fetchInfo(ctx context.Context, addr, key string) (httpapi.Info, error) {
	ctx, cancel := context.WithTimeout(ctx, infoTimeout)
	defer cancel()
	var info httpapi.Info
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v1/info", nil)
	if err != nil {
		return info, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return info, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return info, fmt.Errorf("GET /v1/info: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return info, fmt.Errorf("GET /v1/info: %w", err)
	}
	return info, nil
}
