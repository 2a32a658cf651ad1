package cli

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/installer"
)

// agentClaudeCode is the one agent install knows.
const agentClaudeCode = "claude-code"

func checkAgent(agent string) error {
	if agent != agentClaudeCode {
		return fmt.Errorf("agent %q is not supported; use --agent %s (other agents post to /v1/hooks/generic/<event> or run `claude-mem hook generic <event>`; see docs/generic-events.md)", agent, agentClaudeCode)
	}
	return nil
}

// settingsFile is the settings file to edit: --settings, else Claude
// Code's user settings.
func (a *app) settingsFile(flag string) (string, error) {
	if flag != "" {
		return filepath.Abs(flag)
	}
	home, err := a.home()
	if err != nil {
		return "", fmt.Errorf("%w; pass --settings", err)
	}
	return installer.SettingsPath(a.getenv, home), nil
}

func (a *app) home() (string, error) {
	if h := a.getenv("HOME"); h != "" {
		return h, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the home directory: %w", err)
	}
	return home, nil
}

// MCP scopes: where Claude Code reads the MCP server from.
const (
	mcpScopeUser    = "user"
	mcpScopeProject = "project"
)

// mcpFile is the file to register the MCP server in, and its scope. The
// scope follows the hooks' settings file unless --mcp-scope says: a
// project's .claude/settings*.json means that project's .mcp.json, any
// other settings file the user's ~/.claude.json ($CLAUDE_CONFIG_DIR's when
// set, as Claude Code reads it). A project scope without such a settings
// file is the current directory's project.
func (a *app) mcpFile(scope, settings string) (string, string, error) {
	home, err := a.home()
	if err != nil {
		return "", "", fmt.Errorf("%w; pass --mcp=false to skip the MCP server", err)
	}
	project := settingsProject(settings, home, a.getenv("CLAUDE_CONFIG_DIR"))
	if scope == "" {
		scope = mcpScopeUser
		if project != "" {
			scope = mcpScopeProject
		}
	}
	switch scope {
	case mcpScopeUser:
		return installer.MCPUserPath(a.getenv, home), scope, nil
	case mcpScopeProject:
		if project == "" {
			if project, err = os.Getwd(); err != nil {
				return "", "", fmt.Errorf("cannot find the current directory: %w; run it in the project", err)
			}
		}
		return installer.MCPProjectPath(project), scope, nil
	}
	return "", "", fmt.Errorf("--mcp-scope %q is not user or project", scope)
}

// settingsProject is the project whose settings file path is
// (<project>/.claude/settings.json or settings.local.json), or "".
func settingsProject(path, home, configDir string) string {
	if path == "" {
		return ""
	}
	dir := filepath.Dir(path)
	if filepath.Base(dir) != ".claude" || !strings.HasPrefix(filepath.Base(path), "settings") {
		return ""
	}
	if configDir != "" && sameFile(dir, configDir) || sameFile(dir, filepath.Join(home, ".claude")) {
		return ""
	}
	return filepath.Dir(dir)
}

