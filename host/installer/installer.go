// Package installer writes claude-mem's hooks into Claude Code's
// settings.json, and takes them out again.
//
// Install merges: every key, hook and byte of formatting it does not own
// stays as it was (object key order, string escapes and number spelling
// are kept; the layout becomes Claude Code's own two-space indent). It
// appends one matcher group per hook event, takes a timestamped backup of
// the file before changing it, and does nothing when the file already holds
// exactly the hooks it would write, so running it twice gives the same
// file. An API key never enters the file: HTTP hooks send
// "Authorization: Bearer $VAR" with VAR listed in allowedEnvVars, and
// Claude Code fills it in from its environment.
//
// What install added is recorded next to the settings file
// (settings.json.claude-mem-install.json). Uninstall removes exactly that:
// when the file is still what install wrote, it puts the original back byte
// for byte (or deletes the file install created); when the user changed it
// since, it removes claude-mem's entries and the containers install created,
// and if the result means the same as the original, it still restores the
// original bytes.
//
// InstallMCP and UninstallMCP do the same for claude-mem's MCP server in
// the file Claude Code reads MCP servers from (~/.claude.json, which
// Claude Code owns, or a project's .mcp.json): one "mcpServers" entry,
// recorded next to that file, with a ${VAR} reference in place of the key.
// They never overwrite an entry they did not write unless asked to, and
// then put it back on uninstall.
package installer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// HookType is how Claude Code reaches the server.
type HookType string

// Hook types.
const (
	// HookHTTP: Claude Code posts the event to the server; no process per
	// event. Needs a Claude Code version with HTTP hooks.
	HookHTTP HookType = "http"
	// HookCommand: Claude Code runs `claude-mem hook claude-code <Event>`.
	HookCommand HookType = "command"
)

// Adapter is the adapter the hooks are sent to.
const Adapter = "claude-code"

// hookSpec is one hook event install wires.
type hookSpec struct {
	Event string
	// Matcher is the group's matcher; "" writes none (events without one).
	Matcher string
	// Timeout is Claude Code's limit for the hook, in seconds.
	HTTPTimeout, CommandTimeout int
}

// Hooks are the events install wires, in order: context at session start,
// the prompt, every tool result, the final answer of a turn, and the end of
// the session. PreToolUse is left out: its reply may approve read-only
// tools, which is the user's decision to make.
var Hooks = []hookSpec{
	{Event: "SessionStart", Matcher: "startup|clear|compact", HTTPTimeout: 10, CommandTimeout: 15},
	{Event: "UserPromptSubmit", HTTPTimeout: 10, CommandTimeout: 15},
	{Event: "PostToolUse", Matcher: "*", HTTPTimeout: 5, CommandTimeout: 10},
	{Event: "Stop", HTTPTimeout: 5, CommandTimeout: 10},
	{Event: "SessionEnd", HTTPTimeout: 5, CommandTimeout: 10},
}

// Options configure Install.
type Options struct {
	// SettingsPath is Claude Code's settings.json. Required; see
	// SettingsPath.
	SettingsPath string
	// HookType defaults to HookHTTP.
	HookType HookType
	// ServerURL is the server HTTP hooks post to, e.g.
	// http://127.0.0.1:37701. Required for HookHTTP.
	ServerURL string
	// Command is the claude-mem binary command hooks run. Required for
	// HookCommand.
	Command string
	// APIKeyEnv, when set, is the environment variable holding the API key:
	// HTTP hooks send it as a bearer token through headers and
	// allowedEnvVars. Command hooks read it from their environment.
	APIKeyEnv string
	// Now is the clock of backup names. Default: time.Now.
	Now func() time.Time
}

// Result says what Install or Uninstall did.
type Result struct {
	SettingsPath string
	// Changed is false when the file already was as wanted.
	Changed bool
	// Backup is the copy of the file taken before changing it, if any.
	Backup string
	// Events are the hook events written (Install) or removed (Uninstall).
	Events []string
	// Restored: Uninstall put the original file back byte for byte (or
	// removed the file install had created).
	Restored bool
	// Removed: Uninstall deleted the settings file install had created.
	Removed bool
}

