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
	home, err := os.UserHomeDir()
	if h := a.getenv("HOME"); h != "" {
		home, err = h, nil
	}
	if err != nil {
		return "", fmt.Errorf("cannot find the home directory: %w; pass --settings", err)
	}
	return installer.SettingsPath(a.getenv, home), nil
}

func (a *app) installCommand() *cobra.Command {
	var agent, hookType, settings, serverURL, keyEnv, command string
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
			"send the key from Claude Code's environment: the settings file names the variable, never the key.",
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
			opts := installer.Options{SettingsPath: path, HookType: installer.HookType(hookType)}
			switch opts.HookType {
			case installer.HookHTTP:
				opts.ServerURL = serverURL
				if opts.ServerURL == "" {
					opts.ServerURL = a.getenv(EnvServerURL)
				}
				if opts.ServerURL == "" {
					opts.ServerURL = "http://" + dialAddr(cfg.Server.Host, cfg.Server.Port)
				}
				opts.ServerURL = strings.TrimRight(opts.ServerURL, "/")
				opts.APIKeyEnv = keyEnv
				if opts.APIKeyEnv == "" && (cfg.Auth.Mode == config.AuthAPIKey || a.getenv(EnvAPIKey) != "") {
					opts.APIKeyEnv = EnvAPIKey
				}
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
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&agent, "agent", agentClaudeCode, "the agent to wire: claude-code")
	f.StringVar(&hookType, "hook-type", string(installer.HookHTTP), "http (Claude Code posts to the server) or command (runs `claude-mem hook`)")
	f.StringVar(&settings, "settings", "", "settings file to edit (default $CLAUDE_CONFIG_DIR/settings.json, else ~/.claude/settings.json)")
	f.StringVar(&serverURL, "url", "", "server URL for HTTP hooks (default $"+EnvServerURL+", else the configured host and port)")
	f.StringVar(&keyEnv, "api-key-env", "", "environment variable holding the API key HTTP hooks send (default "+EnvAPIKey+" when a key is needed)")
	f.StringVar(&command, "command", "", "the claude-mem command for command hooks (default this binary)")
	addConfigFlags(f)
	return cmd
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

// selfCommand is this binary as command hooks should run it: the
// claude-mem on PATH when that is this binary (a stable path across
// upgrades through a symlink), else this binary's own path; quoted for the
// shell.
func selfCommand() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find the claude-mem binary: %w; pass --command", err)
	}
	path := self
	if onPath, err := exec.LookPath("claude-mem"); err == nil {
		if abs, err := filepath.Abs(onPath); err == nil && sameFile(abs, self) {
			path = abs
		}
	}
	return installer.ShellQuote(path), nil
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
	var agent, settings string
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Remove what `claude-mem install` added to Claude Code's settings.json",
		Long: "Remove what `claude-mem install` added to Claude Code's settings.json. When the file is still\n" +
			"as install left it, the original comes back byte for byte; otherwise claude-mem's hooks are\n" +
			"removed and everything else is kept.",
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
			return nil
		},
	}
	cmd.Flags().StringVar(&agent, "agent", agentClaudeCode, "the agent to unwire: claude-code")
	cmd.Flags().StringVar(&settings, "settings", "", "settings file to edit (default $CLAUDE_CONFIG_DIR/settings.json, else ~/.claude/settings.json)")
	return cmd
}
