package installer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"
)

// Transport is how Claude Code talks to claude-mem's MCP server.
type Transport string

// Transports.
const (
	// TransportStdio: Claude Code runs `claude-mem mcp`, which forwards
	// every call to the server.
	TransportStdio Transport = "stdio"
	// TransportHTTP: Claude Code posts to the server's /v1/mcp.
	TransportHTTP Transport = "http"
)

// MCPServerName is the name claude-mem's MCP server is registered under.
const MCPServerName = "claude-mem"

// MCPOptions configure InstallMCP.
type MCPOptions struct {
	// Path is the file holding Claude Code's MCP servers: MCPUserPath or
	// MCPProjectPath. Required.
	Path string
	// Name defaults to MCPServerName.
	Name string
	// Transport defaults to TransportStdio.
	Transport Transport
	// Command is the absolute path of the claude-mem binary. Required for
	// TransportStdio.
	Command string
	// ServerURL is the server's base URL, e.g. http://127.0.0.1:37700.
	// Required.
	ServerURL string
	// APIKeyEnv, when set, is the environment variable holding the API
	// key. The entry holds ${APIKeyEnv}, which Claude Code expands from its
	// environment; never the key.
	APIKeyEnv string
	// Replace overwrites an entry of the same name install did not write;
	// uninstall puts it back.
	Replace bool
	// Now is the clock of backup names. Default: time.Now.
	Now func() time.Time
}

// MCPUserPath is Claude Code's user-scope MCP file:
// $CLAUDE_CONFIG_DIR/.claude.json, else ~/.claude.json.
func MCPUserPath(getenv func(string) string, home string) string {
	if dir := strings.TrimSpace(getenv("CLAUDE_CONFIG_DIR")); dir != "" {
		return filepath.Join(dir, ".claude.json")
	}
	return filepath.Join(home, ".claude.json")
}

// MCPProjectPath is the project-scope MCP file of the project at dir.
func MCPProjectPath(dir string) string { return filepath.Join(dir, ".mcp.json") }

// stdioServer and httpServer are the entries install writes, in the field
// order of `claude mcp add`.
type stdioServer struct {
	Type    string            `json:"type"`
	Command string            `json:"command"`
	Args    []string          `json:"args"`
	Env     map[string]string `json:"env,omitempty"`
}