// SettingsPath is Claude Code's user settings file:
// $CLAUDE_CONFIG_DIR/settings.json, else ~/.claude/settings.json.
func SettingsPath(getenv func(string) string, home string) string {
	if dir := strings.TrimSpace(getenv("CLAUDE_CONFIG_DIR")); dir != "" {
		return filepath.Join(dir, "settings.json")
	}
	return filepath.Join(home, ".claude", "settings.json")
}

// httpHook and commandHook are the handlers install writes, in Claude
// Code's field order.
type httpHook struct {
	Type           string            `json:"type"`
	URL            string            `json:"url"`
	Headers        map[string]string `json:"headers,omitempty"`
	AllowedEnvVars []string          `json:"allowedEnvVars,omitempty"`
	Timeout        int               `json:"timeout"`
}

type commandHook struct {
	Type    string `json:"type"`
	Command string `json:"command"`
	Timeout int    `json:"timeout"`
}

// handler is the hook install writes for spec.
func (o Options) handler(spec hookSpec) any {
	if o.HookType == HookCommand {
		return commandHook{Type: "command", Command: o.Command + " hook " + Adapter + " " + spec.Event, Timeout: spec.CommandTimeout}
	}
	h := httpHook{Type: "http", URL: strings.TrimRight(o.ServerURL, "/") + "/v1/hooks/" + Adapter + "/" + spec.Event, Timeout: spec.HTTPTimeout}
	if o.APIKeyEnv != "" {
		h.Headers = map[string]string{"Authorization": "Bearer $" + o.APIKeyEnv}
		h.AllowedEnvVars = []string{o.APIKeyEnv}
	}
	return h
}

// group is the matcher group install appends for spec.
func (o Options) group(spec hookSpec) (*node, error) {
	g := struct {
		Matcher string `json:"matcher,omitempty"`
		Hooks   []any  `json:"hooks"`
	}{Matcher: spec.Matcher, Hooks: []any{o.handler(spec)}}
	return fromValue(g)
}

// state is what install records next to the settings file.
type state struct {
	Version int    `json:"version"`
	Agent   string `json:"agent"`
	fileRecord
	// Hooks are the matcher groups install appended, by event.
	Hooks []stateHook `json:"hooks"`
	// CreatedHooksKey and CreatedEvents are the containers install
	// created, which uninstall removes once empty.
	CreatedHooksKey bool     `json:"created_hooks_key"`
	CreatedEvents   []string `json:"created_events,omitempty"`
}

// fileRecord is what both records (hooks and MCP) keep of the file they
// edit, to put it back.
type fileRecord struct {
	// OriginalExisted says whether there was a file before the first
	// install; OriginalSHA256 is its hash, and Backups[0] its copy.
	OriginalExisted bool     `json:"original_existed"`
	OriginalSHA256  string   `json:"original_sha256,omitempty"`
	Backups         []string `json:"backups,omitempty"`
	// WrittenSHA256 is the hash of the file as install last wrote it.
	WrittenSHA256 string `json:"written_sha256"`
}

type stateHook struct {
	Event string          `json:"event"`
	Group json.RawMessage `json:"group"`
}

func statePath(settings string) string { return settings + ".claude-mem-install.json" }

// readRecord reads the record install keeps next to path; nil when there
// is none.
func readRecord[T any](path string) (*T, error) {
	b, err := os.ReadFile(statePath(path))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("installer: read %s: %w", statePath(path), err)
	}
	var st T
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("installer: %s is corrupt (%w); delete it to start over", statePath(path), err)
	}
	return &st, nil
}

func writeRecord(path string, st any) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("installer: %w", err)
	}
	return writeAtomic(statePath(path), append(b, '\n'), 0o600)
}