func (a *app) installCommand() *cobra.Command {
	var agent, hookType, settings, serverURL, keyEnv, command string
	var mcp mcpFlags
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Write claude-mem's hooks into Claude Code's settings.json (HTTP hooks by default)",
		Long: "Write claude-mem's hooks into Claude Code's settings.json: $CLAUDE_CONFIG_DIR/settings.json,\n" +
			"else ~/.claude/settings.json. The file is merged, not replaced: other keys and hooks stay.\n" +
			"A timestamped backup is taken first; running it again changes nothing; `claude-mem uninstall`\n" +
			"removes exactly what it added.\n\n" +
			"--hook-type http (the default) has Claude Code post each event to the server: no process\n" +
			"per event. --hook-type command runs `claude-mem hook claude-code <Event>` instead, for Claude\n" +
			"Code versions without HTTP hooks.\n\n" +
			"When the server requires API keys (auth.mode api-key, or $" + EnvAPIKey + " is set), HTTP hooks\n" +
			"send the key from Claude Code's environment: the settings file names the variable, never the key.\n\n" +
			"It also registers claude-mem's MCP server (named claude-mem) for Claude Code, with the same\n" +
			"guarantees: in ~/.claude.json (user scope; $CLAUDE_CONFIG_DIR/.claude.json when set) or, with\n" +
			"--mcp-scope project (the default when --settings is a project's .claude/settings.json), in the\n" +
			"project's .mcp.json. --mcp-transport stdio (the default) runs this binary's `claude-mem mcp`;\n" +
			"http points Claude Code at the server's /v1/mcp. The entry holds ${" + EnvAPIKey + "}, never the\n" +
			"key. --mcp=false skips it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkAgent(agent); err != nil {
				return err
			}
			path, err := a.settingsFile(settings)
			if err != nil {
				return err
			}
			cfg, err := a.load(cmd)
			if err != nil {
				return err
			}
			base := serverURL
			if base == "" {
				base = a.getenv(EnvServerURL)
			}
			if base == "" {
				base = "http://" + dialAddr(cfg.Server.Host, cfg.Server.Port)
			}
			base = strings.TrimRight(base, "/")
			if keyEnv == "" && (cfg.Auth.Mode == config.AuthAPIKey || a.getenv(EnvAPIKey) != "") {
				keyEnv = EnvAPIKey
			}
			var mcpOpts installer.MCPOptions
			var scope string
			if mcp.enabled {
				if mcpOpts, scope, err = a.mcpOptions(mcp, settings, path, base, keyEnv); err != nil {
					return err
				}
			}
			opts := installer.Options{SettingsPath: path, HookType: installer.HookType(hookType)}
			switch opts.HookType {
			case installer.HookHTTP:
				opts.ServerURL, opts.APIKeyEnv = base, keyEnv
			case installer.HookCommand:
				opts.Command = command
				if opts.Command == "" {
					if opts.Command, err = selfCommand(); err != nil {
						return err
					}
				}
			default:
				return fmt.Errorf("--hook-type %q is not http or command", hookType)
			}
			res, err := installer.Install(opts)
			if err != nil {
				return err
			}
			a.reportInstall(cmd.Context(), opts, res)
			if !mcp.enabled {
				return nil
			}
			mres, err := installer.InstallMCP(mcpOpts)
			if err != nil {
				return fmt.Errorf("the hooks are installed, but the MCP server is not: %w", err)
			}
			a.reportMCPInstall(mcpOpts, scope, mres)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&agent, "agent", agentClaudeCode, "the agent to wire: claude-code")
	f.StringVar(&hookType, "hook-type", string(installer.HookHTTP), "http (Claude Code posts to the server) or command (runs `claude-mem hook`)")
	f.StringVar(&settings, "settings", "", "settings file to edit (default $CLAUDE_CONFIG_DIR/settings.json, else ~/.claude/settings.json)")
	f.StringVar(&serverURL, "url", "", "server URL for HTTP hooks and the MCP server (default $"+EnvServerURL+", else the configured host and port)")
	f.StringVar(&keyEnv, "api-key-env", "", "environment variable holding the API key HTTP hooks and the MCP server send (default "+EnvAPIKey+" when a key is needed)")
	f.StringVar(&command, "command", "", "the claude-mem command for command hooks (default this binary)")
	f.BoolVar(&mcp.enabled, "mcp", true, "also register claude-mem's MCP server for Claude Code (--mcp=false to skip)")
	f.StringVar(&mcp.transport, "mcp-transport", string(installer.TransportStdio), "stdio (Claude Code runs `claude-mem mcp`) or http (Claude Code posts to the server's /v1/mcp)")
	f.StringVar(&mcp.scope, "mcp-scope", "", "user (~/.claude.json) or project (<project>/.mcp.json) (default: project when --settings is a project's .claude/settings.json, else user)")
	f.BoolVar(&mcp.replace, "mcp-replace", false, "replace an MCP server named claude-mem that install did not write (uninstall puts it back)")
	addConfigFlags(f)
	return cmd
}

