package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

// minimalPayloads are sent to every manifest event, which must accept or
// reject each: an empty object, and the fields most agents' hooks carry.
var minimalPayloads = []string{
	`{}`,
	`{"session_id":"adaptertest-session","cwd":"/nonexistent/adaptertest/project"}`,
}

// invalidJSON are payloads that are not JSON; every event must reject them.
var invalidJSON = []string{
	``,
	` `,
	`{`,
	`[{`,
	`{"session_id":`,
	`{"session_id":"s",}`,
	`{"session_id":"s"}}`,
	`{'session_id':'s'}`,
	`not json`,
	"\x00\xff",
}

// unknownEvent is an event name no adapter knows.
const unknownEvent = "adaptertest.no-such-event"

// renderContexts are the contexts replies are rendered with: none, and one
// full of what JSON and HTML escape.
var renderContexts = []string{"", "<claude-mem-context>\n\"past\" work & <b>ünïcode</b>\t\\\n</claude-mem-context>"}

// fixedTime is the time FixedClock returns.
var fixedTime = time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

// FixedClock is a clock that always says 2026-03-14T09:26:53.589Z: the
// time Golden's files are made with, and the one the suite hands
// Harness.NewWithClock.
func FixedClock() time.Time { return fixedTime }

// testCtx bounds a case, so that a hung adapter fails the case instead of
// the whole test binary.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// setup makes an adapter, reads its manifest, and checks that Payloads
// names only manifest events.
func setup(t *testing.T, h Harness) (adapter.Adapter, adapter.Manifest, context.Context) {
	t.Helper()
	a, ctx := h.New(t), testCtx(t)
	m, err := a.Manifest(ctx)
	if err != nil {
		t.Fatalf("Manifest: %v", err)
	}
	if len(m.Events) == 0 {
		t.Fatalf("Manifest = %+v: no events", m)
	}
	for _, e := range slices.Sorted(maps.Keys(h.Payloads)) {
		if !slices.Contains(m.Events, e) {
			t.Fatalf("Harness.Payloads names %q, which is not a manifest event (%q)", e, m.Events)
		}
	}
	return a, m, ctx
}

// input is one request the suite sends.
type input struct {
	req adapter.NormalizeRequest
	// valid is set for a Harness payload, which must become events.
	valid bool
}

// inputs lists, for every manifest event, the minimal payloads and the
// Harness's payload.
func inputs(h Harness, m adapter.Manifest) []input {
	var in []input
	for _, e := range m.Events {
		add := func(raw string, valid bool) {
			in = append(in, input{req: adapter.NormalizeRequest{Source: m.Source, Event: e, Raw: []byte(raw)}, valid: valid})
		}
		for _, raw := range minimalPayloads {
			add(raw, false)
		}
		if raw, ok := h.Payloads[e]; ok {
			add(string(raw), true)
		}
	}
	return in
}

// normalize calls Normalize and turns a panic into a failure of the case.
func normalize(ctx context.Context, t testing.TB, a adapter.Adapter, req adapter.NormalizeRequest) (res adapter.NormalizeResult, err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("Normalize(%q, %q) panicked: %v", req.Event, req.Raw, p)
		}
	}()
	return a.Normalize(ctx, req)
}

// render calls RenderHookOutput and turns a panic into a failure of the
// case.
func render(ctx context.Context, t testing.TB, a adapter.Adapter, req adapter.RenderRequest) (out []byte, err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("RenderHookOutput(%q, context %q) panicked: %v", req.Event, req.Context, p)
		}
	}()
	return a.RenderHookOutput(ctx, req)
}

func testManifest(t *testing.T, h Harness) {
	a, m, ctx := setup(t, h)
	if strings.TrimSpace(m.Source) == "" {
		t.Errorf("Manifest source %q is blank", m.Source)
	}
	for i, e := range m.Events {
		if strings.TrimSpace(e) == "" {
			t.Errorf("Manifest event %d is blank: %q", i, m.Events)
		}
		if slices.Contains(m.Events[:i], e) {
			t.Errorf("Manifest lists %q twice: %q", e, m.Events)
		}
	}
	again, err := a.Manifest(ctx)
	if err != nil {
		t.Fatalf("second Manifest: %v", err)
	}
	if !reflect.DeepEqual(again, m) {
		t.Errorf("Manifest changed between calls: %+v, then %+v", m, again)
	}
}

// testPayloads sends every manifest event the minimal payloads and the
// Harness's, and checks each answer and every event.
func testPayloads(t *testing.T, h Harness) {
	a, m, ctx := setup(t, h)
	gotEvents := false
	for _, in := range inputs(h, m) {
		res, err := normalize(ctx, t, a, in.req)
		if !checkAnswer(t, in.req, res, err) {
			if in.valid && err == nil {
				t.Errorf("Normalize(%q) rejected the Harness payload %q: %s", in.req.Event, in.req.Raw, res.Rejection)
			}
			continue
		}
		gotEvents = true
	}
	if !gotEvents {
		t.Log("adaptertest: no payload became an event, so no event was checked; set Harness.Payloads")
	}
}

// testInvalidJSON checks that a payload that is not JSON is a rejection.
func testInvalidJSON(t *testing.T, h Harness) {
	a, m, ctx := setup(t, h)
	for _, e := range m.Events {
		for _, raw := range invalidJSON {
			req := adapter.NormalizeRequest{Source: m.Source, Event: e, Raw: []byte(raw)}
			res, err := normalize(ctx, t, a, req)
			if err != nil {
				t.Errorf("Normalize(%q, %q): %v; want a rejection", e, raw, err)
				continue
			}
			if len(res.Events) != 0 || strings.TrimSpace(res.Rejection) == "" {
				t.Errorf("Normalize(%q, %q) = %d events, rejection %q; want a rejection with a reason", e, raw, len(res.Events), res.Rejection)
			}
		}
	}
}