// commitEdit writes next, the edited doc, to path unless it means what the
// file already holds, with a backup of the file it replaces, and records
// the write in rec before save stores the record. fresh says that there
// was no record yet: an edit already in place is then recorded as
// install's. newMode is the mode of a file install creates.
func commitEdit(path string, raw []byte, existed, fresh bool, doc, next *node, newMode fs.FileMode, now time.Time,
	rec *fileRecord, save func() error) (backupPath string, changed bool, err error) {
	out := next.encode()
	if existed && bytes.HasSuffix(raw, []byte("\n")) || !existed {
		out = append(out, '\n')
	}
	if existed && (bytes.Equal(out, raw) || sameJSON(next, doc)) {
		// Already as wanted: touch nothing, but record what was there by
		// hand (or from an older install) so uninstall removes it.
		if fresh {
			rec.WrittenSHA256 = sum(raw)
			return "", false, save()
		}
		return "", false, nil
	}
	if existed {
		if backupPath, err = backup(path, raw, now); err != nil {
			return "", false, err
		}
		rec.Backups = append(rec.Backups, backupPath)
	}
	mode := newMode
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return backupPath, false, fmt.Errorf("installer: %w", err)
	}
	if err := writeAtomic(path, out, mode); err != nil {
		return backupPath, false, err
	}
	rec.WrittenSHA256 = sum(out)
	return backupPath, true, save()
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// readSettings reads and parses the settings file; a missing file is nil.
func readSettings(path string) ([]byte, *node, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("installer: read %s: %w", path, err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return b, &node{kind: '{'}, nil
	}
	doc, err := parseDoc(b)
	if err != nil {
		return nil, nil, fmt.Errorf("installer: %s is %w; fix it (or move it away) and run again", path, err)
	}
	if doc.kind != '{' {
		return nil, nil, fmt.Errorf("installer: %s %w; fix it (or move it away) and run again", path, errNotObject)
	}
	return b, doc, nil
}

