package adaptergeneric

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// testClock is the time every test event is stamped with.
var testClock = func() time.Time { return time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC) }

// goldenContext is the memory rendered into replies that carry context. It
// holds <, > and &, which must reach the agent unescaped.
const goldenContext = "<claude-mem-context>\n# [billing-api] recent context\n- #412 Invoice totals sum integer cents & no longer drift\n</claude-mem-context>"

// golden is what one input payload is expected to become.
type golden struct {
	Rejection string             `json:"rejection,omitempty"`
	Events    []event.AgentEvent `json:"events,omitempty"`
	// Output and OutputWithContext are the exact bytes RenderHookOutput
	// returns for the first event, without and with goldenContext.
	Output            string `json:"output,omitempty"`
	OutputWithContext string `json:"output_with_context,omitempty"`
}

// goldenCase is one input payload under testdata/golden/<event>/, where
// <event> is the request's event name; the directory _none holds payloads
// posted without one.
type goldenCase struct {
	name, event, input, want string
}

func goldenCases(tb testing.TB) []goldenCase {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "golden", "*", "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var cases []goldenCase
	for _, p := range paths {
		if strings.HasSuffix(p, ".golden.json") {
			continue
		}
		hook := filepath.Base(filepath.Dir(p))
		if hook == "_none" {
			hook = ""
		}
		cases = append(cases, goldenCase{
			name:  filepath.Base(filepath.Dir(p)) + "/" + strings.TrimSuffix(filepath.Base(p), ".json"),
			event: hook,
			input: p,
			want:  strings.TrimSuffix(p, ".json") + ".golden.json",
		})
	}
	if len(cases) == 0 {
		tb.Fatal("no golden inputs under testdata/golden")
	}
	return cases
}

// fixtureRepos lays out, under a temporary root, what the golden events'
// cwds point at: a repository, a linked worktree of it, and a directory
// outside any repository. .git entries cannot be committed under testdata,
// so they are made here.
func fixtureRepos(tb testing.TB) string {
	tb.Helper()
	root := tb.TempDir()
	for _, dir := range []string{
		"billing-api/.git/worktrees/fix-rounding",
		"billing-api/internal/invoice",
		"worktrees/fix-rounding/internal/invoice",
		"scratch",
	} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	gitFile := "gitdir: " + filepath.Join(root, "billing-api", ".git", "worktrees", "fix-rounding") + "\n"
	if err := os.WriteFile(filepath.Join(root, "worktrees", "fix-rounding", ".git"), []byte(gitFile), 0o644); err != nil {
		tb.Fatal(err)
	}
	return root
}

// placeholders maps the $NAMES used in golden payloads to real paths, as
// they appear inside JSON strings.
type placeholders [][2]string

func newPlaceholders(tb testing.TB, repoRoot string) placeholders {
	tb.Helper()
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		tb.Fatal(err)
	}
	return placeholders{{"$TESTDATA", jsonString(testdata)}, {"$REPO", jsonString(repoRoot)}}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func (p placeholders) expand(b []byte) []byte {
	for _, kv := range p {
		b = bytes.ReplaceAll(b, []byte(kv[0]), []byte(kv[1]))
	}
	return b
}

func (p placeholders) collapse(b []byte) []byte {
	for _, kv := range p {
		b = bytes.ReplaceAll(b, []byte(kv[1]), []byte(kv[0]))
	}
	return b
}

func encodeGolden(tb testing.TB, g golden) []byte {
	tb.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(g); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestGolden runs every payload under testdata/golden through
// Normalize and RenderHookOutput and compares the result with its
// .golden.json file. Run with -update to rewrite them.
func TestGolden(t *testing.T) {
	t.Parallel()
	ph := newPlaceholders(t, fixtureRepos(t))
	a := New(WithClock(testClock))
	for _, tc := range goldenCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(tc.input)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			res, err := a.Normalize(ctx, adapter.NormalizeRequest{Source: Source, Event: tc.event, Raw: ph.expand(raw)})
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			got := golden{Rejection: res.Rejection, Events: res.Events}
			if len(res.Events) > 0 {
				for ctxText, dst := range map[string]*string{"": &got.Output, goldenContext: &got.OutputWithContext} {
					out, err := a.RenderHookOutput(ctx, adapter.RenderRequest{Event: tc.event, AgentEvent: res.Events[0], Context: ctxText})
					if err != nil {
						t.Fatalf("RenderHookOutput: %v", err)
					}
					if !json.Valid(out) {
						t.Fatalf("RenderHookOutput returned invalid JSON: %s", out)
					}
					*dst = string(out)
				}
			}
			gotBytes := ph.collapse(encodeGolden(t, got))
			if *update {
				if err := os.WriteFile(tc.want, gotBytes, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(tc.want)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
			}
			if !bytes.Equal(gotBytes, want) {
				t.Errorf("%s differs from its golden file %s (run with -update if the change is intended)\n--- got\n%s\n--- want\n%s", tc.input, tc.want, gotBytes, want)
			}
		})
	}
}