// testUnknownEvent checks that an event outside the manifest is
// adapter.ErrUnknownEvent, whatever the payload.
func testUnknownEvent(t *testing.T, h Harness) {
	a, m, ctx := setup(t, h)
	for _, e := range m.Events {
		if strings.EqualFold(e, unknownEvent) {
			t.Fatalf("the manifest names %q, which the suite uses as an unknown event", e)
		}
	}
	payloads := slices.Clone(minimalPayloads)
	for _, e := range slices.Sorted(maps.Keys(h.Payloads)) {
		payloads = append(payloads, string(h.Payloads[e]))
	}
	for _, raw := range payloads {
		req := adapter.NormalizeRequest{Source: m.Source, Event: unknownEvent, Raw: []byte(raw)}
		res, err := normalize(ctx, t, a, req)
		if !errors.Is(err, adapter.ErrUnknownEvent) {
			t.Errorf("Normalize(%q, %q) error = %v, want adapter.ErrUnknownEvent", unknownEvent, raw, err)
		}
		if len(res.Events) != 0 || res.Rejection != "" {
			t.Errorf("Normalize(%q, %q) = %+v with its error; want an empty result", unknownEvent, raw, res)
		}
	}
}

// testRender renders every manifest event's reply, with and without
// context, for the event its payload became and for an empty one.
func testRender(t *testing.T, h Harness) {
	a, m, ctx := setup(t, h)
	firstEvent := map[string]event.AgentEvent{}
	for _, in := range inputs(h, m) {
		if _, ok := firstEvent[in.req.Event]; ok {
			continue
		}
		if res, err := normalize(ctx, t, a, in.req); err == nil && len(res.Events) > 0 {
			firstEvent[in.req.Event] = res.Events[0]
		}
	}
	for _, e := range m.Events {
		evs := []event.AgentEvent{{}}
		if ev, ok := firstEvent[e]; ok {
			evs = append(evs, ev)
		}
		for _, ev := range evs {
			for _, c := range renderContexts {
				req := adapter.RenderRequest{Event: e, AgentEvent: ev, Context: c}
				out, err := render(ctx, t, a, req)
				checkReply(t, req, out, err)
			}
		}
	}
}

// answer is what one call of Normalize gave, comparable with another.
type answer struct {
	res adapter.NormalizeResult
	err string
}

func (x answer) String() string { return fmt.Sprintf("%+v, error %q", x.res, x.err) }

func answerOf(res adapter.NormalizeResult, err error, keepTimes bool) answer {
	x := answer{res: res}
	if err != nil {
		x.err = err.Error()
	}
	if !keepTimes {
		x.res.Events = slices.Clone(res.Events)
		for i := range x.res.Events {
			x.res.Events[i].OccurredAt = time.Time{}
		}
	}
	return x
}

// testDeterministic checks that, on a fixed clock, the same request always
// gives the same answer and the same reply.
func testDeterministic(t *testing.T, h Harness) {
	ctx := testCtx(t)
	a := h.NewWithClock(t, FixedClock)
	m, err := a.Manifest(ctx)
	if err != nil {
		t.Fatalf("Manifest: %v", err)
	}
	for _, in := range inputs(h, m) {
		res1, err1 := normalize(ctx, t, a, in.req)
		res2, err2 := normalize(ctx, t, a, in.req)
		x1, x2 := answerOf(res1, err1, true), answerOf(res2, err2, true)
		if !reflect.DeepEqual(x1, x2) {
			t.Errorf("Normalize(%q, %q) is not deterministic:\n%v\nthen\n%v", in.req.Event, in.req.Raw, x1, x2)
			continue
		}
		for _, ev := range res1.Events {
			for _, c := range renderContexts {
				req := adapter.RenderRequest{Event: in.req.Event, AgentEvent: ev, Context: c}
				out1, err1 := render(ctx, t, a, req)
				out2, err2 := render(ctx, t, a, req)
				if string(out1) != string(out2) || (err1 == nil) != (err2 == nil) {
					t.Errorf("RenderHookOutput(%q, context %q) is not deterministic: %q, %v then %q, %v", req.Event, c, out1, err1, out2, err2)
				}
			}
		}
	}
}

// concurrency is how many goroutines testConcurrent runs.
const concurrency = 4

// testConcurrent calls Normalize and RenderHookOutput from several
// goroutines at once (every method may be called concurrently), and checks
// that each call answers as it does alone, times aside.
func testConcurrent(t *testing.T, h Harness) {
	a, m, ctx := setup(t, h)
	ins := inputs(h, m)
	want := make([]answer, len(ins))
	for i, in := range ins {
		res, err := normalize(ctx, t, a, in.req)
		want[i] = answerOf(res, err, false)
	}
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for i, in := range ins {
				res, err := a.Normalize(ctx, in.req)
				if got := answerOf(res, err, false); !reflect.DeepEqual(got, want[i]) {
					t.Errorf("concurrent Normalize(%q, %q) = %v; alone it is %v", in.req.Event, in.req.Raw, got, want[i])
					continue
				}
				for _, ev := range res.Events {
					req := adapter.RenderRequest{Event: in.req.Event, AgentEvent: ev, Context: renderContexts[1]}
					out, err := a.RenderHookOutput(ctx, req)
					checkReply(t, req, out, err)
				}
			}
		})
	}
	wg.Wait()
}
