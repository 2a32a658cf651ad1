package provider_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/provider"
)

// dialect is one model API as a fake server speaks it.
type dialect struct {
	name string
	path string
	new  func(config.Generation) provider.Provider
	// answer is a 200 body carrying text and usage.
	answer func(text string, in, out int64) string
	// errorBody is the API's error shape.
	errorBody func(typ, msg string) string
	// checkRequest asserts the request's headers and body shape and
	// returns the system prompt and the user message.
	checkRequest func(t *testing.T, h http.Header, body map[string]any, key string) (system, user string)
}

var dialects = []dialect{
	{
		name: "anthropic",
		path: "/v1/messages",
		new:  func(c config.Generation) provider.Provider { return provider.NewAnthropic(c) },
		answer: func(text string, in, out int64) string {
			return js(map[string]any{
				"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-haiku-4-5-20251001",
				"content":     []any{map[string]any{"type": "text", "text": text}},
				"stop_reason": "end_turn", "stop_sequence": nil,
				"usage": map[string]any{"input_tokens": in, "output_tokens": out, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
			})
		},
		errorBody: func(typ, msg string) string {
			return js(map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}})
		},
		checkRequest: func(t *testing.T, h http.Header, body map[string]any, key string) (string, string) {
			t.Helper()
			if got := h.Get("x-api-key"); got != key {
				t.Errorf("x-api-key = %q, want %q", got, key)
			}
			if got := h.Get("anthropic-version"); got != "2023-06-01" {
				t.Errorf("anthropic-version = %q", got)
			}
			if got := h.Get("content-type"); got != "application/json" {
				t.Errorf("content-type = %q", got)
			}
			if h.Get("authorization") != "" {
				t.Error("authorization header sent to Anthropic")
			}
			if body["model"] != "claude-haiku-4-5-20251001" {
				t.Errorf("model = %v", body["model"])
			}
			if mt, _ := body["max_tokens"].(float64); mt <= 0 {
				t.Errorf("max_tokens = %v", body["max_tokens"])
			}
			system, _ := body["system"].(string)
			msgs, _ := body["messages"].([]any)
			if len(msgs) != 1 {
				t.Fatalf("messages = %v", body["messages"])
			}
			m, _ := msgs[0].(map[string]any)
			if m["role"] != "user" {
				t.Errorf("role = %v", m["role"])
			}
			user, _ := m["content"].(string)
			return system, user
		},
	},
	{
		name: "openai",
		path: "/v1/chat/completions",
		new: func(c config.Generation) provider.Provider {
			c.BaseURL += "/v1"
			return provider.NewOpenAI(c)
		},
		answer: func(text string, in, out int64) string {
			return js(map[string]any{
				"id": "chatcmpl-1", "object": "chat.completion", "created": 1741944413, "model": "gpt-4o-mini-2024-07-18",
				"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
					"message": map[string]any{"role": "assistant", "content": text, "refusal": nil}}},
				"usage": map[string]any{"prompt_tokens": in, "completion_tokens": out, "total_tokens": in + out},
			})
		},
		errorBody: func(typ, msg string) string {
			return js(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}})
		},
		checkRequest: func(t *testing.T, h http.Header, body map[string]any, key string) (string, string) {
			t.Helper()
			want := ""
			if key != "" {
				want = "Bearer " + key
			}
			if got := h.Get("authorization"); got != want {
				t.Errorf("authorization = %q, want %q", got, want)
			}
			if got := h.Get("content-type"); got != "application/json" {
				t.Errorf("content-type = %q", got)
			}
			if body["model"] != "gpt-4o-mini" {
				t.Errorf("model = %v", body["model"])
			}
			if temp, ok := body["temperature"].(float64); !ok || temp != 0 {
				t.Errorf("temperature = %v", body["temperature"])
			}
			msgs, _ := body["messages"].([]any)
			if len(msgs) != 2 {
				t.Fatalf("messages = %v", body["messages"])
			}
			sys, _ := msgs[0].(map[string]any)
			usr, _ := msgs[1].(map[string]any)
			if sys["role"] != "system" || usr["role"] != "user" {
				t.Errorf("roles = %v, %v", sys["role"], usr["role"])
			}
			system, _ := sys["content"].(string)
			user, _ := usr["content"].(string)
			return system, user
		},
	},
}

