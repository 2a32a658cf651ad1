package mcpserver_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

// TestSharedServerKeepsCallersApart calls the tools of the one server that
// serves every request with several keys at once: each call must run as
// its own caller, never as another request's.
func TestSharedServerKeepsCallersApart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	markers := map[string]string{ // key: the memory only it (and a, for ab) may see
		"a":  "sharedmarker team a keeps its release notes in ops",
		"b":  "sharedmarker team b pins the compiler version",
		"ab": "sharedmarker project a2 caches builds for an hour",
	}
	projects := map[string]string{"a": "a1", "b": "b1", "ab": "a2"}
	for key, text := range markers {
		mustCall(t, b.session(t, b.keys[key]), "memory_add", map[string]any{"project": projects[key], "text": text})
	}
	visible := map[string][]string{"a": {"a", "ab"}, "b": {"b"}, "ab": {"ab"}, "aro": {"a", "ab"}}

	sessions := map[string]*mcp.ClientSession{}
	for key := range visible {
		sessions[key] = b.session(t, b.keys[key])
	}
	check := func(key, tool string) error {
		text, isErr, err := callErr(sessions[key], tool, map[string]any{"query": "sharedmarker"})
		if err != nil || isErr {
			return fmt.Errorf("%s: %s failed: %v %s", key, tool, err, text)
		}
		for owner, marker := range markers {
			want := slices.Contains(visible[key], owner)
			// search's index shows titles, the first words of the text.
			probe := strings.Join(strings.Fields(marker)[:4], " ")
			if got := strings.Contains(text, probe); got != want {
				return fmt.Errorf("key %s: %s shows %q: %v, want %v:\n%s", key, tool, probe, got, want, text)
			}
		}
		return nil
	}

	const rounds = 10
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for key := range visible {
		for _, tool := range []string{"memory_search", "search"} {
			wg.Go(func() {
				for range rounds {
					if err := check(key, tool); err != nil {
						errs <- err
						return
					}
				}
			})
		}
	}
	// Meanwhile a read-only key is refused every write while a's succeed.
	wg.Go(func() {
		for i := range rounds {
			text, isErr, err := callErr(sessions["aro"], "memory_add", map[string]any{"project": "a1", "text": fmt.Sprintf("read only %d", i)})
			if err != nil || !isErr || !strings.Contains(text, auth.ScopeWrite) {
				errs <- fmt.Errorf("read-only memory_add = %q (error %v, %v), want a scope error", text, isErr, err)
				return
			}
		}
	})
	wg.Go(func() {
		for i := range rounds {
			if text, isErr, err := callErr(sessions["a"], "memory_add", map[string]any{"project": "a1", "text": fmt.Sprintf("concurrent write %d", i)}); err != nil || isErr {
				errs <- fmt.Errorf("a's memory_add = %q (error %v, %v)", text, isErr, err)
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// callErr is call for goroutines: it returns the failure instead of
// ending the test.
func callErr(s *mcp.ClientSession, name string, args map[string]any) (string, bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return "", false, err
	}
	var text strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text.WriteString(tc.Text)
		}
	}
	return text.String(), res.IsError, nil
}
