package queuevalkey

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// TestMultiHostLaneFIFO runs three engines with separate clients on one
// queue, as three hosts would, each with several consumers, while jobs
// arrive. Every lane must run in FIFO order with never two jobs in flight,
// across retries, and every job must complete exactly once.
func TestMultiHostLaneFIFO(t *testing.T) {
	t.Parallel()
	url := sharedServer(t)
	prefix := randomPrefix()
	const (
		hosts, consumers = 3, 3
		lanes, perLane   = 30, 20
		total            = lanes * perLane
	)
	engines := make([]*Engine, hosts)
	for i := range engines {
		engines[i] = open(t, url, prefix)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	var (
		inFlight  [lanes]atomic.Int32
		mu        sync.Mutex
		order     = map[int][]int{} // lane → job indexes in completion order
		completed = map[string]int{}
		failedyet = map[string]bool{}
		perHost   [hosts]atomic.Int64
		problems  []string
		done      atomic.Int64
	)
	problem := func(format string, args ...any) {
		mu.Lock()
		problems = append(problems, fmt.Sprintf(format, args...))
		mu.Unlock()
		cancel()
	}
	parse := func(id string) (lane, idx int) {
		_, _ = fmt.Sscanf(id, "l%d-j%d", &lane, &idx)
		return lane, idx
	}

	var wg sync.WaitGroup
	for h, e := range engines {
		for c := range consumers {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(h), uint64(c)))
				for done.Load() < total && ctx.Err() == nil {
					leases, err := e.Reserve(ctx, queue.ReserveRequest{
						Max: 1 + rng.IntN(3), Lock: 10 * time.Second, Wait: 200 * time.Millisecond,
						Worker: fmt.Sprintf("h%d-c%d", h, c),
					})
					if err != nil {
						if ctx.Err() == nil {
							problem("Reserve: %v", err)
						}
						return
					}
					for _, l := range leases {
						lane, _ := parse(l.Job.ID)
						if n := inFlight[lane].Add(1); n != 1 {
							problem("lane %d has %d jobs in flight (%s)", lane, n, l.Job.ID)
						}
					}
					for _, l := range leases {
						lane, idx := parse(l.Job.ID)
						if rng.IntN(4) == 0 {
							time.Sleep(time.Duration(rng.IntN(500)) * time.Microsecond)
						}
						// Every 7th job fails once, retryably: the retry must
						// keep its lane blocked and its place.
						mu.Lock()
						flaky := (lane*perLane+idx)%7 == 0 && !failedyet[l.Job.ID]
						failedyet[l.Job.ID] = true
						mu.Unlock()
						// Release before finishing: once the server has the
						// finish, the lane's next job may be reserved at once.
						inFlight[lane].Add(-1)
						if flaky {
							res, err := e.Fail(ctx, l.Job.ID, l.Token, queue.Failure{Reason: "flaky", Retryable: true})
							if err != nil || res.State != queue.StateDelayed {
								problem("Fail(%s) = %+v, %v", l.Job.ID, res, err)
							}
							continue
						}
						if err := e.Complete(ctx, l.Job.ID, l.Token); err != nil {
							problem("Complete(%s): %v", l.Job.ID, err)
							continue
						}
						mu.Lock()
						order[lane] = append(order[lane], idx)
						completed[l.Job.ID]++
						mu.Unlock()
						perHost[h].Add(1)
						done.Add(1)
					}
				}
			})
		}
	}

	// Jobs arrive while the consumers run, one batch per round, through the
	// engines in turn, so wake-ups have to cross hosts.
	for idx := range perLane {
		batch := make([]queue.NewJob, 0, lanes)
		for lane := range lanes {
			batch = append(batch, queue.NewJob{
				ID: fmt.Sprintf("l%02d-j%02d", lane, idx), Lane: fmt.Sprintf("lane-%02d", lane),
				Kind: "test", MaxAttempts: 3, Backoff: 5 * time.Millisecond,
			})
		}
		if _, err := engines[idx%hosts].Enqueue(ctx, batch); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
		if idx%5 == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	wg.Wait()

	if len(problems) > 0 {
		t.Fatalf("%d problems, first: %s", len(problems), problems[0])
	}
	if done.Load() != total {
		t.Fatalf("completed %d of %d jobs", done.Load(), total)
	}
	want := make([]int, perLane)
	for i := range want {
		want[i] = i
	}
	for lane := range lanes {
		if !slices.Equal(order[lane], want) {
			t.Errorf("lane %d ran %v, want FIFO", lane, order[lane])
		}
	}
	for id, n := range completed {
		if n != 1 {
			t.Errorf("job %s completed %d times", id, n)
		}
	}
	for h := range perHost {
		if perHost[h].Load() == 0 {
			t.Errorf("host %d completed no job; the test did not exercise several hosts", h)
		}
	}
	c, err := engines[0].Counts(t.Context(), "")
	if err != nil || c != (queue.Counts{Completed: total}) {
		t.Fatalf("final Counts = %+v, %v; want %d completed", c, err, total)
	}
	t.Logf("jobs per host: %d %d %d", perHost[0].Load(), perHost[1].Load(), perHost[2].Load())
}
