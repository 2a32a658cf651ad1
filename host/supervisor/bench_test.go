package supervisor_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/claude-mem/claude-mem-server/host/supervisor"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

func startQueue(b *testing.B) (*supervisor.Plugin, queue.Engine) {
	b.Helper()
	sup := supervisor.New(supervisor.Options{DataDir: b.TempDir()})
	b.Cleanup(sup.Stop)
	p, err := sup.Start(context.Background(), bundledSpec(selfBinary(b), plugin.KindQueue, "queue-sqlite"))
	if err != nil {
		b.Fatal(err)
	}
	eng, err := supervisor.Service[queue.Engine](p)
	if err != nil {
		b.Fatal(err)
	}
	return p, eng
}

// BenchmarkRoundTrip measures one gRPC call to a real plugin process: the
// fixed cost every plugin call pays.
func BenchmarkRoundTrip(b *testing.B) {
	p, _ := startQueue(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := p.Health(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/call")
}

// completeAll completes leases from up to 32 goroutines, as a host with
// that many workers would: the calls share one HTTP/2 connection and the
// engine commits concurrent completions together.
func completeAll(b *testing.B, eng queue.Engine, leases []queue.Lease) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for _, l := range leases {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := eng.Complete(context.Background(), l.Job.ID, l.Token); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
}

// BenchmarkQueueSQLiteOverGRPC measures enqueue+reserve+complete through
// the real plugin process, as the host drives it.
func BenchmarkQueueSQLiteOverGRPC(b *testing.B) {
	for _, batch := range []int{1, 500} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			_, eng := startQueue(b)
			ctx := context.Background()
			n := 0
			for b.Loop() {
				jobs := make([]queue.NewJob, batch)
				for i := range jobs {
					jobs[i] = queue.NewJob{ID: fmt.Sprintf("j%d", n), Lane: fmt.Sprintf("l%d", n%64), Kind: "bench"}
					n++
				}
				if _, err := eng.Enqueue(ctx, jobs); err != nil {
					b.Fatal(err)
				}
				for done := 0; done < batch; {
					leases, err := eng.Reserve(ctx, queue.ReserveRequest{Max: batch, Lock: 30e9})
					if err != nil {
						b.Fatal(err)
					}
					completeAll(b, eng, leases)
					done += len(leases)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "jobs/s")
		})
	}
}
