package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/hosttest"
)

// latencies collects per-operation times and reports their percentiles.
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	s := slices.Clone(l)
	slices.Sort(s)
	at := func(p float64) float64 {
		i := int(p * float64(len(s)-1))
		return float64(s[i].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// benchServer is a server holding one finished session in the project, so
// that SessionStart has memory to hand back.
func benchServer(b *testing.B) (*hookServer, string) {
	b.Helper()
	h := startServer(b)
	cwd := "/home/dev/src/acme"
	for _, p := range ccSession("bench-history", cwd) {
		if code, body := postHook(b, http.DefaultClient, h.base, p); code/100 != 2 {
			b.Fatalf("%s: %d %s", p.event, code, body)
		}
	}
	h.waitIdle(b)
	return h, cwd
}

// benchPayload is the payload of iteration i of event.
func benchPayload(event, cwd string, i int) []byte {
	m := map[string]any{"cwd": cwd, "hook_event_name": event, "transcript_path": "/tmp/t.jsonl", "permission_mode": "default"}
	switch event {
	case "PostToolUse":
		m["session_id"] = "bench-tools"
		m["tool_name"] = "Bash"
		m["tool_use_id"] = fmt.Sprintf("toolu_bench_%d_%d", time.Now().UnixNano(), i)
		m["tool_input"] = map[string]any{"command": fmt.Sprintf("go test ./pkg%d/...", i%50), "description": "Run tests"}
		m["tool_response"] = map[string]any{"stdout": strings.Repeat("ok  \tacme/pkg\t0.010s\n", 20), "stderr": ""}
	case "SessionStart":
		m["session_id"] = fmt.Sprintf("bench-start-%d-%d", time.Now().UnixNano(), i)
		m["source"] = "startup"
	}
	out, _ := json.Marshal(m)
	return out
}

var benchEvents = []string{"PostToolUse", "SessionStart"}

// BenchmarkHTTPHook is Claude Code's HTTP hook: one POST to
// /v1/hooks/claude-code/<event> on a kept-alive connection, as Claude
// Code's HTTP client sends it.
func BenchmarkHTTPHook(b *testing.B) {
	h, cwd := benchServer(b)
	client := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}}
	for _, event := range benchEvents {
		b.Run(event, func(b *testing.B) {
			h.waitIdle(b) // the jobs of the run before do not compete
			var lat latencies
			i := 0
			for b.Loop() {
				payload := benchPayload(event, cwd, i)
				i++
				start := time.Now()
				resp, err := client.Post(h.base+"/v1/hooks/claude-code/"+event, "application/json", bytes.NewReader(payload))
				if err != nil {
					b.Fatal(err)
				}
				var reply bytes.Buffer
				_, _ = reply.ReadFrom(resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(start))
				if resp.StatusCode/100 != 2 {
					b.Fatalf("%s: %d %s", event, resp.StatusCode, reply.Bytes())
				}
			}
			lat.report(b)
		})
	}
}

// BenchmarkHookProcess is the command hook: the wall time of one
// `claude-mem hook claude-code <event>` process, payload on stdin, with
// the server up; and the same POST made by `node -e`, the floor of any
// Node.js hook such as the TypeScript claude-mem's.
func BenchmarkHookProcess(b *testing.B) {
	h, cwd := benchServer(b)
	bin := hosttest.Binary(b)
	node, nodeErr := exec.LookPath("node")
	run := func(b *testing.B, event string, cmd func() *exec.Cmd) {
		h.waitIdle(b) // the jobs of the run before do not compete
		var lat latencies
		i := 0
		for b.Loop() {
			c := cmd()
			c.Stdin = bytes.NewReader(benchPayload(event, cwd, i))
			i++
			var out bytes.Buffer
			c.Stdout = &out
			start := time.Now()
			if err := c.Run(); err != nil {
				b.Fatalf("%v: %v", c.Args, err)
			}
			lat = append(lat, time.Since(start))
			if !json.Valid(out.Bytes()) {
				b.Fatalf("%s replied %q", event, out.Bytes())
			}
		}
		lat.report(b)
	}
	for _, event := range benchEvents {
		b.Run("claude-mem/"+event, func(b *testing.B) {
			run(b, event, func() *exec.Cmd {
				c := exec.Command(bin, "hook", "claude-code", event)
				c.Env = []string{"HOME=" + b.TempDir(), "CLAUDE_MEM_SERVER_URL=" + h.base}
				return c
			})
		})
		b.Run("node/"+event, func(b *testing.B) {
			if nodeErr != nil {
				b.Skip("node is not installed: no Node.js floor to compare with")
			}
			script := `let d='';process.stdin.on('data',c=>d+=c).on('end',async()=>{try{` +
				`const r=await fetch(process.argv[1],{method:'POST',headers:{'Content-Type':'application/json'},body:d,signal:AbortSignal.timeout(5000)});` +
				`const t=await r.text();if(r.ok)process.stdout.write(t+'\n')}catch(e){}})`
			run(b, event, func() *exec.Cmd {
				return exec.Command(node, "-e", script, h.base+"/v1/hooks/claude-code/"+event)
			})
		})
	}
}
