// Package provider turns agent events into observations and summaries. A
// Provider is either the heuristic one, which needs no network and derives
// deterministic observations from tool events, or a model behind an API
// (Anthropic Messages, OpenAI Chat Completions) speaking claude-mem's
// <observation>/<summary> XML protocol.
//
// Whatever the provider, files_modified comes from the write tools' inputs,
// never from the model, and every input and output sent to a model is cut to
// a configured size, keeping its head and tail.
package provider

import (
	"context"
	"errors"
	"time"
)

// ToolEvent is one tool use, already stripped of private blocks and
// redacted.
type ToolEvent struct {
	ToolName string
	// Input and Output are the tool's input and response as JSON text.
	Input      string
	Output     string
	Cwd        string
	OccurredAt time.Time
	// PromptNumber is the ordinal of the user prompt the event followed.
	PromptNumber int
}

// ObserveRequest asks for the observations of a batch of tool events of one
// session.
type ObserveRequest struct {
	Project   string
	SessionID string
	// JobID identifies the generation job the call belongs to; the budget
	// wrapper (see WithBudget) caps the tokens one job may spend. Empty
	// means the per-job budget does not apply.
	JobID string
	// UserRequest is the prompt the events followed, if known.
	UserRequest string
	Events      []ToolEvent
}

// Observation is one generated observation.
type Observation struct {
	Type          string
	Title         string
	Subtitle      string
	Facts         []string
	Narrative     string
	Concepts      []string
	FilesRead     []string
	FilesModified []string
	// DiscoveryTokens is this observation's share of the tokens the call
	// that produced it spent (the call's total split evenly over its
	// observations, so that the shares add up to the call's usage). Zero for
	// the heuristic provider.
	DiscoveryTokens int64
}

// Usage is what one call cost.
type Usage struct {
	InputTokens  int64
	OutputTokens int64
	// Model names the model that answered ("heuristic" for the heuristic
	// provider).
	Model string
}

// Total is input plus output tokens.
func (u Usage) Total() int64 { return u.InputTokens + u.OutputTokens }

// ObserveResult holds the observations of a batch; it may be empty when
// the model judged nothing worth recording.
//
// A provider that returns an error after the model answered (ErrUnparseable)
// still fills Usage, because the tokens were spent and budgets must count
// them.
type ObserveResult struct {
	Observations []Observation
	Usage        Usage
}

// SummarizeRequest asks for the summary of a session's latest turn.
type SummarizeRequest struct {
	Project   string
	SessionID string
	// JobID identifies the generation job, as in ObserveRequest.
	JobID                string
	UserRequest          string
	LastAssistantMessage string
	// Events are the turn's tool events, for context; they may be empty.
	Events []ToolEvent
}

// Summary is a session summary.
type Summary struct {
	Request      string
	Investigated string
	Learned      string
	Completed    string
	NextSteps    string
	Notes        string
	// FilesRead and FilesEdited come from the turn's tool events (never
	// from a model): the paths read, and the paths the write tools changed.
	FilesRead   []string
	FilesEdited []string
}

// SummarizeResult holds the summary, or nil when the model skipped it.
//
// As with ObserveResult, a provider that returns ErrUnparseable still fills
// Usage: the tokens were spent.
type SummarizeResult struct {
	Summary *Summary
	Usage   Usage
}

// Provider generates observations and summaries. Implementations are safe
// for concurrent use.
type Provider interface {
	// Name is "heuristic", "anthropic" or "openai".
	Name() string
	Observe(ctx context.Context, req ObserveRequest) (ObserveResult, error)
	Summarize(ctx context.Context, req SummarizeRequest) (SummarizeResult, error)
}

// Errors a provider returns. The job runner retries ErrTransient and
// ErrRateLimited with backoff; ErrUnparseable fails the job without retry.
// ErrRejected and ErrBudget are permanent too: retrying cannot help until
// an operator changes the configuration (or the UTC day ends).
//
// Errors from an API carry details in an *APIError (see RetryAfter for the
// delay a rate limit asks for); test them with errors.Is against these
// sentinels.
var (
	ErrTransient   = errors.New("provider: transient error")
	ErrRateLimited = errors.New("provider: rate limited")
	ErrUnparseable = errors.New("provider: output is not valid observation XML")
	ErrBudget      = errors.New("provider: token budget exhausted")
	ErrRejected    = errors.New("provider: request rejected")
)
