package mcpserver_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/host/mcpserver"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/search/searchtest"
	"github.com/claude-mem/claude-mem-server/host/server/servertest"
	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

// benchObservations is the size of the memory searched.
const benchObservations = 10_000

// benchHost is a real host in api-key mode holding a generated corpus, a
// read key of its team, and a mix of memory_search calls over it.
type benchHost struct {
	srv     *servertest.Server
	key     string
	queries []map[string]any
}

func startBenchHost(b *testing.B) *benchHost {
	b.Helper()
	srv := servertest.Start(b, servertest.WithConfig(func(cfg *config.Config) {
		cfg.Auth.Mode = config.AuthAPIKey
		cfg.Auth.RateLimitPerMinute = 0
	}))
	ctx := context.Background()
	// The corpus goes straight into the host's store (the search index is
	// kept by triggers); ingesting 10k observations through the API would
	// take minutes and measure nothing of MCP.
	corpus := searchtest.Corpus{Observations: benchObservations}
	if err := corpus.Build(ctx, srv.Store()); err != nil {
		b.Fatal(err)
	}
	k, err := srv.Admin().CreateKey(ctx, access.LocalOwner(), access.CreateKeyRequest{Team: memory.LocalTeam,
		Scopes: []string{auth.ScopeRead}, Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	h := &benchHost{srv: srv, key: k.Secret}
	for _, q := range searchtest.QueryMix(corpus, 200) {
		args := map[string]any{"query": q.Text}
		if q.Project != "" {
			args["project"] = q.Project
		}
		if q.Type != "" {
			args["types"] = []string{q.Type}
		}
		h.queries = append(h.queries, args)
	}
	return h
}

// run calls memory_search through s with the query mix, round robin, once
// per iteration, and reports the calls' latency percentiles.
func (h *benchHost) run(b *testing.B, s *mcp.ClientSession) {
	b.Helper()
	ctx := context.Background()
	call := func(args map[string]any) *mcp.CallToolResult {
		res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "memory_search", Arguments: args})
		if err != nil {
			b.Fatal(err)
		}
		if res.IsError {
			b.Fatalf("memory_search(%v) is a tool error: %v", args, res.Content)
		}
		return res
	}
	// One pass warms the page cache and the key cache, and counts hits.
	hits := 0
	for _, args := range h.queries {
		var obs []json.RawMessage
		if err := json.Unmarshal([]byte(call(args).Content[0].(*mcp.TextContent).Text), &obs); err != nil {
			b.Fatal(err)
		}
		hits += len(obs)
	}
	var lat searchtest.Latencies
	i := 0
	for b.Loop() {
		args := h.queries[i%len(h.queries)]
		i++
		start := time.Now()
		call(args)
		lat = append(lat, time.Since(start))
	}
	lat.Report(b)
	b.ReportMetric(float64(hits)/float64(len(h.queries)), "hits/query")
}

// BenchmarkMCPSearchHTTP is an agent's memory_search over streamable HTTP:
// an SDK client session posting to /v1/mcp with a bearer key.
func BenchmarkMCPSearchHTTP(b *testing.B) {
	h := startBenchHost(b)
	c := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "0"}, nil)
	s, err := c.Connect(context.Background(), mcpserver.ClientTransport(h.srv.Base, h.key), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	h.run(b, s)
}

// BenchmarkMCPSearchStdio is the same through `claude-mem mcp`, the stdio
// proxy agents launch, which forwards each call to /v1/mcp.
func BenchmarkMCPSearchStdio(b *testing.B) {
	h := startBenchHost(b)
	cmd := exec.Command(hosttest.Binary(b), "mcp", "--url", h.srv.Base)
	cmd.Env = append(os.Environ(), "CLAUDE_MEM_API_KEY="+h.key, "CLAUDE_MEM_CONFIG_DIR="+b.TempDir())
	cmd.Stderr = os.Stderr
	c := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "0"}, nil)
	// Closing the session ends the process (stdin closed, then signals).
	s, err := c.Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	h.run(b, s)
}
