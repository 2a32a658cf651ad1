package restapi_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/store/storetest"

	"github.com/claude-mem/claude-mem-server/host/restapi"
)

// TestReindexReportsEachIndex runs the rebuild the CLI runs on a stopped
// server, and checks that progress hears of every index, in order, with
// the counts of the result.
func TestReindexReportsEachIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.New(t)
	var seen []string
	rows := map[string]int64{}
	resp, err := restapi.Reindex(ctx, st, func(index string, n int64, took time.Duration) {
		seen = append(seen, index)
		rows[index] = n
		if took < 0 {
			t.Errorf("%s took %v", index, took)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"observations_fts", "session_summaries_fts", "user_prompts_fts"}
	if !slices.Equal(seen, want) || !slices.Equal(resp.Indexes, want) {
		t.Errorf("progress saw %v, the response lists %v; want %v", seen, resp.Indexes, want)
	}
	for _, index := range want {
		if n, ok := resp.Rows[index]; !ok || n != rows[index] {
			t.Errorf("%s: response %d (%v), progress %d", index, n, ok, rows[index])
		}
	}

	// A cancelled context rebuilds nothing and says so.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	seen = nil
	if _, err := restapi.Reindex(cctx, st, func(index string, _ int64, _ time.Duration) { seen = append(seen, index) }); err == nil || len(seen) != 0 {
		t.Errorf("cancelled: err %v, progress %v", err, seen)
	}
}
