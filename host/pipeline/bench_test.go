package pipeline_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/config"
)

// percentiles reports p50 and p99 of durations in ms.
func percentiles(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	ms := func(q float64) float64 { return float64(d[int(q*float64(len(d)-1))].Microseconds()) / 1000 }
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

func benchPost(b *testing.B, url string, body []byte) time.Duration {
	start := time.Now()
	resp, err := benchClient.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	var sink bytes.Buffer
	_, _ = sink.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		b.Fatalf("POST %s: %d %s", url, resp.StatusCode, sink.Bytes())
	}
	return time.Since(start)
}

// BenchmarkIngestBatch posts batches of 500 generic events.
func BenchmarkIngestBatch(b *testing.B) {
	for _, generate := range []bool{false, true} {
		b.Run(fmt.Sprintf("generate=%v", generate), func(b *testing.B) {
			e := e2eSetup(b, nil)
			url := e.base + "/v1/events/batch"
			if !generate {
				url += "?generate=false"
			}
			n := 0
			for b.Loop() {
				events := make([]any, 500)
				for i := range events {
					events[i] = apiEvent(fmt.Sprintf("bench-%d", n%50), n)
					n++
				}
				body, _ := json.Marshal(events)
				benchPost(b, url, body)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkIngestHook posts Claude Code PostToolUse hooks one at a time and
// from 8 clients at once: the throughput of the hook endpoint and the
// latency one hook costs.
func BenchmarkIngestHook(b *testing.B) {
	for _, clients := range []int{1, 8} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			e := e2eSetup(b, nil)
			url := e.base + "/v1/hooks/claude-code/PostToolUse" + os.Getenv("BENCH_QS")
			var (
				mu    sync.Mutex
				lat   []time.Duration
				n     int
				total int
			)
			next := func() int {
				mu.Lock()
				defer mu.Unlock()
				n++
				return n
			}
			for b.Loop() {
				var wg sync.WaitGroup
				for range clients {
					wg.Go(func() {
						i := next()
						body, _ := json.Marshal(map[string]any{
							"session_id": fmt.Sprintf("hook-bench-%d", i%20), "cwd": "/src/bench", "hook_event_name": "PostToolUse",
							"tool_name": "Edit", "tool_use_id": fmt.Sprintf("toolu_%08d", i),
							"tool_input":    map[string]any{"file_path": "/src/bench/main.go", "old_string": "a", "new_string": "b"},
							"tool_response": map[string]any{"success": true},
						})
						d := benchPost(b, url, body)
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
					})
				}
				wg.Wait()
				total += clients
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "events/s")
			percentiles(b, lat)
		})
	}
}

// BenchmarkSingleEvent is the latency of one POST /v1/events while the
// worker generates observations in the background.
func BenchmarkSingleEvent(b *testing.B) {
	e := e2eSetup(b, nil)
	url := e.base + "/v1/events"
	var lat []time.Duration
	n := 0
	for b.Loop() {
		body, _ := json.Marshal(apiEvent(fmt.Sprintf("single-%d", n%10), n))
		lat = append(lat, benchPost(b, url, body))
		n++
	}
	percentiles(b, lat)
}

// BenchmarkHeuristicGeneration measures how fast the worker turns stored
// tool events into observations with the heuristic provider.
func BenchmarkHeuristicGeneration(b *testing.B) {
	e := e2eSetup(b, nil)
	n := 0
	for b.Loop() {
		const perOp = 500
		events := make([]any, perOp)
		for i := range events {
			events[i] = apiEvent(fmt.Sprintf("gen-%d", n%25), n)
			n++
		}
		body, _ := json.Marshal(events)
		benchPost(b, e.base+"/v1/events/batch", body)
		e.waitIdle(b)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkReplayTokensPerEvent replays the realistic 50-hook Claude Code
// session against a model that records what it is sent, and reports the
// model input per tool event (bytes/4, the estimate budgets use).
func BenchmarkReplayTokensPerEvent(b *testing.B) {
	llm := &fakeLLM{}
	api := httptest.NewServer(llm)
	b.Cleanup(api.Close)
	e := e2eSetup(b, func(c *config.Config) {
		c.Generation.Provider = config.ProviderOpenAI
		c.Generation.BaseURL = api.URL + "/v1"
		c.Generation.APIKey = "bench"
	})
	sessions := 0
	for b.Loop() {
		e.replay(b, claudeCodeSession(fmt.Sprintf("%08d-tokens-session", sessions), "/home/dev/src/shop"), http.StatusCreated)
		sessions++
	}
	e.waitIdle(b)
	toolEvents := 0
	for _, c := range claudeCodeSession("00000000-count-only", "/x") {
		if c.Event == "PostToolUse" {
			toolEvents++
		}
	}
	var in int
	for _, body := range llm.received() {
		in += len(body)
	}
	b.ReportMetric(float64(in)/4/float64(toolEvents*sessions), "input-tokens/tool-event")
}