// request is one request the fake API received.
type request struct {
	path   string
	header http.Header
	raw    []byte
	body   map[string]any
}

// fakeAPI is an HTTP server inside the test; respond answers each request.
type fakeAPI struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []request
}

func newFakeAPI(t *testing.T, respond func(w http.ResponseWriter, r request)) *fakeAPI {
	t.Helper()
	f := &fakeAPI{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		req := request{path: r.URL.Path, header: r.Header.Clone(), raw: raw}
		if r.Method != http.MethodPost {
			t.Errorf("method = %s", r.Method)
		}
		if err := json.Unmarshal(raw, &req.body); err != nil {
			t.Errorf("request body is not JSON: %v", err)
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, req)
		f.mu.Unlock()
		respond(w, req)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAPI) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

func genConfig(base string) config.Generation {
	return config.Generation{
		APIKey: "sk-test-123", BaseURL: base, MaxInputChars: 16000, BatchSize: 10, Timeout: 5 * time.Second,
	}
}

const modelObservations = "```xml\n" + `<observation>
  <type>discovery</type>
  <title>Store migrations are numbered SQL files</title>
  <subtitle>Each runs in its own transaction</subtitle>
  <facts><fact>Files are named NNNN_name.sql</fact></facts>
  <narrative>Migrate applies pending files in order.</narrative>
  <concepts><concept>how-it-works</concept><concept>discovery</concept></concepts>
  <files_read><file>docs/migrations.md</file></files_read>
  <files_modified><file>hallucinated/by/model.go</file></files_modified>
</observation>
<observation>
  <type>change</type>
  <title>Wrapped migration errors</title>
  <concepts><concept>what-changed: errors</concept></concepts>
</observation>` + "\n```"

func TestAPIObserveBatchesIntoOneCall(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			api := newFakeAPI(t, func(w http.ResponseWriter, r request) {
				w.Header().Set("content-type", "application/json")
				io.WriteString(w, d.answer(modelObservations, 1200, 301))
			})
			p := d.new(genConfig(api.URL))
			mig := testCwd + "/host/store/migrate.go"
			events := []provider.ToolEvent{
				ev(0, "Read", map[string]any{"file_path": mig}, map[string]any{"file": map[string]any{"content": "package store"}}),
				ev(1, "Edit", map[string]any{"file_path": mig, "old_string": "return err", "new_string": "return fmt.Errorf(\"migrate: %w\", err)"}, map[string]any{}),
				ev(2, "Bash", map[string]any{"command": "go test ./host/store/"}, map[string]any{"stdout": "ok"}),
			}
			res, err := p.Observe(context.Background(), provider.ObserveRequest{
				Project: "claude-mem-server", SessionID: "s1", JobID: "job-1", UserRequest: "Wrap the migration errors", Events: events,
			})
			if err != nil {
				t.Fatal(err)
			}
			reqs := api.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			if reqs[0].path != d.path {
				t.Errorf("path = %s, want %s", reqs[0].path, d.path)
			}
			system, user := d.checkRequest(t, reqs[0].header, reqs[0].body, "sk-test-123")
			for _, s := range []string{"<observation>", "bugfix", "security_alert", "trade-off", "files_modified"} {
				if !strings.Contains(system, s) {
					t.Errorf("system prompt lacks %q", s)
				}
			}
			if n := strings.Count(user, "<what_happened>"); n != 3 {
				t.Errorf("user message has %d events, want 3", n)
			}
			for _, s := range []string{"<user_request>Wrap the migration errors</user_request>", "<requested_at>2026-03-14</requested_at>",
				"<what_happened>Edit</what_happened>", "<occurred_at>2026-03-14T09:26:54Z</occurred_at>",
				"<working_directory>" + testCwd + "</working_directory>", `<parameters>{"command":"go test ./host/store/"}</parameters>`} {
				if !strings.Contains(user, s) {
					t.Errorf("user message lacks %q", s)
				}
			}
			if strings.Contains(string(reqs[0].raw), `\u003c`) {
				t.Error("request body escapes < as \\u003c: wasteful")
			}

			if res.Usage.InputTokens != 1200 || res.Usage.OutputTokens != 301 || res.Usage.Model == "" {
				t.Errorf("usage = %+v", res.Usage)
			}
			if len(res.Observations) != 2 {
				t.Fatalf("got %d observations", len(res.Observations))
			}
			for i, o := range res.Observations {
				if !reflect.DeepEqual(o.FilesModified, []string{mig}) {
					t.Errorf("obs %d files_modified = %v, want only the write tool's path", i, o.FilesModified)
				}
			}
			if got := res.Observations[0].FilesRead; !reflect.DeepEqual(got, []string{mig, "docs/migrations.md"}) {
				t.Errorf("files_read = %v", got)
			}
			if got := res.Observations[0].Concepts; !reflect.DeepEqual(got, []string{"how-it-works"}) {
				t.Errorf("concepts = %v", got)
			}
			if got := res.Observations[1].Concepts; !reflect.DeepEqual(got, []string{"what-changed"}) {
				t.Errorf("concepts = %v", got)
			}
			if a, b := res.Observations[0].DiscoveryTokens, res.Observations[1].DiscoveryTokens; a+b != 1501 || a != 751 {
				t.Errorf("discovery tokens %d + %d, want 751 + 750", a, b)
			}
		})
	}
}

