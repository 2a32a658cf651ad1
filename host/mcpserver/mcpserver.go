// Package mcpserver serves the host's memory over the Model Context
// Protocol (github.com/modelcontextprotocol/go-sdk), at POST /v1/mcp as a
// stateless streamable HTTP endpoint, under the same authentication and
// scoping as REST v1.
//
// Its tools go through the same host core as REST: memory_add,
// memory_record_decision, memory_search, memory_list_recent,
// memory_context and memory_forget are dispatched in process to the
// host/restapi handlers (restapi.API.Handler) with the caller's request
// context, so validation, privacy filtering, team and project scoping and
// audit annotation are REST's own. claude-mem's search, timeline and
// get_observations (behaviour §6.3) call host/search directly, scoped to
// the caller's team (access.PrincipalFrom) and bound project
// (access.ProjectFilter, access.ProjectAllowed), and annotate the audit
// entry with the memories they return.
//
// The route requires memories:read; tools that write check
// memories:write themselves and answer a tool error to a read-only key.
package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/store"
	"github.com/claude-mem/claude-mem-server/host/version"
	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

// Path is the route of the streamable HTTP endpoint.
const Path = "/v1/mcp"

// Options configure the server.
type Options struct {
	Store *store.Store
	// REST is host/restapi's handler (restapi.API.Handler).
	REST http.Handler
}

// Mount adds POST /v1/mcp to r. Its scope is declared in access.Routes.
//
// One server, tools and schemas included, serves every request. A tool
// call still runs as its own caller: in stateless mode the SDK connects a
// session per HTTP request with the request's context, and jsonrpc2 derives
// each handler's context from it (its values, not its cancellation), so the
// principal, bound project and audit entry the access middleware put there
// reach the tool (go-sdk v1.8.0 mcp/streamable.go serveStateless,
// internal/jsonrpc2/conn.go NewConnection).
func Mount(r chi.Router, opts Options) {
	s := NewServer(opts)
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	r.Method(http.MethodPost, Path, h)
}

// NewServer returns the MCP server with every tool. A tool call's
// identity is the principal of its context, which the SDK derives from
// the HTTP request.
func NewServer(opts Options) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "claude-mem-server", Version: version.Version}, nil)
	t := &tools{opts: opts}
	t.register(s)
	return s
}

type tools struct {
	opts Options
}

// errResult is a tool error: the model sees the text.
func errResult(format string, args ...any) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf(format, args...)}}}
}

func textResult(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

func jsonResult(v any) *mcp.CallToolResult {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return errResult("encoding the result: %v", err)
	}
	return textResult(string(b))
}

// principal returns the caller, failing closed.
func principal(ctx context.Context) (auth.Principal, error) {
	p, ok := access.PrincipalFrom(ctx)
	if !ok || p.TeamID == "" {
		return auth.Principal{}, access.ErrNoPrincipal
	}
	return p, nil
}

// canWrite answers a tool error unless the caller may write.
func canWrite(ctx context.Context) *mcp.CallToolResult {
	p, err := principal(ctx)
	if err != nil {
		return errResult("%v", err)
	}
	if !p.Has(auth.ScopeWrite) {
		return errResult("this key lacks the %s scope, which this tool requires", auth.ScopeWrite)
	}
	return nil
}

// restError is a REST error body.
type restError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// rest calls a host/restapi route in process with ctx (and so with its
// caller's identity and audit entry). It decodes a 2xx answer into out;
// any other answer is returned as a tool error.
func (t *tools) rest(ctx context.Context, method, path string, body, out any) *mcp.CallToolResult {
	b, err := json.Marshal(body)
	if err != nil {
		return errResult("encoding the request: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, bytes.NewReader(b))
	if err != nil {
		return errResult("%v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	var w response
	t.opts.REST.ServeHTTP(&w, req)
	code := w.status()
	if code >= 200 && code < 300 {
		if out != nil {
			if err := json.Unmarshal(w.body.Bytes(), out); err != nil {
				return errResult("decoding the answer: %v", err)
			}
		}
		return nil
	}
	var e restError
	if json.Unmarshal(w.body.Bytes(), &e) == nil && e.Error.Message != "" {
		return errResult("%s (%d %s)", e.Error.Message, code, e.Error.Code)
	}
	return errResult("%d %s", code, strings.TrimSpace(w.body.String()))
}

// response is the answer of a REST handler called in process: its status,
// headers and body, kept in memory.
type response struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (w *response) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}

// WriteHeader keeps the first status, as net/http does.
func (w *response) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *response) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

// status is the answer's status: 200 if the handler wrote none.
func (w *response) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// parseDate reads a date filter: RFC 3339, a date, or epoch milliseconds.
func parseDate(s, field string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	var ms int64
	if _, err := fmt.Sscan(s, &ms); err == nil && ms > 0 {
		return time.UnixMilli(ms).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%s=%q is not a date (2026-05-01, RFC 3339 or epoch ms)", field, s)
}
