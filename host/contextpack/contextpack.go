// Package contextpack builds the memory that is handed back to an agent:
// the SessionStart context in claude-mem's agent format (recent
// observations and summaries by day, the legend, the last summary), and a
// "Relevant past work" section ranked against the current prompt, for
// UserPromptSubmit.
//
// Unlike claude-mem, which bounds its context only by counts, a pack has a
// real token budget (Request.MaxTokens) that the rendered text never
// exceeds. Tokens are estimated as claude-mem estimates them:
// ceil(characters / 4), characters counted as JavaScript counts them (UTF-16
// code units; search.EstimateTokens).
package contextpack

import (
	"cmp"
	"context"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/search"
)

// Defaults, as claude-mem's settings have them.
const (
	// DefaultObservations is CLAUDE_MEM_CONTEXT_OBSERVATIONS.
	DefaultObservations = 50
	// DefaultSummaries is CLAUDE_MEM_CONTEXT_SESSION_COUNT.
	DefaultSummaries = 10
	// DefaultRelevant is CLAUDE_MEM_SEMANTIC_INJECT_LIMIT: the items of a
	// relevance pack.
	DefaultRelevant = 5
	// MaxItems bounds the observations and summaries a pack considers.
	MaxItems = 1000
)

// Modes of a pack.
const (
	ModeSessionStart = "session_start"
	ModeRelevance    = "relevance"
)

// Request describes a pack.
type Request struct {
	// TeamID scopes everything; required.
	TeamID string
	// Projects are the project names whose memory is packed (a row belongs
	// to a project by its project or merged_into_project). The header names
	// the last one, as claude-mem does. Empty is every project of the team.
	Projects []string
	// PlatformSource keeps the memory of sessions of this platform only.
	PlatformSource string
	// Types and Concepts keep observations of these types, and with any of
	// these concepts. Empty keeps all. claude-mem keeps only its mode's
	// types and concepts (search.CodeTypes, search.CodeConcepts); this
	// server also packs observations with other or no concepts (manual
	// saves, other providers) unless the caller passes those lists.
	Types    []string
	Concepts []string
	// MaxObservations is the most observations considered: newest first at
	// SessionStart (default DefaultObservations), best first in relevance
	// mode (default DefaultRelevant, summaries included).
	MaxObservations int
	// MaxSummaries is the most summary rows at SessionStart (default
	// DefaultSummaries).
	MaxSummaries int
	// FullCount renders this many of the newest observations in full (the
	// title in bold and FullField below), as CLAUDE_MEM_CONTEXT_FULL_COUNT.
	FullCount int
	// FullField is "narrative" (default) or "facts".
	FullField string
	// HideLastSummary leaves out the latest summary's fields
	// (CLAUDE_MEM_CONTEXT_SHOW_LAST_SUMMARY=false).
	HideLastSummary bool
	// MaxTokens is the budget of the rendered text (context.max_tokens);
	// 0 is no budget. Rows are admitted newest first (SessionStart) or
	// best first (relevance) while the whole text, header and footer
	// included, stays within it. When not even the header fits, the pack
	// is the longest run of its first lines that fits, possibly empty.
	MaxTokens int
	// Prompt switches to relevance mode: the memory is ranked by full-text
	// relevance to the prompt (sanitized as search does), blended with
	// recency, and rendered as a "## Relevant past work" section. A prompt
	// with nothing to search for gives an empty pack.
	Prompt string
	// Now is the clock (default time.Now), Location the time zone of the
	// times shown (default time.Local).
	Now      func() time.Time
	Location *time.Location
}

// Pack is a rendered context.
type Pack struct {
	Text string `json:"text"`
	// Tokens is the estimated tokens of Text.
	Tokens int    `json:"tokens"`
	Mode   string `json:"mode"`
	// Observations and Summaries are the ids shown, oldest first.
	Observations []int64 `json:"observations"`
	Summaries    []int64 `json:"summaries"`
	// Truncated says the budget left out rows that the counts allowed.
	Truncated bool `json:"truncated"`
	// Empty says there was no memory to pack.
	Empty bool `json:"empty"`
}

// ErrNoTeam is returned when a request names no team.
var ErrNoTeam = errors.New("contextpack: no team")

func (r *Request) normalize() {
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Location == nil {
		r.Location = time.Local
	}
	if r.MaxObservations <= 0 {
		r.MaxObservations = DefaultObservations
		if r.Prompt != "" {
			r.MaxObservations = DefaultRelevant
		}
	}
	r.MaxObservations = min(r.MaxObservations, MaxItems)
	if r.MaxSummaries <= 0 {
		r.MaxSummaries = DefaultSummaries
	}
	r.MaxSummaries = min(r.MaxSummaries, MaxItems)
	r.MaxTokens = max(r.MaxTokens, 0)
	r.FullCount = max(r.FullCount, 0)
}

func (r *Request) filter() search.Request {
	return search.Request{TeamID: r.TeamID, Projects: r.Projects, PlatformSource: r.PlatformSource, Types: r.Types, Concepts: r.Concepts}
}

// project is the name in the header.
func (r *Request) project() string {
	for i := len(r.Projects) - 1; i >= 0; i-- {
		if p := strings.TrimSpace(r.Projects[i]); p != "" {
			return p
		}
	}
	return "all projects"
}

// Build reads the memory on q (usually the store's reader pool) and renders
// the pack. Errors are database failures (and ErrNoTeam).
func Build(ctx context.Context, q memory.Querier, req Request) (Pack, error) {
	if req.TeamID == "" {
		return Pack{}, ErrNoTeam
	}
	req.normalize()
	if req.Prompt != "" {
		return buildRelevant(ctx, q, req)
	}
	f := req.filter()
	f.Kinds = []search.Kind{search.KindObservation}
	obsHits, err := search.Newest(ctx, q, f, req.MaxObservations)
	if err != nil {
		return Pack{}, err
	}
	// Summaries are not filtered by type or concept; one more than shown
	// places the oldest shown one (see sessionStart).
	f = search.Request{TeamID: req.TeamID, Projects: req.Projects, PlatformSource: req.PlatformSource, Kinds: []search.Kind{search.KindSummary}}
	sumHits, err := search.Newest(ctx, q, f, req.MaxSummaries+1)
	if err != nil {
		return Pack{}, err
	}
	var obs []memory.Observation
	for _, h := range obsHits {
		obs = append(obs, *h.Observation)
	}
	var sums []memory.Summary
	for _, h := range sumHits {
		sums = append(sums, *h.Summary)
	}
	return sessionStart(&req, obs, sums), nil
}

// fit returns the longest run of whole first lines of text within the
// budget.
func fit(text string, budget int) string {
	if budget <= 0 || search.EstimateTokens(text) <= budget {
		return text
	}
	lines := strings.Split(text, "\n")
	for n := len(lines) - 1; n > 0; n-- {
		prefix := strings.TrimRight(strings.Join(lines[:n], "\n"), "\n")
		if search.EstimateTokens(prefix) <= budget {
			return prefix
		}
	}
	return ""
}

func within(text string, budget int) bool {
	return budget <= 0 || search.EstimateTokens(text) <= budget
}

// jsRound is JavaScript's Math.round: halves go up.
func jsRound(x float64) int64 { return int64(math.Floor(x + 0.5)) }

// byTimeDesc orders newest first, then by higher id.
func byTimeDesc(at1 time.Time, id1 int64, at2 time.Time, id2 int64) int {
	if c := at2.Compare(at1); c != 0 {
		return c
	}
	return cmp.Compare(id2, id1)
}