func TestAPIObserveSplitsOversizedBatches(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			api := newFakeAPI(t, func(w http.ResponseWriter, r request) {
				io.WriteString(w, d.answer("<observation><title>x</title></observation>", 100, 10))
			})
			p := d.new(genConfig(api.URL))
			res, err := p.Observe(context.Background(), provider.ObserveRequest{Events: sessionEvents(25)})
			if err != nil {
				t.Fatal(err)
			}
			reqs := api.requests()
			if len(reqs) != 3 {
				t.Fatalf("%d requests for 25 events in batches of 10, want 3", len(reqs))
			}
			var events int
			for _, r := range reqs {
				_, user := d.checkRequest(t, r.header, r.body, "sk-test-123")
				events += strings.Count(user, "<what_happened>")
			}
			if events != 25 || len(res.Observations) != 3 || res.Usage.Total() != 330 {
				t.Errorf("events sent %d, observations %d, usage %+v", events, len(res.Observations), res.Usage)
			}
		})
	}
}

// A 1 MB tool output must not make the request grow past the cap: each
// event's input and output are cut to MaxInputChars.
func TestAPITruncatesLargePayloads(t *testing.T) {
	t.Parallel()
	const maxChars = 4000
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			api := newFakeAPI(t, func(w http.ResponseWriter, r request) {
				io.WriteString(w, d.answer("", 10, 0))
			})
			cfg := genConfig(api.URL)
			cfg.MaxInputChars = maxChars
			p := d.new(cfg)
			huge := strings.Repeat("2026-03-14 INFO served /v1/events in 1.2ms\n", 1<<20/43) // ~1 MB
			var events []provider.ToolEvent
			for i := range 5 {
				events = append(events, ev(i, "Bash", map[string]any{"command": "cat app.log " + huge}, map[string]any{"stdout": huge}))
			}
			if _, err := p.Observe(context.Background(), provider.ObserveRequest{UserRequest: huge, Events: events}); err != nil {
				t.Fatal(err)
			}
			reqs := api.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			system, user := d.checkRequest(t, reqs[0].header, reqs[0].body, "sk-test-123")
			// Per event: input and output at the cap, plus the envelope.
			const perEvent = 2*maxChars + 400
			bound := len(system) + maxChars + len(events)*perEvent + 1000
			if len(user)+len(system) > bound {
				t.Errorf("prompt is %d chars, bound %d", len(user)+len(system), bound)
			}
			// JSON escaping (\n, \") may grow the body; it stays far from 1 MB.
			if len(reqs[0].raw) > bound*5/4 {
				t.Errorf("request body is %d bytes, bound %d", len(reqs[0].raw), bound*5/4)
			}
			if n := strings.Count(user, `reason="oversize" />`); n != 11 {
				t.Errorf("%d elision markers, want 11 (5 inputs, 5 outputs, the request)", n)
			}
		})
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	type tc struct {
		status      int
		header      map[string]string
		body        func(d dialect) string
		want        error
		retryAfter  time.Duration
		msgContains []string
		wantUsage   bool
	}
	tests := map[string]tc{
		"429 with retry-after": {
			status: 429, header: map[string]string{"retry-after": "7"},
			body: func(d dialect) string {
				return d.errorBody("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit")
			},
			want: provider.ErrRateLimited, retryAfter: 7 * time.Second, msgContains: []string{"HTTP 429", "retry after 7s", "per-minute rate limit"},
		},
		"500": {
			status: 500, body: func(d dialect) string { return d.errorBody("api_error", "Internal server error") },
			want: provider.ErrTransient, msgContains: []string{"HTTP 500", "Internal server error"},
		},
		"502 from a proxy with an HTML body": {
			status: 502, body: func(dialect) string { return "<html><body>Bad Gateway</body></html>" },
			want: provider.ErrTransient, msgContains: []string{"HTTP 502", "Bad Gateway"},
		},
		"529 overloaded": {
			status: 529, header: map[string]string{"retry-after": "2"},
			body: func(d dialect) string { return d.errorBody("overloaded_error", "Overloaded") },
			want: provider.ErrTransient, retryAfter: 2 * time.Second, msgContains: []string{"HTTP 529", "Overloaded"},
		},
		"401 bad key": {
			status: 401, body: func(d dialect) string { return d.errorBody("authentication_error", "invalid x-api-key") },
			want: provider.ErrRejected, msgContains: []string{"HTTP 401", "invalid x-api-key", "CLAUDE_MEM_GENERATION_API_KEY"},
		},
		"404 model": {
			status: 404, body: func(d dialect) string { return d.errorBody("not_found_error", "model: claude-nope") },
			want: provider.ErrRejected, msgContains: []string{"HTTP 404", "generation.model"},
		},
		"400 bad request": {
			status: 400, body: func(d dialect) string { return d.errorBody("invalid_request_error", "max_tokens: too large") },
			want: provider.ErrRejected, msgContains: []string{"HTTP 400", "max_tokens: too large"},
		},
		"malformed JSON": {
			status: 200, body: func(dialect) string { return `{"content": [{"type": "text", "text": "<observ` },
			want: provider.ErrTransient, msgContains: []string{"decode response"}, wantUsage: true,
		},
		"prose answer": {
			status: 200, body: func(d dialect) string {
				return d.answer("I reviewed the tool calls, but there is nothing noteworthy to record here.", 900, 20)
			},
			want: provider.ErrUnparseable, msgContains: []string{"nothing noteworthy"}, wantUsage: true,
		},
	}
	for _, d := range dialects {
		for name, c := range tests {
			t.Run(d.name+"/"+name, func(t *testing.T) {
				t.Parallel()
				api := newFakeAPI(t, func(w http.ResponseWriter, r request) {
					for k, v := range c.header {
						w.Header().Set(k, v)
					}
					w.WriteHeader(c.status)
					io.WriteString(w, c.body(d))
				})
				p := d.new(genConfig(api.URL))
				res, err := p.Observe(context.Background(), provider.ObserveRequest{Events: sessionEvents(2)})
				if !errors.Is(err, c.want) {
					t.Fatalf("err = %v, want %v", err, c.want)
				}
				for _, s := range c.msgContains {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q lacks %q", err, s)
					}
				}
				ra, ok := provider.RetryAfter(err)
				if ra != c.retryAfter || ok != (c.retryAfter > 0) {
					t.Errorf("RetryAfter = %v, %v; want %v", ra, ok, c.retryAfter)
				}
				if c.wantUsage != (res.Usage.InputTokens > 0) {
					t.Errorf("usage = %+v, want recorded: %v", res.Usage, c.wantUsage)
				}
			})
		}
	}
}