// mcpFlags are install's MCP server flags.
type mcpFlags struct {
	enabled, replace bool
	transport, scope string
}

// mcpOptions is the MCP registration the flags ask for. A bad flag fails
// here, before install changes any file.
func (a *app) mcpOptions(f mcpFlags, settingsFlag, settings, base, keyEnv string) (installer.MCPOptions, string, error) {
	opts := installer.MCPOptions{Transport: installer.Transport(f.transport), ServerURL: base, APIKeyEnv: keyEnv, Replace: f.replace}
	switch opts.Transport {
	case installer.TransportStdio:
		self, err := selfPath()
		if err != nil {
			return opts, "", fmt.Errorf("%w; pass --mcp-transport http, or --mcp=false", err)
		}
		opts.Command = self
	case installer.TransportHTTP:
	default:
		return opts, "", fmt.Errorf("--mcp-transport %q is not stdio or http", f.transport)
	}
	// The scope follows --settings only when it was given.
	if settingsFlag == "" {
		settings = ""
	}
	path, scope, err := a.mcpFile(f.scope, settings)
	if err != nil {
		return opts, "", err
	}
	opts.Path = path
	return opts, scope, nil
}

func (a *app) reportMCPInstall(opts installer.MCPOptions, scope string, res installer.Result) {
	if !res.Changed {
		fmt.Fprintf(a.stdout, "claude-mem's MCP server is already registered in %s; nothing changed\n", res.SettingsPath)
		return
	}
	target := opts.ServerURL + "/v1/mcp"
	if opts.Transport == installer.TransportStdio {
		target = opts.Command + " mcp --url " + opts.ServerURL
	}
	fmt.Fprintf(a.stdout, "registered claude-mem's MCP server for Claude Code in %s (%s scope)\n", res.SettingsPath, scope)
	fmt.Fprintf(a.stdout, "  name: %s\n  %s: %s\n", installer.MCPServerName, opts.Transport, target)
	if res.Backup != "" {
		fmt.Fprintf(a.stdout, "  backup: %s\n", res.Backup)
	}
	if opts.APIKeyEnv != "" {
		fmt.Fprintf(a.stdout, "  API key: ${%s}, expanded by Claude Code from its environment (the file holds no key)\n", opts.APIKeyEnv)
	}
	fmt.Fprintln(a.stdout, "Claude Code starts it in its next session (check with `claude mcp list`).")
}

func (a *app) reportInstall(ctx context.Context, opts installer.Options, res installer.Result) {
	kind := "HTTP"
	target := opts.ServerURL + "/v1/hooks/claude-code/<Event>"
	if opts.HookType == installer.HookCommand {
		kind, target = "command", opts.Command+" hook claude-code <Event>"
	}
	if !res.Changed {
		fmt.Fprintf(a.stdout, "claude-mem %s hooks are already installed in %s; nothing changed\n", kind, res.SettingsPath)
		return
	}
	fmt.Fprintf(a.stdout, "installed claude-mem %s hooks for Claude Code in %s\n", kind, res.SettingsPath)
	fmt.Fprintf(a.stdout, "  events: %s\n  target: %s\n", strings.Join(res.Events, ", "), target)
	if res.Backup != "" {
		fmt.Fprintf(a.stdout, "  backup: %s\n", res.Backup)
	}
	if opts.APIKeyEnv != "" {
		fmt.Fprintf(a.stdout, "  API key: read from $%s in Claude Code's environment (the file holds no key)\n", opts.APIKeyEnv)
		if a.getenv(opts.APIKeyEnv) == "" {
			fmt.Fprintf(a.stdout, "  note: $%s is not set here; set it where Claude Code runs, or the server answers 401 (which blocks nothing)\n", opts.APIKeyEnv)
		}
	}
	if opts.HookType == installer.HookHTTP && !reachable(ctx, opts.ServerURL) {
		fmt.Fprintf(a.stdout, "  note: no server answers at %s yet; start it with `claude-mem server start` (until then the hooks do nothing and block nothing)\n", opts.ServerURL)
	}
	fmt.Fprintln(a.stdout, "Claude Code loads them in its next session. Undo with `claude-mem uninstall`.")
}

