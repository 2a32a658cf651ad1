// Package client is a typed Go client of the claude-mem server's REST v1
// API, for programs that write agent events and read, search and manage
// memory.
//
// It covers every v1 route (docs/client.md has the route → method table)
// and imports nothing of the server: only the standard library and
// sdk/event, whose AgentEvent is the body of PostEvent.
//
//	c, err := client.New("http://127.0.0.1:37700", client.WithAPIKey(os.Getenv("CLAUDE_MEM_API_KEY")))
//	if err != nil {
//		return err
//	}
//	m, err := c.CreateMemory(ctx, client.CreateMemoryRequest{Project: "shop", Text: "Payments retry three times"})
//	if err != nil {
//		return err
//	}
//	res, err := c.Search(ctx, client.SearchRequest{Query: "payments retry"})
//	switch {
//	case client.IsUnauthorized(err):
//		// a missing, unknown or revoked key
//	case err != nil:
//		return err
//	}
//
// # Answers and errors
//
// Methods return the server's JSON answer as a typed value whose fields
// carry the server's JSON names, so encoding one gives back what the
// server sent. Times are time.Time, in UTC. Fields a newer server adds are
// ignored. A non-2xx answer is an *Error with the HTTP status, the server's
// error code (CodeNotFound, …), its message and the request's id; use
// errors.As, or IsNotFound, IsUnauthorized and the other helpers. A 429
// carries Retry-After in Error.RetryAfter. The client does not retry.
//
// Timeouts, proxies and TLS belong to the *http.Client given to
// WithHTTPClient; every method also honours its context.
//
// # MCP
//
// The server's /v1/mcp route speaks the Model Context Protocol, not REST,
// and this package does not wrap it: use an MCP client such as
// github.com/modelcontextprotocol/go-sdk/mcp with its streamable HTTP
// transport, pointed at <base URL>/v1/mcp with the same bearer key.
package client