func TestAPITransportFailures(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name+"/connection refused", func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.NotFoundHandler())
			url := srv.URL
			srv.Close()
			_, err := d.new(genConfig(url)).Observe(context.Background(), provider.ObserveRequest{Events: sessionEvents(1)})
			if !errors.Is(err, provider.ErrTransient) {
				t.Fatalf("err = %v, want ErrTransient", err)
			}
		})
		t.Run(d.name+"/timeout", func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			api := newFakeAPI(t, func(w http.ResponseWriter, r request) { <-release })
			defer close(release)
			cfg := genConfig(api.URL)
			cfg.Timeout = 50 * time.Millisecond
			_, err := d.new(cfg).Observe(context.Background(), provider.ObserveRequest{Events: sessionEvents(1)})
			if !errors.Is(err, provider.ErrTransient) {
				t.Fatalf("err = %v, want ErrTransient", err)
			}
		})
		t.Run(d.name+"/caller cancels", func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			api := newFakeAPI(t, func(w http.ResponseWriter, r request) { <-release })
			defer close(release)
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel)
			_, err := d.new(genConfig(api.URL)).Observe(ctx, provider.ObserveRequest{Events: sessionEvents(1)})
			if !errors.Is(err, context.Canceled) || errors.Is(err, provider.ErrTransient) {
				t.Fatalf("err = %v, want context.Canceled only", err)
			}
		})
	}
}

