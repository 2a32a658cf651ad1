package adapterclaudecode

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLastAssistantText(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		path, text, missing string
		sidechain           bool
	}{
		"final text":              {path: "testdata/transcripts/final-text.jsonl", text: "Fixed: `Total` now sums integer cents instead of float dollars, so 3 × $0.10 is exactly $0.30.\n\nAdded `TestTotal`; `go test ./internal/invoice/...` passes."},
		"torn last line":          {path: "testdata/transcripts/torn-tail.jsonl", text: "Fixed: `Total` now sums integer cents instead of float dollars, so 3 × $0.10 is exactly $0.30.\n\nAdded `TestTotal`; `go test ./internal/invoice/...` passes."},
		"lagging":                 {path: "testdata/transcripts/lagging.jsonl", missing: missingNoTextThisTurn},
		"subagent transcript":     {path: "testdata/transcripts/agent-a91f3c2e.jsonl", sidechain: true, text: "Totals are computed in internal/invoice/total.go (func Total), using float64 dollars."},
		"sidechain lines skipped": {path: "testdata/transcripts/agent-a91f3c2e.jsonl", missing: missingNoText},
		"missing file":            {path: "testdata/transcripts/nope.jsonl", missing: missingUnreadable},
		"directory":               {path: "testdata/transcripts", missing: missingUnreadable},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			text, missing := lastAssistantText(context.Background(), tc.path, defaultTranscriptMaxScan, tc.sidechain)
			if text != tc.text || missing != tc.missing {
				t.Errorf("lastAssistantText = %q, %q; want %q, %q", text, missing, tc.text, tc.missing)
			}
		})
	}
}

func TestLastAssistantTextShapes(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		lines         []string
		text, missing string
	}{
		"string content": {
			lines: []string{`{"type":"assistant","message":{"content":"plain string answer"}}`},
			text:  "plain string answer",
		},
		"several text blocks are joined": {
			lines: []string{`{"type":"assistant","message":{"content":[{"type":"text","text":"one"},{"type":"tool_use","id":"t","name":"Read","input":{}},{"type":"text","text":"two"}]}}`},
			text:  "one\ntwo",
		},
		"tool-only newest turn falls back to earlier text in the same turn": {
			lines: []string{
				`{"type":"user","message":{"content":"do it"}}`,
				`{"type":"assistant","message":{"content":[{"type":"text","text":"on it"}]}}`,
				`{"type":"assistant","message":{"content":[{"type":"tool_use","id":"t","name":"Bash","input":{"command":"ls"}}]}}`,
				`{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t","content":"a b"}]}}`,
			},
			text: "on it",
		},
		"meta user lines do not end the turn": {
			lines: []string{
				`{"type":"assistant","message":{"content":[{"type":"text","text":"answer"}]}}`,
				`{"type":"user","isMeta":true,"message":{"content":"<command-name>/cost</command-name>"}}`,
			},
			text: "answer",
		},
		"blank text is no text": {
			lines:   []string{`{"type":"assistant","message":{"content":[{"type":"text","text":"  \n"}]}}`},
			missing: missingNoText,
		},
		"garbage lines are skipped": {
			lines: []string{`{"type":"assistant","message":{"content":"kept"}}`, `not json`, `[1,2]`, `{"type":"assistant","message":{"content":42}}`, `{"type":"assistant"}`, ``},
			text:  "kept",
		},
		"empty file": {missing: missingNoText},
		"CRLF line ends": {
			lines: []string{"{\"type\":\"assistant\",\"message\":{\"content\":\"windows\"}}\r"},
			text:  "windows",
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "t.jsonl")
			if err := os.WriteFile(path, []byte(strings.Join(tc.lines, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
			text, missing := lastAssistantText(context.Background(), path, defaultTranscriptMaxScan, false)
			if text != tc.text || missing != tc.missing {
				t.Errorf("lastAssistantText = %q, %q; want %q, %q", text, missing, tc.text, tc.missing)
			}
		})
	}
}

// TestLastAssistantTextChunks compares the backward chunked scan with a
// whole-file scan on random transcripts whose lines straddle the chunk
// boundaries, including lines longer than a chunk.
func TestLastAssistantTextChunks(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	for i := range 30 {
		var buf bytes.Buffer
		for n := rng.IntN(60); n > 0; n-- {
			buf.WriteString(randomLine(rng))
			buf.WriteByte('\n')
		}
		path := filepath.Join(dir, fmt.Sprintf("%d.jsonl", i))
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		wantText, wantMissing := wholeFileScan(buf.Bytes())
		text, missing := lastAssistantText(context.Background(), path, defaultTranscriptMaxScan, false)
		if text != wantText || missing != wantMissing {
			t.Errorf("file %d (%d bytes): got %.40q, %q; whole-file scan says %.40q, %q", i, buf.Len(), text, missing, wantText, wantMissing)
		}
	}
}

// TestLastAssistantTextScanLimit checks that an answer beyond the scan
// limit is not found rather than read at any cost.
func TestLastAssistantTextScanLimit(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "big.jsonl")
	filler := `{"type":"assistant","message":{"content":[{"type":"tool_use","id":"t","name":"Bash","input":{"command":"` + strings.Repeat("x", 1000) + `"}}]}}`
	content := `{"type":"assistant","message":{"content":"far back"}}` + "\n" + strings.Repeat(filler+"\n", 300)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if text, missing := lastAssistantText(context.Background(), path, 100<<10, false); text != "" || missing != missingNoText {
		t.Errorf("with a 100 KiB limit: %q, %q; want nothing", text, missing)
	}
	if text, _ := lastAssistantText(context.Background(), path, 1<<20, false); text != "far back" {
		t.Errorf("with a 1 MiB limit: %q, want far back", text)
	}
}

func randomLine(rng *rand.Rand) string {
	text := func() string {
		if rng.IntN(8) == 0 {
			return strings.Repeat("long ", rng.IntN(30_000)) // up to 150 KB, over two first chunks
		}
		return fmt.Sprintf("text %d", rng.IntN(1000))
	}
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	switch rng.IntN(6) {
	case 0:
		return enc(map[string]any{"type": "assistant", "message": map[string]any{"content": []any{map[string]any{"type": "text", "text": text()}}}})
	case 1:
		return enc(map[string]any{"type": "assistant", "message": map[string]any{"content": []any{map[string]any{"type": "tool_use", "id": "t", "input": map[string]any{"command": text()}}}}})
	case 2:
		return enc(map[string]any{"type": "user", "message": map[string]any{"content": []any{map[string]any{"type": "tool_result", "tool_use_id": "t", "content": text()}}}})
	case 3:
		if rng.IntN(3) == 0 {
			return enc(map[string]any{"type": "user", "message": map[string]any{"content": text()}})
		}
		return enc(map[string]any{"type": "system", "content": text()})
	case 4:
		return enc(map[string]any{"type": "assistant", "isSidechain": true, "message": map[string]any{"content": text()}})
	default:
		return `{"type":"assistant","message":{"content":"torn` // a torn line
	}
}

// wholeFileScan is the obvious implementation lastAssistantText must agree
// with: every line, newest first.
func wholeFileScan(b []byte) (string, string) {
	lines := bytes.Split(b, []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		switch text, v := classify(lines[i], false); v {
		case verdictText:
			return text, ""
		case verdictPrompt:
			return "", missingNoTextThisTurn
		}
	}
	return "", missingNoText
}