// Install writes the hooks into the settings file.
func Install(opts Options) (Result, error) {
	if opts.HookType == "" {
		opts.HookType = HookHTTP
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	res := Result{SettingsPath: opts.SettingsPath}
	switch {
	case opts.SettingsPath == "":
		return res, errors.New("installer: no settings path")
	case opts.HookType == HookHTTP && opts.ServerURL == "":
		return res, errors.New("installer: http hooks need the server URL")
	case opts.HookType == HookCommand && opts.Command == "":
		return res, errors.New("installer: command hooks need the claude-mem command")
	case opts.HookType != HookHTTP && opts.HookType != HookCommand:
		return res, fmt.Errorf("installer: hook type %q is not http or command", opts.HookType)
	}
	raw, doc, err := readSettings(opts.SettingsPath)
	if err != nil {
		return res, err
	}
	st, err := readRecord[state](opts.SettingsPath)
	if err != nil {
		return res, err
	}
	existed := raw != nil
	if doc == nil {
		doc = &node{kind: '{'}
	}
	if st != nil && !holdsOurs(doc, st) {
		st = nil // stale: what it recorded is gone
	}
	fresh := st == nil
	if fresh {
		st = &state{Version: 1, Agent: Adapter, fileRecord: fileRecord{OriginalExisted: existed}}
		if existed {
			st.OriginalSHA256 = sum(raw)
		}
	}

	next := doc.clone()
	removeOurs(next, st, false)
	hooks := next.get("hooks")
	if hooks == nil || hooks.kind != '{' {
		if hooks != nil {
			return res, fmt.Errorf("installer: %s: \"hooks\" is not an object; fix it and run again", opts.SettingsPath)
		}
		hooks = &node{kind: '{'}
		next.set("hooks", hooks)
		st.CreatedHooksKey = true
	}
	st.Hooks = st.Hooks[:0]
	for _, spec := range Hooks {
		list := hooks.get(spec.Event)
		if list == nil {
			list = &node{kind: '['}
			hooks.set(spec.Event, list)
			st.CreatedEvents = appendOnce(st.CreatedEvents, spec.Event)
		} else if list.kind != '[' {
			return res, fmt.Errorf("installer: %s: hooks.%s is not an array; fix it and run again", opts.SettingsPath, spec.Event)
		}
		g, err := opts.group(spec)
		if err != nil {
			return res, err
		}
		list.vals = append(list.vals, g)
		st.Hooks = append(st.Hooks, stateHook{Event: spec.Event, Group: g.encode()})
		res.Events = append(res.Events, spec.Event)
	}

	res.Backup, res.Changed, err = commitEdit(opts.SettingsPath, raw, existed, fresh, doc, next, 0o644, opts.Now(),
		&st.fileRecord, func() error { return writeRecord(opts.SettingsPath, st) })
	return res, err
}

// Uninstall removes what Install added.
func Uninstall(settingsPath string) (Result, error) {
	res := Result{SettingsPath: settingsPath}
	raw, doc, err := readSettings(settingsPath)
	if err != nil {
		return res, err
	}
	st, err := readRecord[state](settingsPath)
	if err != nil {
		return res, err
	}
	done := func() (Result, error) {
		if st != nil {
			return res, removeRecord(settingsPath)
		}
		return res, nil
	}
	if doc == nil {
		return done()
	}
	if st != nil {
		for _, h := range st.Hooks {
			res.Events = appendOnce(res.Events, h.Event)
		}
	}

	if st != nil {
		if undone, err := restoreUntouched(settingsPath, raw, &st.fileRecord, &res); err != nil {
			return res, err
		} else if undone {
			return done()
		}
	}

	next := doc.clone()
	removed := removeOurs(next, st, true)
	if st == nil {
		res.Events = removed
	}
	var rec *fileRecord
	if st != nil {
		rec = &st.fileRecord
	}
	if err := putBack(settingsPath, raw, rec, doc, next, &res); err != nil {
		return res, err
	}
	return done()
}

// restoreUntouched undoes install when the file is still exactly as
// install last wrote it: the original bytes back, or no file when install
// created it. It reports whether it did.
func restoreUntouched(path string, raw []byte, rec *fileRecord, res *Result) (bool, error) {
	if sum(raw) != rec.WrittenSHA256 {
		return false, nil
	}
	if !rec.OriginalExisted {
		if err := removeFiles(append([]string{path}, rec.Backups...)); err != nil {
			return false, err
		}
		res.Changed, res.Restored, res.Removed = true, true, true
		return true, nil
	}
	orig, ok := original(rec)
	if !ok {
		return false, nil
	}
	if err := restore(path, orig, rec); err != nil {
		return false, err
	}
	res.Changed, res.Restored = true, true
	return true, nil
}

// removeRecord deletes the record install kept next to path.
func removeRecord(path string) error {
	if err := os.Remove(statePath(path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("installer: %w", err)
	}
	return nil
}

// putBack ends an uninstall with next, the file's doc without install's
// entries: the original bytes when next means the same as the original,
// no file when install created it and nothing is left, else next written
// over path after a backup. rec is nil when install left no record.
func putBack(path string, raw []byte, rec *fileRecord, doc, next *node, res *Result) error {
	switch {
	case rec != nil && rec.OriginalExisted:
		if orig, ok := original(rec); ok {
			if origDoc, err := parseDoc(orig); err == nil && sameJSON(next, origDoc) {
				if err := restore(path, orig, rec); err != nil {
					return err
				}
				res.Changed, res.Restored = true, true
				return nil
			}
		}
	case rec != nil && len(next.keys) == 0:
		if err := removeFiles(append([]string{path}, rec.Backups...)); err != nil {
			return err
		}
		res.Changed, res.Removed = true, true
		return nil
	}
	if sameJSON(next, doc) {
		return nil
	}
	out := next.encode()
	if bytes.HasSuffix(raw, []byte("\n")) {
		out = append(out, '\n')
	}
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	var err error
	if res.Backup, err = backup(path, raw, time.Now()); err != nil {
		return err
	}
	if err := writeAtomic(path, out, mode); err != nil {
		return err
	}
	res.Changed = true
	return nil
}

// original returns the first backup if it still holds the original.
func original(st *fileRecord) ([]byte, bool) {
	if len(st.Backups) == 0 {
		return nil, false
	}
	b, err := os.ReadFile(st.Backups[0])
	if err != nil || sum(b) != st.OriginalSHA256 {
		return nil, false
	}
	return b, true
}

// restore writes the original bytes back and removes install's backups,
// which hold nothing the restored file does not.
func restore(path string, orig []byte, st *fileRecord) error {
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := writeAtomic(path, orig, mode); err != nil {
		return err
	}
	return removeFiles(st.Backups)
}

// removeFiles removes files that may already be gone.
func removeFiles(paths []string) error {
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("installer: %w", err)
		}
	}
	return nil
}

