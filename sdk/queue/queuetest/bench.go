package queuetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// Benchmark measures an engine's throughput for a full job cycle (enqueue,
// reserve, complete) and reports it as jobs/s. One op is one job.
//
//   - single: one job per call, one call at a time;
//   - batched: enqueue MaxBatch jobs per call, reserve up to MaxBatch per
//     call, complete each job with its own call. The completions of a batch
//     run concurrently (a pool of completeWorkers goroutines), as a host
//     running a reserved batch's handlers side by side would issue them; an
//     engine may coalesce them. Strictly one call at a time is "single";
//   - batched-4consumers: one producer enqueuing MaxBatch per call while four
//     consumers reserve and complete concurrently.
//
// Jobs go to many lanes, as in a server with many sessions, so that lane
// exclusivity does not serialise the work.
func Benchmark(b *testing.B, newEngine func(b *testing.B) queue.Engine) {
	const lock = time.Minute
	lane := func(i int) string { return fmt.Sprintf("lane-%d", i%1000) }

	b.Run("single", func(b *testing.B) {
		e := newEngine(b)
		ctx := b.Context()
		b.ResetTimer()
		for i := range b.N {
			id := fmt.Sprintf("job-%d", i)
			if _, err := e.Enqueue(ctx, []queue.NewJob{{ID: id, Lane: lane(i), Kind: "bench"}}); err != nil {
				b.Fatal(err)
			}
			leases, err := e.Reserve(ctx, queue.ReserveRequest{Max: 1, Lock: lock})
			if err != nil || len(leases) != 1 {
				b.Fatalf("Reserve = %d leases, %v", len(leases), err)
			}
			if err := e.Complete(ctx, leases[0].Job.ID, leases[0].Token); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
	})

	b.Run("batched", func(b *testing.B) {
		e := newEngine(b)
		ctx := b.Context()
		b.ResetTimer()
		for start := 0; start < b.N; start += queue.MaxBatch {
			n := min(queue.MaxBatch, b.N-start)
			enqueueBench(b, e, start, n, lane)
			for done := 0; done < n; {
				leases, err := e.Reserve(ctx, queue.ReserveRequest{Max: queue.MaxBatch, Lock: lock})
				if err != nil || len(leases) == 0 {
					b.Fatalf("Reserve = %d leases, %v", len(leases), err)
				}
				completeAll(b, e, leases)
				done += len(leases)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
	})

	b.Run("batched-4consumers", func(b *testing.B) {
		e := newEngine(b)
		ctx := b.Context()
		var (
			done   atomic.Int64
			wg     sync.WaitGroup
			errMu  sync.Mutex
			errOut error
		)
		b.ResetTimer()
		for range 4 {
			wg.Go(func() {
				for done.Load() < int64(b.N) {
					leases, err := e.Reserve(ctx, queue.ReserveRequest{Max: 100, Lock: lock, Wait: 20 * time.Millisecond})
					if err == nil {
						for _, l := range leases {
							if err = e.Complete(ctx, l.Job.ID, l.Token); err != nil {
								break
							}
							done.Add(1)
						}
					}
					if err != nil {
						errMu.Lock()
						errOut = err
						errMu.Unlock()
						done.Store(int64(b.N)) // stop the others
						return
					}
				}
			})
		}
		for start := 0; start < b.N; start += queue.MaxBatch {
			enqueueBench(b, e, start, min(queue.MaxBatch, b.N-start), lane)
		}
		wg.Wait()
		if errOut != nil {
			b.Fatal(errOut)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
	})
}

// completeWorkers is how many goroutines complete a reserved batch in
// "batched".
const completeWorkers = 32

// completeAll completes every lease, from completeWorkers goroutines.
func completeAll(b *testing.B, e queue.Engine, leases []queue.Lease) {
	b.Helper()
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make(chan error, completeWorkers)
	)
	for range min(completeWorkers, len(leases)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(leases) {
					return
				}
				if err := e.Complete(b.Context(), leases[i].Job.ID, leases[i].Token); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}

func enqueueBench(b *testing.B, e queue.Engine, start, n int, lane func(int) string) {
	b.Helper()
	jobs := make([]queue.NewJob, n)
	for i := range jobs {
		jobs[i] = queue.NewJob{ID: fmt.Sprintf("job-%d", start+i), Lane: lane(start + i), Kind: "bench"}
	}
	if _, err := e.Enqueue(b.Context(), jobs); err != nil {
		b.Fatal(err)
	}
}
