// Command adapter-echo is an example third-party agent adapter. It is a
// separate main package that imports only the claude-mem sdk, which is all a
// plugin author needs. It accepts any JSON object with a "session" field and
// reports it as a user prompt whose text is the object's "text" field.
//
// Build it, pin its hash in the server's config, and the host loads it:
//
//	go build -o ~/.claude-mem/plugins/adapter-echo ./examples/adapter-echo
//	sha256sum ~/.claude-mem/plugins/adapter-echo
//
//	# ~/.claude-mem/config.yaml
//	plugins:
//	  external:
//	    - kind: adapter
//	      name: adapter-echo
//	      path: adapter-echo
//	      sha256: <the hash>
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/event"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
)

// echo is the adapter. main serves it; main_test.go runs the sdk's
// conformance suite against it.
type echo struct{}

func (echo) Manifest(context.Context) (adapter.Manifest, error) {
	return adapter.Manifest{Source: "echo", Events: []string{"Say"}}, nil
}

func (echo) Normalize(_ context.Context, req adapter.NormalizeRequest) (adapter.NormalizeResult, error) {
	if req.Event != "Say" {
		return adapter.NormalizeResult{}, fmt.Errorf("%w: %q", adapter.ErrUnknownEvent, req.Event)
	}
	var in struct {
		Session string `json:"session"`
		Text    string `json:"text"`
	}
	if err := json.Unmarshal(req.Raw, &in); err != nil || in.Session == "" {
		return adapter.NormalizeResult{Rejection: `want {"session": "...", "text": "..."}`}, nil
	}
	return adapter.NormalizeResult{Events: []event.AgentEvent{{
		SchemaVersion: event.SchemaVersion, Type: event.TypeUserPrompt, HookEvent: req.Event,
		PlatformSource: "echo", ContentSessionID: in.Session, Text: in.Text, OccurredAt: time.Now().UTC(),
	}}}, nil
}

func (echo) RenderHookOutput(_ context.Context, req adapter.RenderRequest) ([]byte, error) {
	return json.Marshal(map[string]string{"echo": req.AgentEvent.Text, "context": req.Context})
}

func main() {
	adapter.Serve(plugin.Info{Name: "adapter-echo", Version: "1.0.0", Description: "example third-party adapter"},
		func(context.Context, plugin.Config) (adapter.Adapter, error) { return echo{}, nil })
}
