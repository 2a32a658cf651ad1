package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/host/server"
	"github.com/claude-mem/claude-mem-server/host/server/servertest"
)

// hookServer is a real host, in this process, with the bundled plugins as
// subprocesses.
type hookServer struct {
	host *servertest.Server
	srv  *server.Server
	base string
}

func startServer(t testing.TB) *hookServer {
	t.Helper()
	srv := servertest.Start(t, servertest.WithConfig(func(cfg *config.Config) { cfg.Queue.LockDuration = 5 * time.Second }))
	return &hookServer{host: srv, srv: srv.Server, base: srv.Base}
}

// waitIdle waits until no generation job is open.
func (h *hookServer) waitIdle(t testing.TB) {
	t.Helper()
	h.host.WaitIdle(t)
}

// hookPayload is one Claude Code hook.
type hookPayload struct {
	event string
	body  []byte
}

// ccSession is a Claude Code session as its hooks post it: start, a turn
// that reads, runs the tests, fixes the bug and commits, the final answer
// and the end.
func ccSession(sessionID, cwd string) []hookPayload {
	var out []hookPayload
	add := func(event string, fields map[string]any) {
		m := map[string]any{"session_id": sessionID, "transcript_path": "/home/dev/.claude/projects/x/" + sessionID + ".jsonl",
			"cwd": cwd, "hook_event_name": event, "permission_mode": "default"}
		for k, v := range fields {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		out = append(out, hookPayload{event, b})
	}
	n := 0
	tool := func(name string, input, response map[string]any) {
		n++
		id := fmt.Sprintf("toolu_%s_%d", sessionID, n)
		add("PreToolUse", map[string]any{"tool_name": name, "tool_input": input, "tool_use_id": id})
		add("PostToolUse", map[string]any{"tool_name": name, "tool_input": input, "tool_response": response, "tool_use_id": id})
	}
	add("SessionStart", map[string]any{"source": "startup"})
	add("UserPromptSubmit", map[string]any{"prompt": "The invoice PDF shows totals rounded wrong; fix the rounding in invoice totals."})
	tool("Read", map[string]any{"file_path": cwd + "/billing/invoice.go"},
		map[string]any{"type": "text", "file": map[string]any{"filePath": cwd + "/billing/invoice.go", "content": "package billing\nfunc InvoiceTotal(lines []Line) float64 { return sum(lines) }"}})
	tool("Bash", map[string]any{"command": "go test ./billing/...", "description": "Run the billing tests"},
		map[string]any{"stdout": "--- FAIL: TestInvoiceTotal\n    invoice_test.go:21: InvoiceTotal = 19.990000000000002, want 19.99\nFAIL", "stderr": ""})
	tool("Edit", map[string]any{"file_path": cwd + "/billing/invoice.go", "old_string": "float64 { return sum(lines) }", "new_string": "int64 { return sumCents(lines) }"},
		map[string]any{"filePath": cwd + "/billing/invoice.go", "oldString": "float64 { return sum(lines) }", "newString": "int64 { return sumCents(lines) }"})
	tool("Bash", map[string]any{"command": "go test ./billing/...", "description": "Run the billing tests"},
		map[string]any{"stdout": "ok  \tacme/billing\t0.010s", "stderr": ""})
	add("Stop", map[string]any{"stop_hook_active": false,
		"last_assistant_message": "Fixed the invoice rounding bug: InvoiceTotal now sums integer cents, and TestInvoiceTotal passes."})
	add("SessionEnd", map[string]any{"reason": "prompt_input_exit"})
	return out
}

// postHook posts one hook as Claude Code's HTTP hook does.
func postHook(t testing.TB, client *http.Client, base string, p hookPayload) (int, []byte) {
	t.Helper()
	resp, err := client.Post(base+"/v1/hooks/claude-code/"+p.event, "application/json", bytes.NewReader(p.body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// runHook runs `claude-mem hook` as Claude Code runs a command hook.
func runHook(t testing.TB, bin string, env []string, stdin []byte, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"hook"}, args...)...)
	cmd.Env = env
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// additionalContext is the context of a SessionStart (or, given, another
// hook's) reply.
func additionalContext(t testing.TB, reply []byte, hook ...string) string {
	t.Helper()
	var r struct {
		HookSpecificOutput struct {
			HookEventName     string `json:"hookEventName"`
			AdditionalContext string `json:"additionalContext"`
		} `json:"hookSpecificOutput"`
	}
	if err := json.Unmarshal(reply, &r); err != nil {
		t.Fatalf("reply is not Claude Code's JSON: %v\n%s", err, reply)
	}
	want := "SessionStart"
	if len(hook) > 0 {
		want = hook[0]
	}
	if r.HookSpecificOutput.AdditionalContext != "" && r.HookSpecificOutput.HookEventName != want {
		t.Errorf("hookEventName %q", r.HookSpecificOutput.HookEventName)
	}
	return r.HookSpecificOutput.AdditionalContext
}

// TestReplayedSessionBringsContextToTheNextSession replays a Claude Code
// session, once through HTTP hooks and once through `claude-mem hook`,
// and checks that the next session in the project starts with context
// naming the earlier work.
func TestReplayedSessionBringsContextToTheNextSession(t *testing.T) {
	t.Parallel()
	bin := hosttest.Binary(t)
	for _, via := range []string{"http", "command"} {
		t.Run(via, func(t *testing.T) {
			t.Parallel()
			h := startServer(t)
			cwd := "/home/dev/src/acme-" + via
			env := []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
			send := func(p hookPayload) []byte {
				if via == "http" {
					code, body := postHook(t, http.DefaultClient, h.base, p)
					if code/100 != 2 {
						t.Fatalf("%s: %d %s", p.event, code, body)
					}
					return body
				}
				r := runHook(t, bin, env, p.body, "claude-code", p.event, "--url", h.base)
				if r.code != 0 || r.stderr != "" {
					t.Fatalf("%s: exit %d, stderr %q", p.event, r.code, r.stderr)
				}
				return []byte(r.stdout)
			}
			for _, p := range ccSession("sess-1-"+via, cwd) {
				out := send(p)
				if !json.Valid(out) {
					t.Fatalf("%s replied %q, not JSON", p.event, out)
				}
			}
			h.waitIdle(t)
			next := ccSession("sess-2-"+via, cwd)[0]
			ctx := additionalContext(t, send(next))
			t.Logf("context of the next session:\n%s", ctx)
			for _, want := range []string{"invoice", "rounding"} {
				if !strings.Contains(strings.ToLower(ctx), want) {
					t.Errorf("the next session's context does not name %q:\n%s", want, ctx)
				}
			}
			// A prompt about the same work gets the relevant memory.
			prompt, _ := json.Marshal(map[string]any{"session_id": "sess-2-" + via, "cwd": cwd, "hook_event_name": "UserPromptSubmit",
				"prompt": "Invoice totals look off by a cent again; what did we change in InvoiceTotal?"})
			rel := additionalContext(t, send(hookPayload{"UserPromptSubmit", prompt}), "UserPromptSubmit")
			if !strings.Contains(rel, "Relevant past work") || !strings.Contains(rel, "invoice") {
				t.Errorf("the prompt's context lacks the relevant past work:\n%s", rel)
			}
		})
	}
}

func TestHookRepliesWithTheAdapterOutput(t *testing.T) {
	t.Parallel()
	h := startServer(t)
	bin := hosttest.Binary(t)
	env := []string{"HOME=" + t.TempDir(), "CLAUDE_MEM_SERVER_URL=" + h.base}
	read := []byte(`{"session_id":"s1","cwd":"/src/app","hook_event_name":"PreToolUse","tool_name":"Read","tool_input":{"file_path":"/src/app/a.go"},"tool_use_id":"t1"}`)
	r := runHook(t, bin, env, read, "claude-code", "PreToolUse")
	if r.code != 0 || r.stdout != `{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"allow"}}`+"\n" || r.stderr != "" {
		t.Errorf("PreToolUse: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	// The event name is matched without regard to case.
	stop := []byte(`{"session_id":"s1","cwd":"/src/app","hook_event_name":"Stop","last_assistant_message":"done"}`)
	if r := runHook(t, bin, env, stop, "claude-code", "stop"); r.code != 0 || r.stdout != "{}\n" {
		t.Errorf("stop: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	// A payload the adapter rejects: exit 0, nothing for the agent, one
	// line on stderr for the transcript.
	r = runHook(t, bin, env, []byte(`{"session_id":"s1"}`), "claude-code", "PostToolUse")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "no cwd") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("rejected payload: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	// Wrong wiring fails open too.
	for _, args := range [][]string{{"claude-code", "NoSuchHook"}, {"no-such-agent", "Stop"}, {"claude-code"}, {"claude-code", "Stop", "--bogus"}} {
		if r := runHook(t, bin, env, stop, args...); r.code != 0 || r.stdout != "" || r.stderr == "" {
			t.Errorf("hook %v: exit %d stdout %q stderr %q; want exit 0, no output, a note", args, r.code, r.stdout, r.stderr)
		}
	}
	// The generic adapter.
	generic := []byte(`{"type":"tool_use","session_id":"g1","cwd":"/src/app","tool_name":"shell","tool_input":{"cmd":"ls"}}`)
	if r := runHook(t, bin, env, generic, "generic", "tool_use"); r.code != 0 || r.stdout != "{}\n" {
		t.Errorf("generic: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestHookFailsOpen(t *testing.T) {
	t.Parallel()
	bin := hosttest.Binary(t)
	payload := []byte(`{"session_id":"s1","cwd":"/src/app","hook_event_name":"UserPromptSubmit","prompt":"hi"}`)
	closed := hosttest.FreePort(t)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":"boom"}`, http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":"slow down"}`, http.StatusTooManyRequests)
	}))
	t.Cleanup(busy.Close)
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); slow.Close() })

	for name, tc := range map[string]struct {
		env   []string
		args  []string
		stdin []byte
		max   time.Duration
	}{
		"closed port":       {env: []string{"CLAUDE_MEM_SERVER_PORT=" + strconv.Itoa(closed)}, stdin: payload, max: time.Second},
		"closed port (url)": {args: []string{"--url", "http://127.0.0.1:" + strconv.Itoa(closed)}, stdin: payload, max: time.Second},
		"5xx":               {args: []string{"--url", failing.URL}, stdin: payload, max: time.Second},
		"429":               {args: []string{"--url", busy.URL}, stdin: payload, max: time.Second},
		"timeout":           {args: []string{"--url", slow.URL, "--timeout", "300ms"}, stdin: payload, max: 2 * time.Second},
		"empty stdin":       {args: []string{"--url", failing.URL}, max: time.Second},
		"broken config":     {env: []string{"CLAUDE_MEM_SERVER_PORT=not-a-port"}, stdin: payload, max: time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := append([]string{"HOME=" + t.TempDir()}, tc.env...)
			r := runHook(t, bin, env, tc.stdin, append([]string{"claude-code", "UserPromptSubmit"}, tc.args...)...)
			if r.code != 0 || r.stdout != "" {
				t.Errorf("exit %d, stdout %q; want 0 and nothing", r.code, r.stdout)
			}
			if name != "broken config" && r.stderr != "" {
				t.Errorf("stderr %q; want quiet", r.stderr)
			}
			if r.elapsed > tc.max {
				t.Errorf("took %s; want under %s", r.elapsed, tc.max)
			}
			t.Logf("%s: %s", name, r.elapsed)
		})
	}
}
