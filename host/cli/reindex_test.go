package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/claude-mem/claude-mem-server/host/restapi"
	"github.com/claude-mem/claude-mem-server/host/store"
)

// matches counts the observations the full-text index finds for term,
// reading the data dir directly.
func matches(t *testing.T, dataDir, term string) int {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(dataDir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var n int
	if err := st.Reader().QueryRow(`SELECT COUNT(*) FROM observations_fts WHERE observations_fts MATCH ?`, term).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// damage empties the observations index behind the store's back.
func damage(t *testing.T, dataDir string) {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(dataDir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Writer().Exec(`INSERT INTO observations_fts(observations_fts) VALUES('delete-all')`); err != nil {
		t.Fatal(err)
	}
}

func TestServerReindex(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		running bool
		// line is the progress line of observations_fts.
		line *regexp.Regexp
	}{
		{name: "data dir", line: regexp.MustCompile(`(?m)^observations_fts: rebuilt 2 rows in \d+\.\ds$`)},
		{name: "through the server", running: true, line: regexp.MustCompile(`(?m)^observations_fts: rebuilt 2 rows$`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			mem := filepath.Join(t.TempDir(), "memory.jsonl")
			if err := os.WriteFile(mem, []byte(`{"type":"entity","name":"Wombat","entityType":"animal","observations":["digs burrows"]}
{"type":"relation","from":"Wombat","to":"Burrow","relationType":"digs"}
`), 0o600); err != nil {
				t.Fatal(err)
			}
			b.mustRun(t, 0, "server", "import", "--file", mem, "--project", "zoo")
			if n := matches(t, b.dataDir, "burrows"); n != 1 {
				t.Fatalf("before the damage the index finds %d, want 1", n)
			}
			damage(t, b.dataDir)
			if n := matches(t, b.dataDir, "burrows"); n != 0 {
				t.Fatalf("the damage did not take: %d found", n)
			}
			if tc.running {
				b.mustRun(t, 0, "server", "start")
				t.Cleanup(func() { b.mustRun(t, 0, "server", "stop") })
			}

			r := b.mustRun(t, 0, "server", "reindex")
			if !tc.line.MatchString(r.stderr) {
				t.Errorf("no line matching %s in:\n%s", tc.line, r.stderr)
			}
			for _, index := range []string{"session_summaries_fts", "user_prompts_fts"} {
				if !strings.Contains(r.stderr, index+": rebuilt ") {
					t.Errorf("no progress line for %s in:\n%s", index, r.stderr)
				}
			}
			if !regexp.MustCompile(`(?m)^reindexed 3 indexes, \d+ rows in \d+\.\ds$`).MatchString(r.stderr) {
				t.Errorf("no summary in:\n%s", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout without --json: %q", r.stdout)
			}
			if n := matches(t, b.dataDir, "burrows"); n != 1 {
				t.Errorf("after reindex the index finds %d, want 1", n)
			}

			r = b.mustRun(t, 0, "server", "reindex", "--json")
			var resp restapi.ReindexResponse
			if err := json.Unmarshal([]byte(r.stdout), &resp); err != nil {
				t.Fatalf("--json printed %q: %v", r.stdout, err)
			}
			if len(resp.Indexes) != 3 || resp.Rows["observations_fts"] != 2 {
				t.Errorf("--json: %+v", resp)
			}
		})
	}
}

func TestServerReindexWithoutStore(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.run(t, "server", "reindex")
	if r.code != ExitFailure || !strings.Contains(r.stderr, "no store at") || !strings.Contains(r.stderr, "--data-dir") {
		t.Errorf("reindex without a store: %d %q", r.code, r.stderr)
	}
}

// TestProgressFigures pins the form of the figures in progress lines.
func TestProgressFigures(t *testing.T) {
	t.Parallel()
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 12345: "12,345", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := humanize.Comma(in); got != want {
			t.Errorf("humanize.Comma(%d) = %q, want %q", in, got, want)
		}
	}
	if got := inSeconds(812 * time.Millisecond); got != "0.8s" {
		t.Errorf("inSeconds(812ms) = %q", got)
	}
}