type httpServer struct {
	Type    string            `json:"type"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
}

// entry is the mcpServers entry install writes.
func (o MCPOptions) entry() (*node, error) {
	base := strings.TrimRight(o.ServerURL, "/")
	if o.Transport == TransportHTTP {
		s := httpServer{Type: "http", URL: base + "/v1/mcp"}
		if o.APIKeyEnv != "" {
			s.Headers = map[string]string{"Authorization": "Bearer ${" + o.APIKeyEnv + "}"}
		}
		return fromValue(s)
	}
	s := stdioServer{Type: "stdio", Command: o.Command, Args: []string{"mcp", "--url", base}}
	if o.APIKeyEnv != "" {
		// `claude-mem mcp` reads CLAUDE_MEM_API_KEY, whatever variable
		// holds the key where Claude Code runs.
		s.Env = map[string]string{mcpKeyEnv: "${" + o.APIKeyEnv + "}"}
	}
	return fromValue(s)
}

// mcpKeyEnv is the variable `claude-mem mcp` reads its key from.
const mcpKeyEnv = "CLAUDE_MEM_API_KEY"

// mcpState is what InstallMCP records next to the MCP file.
type mcpState struct {
	Version int    `json:"version"`
	Name    string `json:"name"`
	fileRecord
	// Entry is the mcpServers entry install wrote.
	Entry json.RawMessage `json:"entry"`
	// Replaced is the entry of the same name that Replace overwrote, which
	// uninstall puts back.
	Replaced json.RawMessage `json:"replaced,omitempty"`
	// CreatedServersKey: install created "mcpServers", which uninstall
	// removes once empty.
	CreatedServersKey bool `json:"created_servers_key"`
}

// recorded parses a recorded entry; nil when there is none.
func recorded(raw json.RawMessage) *node {
	if len(raw) == 0 {
		return nil
	}
	n, err := parseDoc(raw)
	if err != nil {
		return nil
	}
	return n
}

// ErrForeignMCPServer is returned by InstallMCP when the file already
// registers an MCP server of the same name that is not install's own (or
// no longer is: the user changed it), unless MCPOptions.Replace.
var ErrForeignMCPServer = errors.New("an MCP server of that name is already registered")

// InstallMCP registers claude-mem's MCP server in opts.Path, with the
// guarantees Install gives settings.json: a merge that keeps every other
// key and byte, a backup before a change, no change on a second run, and a
// record so that UninstallMCP takes out exactly what it added.
func InstallMCP(opts MCPOptions) (Result, error) {
	if opts.Name == "" {
		opts.Name = MCPServerName
	}
	if opts.Transport == "" {
		opts.Transport = TransportStdio
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	res := Result{SettingsPath: opts.Path}
	switch {
	case opts.Path == "":
		return res, errors.New("installer: no MCP file path")
	case opts.ServerURL == "":
		return res, errors.New("installer: the MCP server needs the server URL")
	case opts.Transport == TransportStdio && !filepath.IsAbs(opts.Command):
		return res, fmt.Errorf("installer: the stdio MCP server needs the claude-mem binary's absolute path, not %q", opts.Command)
	case opts.Transport != TransportStdio && opts.Transport != TransportHTTP:
		return res, fmt.Errorf("installer: MCP transport %q is not stdio or http", opts.Transport)
	}
	raw, doc, err := readSettings(opts.Path)
	if err != nil {
		return res, err
	}
	st, err := readRecord[mcpState](opts.Path)
	if err != nil {
		return res, err
	}
	existed := raw != nil
	if doc == nil {
		doc = &node{kind: '{'}
	}
	servers := doc.get("mcpServers")
	if servers != nil && servers.kind != '{' {
		return res, fmt.Errorf("installer: %s: \"mcpServers\" is not an object; fix it and run again", opts.Path)
	}
	current := servers.get(opts.Name)
	if st != nil && (st.Name != opts.Name || current == nil) {
		st = nil // stale: what it recorded is gone
	}
	fresh := st == nil
	if fresh {
		st = &mcpState{Version: 1, Name: opts.Name, fileRecord: fileRecord{OriginalExisted: existed}}
		if existed {
			st.OriginalSHA256 = sum(raw)
		}
	}
	want, err := opts.entry()
	if err != nil {
		return res, fmt.Errorf("installer: %w", err)
	}
	ours := !fresh && sameJSON(current, recorded(st.Entry))
	if current != nil && !ours && !sameJSON(current, want) {
		if !opts.Replace {
			// The entry itself is not quoted: it may hold a key.
			how := "claude-mem install did not write it"
			if !fresh {
				how = "it was changed since claude-mem install wrote it"
			}
			return res, fmt.Errorf("installer: %s: mcpServers.%s: %w (%s); remove it (`claude mcp remove %s`) or run install again with --mcp-replace to replace it (uninstall puts it back)",
				opts.Path, opts.Name, ErrForeignMCPServer, how, opts.Name)
		}
		if fresh || len(st.Replaced) == 0 {
			st.Replaced = current.encode()
		}
	}

	next := doc.clone()
	nextServers := next.get("mcpServers")
	if nextServers == nil {
		nextServers = &node{kind: '{'}
		next.set("mcpServers", nextServers)
		st.CreatedServersKey = true
	}
	nextServers.set(opts.Name, want)
	st.Entry = want.encode()

	newMode := fs.FileMode(0o644)
	if filepath.Base(opts.Path) == ".claude.json" {
		newMode = 0o600 // as Claude Code creates it: it holds account data
	}
	res.Backup, res.Changed, err = commitEdit(opts.Path, raw, existed, fresh, doc, next, newMode, opts.Now(),
		&st.fileRecord, func() error { return writeRecord(opts.Path, st) })
	return res, err
}

// UninstallMCP removes the MCP server InstallMCP registered in path: the
// original file back byte for byte when it is still as install left it (or
// means the same once the entry is out), else only the entry, leaving an
// entry the user changed since in place. Without a record it changes
// nothing: an entry install did not write is not its to remove.
func UninstallMCP(path string) (Result, error) {
	res := Result{SettingsPath: path}
	raw, doc, err := readSettings(path)
	if err != nil {
		return res, err
	}
	st, err := readRecord[mcpState](path)
	if err != nil {
		return res, err
	}
	if st == nil {
		return res, nil
	}
	done := func() (Result, error) { return res, removeRecord(path) }
	if doc == nil {
		return done()
	}
	if undone, err := restoreUntouched(path, raw, &st.fileRecord, &res); err != nil {
		return res, err
	} else if undone {
		return done()
	}

	next := doc.clone()
	servers := next.get("mcpServers")
	if servers == nil || servers.kind != '{' || !sameJSON(servers.get(st.Name), recorded(st.Entry)) {
		// Gone, or changed since: no longer what install wrote.
		return done()
	}
	if prev := recorded(st.Replaced); prev != nil {
		servers.set(st.Name, prev)
	} else {
		servers.del(st.Name)
	}
	if st.CreatedServersKey && len(servers.keys) == 0 {
		next.del("mcpServers")
	}
	if err := putBack(path, raw, &st.fileRecord, doc, next, &res); err != nil {
		return res, err
	}
	return done()
}