// holdsOurs reports whether doc still holds a hook st recorded.
func holdsOurs(doc *node, st *state) bool {
	hooks := doc.get("hooks")
	for _, h := range st.Hooks {
		list := hooks.get(h.Event)
		if list == nil || list.kind != '[' {
			continue
		}
		rec, err := parseDoc(h.Group)
		if err != nil {
			continue
		}
		for _, g := range list.vals {
			if sameJSON(g, rec) || containsHandler(g, rec) {
				return true
			}
		}
	}
	return false
}

// removeOurs removes from doc every group install recorded in st, and
// every claude-mem hook it recognizes (a hook posting to
// /v1/hooks/claude-code/ or running `hook claude-code`). With cleanup, it
// also removes the containers install created once they are empty. It
// returns the events it removed hooks from.
func removeOurs(doc *node, st *state, cleanup bool) []string {
	hooks := doc.get("hooks")
	if hooks == nil || hooks.kind != '{' {
		return nil
	}
	var recorded map[string][]*node
	if st != nil {
		recorded = map[string][]*node{}
		for _, h := range st.Hooks {
			if g, err := parseDoc(h.Group); err == nil {
				recorded[h.Event] = append(recorded[h.Event], g)
			}
		}
	}
	var events []string
	for i, k := range hooks.keys {
		event := keyName(k)
		list := hooks.vals[i]
		if list.kind != '[' {
			continue
		}
		kept := list.vals[:0:0]
		for _, g := range list.vals {
			if isRecorded(g, recorded[event]) {
				events = appendOnce(events, event)
				continue
			}
			if g.kind == '{' {
				if inner := g.get("hooks"); inner != nil && inner.kind == '[' {
					var rest []*node
					for _, h := range inner.vals {
						if isOurHandler(h, event) {
							events = appendOnce(events, event)
							continue
						}
						rest = append(rest, h)
					}
					if len(rest) == 0 && len(rest) != len(inner.vals) {
						continue // the group held only our hooks
					}
					if len(rest) != len(inner.vals) {
						g = g.clone()
						g.get("hooks").vals = rest
					}
				}
			}
			kept = append(kept, g)
		}
		list.vals = kept
	}
	if cleanup && st != nil {
		for _, event := range st.CreatedEvents {
			if list := hooks.get(event); list != nil && list.kind == '[' && len(list.vals) == 0 {
				hooks.del(event)
			}
		}
		if st.CreatedHooksKey && len(hooks.keys) == 0 {
			doc.del("hooks")
		}
	}
	return events
}

func isRecorded(g *node, recorded []*node) bool {
	for _, r := range recorded {
		if sameJSON(g, r) {
			return true
		}
	}
	return false
}

// containsHandler reports whether group g holds the handler of the
// recorded group rec.
func containsHandler(g, rec *node) bool {
	inner, want := g.get("hooks"), rec.get("hooks")
	if inner == nil || want == nil || inner.kind != '[' || len(want.vals) == 0 {
		return false
	}
	for _, h := range inner.vals {
		if sameJSON(h, want.vals[0]) {
			return true
		}
	}
	return false
}

// isOurHandler recognizes a claude-mem hook for event, whoever wrote it.
func isOurHandler(h *node, event string) bool {
	switch h.get("type").str() {
	case "http":
		return strings.HasSuffix(h.get("url").str(), "/v1/hooks/"+Adapter+"/"+event)
	case "command":
		return strings.HasSuffix(strings.TrimSpace(h.get("command").str()), " hook "+Adapter+" "+event)
	}
	return false
}

// backup copies raw next to path under a timestamped name.
func backup(path string, raw []byte, now time.Time) (string, error) {
	base := path + ".claude-mem-backup-" + now.UTC().Format("20060102T150405Z")
	name := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			break
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
	if err := os.WriteFile(name, raw, 0o600); err != nil {
		return "", fmt.Errorf("installer: back up %s: %w", path, err)
	}
	return name, nil
}

// writeAtomic replaces path with data: a reader sees the old file or the
// new one, never half of it.
func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("installer: write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("installer: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("installer: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("installer: write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return fmt.Errorf("installer: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("installer: write %s: %w", path, err)
	}
	return nil
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// ShellQuote quotes a path for the shell Claude Code runs command hooks
// with, when it needs quoting.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
