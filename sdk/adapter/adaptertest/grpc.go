package adaptertest

import (
	"context"
	"fmt"
	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
	"github.com/claude-mem/claude-mem-server/sdk/plugin/plugintest"
)

// overGRPC puts a behind the real adapter.v1 gRPC server and client, in
// process, so the suite checks that every call and error survives the wire.
func overGRPC(t *testing.T, a adapter.Adapter) adapter.Adapter {
	t.Helper()
	srv := adapter.NewServer(plugin.Info{Name: "adaptertest", Version: "0.0.0"},
		func(context.Context, plugin.Config) (adapter.Adapter, error) { return guarded{t: t, a: a}, nil })
	return plugintest.Dispense[adapter.Adapter](t, srv, adapter.ClientPlugin())
}

// guarded turns a panic of the adapter behind the gRPC server into a
// failure of the test and an error of the call (plugintest.CatchPanic).
type guarded struct {
	t testing.TB
	a adapter.Adapter
}

func (g guarded) Manifest(ctx context.Context) (_ adapter.Manifest, err error) {
	defer plugintest.CatchPanic(g.t, "Manifest", &err)
	return g.a.Manifest(ctx)
}

func (g guarded) Normalize(ctx context.Context, req adapter.NormalizeRequest) (_ adapter.NormalizeResult, err error) {
	defer plugintest.CatchPanic(g.t, fmt.Sprintf("Normalize(%q, %q)", req.Event, req.Raw), &err)
	return g.a.Normalize(ctx, req)
}

func (g guarded) RenderHookOutput(ctx context.Context, req adapter.RenderRequest) (_ []byte, err error) {
	defer plugintest.CatchPanic(g.t, fmt.Sprintf("RenderHookOutput(%q, context %q)", req.Event, req.Context), &err)
	return g.a.RenderHookOutput(ctx, req)
}
