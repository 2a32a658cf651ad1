package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/host/server"
	"github.com/claude-mem/claude-mem-server/host/server/servertest"
	"github.com/claude-mem/claude-mem-server/sdk/auth"
	"github.com/claude-mem/claude-mem-server/sdk/client"
)

// The shared server: a real host in api-key mode, with its bundled plugins
// as subprocesses, started once in TestMain because Example functions
// cannot start their own. Tests work in teams of their own on it
// (newTeam); the examples use the local team through apiKey.
var (
	serverURL string
	apiKey    string // a "*" key of the local team
	shared    *server.Server
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	defer hosttest.Cleanup()
	stop, err := startShared()
	if err != nil {
		fmt.Fprintln(os.Stderr, "client_test:", err)
		return 1
	}
	code := m.Run()
	if err := stop(); err != nil {
		fmt.Fprintln(os.Stderr, "client_test: stop:", err)
		code = 1
	}
	return code
}

// startShared starts the shared server, as servertest.Start does for one
// test, and mints its root key.
func startShared() (stop func() error, err error) {
	bin, err := hosttest.BuildBinary()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "claude-mem-client-test-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	cfg := config.Default(tmp)
	cfg.DataDir = tmp
	cfg.Queue.LockDuration = 2 * time.Second
	cfg.Auth.Mode = config.AuthAPIKey
	cfg.Auth.RateLimitPerMinute = 0
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("listen: %w", err)
	}
	srv, err := server.Start(context.Background(), server.Options{Config: cfg, Self: bin, Listener: l, Logger: hclog.NewNullLogger()})
	if err != nil {
		l.Close()
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("start server: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	stop = func() error {
		cancel()
		err := <-done
		return errors.Join(err, os.RemoveAll(tmp))
	}
	k, err := srv.Admin().CreateKey(context.Background(), access.LocalOwner(),
		access.CreateKeyRequest{Scopes: []string{auth.ScopeAll}, Name: "root"})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("root key: %w", err), stop())
	}
	shared, serverURL, apiKey = srv, "http://"+l.Addr().String(), k.Secret
	return stop, nil
}

// rootClient is a client of the shared server with the "*" key.
func rootClient(t testing.TB) *client.Client {
	t.Helper()
	return newClient(t, serverURL, apiKey)
}

func newClient(t testing.TB, base, key string) *client.Client {
	t.Helper()
	c, err := client.New(base, client.WithAPIKey(key))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var teams atomic.Int64

// newTeam creates a team of its own on the shared server and returns a
// client whose key has read, write and admin scopes on it.
func newTeam(t testing.TB) (*client.Client, string) {
	t.Helper()
	root := rootClient(t)
	id := fmt.Sprintf("team-%d", teams.Add(1))
	team := must(root.CreateTeam(t.Context(), client.CreateTeamRequest{ID: id, Name: t.Name()}))(t)
	key := must(root.CreateAPIKey(t.Context(), client.CreateKeyRequest{
		Team: team.ID, Scopes: []string{client.ScopeRead, client.ScopeWrite, client.ScopeAdmin}, Name: "test",
	}))(t)
	return newClient(t, serverURL, key.Secret), team.ID
}

// must returns v, failing the test on err: must(c.Call(ctx))(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// wantAPIError fails the test unless err is an *client.Error with status
// and code.
func wantAPIError(t testing.TB, err error, status int, code string) *client.Error {
	t.Helper()
	apiErr, ok := errors.AsType[*client.Error](err)
	if !ok {
		t.Fatalf("error %v (%T), want a *client.Error %d %s", err, err, status, code)
	}
	if apiErr.StatusCode != status || apiErr.Code != code || apiErr.Message == "" || apiErr.RequestID == "" {
		t.Fatalf("error %+v, want %d %s with a message and request id", apiErr, status, code)
	}
	return apiErr
}

// rootKeyOf mints a "*" key of the local team on a server of one test.
func rootKeyOf(t testing.TB, srv *servertest.Server) string {
	t.Helper()
	k, err := srv.Admin().CreateKey(t.Context(), access.LocalOwner(), access.CreateKeyRequest{Scopes: []string{auth.ScopeAll}, Name: "root"})
	if err != nil {
		t.Fatal(err)
	}
	return k.Secret
}
