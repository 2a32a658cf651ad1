package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/spf13/cobra"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/restapi"
	"github.com/claude-mem/claude-mem-server/host/store"
)

// reindexCommand is `server reindex [--json] [--offline]`.
func (a *app) reindexCommand() *cobra.Command {
	var asJSON, offline bool
	cmd := &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the full-text search indexes from the stored memory",
		Long: "Rebuild the three full-text (FTS5) indexes, observations_fts, session_summaries_fts and\n" +
			"user_prompts_fts, from the memory tables, in one transaction: when search misses memory that is\n" +
			"stored, or after an upgrade asks for it. No memory changes. Progress goes to stderr, one line\n" +
			"per index. When the server runs, the rebuild goes through its API (POST /v1/reindex) with the\n" +
			"admin key in " + EnvAPIKey + "; when it is stopped (or with --offline), the data dir is rebuilt directly.",
		Example: "  claude-mem server reindex",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load(cmd)
			if err != nil {
				return err
			}
			var resp restapi.ReindexResponse
			if base, ok := a.exchangeServer(cfg, offline); ok {
				resp, err = a.remoteReindex(cmd.Context(), base)
			} else {
				resp, err = a.localReindex(cmd.Context(), cfg)
			}
			if err != nil {
				return err
			}
			took := time.Duration(resp.DurationMS) * time.Millisecond
			var total int64
			for _, n := range resp.Rows {
				total += n
			}
			fmt.Fprintf(a.stderr, "reindexed %d indexes, %s rows in %s\n", len(resp.Indexes), humanize.Comma(total), inSeconds(took))
			if asJSON {
				b, err := json.Marshal(resp)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "%s\n", b)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result (POST /v1/reindex's response) as JSON on stdout")
	cmd.Flags().BoolVar(&offline, "offline", false, "rebuild on the data dir even while a server runs")
	return cmd
}

// localReindex rebuilds the data dir's indexes, a line per index as it
// finishes.
func (a *app) localReindex(ctx context.Context, cfg config.Config) (restapi.ReindexResponse, error) {
	path := filepath.Join(cfg.DataDir, store.FileName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return restapi.ReindexResponse{}, fmt.Errorf("reindex: no store at %s: nothing to rebuild; check --data-dir (or $CLAUDE_MEM_DATA_DIR)", path)
	}
	st, err := openDataStore(ctx, cfg)
	if err != nil {
		return restapi.ReindexResponse{}, fmt.Errorf("reindex: open %s: %w", path, err)
	}
	defer st.Close()
	fmt.Fprintf(a.stderr, "reindexing %s\n", path)
	resp, err := restapi.Reindex(ctx, st, func(index string, rows int64, took time.Duration) {
		fmt.Fprintf(a.stderr, "%s: rebuilt %s rows in %s\n", index, humanize.Comma(rows), inSeconds(took))
	})
	if err != nil {
		return resp, fmt.Errorf("reindex: %w; nothing was changed: run it again, or `claude-mem server doctor` if it keeps failing", err)
	}
	return resp, nil
}

// remoteReindex asks the running server to rebuild. Its answer comes at
// the end, so the lines per index carry counts but no times of their own.
func (a *app) remoteReindex(ctx context.Context, base string) (restapi.ReindexResponse, error) {
	fmt.Fprintf(a.stderr, "reindexing through the server at %s\n", base)
	var resp restapi.ReindexResponse
	r, err := a.exchangeCall(ctx, base, "/v1/reindex", "application/json", nil)
	if err != nil {
		return resp, fmt.Errorf("reindex: %w", err)
	}
	defer r.Body.Close()
	if err := json.NewDecoder(r.Body).Decode(&resp); err != nil {
		return resp, fmt.Errorf("reindex: the server at %s answered something else than a reindex result: %w; check its version with `claude-mem server status`", base, err)
	}
	for _, index := range resp.Indexes {
		fmt.Fprintf(a.stderr, "%s: rebuilt %s rows\n", index, humanize.Comma(resp.Rows[index]))
	}
	return resp, nil
}

// inSeconds is d as 0.8s.
func inSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
}
