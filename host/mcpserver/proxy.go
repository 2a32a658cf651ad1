package mcpserver

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/claude-mem/claude-mem-server/host/version"
)

// bearer adds the API key to every request.
type bearer struct {
	key  string
	next http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if b.key == "" {
		return b.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.next.RoundTrip(r)
}

// ClientTransport is the SDK's streamable HTTP client transport for the
// server at base (http://host:port), authenticated with key (if set).
func ClientTransport(base, key string) *mcp.StreamableClientTransport {
	return &mcp.StreamableClientTransport{
		Endpoint:             strings.TrimRight(base, "/") + Path,
		HTTPClient:           &http.Client{Transport: bearer{key: key, next: http.DefaultTransport}},
		DisableStandaloneSSE: true, // the endpoint is stateless: POST only
		MaxRetries:           -1,
	}
}

// NewProxy connects to the server at base with key and returns a local
// MCP server listing the remote tools, each call forwarded to the remote
// endpoint (claude-mem mcp serves it over stdio). It never touches the
// store. close ends the remote session.
func NewProxy(ctx context.Context, base, key string) (srv *mcp.Server, close func() error, err error) {
	client := mcp.NewClient(&mcp.Implementation{Name: "claude-mem-mcp", Version: version.Version}, nil)
	remote, err := client.Connect(ctx, ClientTransport(base, key), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("mcp: connecting to %s%s: %w", base, Path, err)
	}
	srv = mcp.NewServer(&mcp.Implementation{Name: "claude-mem", Version: version.Version}, nil)
	for tool, err := range remote.Tools(ctx, nil) {
		if err != nil {
			_ = remote.Close()
			return nil, nil, fmt.Errorf("mcp: listing the tools of %s%s: %w", base, Path, err)
		}
		srv.AddTool(tool, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			res, err := remote.CallTool(ctx, &mcp.CallToolParams{Name: req.Params.Name, Arguments: req.Params.Arguments})
			if err != nil {
				return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{
					Text: fmt.Sprintf("Error calling the claude-mem server at %s: %v", base, err)}}}, nil
			}
			return res, nil
		})
	}
	return srv, remote.Close, nil
}
