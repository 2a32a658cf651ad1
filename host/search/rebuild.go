package search

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// rebuildOrder is the order RebuildIndexes takes the kinds in.
var rebuildOrder = []Kind{KindObservation, KindSummary, KindPrompt}

// Indexes are the full-text indexes search reads, in the order
// RebuildIndexes rebuilds them.
func Indexes() []string {
	out := make([]string, len(rebuildOrder))
	for i, k := range rebuildOrder {
		out[i] = kinds[k].fts
	}
	return out
}

// RebuildIndexes rebuilds the full-text indexes from their content tables
// within tx and returns the rows each now covers. They are external-content
// FTS5 tables kept in sync by triggers; a rebuild mends one that was
// damaged or built by an older version. progress, which may be nil, hears
// of each index as it is done.
func RebuildIndexes(ctx context.Context, tx *sql.Tx, progress func(index string, rows int64, took time.Duration)) (map[string]int64, error) {
	rows := map[string]int64{}
	for _, t := range Indexes() {
		began := time.Now()
		// The table names are constants: there is no user input here.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s(%s) VALUES('rebuild')`, t, t)); err != nil {
			return nil, fmt.Errorf("search: rebuild %s: %w", t, err)
		}
		var n int64
		if err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT COUNT(*) FROM %s`, t)).Scan(&n); err != nil {
			return nil, fmt.Errorf("search: count %s: %w", t, err)
		}
		rows[t] = n
		if progress != nil {
			progress(t, n, time.Since(began))
		}
	}
	return rows, nil
}
