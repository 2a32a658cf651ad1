package adaptertest

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

// update is registered once here, for every adapter package whose tests
// import adaptertest: go test -run TestGolden -update rewrites the golden
// files instead of comparing with them.
var update = flag.Bool("update", false, "rewrite the golden files that adaptertest.Golden compares with")

// GoldenContext is the memory Golden renders into replies that carry
// context. It holds <, > and &, which must reach the agent unescaped.
const GoldenContext = "<claude-mem-context>\n# [billing-api] recent context\n- #412 Invoice totals sum integer cents & no longer drift\n</claude-mem-context>"

// golden is what one input payload is expected to become, as stored in its
// .golden.json file.
type golden struct {
	Rejection string             `json:"rejection,omitempty"`
	Events    []event.AgentEvent `json:"events,omitempty"`
	// Output and OutputWithContext are the exact bytes RenderHookOutput
	// returns for the first event, without and with GoldenContext.
	Output            string `json:"output,omitempty"`
	OutputWithContext string `json:"output_with_context,omitempty"`
}

// GoldenCase is one input payload of a golden directory.
type GoldenCase struct {
	// Name is "<event dir>/<file name without .json>".
	Name string
	// Event is the request's event name: the payload's directory, or ""
	// for a directory whose name starts with "_".
	Event string
	// Input and Want are the paths of the payload and its golden file.
	Input, Want string
}

// GoldenCases lists the payloads under dir: every <dir>/<event>/<name>.json
// but the .golden.json files, in path order. It fails tb when there are
// none.
func GoldenCases(tb testing.TB, dir string) []GoldenCase {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var cases []GoldenCase
	for _, p := range paths {
		if strings.HasSuffix(p, ".golden.json") {
			continue
		}
		eventDir := filepath.Base(filepath.Dir(p))
		name := eventDir
		if strings.HasPrefix(eventDir, "_") {
			name = ""
		}
		cases = append(cases, GoldenCase{
			Name:  eventDir + "/" + strings.TrimSuffix(filepath.Base(p), ".json"),
			Event: name,
			Input: p,
			Want:  strings.TrimSuffix(p, ".json") + ".golden.json",
		})
	}
	if len(cases) == 0 {
		tb.Fatalf("adaptertest: no golden inputs under %s", dir)
	}
	return cases
}

// GoldenPayloads returns the payloads under dir, expanded on a new
// Fixture, for seeding a fuzzer.
func GoldenPayloads(tb testing.TB, dir string) [][]byte {
	tb.Helper()
	fx := NewFixture(tb)
	var out [][]byte
	for _, c := range GoldenCases(tb, dir) {
		out = append(out, fx.ReadFile(tb, c.Input))
	}
	return out
}

// Golden runs every payload under dir (see GoldenCases) through a's
// Normalize, and RenderHookOutput for the first event it becomes, without
// and with GoldenContext, and compares the result with the payload's
// .golden.json file, as indented JSON with <, > and & unescaped. Payloads
// and golden files name the Fixture's paths as $TESTDATA and $REPO.
//
// Give a an adapter on FixedClock, so that events stamped by the adapter
// have a stable time. Run the test with -update to rewrite the golden
// files. Each payload is a parallel subtest.
func Golden(t *testing.T, a adapter.Adapter, dir string) {
	t.Helper()
	fx := NewFixture(t)
	m, err := a.Manifest(t.Context())
	if err != nil {
		t.Fatalf("Manifest: %v", err)
	}
	for _, tc := range GoldenCases(t, dir) {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			res, err := a.Normalize(ctx, adapter.NormalizeRequest{Source: m.Source, Event: tc.Event, Raw: fx.ReadFile(t, tc.Input)})
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			got := golden{Rejection: res.Rejection, Events: res.Events}
			if len(res.Events) > 0 {
				for ctxText, dst := range map[string]*string{"": &got.Output, GoldenContext: &got.OutputWithContext} {
					out, err := a.RenderHookOutput(ctx, adapter.RenderRequest{Event: tc.Event, AgentEvent: res.Events[0], Context: ctxText})
					if err != nil {
						t.Fatalf("RenderHookOutput: %v", err)
					}
					if !json.Valid(out) {
						t.Fatalf("RenderHookOutput returned invalid JSON: %s", out)
					}
					*dst = string(out)
				}
			}
			gotBytes := fx.Collapse(encodeGolden(t, got))
			if *update {
				if err := os.WriteFile(tc.Want, gotBytes, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(tc.Want)
			if err != nil {
				t.Fatalf("%v (run go test -run %s -update to create it)", err, strings.Split(t.Name(), "/")[0])
			}
			if !bytes.Equal(gotBytes, want) {
				t.Errorf("%s differs from its golden file %s (run with -update if the change is intended)\n--- got\n%s\n--- want\n%s", tc.Input, tc.Want, gotBytes, want)
			}
		})
	}
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

// Fixture is what the placeholders of golden payloads stand for.
type Fixture struct {
	// TestData is the absolute path of the testdata directory of the
	// package under test; payloads write it $TESTDATA.
	TestData string
	// Repo is a temporary directory that payloads write $REPO. It holds a
	// repository billing-api (with billing-api/internal/invoice), a linked
	// worktree of it, worktrees/fix-rounding (with internal/invoice), and a
	// directory scratch outside any repository: one cwd for each way
	// package project names a project. .git entries cannot be committed
	// under testdata, so they are made here.
	Repo string
}

// NewFixture lays out a Fixture that lives as long as tb.
func NewFixture(tb testing.TB) *Fixture {
	tb.Helper()
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		tb.Fatal(err)
	}
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
	return &Fixture{TestData: testdata, Repo: root}
}

// pairs maps each placeholder to its path as it appears inside a JSON
// string.
func (x *Fixture) pairs() [][2]string {
	return [][2]string{{"$TESTDATA", jsonString(x.TestData)}, {"$REPO", jsonString(x.Repo)}}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// Expand replaces the placeholders in b with the Fixture's paths.
func (x *Fixture) Expand(b []byte) []byte {
	for _, kv := range x.pairs() {
		b = bytes.ReplaceAll(b, []byte(kv[0]), []byte(kv[1]))
	}
	return b
}

// Collapse replaces the Fixture's paths in b with their placeholders.
func (x *Fixture) Collapse(b []byte) []byte {
	for _, kv := range x.pairs() {
		b = bytes.ReplaceAll(b, []byte(kv[1]), []byte(kv[0]))
	}
	return b
}

// ReadFile reads a payload and expands its placeholders.
func (x *Fixture) ReadFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return x.Expand(b)
}
