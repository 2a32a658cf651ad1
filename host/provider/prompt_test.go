package provider_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/claude-mem/claude-mem-server/host/provider"
)

// tokensPerEvent builds the observe prompts of a session in batches and
// returns the estimated input tokens per event.
func tokensPerEvent(events []provider.ToolEvent, batch, maxChars int) float64 {
	var total int64
	for i := 0; i < len(events); i += batch {
		req := provider.ObserveRequest{Project: "p", UserRequest: "Make the store migrations transactional", Events: events[i:min(i+batch, len(events))]}
		total += provider.ObservePrompt(req, maxChars).EstimateTokens()
	}
	return float64(total) / float64(len(events))
}

// Tokens per event are bounded by the cap and do not grow with the
// session: every call carries its own batch only, never the history.
func TestTokensPerEventBoundedAndFlat(t *testing.T) {
	t.Parallel()
	const maxChars, batch = 16000, 10
	sys := provider.ObservePrompt(provider.ObserveRequest{}, maxChars).System
	// The worst case per event: input and output at the cap, the envelope,
	// and the event's share of the system prompt and the user request.
	bound := float64(2*maxChars+1600)/4 + float64(len(sys)+maxChars)/4/batch
	var first float64
	for _, n := range []int{10, 100, 1000} {
		got := tokensPerEvent(sessionEvents(n), batch, maxChars)
		t.Logf("%4d events: %.0f tokens/event (bound %.0f)", n, got, bound)
		if got > bound {
			t.Errorf("%d events: %.0f tokens/event > bound %.0f", n, got, bound)
		}
		if first == 0 {
			first = got
		} else if got > first*1.5 {
			t.Errorf("%d events: %.0f tokens/event, grew from %.0f", n, got, first)
		}
	}

	// Even a session of nothing but 1 MB outputs stays at the bound.
	huge := strings.Repeat("y", 1<<20)
	var events []provider.ToolEvent
	for i := range 30 {
		events = append(events, ev(i, "Bash", map[string]any{"command": huge}, map[string]any{"stdout": huge}))
	}
	if got := tokensPerEvent(events, batch, maxChars); got > bound {
		t.Errorf("1 MB payloads: %.0f tokens/event > bound %.0f", got, bound)
	}
}

func TestObservePromptIsOneBlockPerEvent(t *testing.T) {
	t.Parallel()
	events := sessionEvents(7)
	p := provider.ObservePrompt(provider.ObserveRequest{Events: events}, 100)
	for _, tag := range []string{"<observed_from_primary_session>", "<what_happened>", "<occurred_at>", "<working_directory>", "<parameters>", "<outcome>"} {
		want := 7
		if tag == "<observed_from_primary_session>" {
			want = 8 // and the request block
		}
		if n := strings.Count(p.User, tag); n != want {
			t.Errorf("%s appears %d times, want %d", tag, n, want)
		}
	}
	if !strings.Contains(p.User, "the 7 tool events above") {
		t.Error("footer does not count the events")
	}
}

// BenchmarkTokensPerEvent reports the LLM input tokens per tool event
// (characters / 4) of a realistic session batched by 10, as the session
// grows. The figure must stay flat.
func BenchmarkTokensPerEvent(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		events := sessionEvents(n)
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			var per float64
			for b.Loop() {
				per = tokensPerEvent(events, 10, 16000)
			}
			b.ReportMetric(per, "tokens/event")
		})
	}
}
