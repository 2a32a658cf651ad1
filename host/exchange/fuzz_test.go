package exchange_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/claude-mem/claude-mem-server/host/exchange"
	"github.com/claude-mem/claude-mem-server/host/store"
)

// rowCount counts the rows of team a in the memory tables.
func rowCount(t testing.TB, st *store.Store) int {
	t.Helper()
	var n int
	err := st.Reader().QueryRow(`SELECT
		(SELECT COUNT(*) FROM projects WHERE team_id = 'a') + (SELECT COUNT(*) FROM sdk_sessions WHERE team_id = 'a') +
		(SELECT COUNT(*) FROM agent_events WHERE team_id = 'a') + (SELECT COUNT(*) FROM observations WHERE team_id = 'a') +
		(SELECT COUNT(*) FROM session_summaries WHERE team_id = 'a')`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// FuzzImport feeds arbitrary files to both import formats. An import never
// panics, and one that fails changes nothing: it runs in one transaction.
// The seeds are a real export of seeded data, a memory.jsonl, and broken
// variants of both. (Coverage instrumentation of the pure-Go SQLite makes
// `go test -fuzz` slow here, a few inputs a second; a test binary built
// without it fuzzes at thousands a second.)
func FuzzImport(f *testing.F) {
	ctx := context.Background()
	st := openStore(f)
	seed(f, st, "b", "MARKB")
	var export bytes.Buffer
	if _, err := exchange.Export(ctx, st, "b", &export, nil); err != nil {
		f.Fatal(err)
	}
	mcp := `{"type":"entity","name":"billing","entityType":"service","observations":["retries payments three times"]}
{"type":"relation","from":"billing","to":"ledger","relationType":"writes to"}
`
	f.Add(export.String(), false)
	f.Add(strings.Replace(export.String(), `"kind":"observation"`, `"kind":"observation","bogus":[1,{}]`, 1), false)
	f.Add(export.String()[:export.Len()/2], false)
	f.Add(mcp, true)
	f.Add(`{"type":"entity","name":"","observations":[null,7]}`, true)
	f.Add("{}\n[]\nnull\n", false)
	f.Fuzz(func(t *testing.T, file string, mcpFormat bool) {
		format := exchange.FormatClaudeMem
		if mcpFormat {
			format = exchange.FormatMCPMemory
		}
		before := rowCount(t, st)
		_, err := exchange.Import(ctx, exchange.ImportOptions{Store: st, Team: "a", Format: format}, strings.NewReader(file))
		if err != nil {
			if after := rowCount(t, st); after != before {
				t.Fatalf("a failed import (%v) changed %d rows", err, after-before)
			}
		}
	})
}
