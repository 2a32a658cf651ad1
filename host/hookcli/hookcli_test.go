package hookcli

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const payload = `{"session_id":"s1","cwd":"/src/app","hook_event_name":"Stop"}`

func TestRun(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var gotPath, gotAuth, gotBody, gotType string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		switch {
		case strings.HasSuffix(r.URL.Path, "/Stop"):
			mu.Lock()
			gotPath, gotAuth, gotBody, gotType = r.URL.EscapedPath(), r.Header.Get("Authorization"), string(b), r.Header.Get("Content-Type")
			mu.Unlock()
			_, _ = w.Write([]byte(`{}`))
		case strings.HasSuffix(r.URL.Path, "/Bad"):
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"adapter claude-code does not know hook event \"Bad\"","code":"unknown_event"}`))
		case strings.HasSuffix(r.URL.Path, "/Boom"):
			w.WriteHeader(http.StatusBadGateway)
		case strings.HasSuffix(r.URL.Path, "/Busy"):
			w.WriteHeader(http.StatusTooManyRequests)
		case strings.HasSuffix(r.URL.Path, "/Slow"):
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(srv.Close)
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return "http://" + l.Addr().String()
	}()

	for name, tc := range map[string]struct {
		base, event string
		stdin       io.Reader
		want        Outcome
		stdout      string
		stderr      string
	}{
		"replied":       {base: srv.URL + "/", event: "Stop", stdin: strings.NewReader(payload), want: OutcomeReplied, stdout: "{}\n"},
		"rejected":      {base: srv.URL, event: "Bad", stdin: strings.NewReader(payload), want: OutcomeRejected, stderr: `claude-mem hook claude-code Bad: the server answered 400 Bad Request: adapter claude-code does not know hook event "Bad"` + "\n"},
		"5xx":           {base: srv.URL, event: "Boom", stdin: strings.NewReader(payload), want: OutcomeUnavailable},
		"429":           {base: srv.URL, event: "Busy", stdin: strings.NewReader(payload), want: OutcomeUnavailable},
		"timeout":       {base: srv.URL, event: "Slow", stdin: strings.NewReader(payload), want: OutcomeUnavailable},
		"closed":        {base: closed, event: "Stop", stdin: strings.NewReader(payload), want: OutcomeUnavailable},
		"not a url":     {base: "127.0.0.1:1", event: "Stop", stdin: strings.NewReader(payload), want: OutcomeUnavailable},
		"empty stdin":   {base: srv.URL, event: "Stop", stdin: strings.NewReader(" \n"), want: OutcomeNoPayload},
		"too large":     {base: srv.URL, event: "Stop", stdin: strings.NewReader(strings.Repeat("x", 2048)), want: OutcomeNoPayload},
		"stdin stuck":   {base: srv.URL, event: "Stop", stdin: stuckReader{}, want: OutcomeNoPayload},
		"no stdin":      {base: srv.URL, event: "Stop", want: OutcomeNoPayload},
		"missing event": {base: srv.URL, event: "", stdin: strings.NewReader(payload), want: OutcomeUnavailable},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			start := time.Now()
			got := Run(context.Background(), Options{
				BaseURL: tc.base, Adapter: "claude-code", Event: tc.event, APIKey: "k-123",
				Stdin: tc.stdin, Stdout: &stdout, Stderr: &stderr,
				Timeout: 200 * time.Millisecond, StdinTimeout: 100 * time.Millisecond, MaxPayload: 1024,
			})
			if got != tc.want || stdout.String() != tc.stdout || stderr.String() != tc.stderr {
				t.Errorf("outcome %s stdout %q stderr %q; want %s %q %q", got, stdout.String(), stderr.String(), tc.want, tc.stdout, tc.stderr)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
	// After the parallel subtests.
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if gotPath != "/v1/hooks/claude-code/Stop" || gotAuth != "Bearer k-123" || gotBody != payload || gotType != "application/json" {
			t.Errorf("the server got %s auth %q type %q body %q", gotPath, gotAuth, gotType, gotBody)
		}
	})
}

// stuckReader never returns: an agent that never closes stdin.
type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { select {} }

func TestHookURLEscapes(t *testing.T) {
	t.Parallel()
	got, err := hookURL(" http://127.0.0.1:37701/ ", "claude-code", "a/b c")
	if err != nil || got != "http://127.0.0.1:37701/v1/hooks/claude-code/a%2Fb%20c" {
		t.Errorf("hookURL = %q, %v", got, err)
	}
}

func TestVerboseSaysWhy(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	Run(context.Background(), Options{BaseURL: "http://127.0.0.1:1", Adapter: "claude-code", Event: "Stop",
		Stdin: strings.NewReader(payload), Stdout: io.Discard, Stderr: &stderr, Verbose: true})
	if !strings.Contains(stderr.String(), "server unreachable at http://127.0.0.1:1") {
		t.Errorf("verbose stderr %q", stderr.String())
	}
}
