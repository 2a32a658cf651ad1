// Package plugintest runs a plugin behind a real gRPC connection inside the
// test process, so that conformance suites cover the wire mapping of every
// call without starting a subprocess.
package plugintest

import (
	"context"
	"fmt"
	"runtime/debug"
	"testing"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/claude-mem/claude-mem-server/sdk/plugin"
)

// Connect serves srv over an in-process gRPC connection, negotiates and
// configures it as the host would, and returns the host-side Conn. The
// connection is closed when the test ends.
func Connect(t testing.TB, srv *plugin.Server, client *plugin.GRPCPlugin, cfg plugin.Config) *plugin.Conn {
	t.Helper()
	p := &plugin.GRPCPlugin{Impl: srv, NewClient: client.NewClient}
	c, s := goplugin.TestPluginGRPCConn(t, false, map[string]goplugin.Plugin{plugin.DispenseKey: p})
	t.Cleanup(func() {
		// Stop the server before closing the client: closing sends
		// go-plugin's Shutdown, whose handler would stop the server
		// concurrently with this cleanup.
		s.Stop()
		_ = c.Close()
	})
	raw, err := c.Dispense(plugin.DispenseKey)
	if err != nil {
		t.Fatalf("plugintest: dispense: %v", err)
	}
	conn, ok := raw.(*plugin.Conn)
	if !ok {
		t.Fatalf("plugintest: dispensed %T, want *plugin.Conn", raw)
	}
	ctx := context.Background()
	info, err := conn.Meta.Describe(ctx)
	if err != nil {
		t.Fatalf("plugintest: %v", err)
	}
	v, err := plugin.Negotiate(info, info.ProtocolVersions)
	if err != nil {
		t.Fatalf("plugintest: %v", err)
	}
	cfg.ProtocolVersion = v
	if err := conn.Meta.Configure(ctx, cfg); err != nil {
		t.Fatalf("plugintest: %v", err)
	}
	return conn
}

// Dispense serves srv in process as Connect does and returns the host-side
// client of the kind's service, typed.
func Dispense[T any](t testing.TB, srv *plugin.Server, client *plugin.GRPCPlugin) T {
	t.Helper()
	conn := Connect(t, srv, client, plugin.Config{})
	svc, ok := conn.Service.(T)
	if !ok {
		var want T
		t.Fatalf("plugintest: dispensed service %T is not a %T", conn.Service, &want)
	}
	return svc
}

// CatchPanic, deferred by a wrapper around an implementation served behind
// gRPC, turns a panic of call into a failure of the test and an error of
// the call: unrecovered, it would end the whole test binary from a server
// goroutine.
func CatchPanic(t testing.TB, call string, err *error) {
	if p := recover(); p != nil {
		t.Errorf("%s panicked behind the gRPC server: %v\n%s", call, p, debug.Stack())
		*err = fmt.Errorf("%s panicked: %v", call, p)
	}
}
