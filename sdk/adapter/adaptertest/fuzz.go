package adaptertest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
)

// FuzzNormalize fuzzes a's Normalize with an event name, a source and a
// payload, seeded with every seed under every one of events (names outside
// the manifest are welcome). For every input, Normalize must not panic and
// must answer the same way twice (times aside). Its only error is
// adapter.ErrUnknownEvent, with an empty result; otherwise it answers with
// events or a rejection with a reason, never both and never neither. Every
// event must pass CheckEvent, and its reply must render as JSON.
func FuzzNormalize(f *testing.F, a adapter.Adapter, events []string, seeds ...[]byte) {
	Fuzzer{Adapter: a, Events: events, Seeds: seeds}.Fuzz(f)
}

// Fuzzer is FuzzNormalize with the adapter's own assertions.
type Fuzzer struct {
	Adapter adapter.Adapter
	// Events and Seeds seed the corpus, as for FuzzNormalize.
	Events []string
	Seeds  [][]byte
	// Check, when set, makes the adapter's own assertions on every input
	// that Normalize answered without an error, after the common ones.
	Check func(t *testing.T, req adapter.NormalizeRequest, res adapter.NormalizeResult)
}

// Fuzz seeds f and runs it.
func (z Fuzzer) Fuzz(f *testing.F) {
	a := z.Adapter
	m, err := a.Manifest(context.Background())
	if err != nil {
		f.Fatalf("Manifest: %v", err)
	}
	for _, e := range z.Events {
		for _, s := range z.Seeds {
			f.Add(e, m.Source, s)
		}
	}
	f.Fuzz(func(t *testing.T, name, source string, raw []byte) {
		ctx := t.Context()
		req := adapter.NormalizeRequest{Source: source, Event: name, Raw: raw}
		res, err := normalize(ctx, t, a, req)
		res2, err2 := normalize(ctx, t, a, req)
		if x1, x2 := answerOf(res, err, false), answerOf(res2, err2, false); !reflect.DeepEqual(x1, x2) {
			t.Fatalf("Normalize answered the same request twice differently:\n%v\nthen\n%v", x1, x2)
		}
		if err != nil {
			if !errors.Is(err, adapter.ErrUnknownEvent) {
				t.Fatalf("Normalize error %v, want nil or adapter.ErrUnknownEvent", err)
			}
			if len(res.Events) != 0 || res.Rejection != "" {
				t.Fatalf("Normalize returned an error and a result: %+v", res)
			}
			return
		}
		checkAnswer(t, req, res, nil)
		for _, ev := range res.Events {
			rr := adapter.RenderRequest{Event: name, AgentEvent: ev, Context: string(raw)}
			out, err := render(ctx, t, a, rr)
			checkReply(t, rr, out, err)
		}
		if z.Check != nil {
			z.Check(t, req, res)
		}
	})
}
