package authtest

import (
	"context"
	"fmt"
	"runtime/debug"
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
	conn := plugintest.Connect(t, srv, auth.ClientPlugin(), plugin.Config{})
	c, ok := conn.Service.(auth.Provider)
	if !ok {
		t.Fatalf("authtest: dispensed service %T is not an auth.Provider", conn.Service)
	}
	return c
}

// guarded turns a panic of the provider behind the gRPC server into a
// failure of the test and an error of the call: unrecovered, it would end
// the whole test binary from a server goroutine.
type guarded struct {
	t testing.TB
	p auth.Provider
}

func (g guarded) catch(call string, err *error) {
	if r := recover(); r != nil {
		g.t.Errorf("%s panicked behind the gRPC server: %v\n%s", call, r, debug.Stack())
		*err = fmt.Errorf("authtest: %s panicked: %v", call, r)
	}
}

func (g guarded) Authenticate(ctx context.Context, credential string) (_ auth.Principal, err error) {
	defer g.catch("Authenticate", &err)
	return g.p.Authenticate(ctx, credential)
}

func (g guarded) CreateKey(ctx context.Context, spec auth.KeySpec) (_ auth.Key, _ string, err error) {
	defer g.catch("CreateKey", &err)
	return g.p.CreateKey(ctx, spec)
}

func (g guarded) ListKeys(ctx context.Context, teamID string) (_ []auth.Key, err error) {
	defer g.catch("ListKeys", &err)
	return g.p.ListKeys(ctx, teamID)
}

func (g guarded) RevokeKey(ctx context.Context, id string) (err error) {
	defer g.catch("RevokeKey", &err)
	return g.p.RevokeKey(ctx, id)
}

// Close does nothing: the Harness closes the provider.
func (g guarded) Close() error { return nil }
