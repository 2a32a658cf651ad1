package cli

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/claude-mem/claude-mem-server/host/mcpserver"
)

// mcpCommand is `claude-mem mcp`: a stdio MCP server for agents that
// forwards every tool call to the configured server's /v1/mcp endpoint
// with $CLAUDE_MEM_API_KEY. It never opens the data directory.
func (a *app) mcpCommand() *cobra.Command {
	var serverURL string
	cmd := &cobra.Command{
		Use:   "mcp",
		Short: "Serve the server's memory tools to an agent over stdio (MCP)",
		Long: "Serve the claude-mem server's MCP tools (memory_add, memory_search, search, timeline, ...) over stdio,\n" +
			"forwarding each call to the server's /v1/mcp endpoint.\n" +
			"The server is --url, else $" + EnvServerURL + ", else the configured host and port;\n" +
			"the key is $" + EnvAPIKey + ".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			base, err := a.hookServer(serverURL)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			srv, closeRemote, err := mcpserver.NewProxy(ctx, base, a.hookAPIKey())
			if err != nil {
				return err
			}
			defer func() { _ = closeRemote() }()
			return srv.Run(ctx, &mcp.StdioTransport{})
		},
	}
	cmd.Flags().StringVar(&serverURL, "url", "", "server URL (default $"+EnvServerURL+", else http://<server.host>:<server.port>)")
	return cmd
}
