package cli

import (
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/hookcli"
	"github.com/claude-mem/claude-mem-server/host/version"
)

// Environment of `claude-mem hook`.
const (
	// EnvServerURL points hooks at a server elsewhere than the configured
	// host and port (claude-mem's name for the server runtime's URL).
	EnvServerURL = "CLAUDE_MEM_SERVER_URL"
	// EnvAPIKey is the API key hooks send; EnvServerAPIKey is claude-mem's
	// name for it, read when EnvAPIKey is unset.
	EnvAPIKey       = "CLAUDE_MEM_API_KEY"
	EnvServerAPIKey = "CLAUDE_MEM_SERVER_API_KEY"
)

// hookCommand is `claude-mem hook <adapter> <event>`: the command hook.
// Whatever happens it exits 0; see package hookcli.
func (a *app) hookCommand() *cobra.Command {
	var (
		serverURL string
		timeout   time.Duration
		verbose   bool
	)
	cmd := &cobra.Command{
		Use:   "hook <adapter> <event>",
		Short: "Send one agent hook to the server (a command hook: payload on stdin, reply on stdout)",
		Long: "Send one agent hook to the server: the hook's JSON payload is read on stdin, posted to\n" +
			"/v1/hooks/<adapter>/<event>, and the reply the adapter renders is printed on stdout.\n\n" +
			"It never blocks the agent: when the server is unreachable, slow or failing it exits 0\n" +
			"and prints nothing. Adapters: claude-code (events SessionStart, UserPromptSubmit,\n" +
			"PreToolUse, PostToolUse, PostToolUseFailure, Stop, SubagentStop, SessionEnd) and generic.\n\n" +
			"The server is --url, else $" + EnvServerURL + ", else the configured host and port.\n" +
			"An API key in $" + EnvAPIKey + " is sent as a bearer token.",
		Example: `  echo '{"session_id":"s1","cwd":"/src/app","hook_event_name":"Stop"}' | claude-mem hook claude-code Stop`,
		// Checked in RunE: a hook wired with the wrong arguments must not
		// fail the agent's hook either.
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				a.stderr.Write([]byte("claude-mem hook: want 2 arguments, <adapter> <event>, e.g. `claude-mem hook claude-code Stop`\n"))
				return nil
			}
			base, err := a.hookServer(serverURL)
			if err != nil {
				// A broken config must not break the agent either.
				a.stderr.Write([]byte("claude-mem hook: " + err.Error() + "\n"))
				return nil
			}
			hookcli.Run(cmd.Context(), hookcli.Options{
				BaseURL: base, Adapter: args[0], Event: args[1], APIKey: a.hookAPIKey(),
				UserAgent: "claude-mem-hook/" + version.Version,
				Stdin:     cmd.InOrStdin(), Stdout: a.stdout, Stderr: a.stderr, Verbose: verbose, Timeout: timeout,
			})
			return nil
		},
	}
	cmd.Flags().StringVar(&serverURL, "url", "", "server URL (default $"+EnvServerURL+", else http://<server.host>:<server.port>)")
	cmd.Flags().DurationVar(&timeout, "timeout", hookcli.DefaultTimeout, "give up on the server after this long")
	cmd.Flags().BoolVar(&verbose, "verbose", false, "say on stderr why a hook was skipped")
	// A flag error must not fail the hook: report it and exit 0.
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		a.stderr.Write([]byte("claude-mem hook: " + err.Error() + "\n"))
		return exitCode(ExitOK)
	})
	return cmd
}

// hookServer is the base URL hooks post to.
func (a *app) hookServer(flag string) (string, error) {
	if u := strings.TrimSpace(flag); u != "" {
		return u, nil
	}
	if u := strings.TrimSpace(a.getenv(EnvServerURL)); u != "" {
		return u, nil
	}
	cfg, err := config.Load(config.LoadOptions{Env: a.environ})
	if err != nil {
		return "", err
	}
	return "http://" + dialAddr(cfg.Server.Host, cfg.Server.Port), nil
}

func (a *app) hookAPIKey() string {
	if k := a.getenv(EnvAPIKey); k != "" {
		return k
	}
	return a.getenv(EnvServerAPIKey)
}

// getenv reads the command's environment (the last value of a name wins,
// as in config.Load).
func (a *app) getenv(name string) string {
	v := ""
	for _, kv := range a.environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	if a.environ == nil {
		v = os.Getenv(name)
	}
	return v
}
