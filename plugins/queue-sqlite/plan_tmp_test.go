package queuesqlite

import (
	"fmt"
	"path/filepath"
	"testing"
)

func TestTmpPlans(t *testing.T) {
	e := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	for name, q := range map[string]string{"insert": sqlInsert, "reserve": sqlReserve, "completeMany": sqlCompleteMany, "nextReady": sqlNextReady, "minLock": sqlMinLock,
		"stall": sqlStall, "promote": sqlPromote, "complete": sqlComplete, "leased": sqlLeased, "extend": sqlExtend, "countsLane": sqlCountsLane, "countsAll": sqlCountsAll,
		"prune": `DELETE FROM jobs WHERE seq IN (SELECT seq FROM jobs WHERE finished_at_ms < ?2 AND state = ?1 LIMIT ?3)`,
		"clear": `DELETE FROM jobs WHERE lane = ? AND state IN (1, 3, 4, 5)`} {
		rows, err := e.conn.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, 1, 2, 3, 4, 5, 6, 7)
		if err != nil {
			rows, err = e.conn.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, 1, 2, 3, 4)
		}
		if err != nil {
			rows, err = e.conn.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, 1, 2, 3)
		}
		if err != nil {
			rows, err = e.conn.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, 1, 2)
		}
		if err != nil {
			rows, err = e.conn.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, 1)
		}
		if err != nil {
			rows, err = e.conn.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q)
		}
		if err != nil {
			t.Fatal(name, err)
		}
		fmt.Println("==", name)
		for rows.Next() {
			var id, parent, notused int
			var detail string
			rows.Scan(&id, &parent, &notused, &detail)
			fmt.Println("   ", detail)
		}
		rows.Close()
	}
}