// reachable reports whether a server answers /healthz at base.
func reachable(ctx context.Context, base string) bool {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
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

// selfCommand is selfPath as command hooks run it: quoted for the shell.
func selfCommand() (string, error) {
	path, err := selfPath()
	if err != nil {
		return "", fmt.Errorf("%w; pass --command", err)
	}
	return installer.ShellQuote(path), nil
}

// selfPath is this binary's absolute path as Claude Code should run it:
// the claude-mem on PATH when that is this binary (a stable path across
// upgrades through a symlink), else this binary's own path.
func selfPath() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find the claude-mem binary: %w", err)
	}
	path := self
	if onPath, err := exec.LookPath("claude-mem"); err == nil {
		if abs, err := filepath.Abs(onPath); err == nil && sameFile(abs, self) {
			path = abs
		}
	}
	return path, nil
}

func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

func (a *app) uninstallCommand() *cobra.Command {
	var agent, settings, mcpScope string
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Remove what `claude-mem install` added to Claude Code's settings.json and MCP servers",
		Long: "Remove what `claude-mem install` added to Claude Code's settings.json. When the file is still\n" +
			"as install left it, the original comes back byte for byte; otherwise claude-mem's hooks are\n" +
			"removed and everything else is kept. The MCP server install registered goes the same way, from\n" +
			"the file --mcp-scope picks (as for install); an entry install did not write, or one changed\n" +
			"since, is left alone.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkAgent(agent); err != nil {
				return err
			}
			path, err := a.settingsFile(settings)
			if err != nil {
				return err
			}
			res, err := installer.Uninstall(path)
			if err != nil {
				return err
			}
			switch {
			case res.Removed:
				fmt.Fprintf(a.stdout, "removed %s, which claude-mem install had created\n", path)
			case res.Restored:
				fmt.Fprintf(a.stdout, "restored %s as it was before claude-mem install\n", path)
			case res.Changed:
				fmt.Fprintf(a.stdout, "removed claude-mem's hooks (%s) from %s; your other changes are kept (backup: %s)\n",
					strings.Join(res.Events, ", "), path, res.Backup)
			default:
				fmt.Fprintf(a.stdout, "no claude-mem hooks in %s; nothing changed\n", path)
			}
			if settings == "" {
				path = ""
			}
			mcpPath, _, err := a.mcpFile(mcpScope, path)
			if err != nil {
				return err
			}
			mres, err := installer.UninstallMCP(mcpPath)
			if err != nil {
				return fmt.Errorf("the hooks are removed, but the MCP server is not: %w", err)
			}
			switch {
			case mres.Removed:
				fmt.Fprintf(a.stdout, "removed %s, which claude-mem install had created for its MCP server\n", mcpPath)
			case mres.Restored:
				fmt.Fprintf(a.stdout, "restored %s as it was before claude-mem install\n", mcpPath)
			case mres.Changed:
				fmt.Fprintf(a.stdout, "removed claude-mem's MCP server from %s; your other changes are kept (backup: %s)\n", mcpPath, mres.Backup)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&agent, "agent", agentClaudeCode, "the agent to unwire: claude-code")
	cmd.Flags().StringVar(&settings, "settings", "", "settings file to edit (default $CLAUDE_CONFIG_DIR/settings.json, else ~/.claude/settings.json)")
	cmd.Flags().StringVar(&mcpScope, "mcp-scope", "", "where install registered the MCP server: user or project (default as for install)")
	return cmd
}
