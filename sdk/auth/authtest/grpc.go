package authtest

import (
	"context"
	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/auth"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
	"github.com/claude-mem/claude-mem-server/sdk/plugin/plugintest"
)

// overGRPC puts p behind the real auth.v1 gRPC server and client, in
// process, so the suite checks that every call and error survives the wire.
// p stays closed by the cleanup its Harness registered.
func overGRPC(t *testing.T, p auth.Provider) auth.Provider {
	t.Helper()
	srv := auth.NewServer(plugin.Info{Name: "authtest", Version: "0.0.0"},
		func(context.Context, plugin.Config) (auth.Provider, error) { return guarded{t: t, p: p}, nil })
	return plugintest.Dispense[auth.Provider](t, srv, auth.ClientPlugin())
}

// guarded turns a panic of the provider behind the gRPC server into a
// failure of the test and an error of the call (plugintest.CatchPanic).
type guarded struct {
	t testing.TB
	p auth.Provider
}

func (g guarded) Authenticate(ctx context.Context, credential string) (_ auth.Principal, err error) {
	defer plugintest.CatchPanic(g.t, "Authenticate", &err)
	return g.p.Authenticate(ctx, credential)
}

func (g guarded) CreateKey(ctx context.Context, spec auth.KeySpec) (_ auth.Key, _ string, err error) {
	defer plugintest.CatchPanic(g.t, "CreateKey", &err)
	return g.p.CreateKey(ctx, spec)
}

func (g guarded) ListKeys(ctx context.Context, teamID string) (_ []auth.Key, err error) {
	defer plugintest.CatchPanic(g.t, "ListKeys", &err)
	return g.p.ListKeys(ctx, teamID)
}

func (g guarded) RevokeKey(ctx context.Context, id string) (err error) {
	defer plugintest.CatchPanic(g.t, "RevokeKey", &err)
	return g.p.RevokeKey(ctx, id)
}

// Close does nothing: the Harness closes the provider.
func (g guarded) Close() error { return nil }
