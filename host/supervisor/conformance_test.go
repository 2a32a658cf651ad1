package supervisor_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/supervisor"
	"github.com/claude-mem/claude-mem-server/plugins/queue-valkey/valkeytest"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
	"github.com/claude-mem/claude-mem-server/sdk/queue"
	"github.com/claude-mem/claude-mem-server/sdk/queue/queuetest"
)

// subprocessEngine runs a bundled queue engine as a real plugin process,
// exactly as the host does, and returns its client. The process lives in
// its own supervisor over dir, which Reopen reuses.
type subprocessEngine struct {
	sup *supervisor.Supervisor
	dir string
}

func startEngine(t *testing.T, name, dir string, settings map[string]string) (queue.Engine, *subprocessEngine) {
	t.Helper()
	sup := supervisor.New(supervisor.Options{DataDir: dir, StartTimeout: 20 * time.Second})
	t.Cleanup(sup.Stop)
	spec := bundledSpec(selfBinary(t), plugin.KindQueue, name)
	spec.Settings = settings
	p, err := sup.Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := supervisor.Service[queue.Engine](p)
	if err != nil {
		t.Fatal(err)
	}
	return eng, &subprocessEngine{sup: sup, dir: dir}
}

// TestQueueEnginesConformThroughTheirPluginProcess runs the queue
// conformance suite against each bundled engine as a plugin subprocess:
// the real handshake, mTLS and gRPC boundary, as the host uses them.
func TestQueueEnginesConformThroughTheirPluginProcess(t *testing.T) {
	t.Parallel()
	t.Run("queue-sqlite", func(t *testing.T) {
		t.Parallel()
		var procs sync.Map // queue.Engine -> *subprocessEngine; subtests run in parallel
		queuetest.Run(t, queuetest.Harness{
			New: func(t *testing.T) queue.Engine {
				eng, p := startEngine(t, "queue-sqlite", t.TempDir(), nil)
				procs.Store(eng, p)
				return eng
			},
			Reopen: func(t *testing.T, e queue.Engine) queue.Engine {
				v, _ := procs.Load(e)
				p := v.(*subprocessEngine)
				p.sup.Stop() // the plugin process exits; its SQLite file stays
				eng, _ := startEngine(t, "queue-sqlite", p.dir, nil)
				return eng
			},
		})
	})
	t.Run("queue-valkey", func(t *testing.T) {
		t.Parallel()
		redis := valkeytest.Start(t)
		var prefixes sync.Map // queue.Engine -> its key prefix
		settings := func(prefix string) map[string]string {
			return map[string]string{"url": redis.URL(), "prefix": prefix}
		}
		queuetest.Run(t, queuetest.Harness{
			New: func(t *testing.T) queue.Engine {
				b := make([]byte, 6)
				_, _ = rand.Read(b)
				prefix := "conf" + hex.EncodeToString(b)
				eng, _ := startEngine(t, "queue-valkey", t.TempDir(), settings(prefix))
				prefixes.Store(eng, prefix)
				return eng
			},
			Reopen: func(t *testing.T, e queue.Engine) queue.Engine {
				prefix, _ := prefixes.Load(e)
				eng, _ := startEngine(t, "queue-valkey", t.TempDir(), settings(prefix.(string)))
				return eng
			},
		})
	})
}
