package restapi

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"time"

	"github.com/claude-mem/claude-mem-server/host/audit"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/search"
	"github.com/claude-mem/claude-mem-server/host/store"
)

// ReindexResponse is the body of POST /v1/reindex.
type ReindexResponse struct {
	// Indexes are the full-text indexes rebuilt.
	Indexes []string `json:"indexes"`
	// Rows counts the rows each index now covers.
	Rows map[string]int64 `json:"rows"`
	// DurationMS is how long the rebuild took.
	DurationMS int64 `json:"duration_ms"`
}

// ReindexProgress is told about each index as soon as it is rebuilt, with
// the rows it now covers and how long it took. The rebuild is committed
// only after the last index: if Reindex then fails, none of them is.
type ReindexProgress func(index string, rows int64, took time.Duration)

// Reindex rebuilds the full-text indexes from the memory tables, in one
// transaction: a failure leaves every index as it was. progress may be
// nil. POST /v1/reindex and `claude-mem server reindex` on a stopped
// server both run it.
func Reindex(ctx context.Context, st *store.Store, progress ReindexProgress) (ReindexResponse, error) {
	start := time.Now()
	var rows map[string]int64
	err := st.Tx(ctx, func(tx *sql.Tx) (err error) {
		rows, err = search.RebuildIndexes(ctx, tx, progress)
		return err
	})
	if err != nil {
		return ReindexResponse{}, fmt.Errorf("restapi: reindex: %w", err)
	}
	return ReindexResponse{Indexes: search.Indexes(), Rows: rows, DurationMS: time.Since(start).Milliseconds()}, nil
}

// reindex is POST /v1/reindex: it rebuilds the full-text indexes from the
// memory tables, for a store whose indexes were damaged or built by an
// older version. It holds the store's write lock while it runs, and it
// changes no memory, so it leaks nothing of another team.
func (a *API) reindex(w http.ResponseWriter, r *http.Request) {
	if _, ok := team(w, r); !ok {
		return
	}
	resp, err := Reindex(r.Context(), a.opts.Store, nil)
	if err != nil {
		a.log.Error("reindex", "error", err)
		httpapi.WriteErr(w, r, err)
		return
	}
	audit.Annotate(r.Context(), audit.Resource("fts"))
	httpapi.WriteJSON(w, http.StatusOK, resp)
}
