package client

import (
	"context"
	"io"
	"net/http"
	"net/url"
)

// Import formats (ImportOptions.Format).
const (
	// FormatClaudeMem is the JSONL of an export.
	FormatClaudeMem = "claude-mem-jsonl"
	// FormatMCPMemory is the MCP memory server's memory.jsonl.
	FormatMCPMemory = "mcp-memory"
)

// Export is POST /v1/export: the caller's whole team as JSONL, streamed.
// The caller reads and closes the stream; a stream that ends without its
// "end" line was cut short. It needs the admin scope.
func (c *Client) Export(ctx context.Context) (io.ReadCloser, error) {
	resp, err := c.send(ctx, request{method: http.MethodPost, path: "/v1/export", accept: "application/x-ndjson"})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// ImportOptions are the query parameters of POST /v1/import. A nil
// *ImportOptions is the defaults.
type ImportOptions struct {
	// Format is FormatClaudeMem (the default) or FormatMCPMemory.
	Format string
	// Project is the project of an FormatMCPMemory import (default
	// "mcp-memory").
	Project string
}

// ImportCounts are the rows of one kind an import read, and what it did
// with them.
type ImportCounts struct {
	Read     int64 `json:"read"`
	Imported int64 `json:"imported"`
	Existing int64 `json:"existing"`
}

// ImportResponse is the answer to POST /v1/import.
type ImportResponse struct {
	Format string `json:"format"`
	// Kinds are the counts by kind: "project", "session", "observation"…
	Kinds map[string]ImportCounts `json:"kinds"`
	// Added is the number of rows added.
	Added int64 `json:"added"`
}

// Import is POST /v1/import: r (an export, or an MCP memory.jsonl) is
// imported into the caller's team in one transaction. Rows the team has
// are skipped, so importing twice adds nothing. opts may be nil.
func (c *Client) Import(ctx context.Context, r io.Reader, opts *ImportOptions) (*ImportResponse, error) {
	q := url.Values{}
	if opts != nil && opts.Format != "" {
		q.Set("format", opts.Format)
	}
	if opts != nil && opts.Project != "" {
		q.Set("project", opts.Project)
	}
	var out ImportResponse
	req := request{method: http.MethodPost, path: "/v1/import", query: q, raw: r, contentType: "application/x-ndjson"}
	if _, err := c.do(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ReindexResponse is the answer to POST /v1/reindex.
type ReindexResponse struct {
	// Indexes are the full-text indexes rebuilt; Rows the rows each now
	// covers.
	Indexes    []string         `json:"indexes"`
	Rows       map[string]int64 `json:"rows"`
	DurationMS int64            `json:"duration_ms"`
}

// Reindex is POST /v1/reindex: it rebuilds the server's full-text indexes.
// It needs the admin scope.
func (c *Client) Reindex(ctx context.Context) (*ReindexResponse, error) {
	var out ReindexResponse
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/reindex"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
