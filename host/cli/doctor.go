package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/daemon"
	"github.com/claude-mem/claude-mem-server/host/server"
	"github.com/claude-mem/claude-mem-server/host/supervisor"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
)

// checkResult is one doctor check.
type checkResult struct {
	name   string
	detail string
	fix    string // set when the check failed
	failed bool
}

func pass(name, detail string) checkResult { return checkResult{name: name, detail: detail} }

func fail(name, detail, fix string) checkResult {
	return checkResult{name: name, detail: detail, fix: fix, failed: true}
}

func (a *app) doctorCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check the config, data dir, port, plugins and Valkey; each failure says how to fix it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.doctor(cmd.Context(), cmd)
		},
	}
}

func (a *app) doctor(ctx context.Context, cmd *cobra.Command) error {
	failed := 0
	emit := func(r checkResult) {
		if r.failed {
			failed++
			fmt.Fprintf(a.stdout, "FAIL %s: %s — fix: %s\n", r.name, r.detail, r.fix)
			return
		}
		fmt.Fprintf(a.stdout, "PASS %s: %s\n", r.name, r.detail)
	}

	cfg, err := a.load(cmd)
	if err != nil {
		emit(fail("config", err.Error(), "correct the file, variable or flag named above, then run `claude-mem server doctor` again"))
		return exitCode(ExitFailure) // every other check needs the config
	}
	emit(checkConfig(cfg))
	emit(checkDataDir(cfg))
	emit(checkPort(cfg))
	for _, r := range checkPlugins(ctx, cfg) {
		emit(r)
	}
	if failed > 0 {
		fmt.Fprintf(a.stdout, "%d check(s) failed\n", failed)
		return exitCode(ExitFailure)
	}
	fmt.Fprintln(a.stdout, "all checks passed")
	return nil
}

func checkConfig(cfg config.Config) checkResult {
	r := cfg.Redacted()
	file := r.ConfigFile()
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		file += " (not present: defaults and environment)"
	}
	engine := r.EngineName()
	if engine == config.EngineValkey {
		engine += " at " + r.Queue.RedisURL
	}
	return pass("config", fmt.Sprintf("loaded %s; engine %s, address %s, data dir %s", file, engine, r.Addr(), r.DataDir))
}

func checkDataDir(cfg config.Config) checkResult {
	const name = "data dir"
	fix := fmt.Sprintf("make %s a directory writable by this user (uid %d), or point CLAUDE_MEM_DATA_DIR at one", cfg.DataDir, os.Getuid())
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fail(name, "cannot create it: "+err.Error(), fix)
	}
	f, err := os.CreateTemp(cfg.DataDir, ".doctor-*")
	if err != nil {
		return fail(name, "not writable: "+err.Error(), fix)
	}
	f.Close()
	os.Remove(f.Name())
	return pass(name, cfg.DataDir+" exists and is writable")
}

func checkPort(cfg config.Config) checkResult {
	name := "port " + strconv.Itoa(cfg.Server.Port)
	if pid, port, ok := daemon.Running(cfg.DataDir); ok && port == cfg.Server.Port {
		return pass(name, fmt.Sprintf("held by the running claude-mem server (pid %d)", pid))
	}
	l, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fail(name, fmt.Sprintf("cannot listen on %s: %s", cfg.Addr(), err),
			"stop the program using the port (`ss -ltnp` shows it), or choose another port with CLAUDE_MEM_SERVER_PORT or --port")
	}
	l.Close()
	return pass(name, cfg.Addr()+" is free")
}

// checkPlugins verifies the external plugins' checksums, then launches
// every plugin this config runs, as the server would, and stops it again.
// Launching includes the handshake, the protocol negotiation and Configure,
// where queue-valkey checks that Valkey answers and does not evict.
func checkPlugins(ctx context.Context, cfg config.Config) []checkResult {
	self, err := os.Executable()
	if err != nil {
		return []checkResult{fail("plugins", "cannot find the claude-mem binary: "+err.Error(), "run claude-mem from an installed binary")}
	}
	specs, err := server.PluginSpecs(cfg, self)
	if err != nil {
		return []checkResult{fail("plugins", err.Error(), "reinstall claude-mem; the bundled plugins ship inside its binary")}
	}
	results := make([]checkResult, 2*len(specs))
	sup := supervisor.New(supervisor.Options{
		DataDir: cfg.DataDir, StartTimeout: cfg.Plugins.StartTimeout, Logger: hclog.NewNullLogger(),
	})
	defer sup.Stop()
	var wg sync.WaitGroup
	for i, spec := range specs {
		if spec.SHA256 != "" {
			name := fmt.Sprintf("checksum %s/%s", spec.Kind, spec.Name)
			if err := supervisor.VerifyChecksum(spec.Path, spec.SHA256); err != nil {
				results[2*i] = fail(name, err.Error(), checksumFix(cfg, spec))
				continue // the supervisor would refuse it too
			}
			results[2*i] = pass(name, spec.Path+" matches the pinned sha256")
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, 2*cfg.Plugins.StartTimeout)
			defer cancel()
			results[2*i+1] = launch(ctx, sup, cfg, spec)
		})
	}
	wg.Wait()
	var out []checkResult
	for _, r := range results {
		if r.name != "" {
			out = append(out, r)
		}
	}
	return out
}

func launch(ctx context.Context, sup *supervisor.Supervisor, cfg config.Config, spec supervisor.Spec) checkResult {
	name := fmt.Sprintf("plugin %s/%s", spec.Kind, spec.Name)
	valkey := spec.Kind == plugin.KindQueue && cfg.EngineName() == config.EngineValkey && spec.SHA256 == ""
	if valkey {
		name += " (valkey " + cfg.Redacted().Queue.RedisURL + ")"
	}
	p, err := sup.Start(ctx, spec)
	if err != nil {
		return fail(name, err.Error(), launchFix(cfg, spec, valkey))
	}
	st := p.Status()
	detail := fmt.Sprintf("version %s, protocol %d, handshake and configure ok (pid %d)", st.Version, st.Protocol, st.PID)
	if valkey {
		detail += "; Valkey is reachable and its maxmemory-policy is noeviction"
	}
	return pass(name, detail)
}

func launchFix(cfg config.Config, spec supervisor.Spec, valkey bool) string {
	switch {
	case valkey:
		return fmt.Sprintf("start Valkey at %s (for example `docker compose up -d valkey`) with maxmemory-policy noeviction, "+
			"or point CLAUDE_MEM_REDIS_URL at one, or use the embedded engine with CLAUDE_MEM_QUEUE_ENGINE=sqlite",
			cfg.Redacted().Queue.RedisURL)
	case spec.SHA256 == "":
		return "this bundled plugin ships inside the claude-mem binary: reinstall claude-mem, and check the data dir's permissions"
	default:
		return fmt.Sprintf("check that %s is a claude-mem %s plugin built against a protocol version this host supports (%s), or remove it from plugins.external in %s",
			spec.Path, spec.Kind, joinInts(supervisor.Supported[spec.Kind]), cfg.ConfigFile())
	}
}

func checksumFix(cfg config.Config, spec supervisor.Spec) string {
	return fmt.Sprintf("if you installed a new build of %s on purpose, put its `sha256sum` in plugins.external (%s); otherwise reinstall the plugin you trust",
		spec.Name, cfg.ConfigFile())
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