func TestAPISummarize(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			answers := []string{
				"<summary><request>Add budgets</request><investigated>config.go</investigated><learned>Spend was unbounded</learned>" +
					"<completed>Budgets stop spend</completed><next_steps>Show them in /v1/info</next_steps><notes></notes></summary>",
				`<skip_summary reason="greeting only"/>`,
			}
			var n int
			var mu sync.Mutex
			api := newFakeAPI(t, func(w http.ResponseWriter, r request) {
				mu.Lock()
				a := answers[n%len(answers)]
				n++
				mu.Unlock()
				io.WriteString(w, d.answer(a, 500, 50))
			})
			p := d.new(genConfig(api.URL))
			edit := testCwd + "/host/provider/budget.go"
			req := provider.SummarizeRequest{
				Project: "p", UserRequest: "Add token budgets", LastAssistantMessage: "Budgets now stop spend at the limit.",
				Events: []provider.ToolEvent{ev(0, "Edit", map[string]any{"file_path": edit, "old_string": "a", "new_string": "b"}, map[string]any{})},
			}
			res, err := p.Summarize(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			want := &provider.Summary{Request: "Add budgets", Investigated: "config.go", Learned: "Spend was unbounded",
				Completed: "Budgets stop spend", NextSteps: "Show them in /v1/info", FilesEdited: []string{edit}}
			if !reflect.DeepEqual(res.Summary, want) || res.Usage.Total() != 550 {
				t.Errorf("summary = %+v, usage %+v", res.Summary, res.Usage)
			}
			_, user := d.checkRequest(t, api.requests()[0].header, api.requests()[0].body, "sk-test-123")
			for _, s := range []string{"PROGRESS SUMMARY", "<user_request>Add token budgets</user_request>",
				"Budgets now stop spend at the limit.", "- Edit host/provider/budget.go"} {
				if !strings.Contains(user, s) {
					t.Errorf("summary prompt lacks %q", s)
				}
			}
			skipped, err := p.Summarize(context.Background(), req)
			if err != nil || skipped.Summary != nil || skipped.Usage.Total() != 550 {
				t.Errorf("skip: %+v, %v", skipped, err)
			}
		})
	}
}

func TestOpenAIWithoutKeySendsNoAuthorization(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, func(w http.ResponseWriter, r request) {
		// Ollama-style: no usage reported.
		io.WriteString(w, `{"choices":[{"message":{"role":"assistant","content":"<observation><title>t</title></observation>"}}]}`)
	})
	cfg := genConfig(api.URL + "/v1/")
	cfg.APIKey = ""
	res, err := provider.NewOpenAI(cfg).Observe(context.Background(), provider.ObserveRequest{Events: sessionEvents(1)})
	if err != nil {
		t.Fatal(err)
	}
	r := api.requests()[0]
	dialects[1].checkRequest(t, r.header, r.body, "")
	if r.path != "/v1/chat/completions" {
		t.Errorf("path = %s", r.path)
	}
	if res.Usage.InputTokens == 0 || res.Usage.OutputTokens == 0 {
		t.Errorf("usage not estimated when the server reports none: %+v", res.Usage)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{"": "heuristic", "heuristic": "heuristic", "anthropic": "anthropic", "openai": "openai"} {
		p, err := provider.New(config.Generation{Provider: name})
		if err != nil || p.Name() != want {
			t.Errorf("New(%q) = %v, %v", name, p, err)
		}
	}
	if _, err := provider.New(config.Generation{Provider: "gemini"}); err == nil {
		t.Error("New accepted an unknown provider")
	}
}
