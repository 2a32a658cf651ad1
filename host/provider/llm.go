package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/host/config"
)

// Output token caps per call: observations of a batch need more room than
// one summary.
const (
	observeMaxTokens   = 4096
	summarizeMaxTokens = 2048
	// outputReserve is the output the budget check expects a call to
	// spend before the model has answered.
	outputReserve = 1024
	// maxResponseBytes bounds the API response read into memory.
	maxResponseBytes = 8 << 20
)

// APIError is an error answer from a model API, or a failure to get one.
// It wraps the sentinel that says what to do about it: ErrRateLimited,
// ErrTransient or ErrRejected.
type APIError struct {
	Provider string // "anthropic" or "openai"
	// StatusCode is the HTTP status, 0 when no response came back.
	StatusCode int
	// Type and Message come from the API's error body, when it had one.
	Type    string
	Message string
	// RetryAfter is the delay the API asked for (retry-after header), 0
	// when it asked for none.
	RetryAfter time.Duration
	// Hint tells the operator what to do, for permanent errors.
	Hint string

	kind  error
	cause error
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Provider)
	if e.StatusCode != 0 {
		b.WriteString(": HTTP " + strconv.Itoa(e.StatusCode))
	}
	if e.Type != "" {
		b.WriteString(" " + e.Type)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.cause != nil {
		b.WriteString(": " + e.cause.Error())
	}
	if e.RetryAfter > 0 {
		b.WriteString(" (retry after " + e.RetryAfter.String() + ")")
	}
	if e.Hint != "" {
		b.WriteString("; " + e.Hint)
	}
	return b.String()
}

// Unwrap returns the sentinel (ErrRateLimited, ErrTransient, ErrRejected)
// and the underlying cause, if any.
func (e *APIError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.kind}
}

// RetryAfter is the delay a rate-limited (or overloaded) API asked for
// before the next try, if err carries one.
func RetryAfter(err error) (time.Duration, bool) {
	var ae *APIError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		return ae.RetryAfter, true
	}
	return 0, false
}

// classifyStatus maps an HTTP error status to the sentinel the job runner
// acts on, and a hint for the operator.
func classifyStatus(status int) (error, string) {
	switch {
	case status == http.StatusTooManyRequests:
		return ErrRateLimited, ""
	case status == http.StatusRequestTimeout, status == 409, status == 425, status >= 500:
		// 500, 502, 503, 504 and Anthropic's 529 "overloaded".
		return ErrTransient, ""
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return ErrRejected, "check CLAUDE_MEM_GENERATION_API_KEY (generation.api_key)"
	case status == http.StatusNotFound:
		return ErrRejected, "check generation.model and generation.base_url"
	case status == http.StatusRequestEntityTooLarge:
		return ErrRejected, "lower generation.max_input_chars or generation.batch_size"
	default:
		return ErrRejected, "check the generation settings"
	}
}

// parseRetryAfter reads a retry-after header: seconds, or an HTTP date;
// and OpenAI's retry-after-ms.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	if ms := h.Get("retry-after-ms"); ms != "" {
		if f, err := strconv.ParseFloat(ms, 64); err == nil && f > 0 {
			return time.Duration(f * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("retry-after"))
	if v == "" {
		return 0
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f <= 0 {
			return 0
		}
		return time.Duration(f * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// completion is one answer from a model.
type completion struct {
	text  string
	usage Usage
}

// completer sends one system prompt and one user message to a model.
type completer interface {
	complete(ctx context.Context, p Prompt, maxTokens int) (completion, error)
}

// llm implements Provider on top of a completer: it builds the XML
// protocol's prompts, batches, parses and post-processes.
type llm struct {
	name      string
	model     string
	maxChars  int
	batchSize int
	timeout   time.Duration
	c         completer
}

func newLLM(name string, cfg config.Generation, defaultModel string, c completer) llm {
	l := llm{
		name: name, model: cfg.Model, maxChars: cfg.MaxInputChars, batchSize: cfg.BatchSize,
		timeout: cfg.Timeout, c: c,
	}
	if l.model == "" {
		l.model = defaultModel
	}
	if l.maxChars <= 0 {
		l.maxChars = config.DefaultMaxInputChars
	}
	if l.batchSize <= 0 {
		l.batchSize = config.DefaultBatchSize
	}
	if l.timeout <= 0 {
		l.timeout = config.DefaultGenerationTimeout
	}
	return l
}

// call bounds one completion by the configured timeout. A timeout of the
// call is transient; the caller's own cancellation is returned as is.
func (l *llm) call(ctx context.Context, p Prompt, maxTokens int) (completion, error) {
	cctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	c, err := l.c.complete(cctx, p, maxTokens)
	if err != nil && ctx.Err() != nil {
		return c, fmt.Errorf("%s: %w", l.name, ctx.Err())
	}
	if c.usage.Model == "" {
		c.usage.Model = l.model
	}
	var ae *APIError
	switch {
	case err == nil && c.usage.InputTokens == 0 && c.usage.OutputTokens == 0:
		// Some local servers report no usage; count an estimate so that
		// budgets still see the spend.
		c.usage.InputTokens = p.EstimateTokens()
		c.usage.OutputTokens = EstimateTokens(c.text)
	case errors.As(err, &ae) && ae.StatusCode >= 200 && ae.StatusCode <= 299:
		// The model answered but the body was garbled: the input was
		// most likely billed.
		c.usage.InputTokens = p.EstimateTokens()
	}
	return c, err
}

func (l *llm) chunks(events []ToolEvent) [][]ToolEvent {
	var out [][]ToolEvent
	for len(events) > 0 {
		n := min(l.batchSize, len(events))
		out = append(out, events[:n])
		events = events[n:]
	}
	return out
}

// EstimateObserve is the tokens the budget expects req to cost: the
// prompts' characters / 4, plus an output reserve per call.
func (l *llm) EstimateObserve(req ObserveRequest) int64 {
	var n int64
	for _, ch := range l.chunks(req.Events) {
		r := req
		r.Events = ch
		n += ObservePrompt(r, l.maxChars).EstimateTokens() + outputReserve
	}
	return n
}

// EstimateSummarize is the tokens the budget expects req to cost.
func (l *llm) EstimateSummarize(req SummarizeRequest) int64 {
	return SummarizePrompt(req, l.maxChars).EstimateTokens() + outputReserve
}

// Observe sends the events in calls of at most BatchSize events each (one
// call for a batch the pipeline already sized), parses the observations and
// post-processes them: files_modified comes from the write tools of the
// call's events only, files_read is the read tools' paths plus the model's,
// and the call's tokens are shared out as discovery_tokens.
func (l *llm) Observe(ctx context.Context, req ObserveRequest) (ObserveResult, error) {
	var res ObserveResult
	res.Usage.Model = l.model
	for _, events := range l.chunks(req.Events) {
		r := req
		r.Events = events
		c, err := l.call(ctx, ObservePrompt(r, l.maxChars), observeMaxTokens)
		res.Usage.InputTokens += c.usage.InputTokens
		res.Usage.OutputTokens += c.usage.OutputTokens
		res.Usage.Model = c.usage.Model
		if err != nil {
			return res, err
		}
		parsed, err := Parse(c.text)
		if err != nil {
			return res, fmt.Errorf("%s observe: %w", l.name, err)
		}
		switch parsed.Kind {
		case ParsedObservations:
			res.Observations = append(res.Observations, postProcess(parsed.Observations, events, c.usage.Total())...)
		case ParsedSummary:
			return res, fmt.Errorf("%s observe: %w: expected <observation> elements, got a <summary>", l.name, ErrUnparseable)
		}
		// ParsedEmpty, ParsedSkipSummary: nothing worth recording.
	}
	return res, nil
}

// Summarize asks for the turn's summary. The files come from the events.
func (l *llm) Summarize(ctx context.Context, req SummarizeRequest) (SummarizeResult, error) {
	c, err := l.call(ctx, SummarizePrompt(req, l.maxChars), summarizeMaxTokens)
	res := SummarizeResult{Usage: c.usage}
	if err != nil {
		return res, err
	}
	parsed, err := Parse(c.text)
	if err != nil {
		return res, fmt.Errorf("%s summarize: %w", l.name, err)
	}
	switch parsed.Kind {
	case ParsedSummary:
		res.Summary = parsed.Summary
		res.Summary.FilesRead = filesRead(req.Events)
		res.Summary.FilesEdited = filesModified(req.Events)
	case ParsedObservations:
		return res, fmt.Errorf("%s summarize: %w: expected a <summary>, got <observation> elements", l.name, ErrUnparseable)
	}
	return res, nil
}

// postProcess applies claude-mem's storage rules to a call's observations.
func postProcess(obs []Observation, events []ToolEvent, tokens int64) []Observation {
	read, modified := filesRead(events), filesModified(events)
	share, rest := int64(0), int64(0)
	if n := int64(len(obs)); n > 0 {
		share, rest = tokens/n, tokens%n
	}
	for i := range obs {
		obs[i].FilesRead = appendUnique(slices.Clone(read), obs[i].FilesRead...)
		obs[i].FilesModified = slices.Clone(modified)
		obs[i].DiscoveryTokens = share
		if int64(i) < rest {
			obs[i].DiscoveryTokens++
		}
	}
	return obs
}

// postJSON sends body to url and decodes a 2xx JSON answer into out.
// Failures come back as *APIError; errBody decodes the API's error shape.
func postJSON(ctx context.Context, client *http.Client, provider, url string, header http.Header, body, out any, errBody func([]byte) (typ, msg string)) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // prompts are full of <tags>; keep them readable and small
	if err := enc.Encode(body); err != nil {
		return fmt.Errorf("%s: encode request: %w", provider, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, &buf)
	if err != nil {
		return &APIError{Provider: provider, kind: ErrRejected, cause: err, Hint: "check generation.base_url"}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("content-type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return &APIError{Provider: provider, kind: ErrTransient, cause: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return &APIError{Provider: provider, StatusCode: resp.StatusCode, kind: ErrTransient, cause: fmt.Errorf("read response: %w", err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		kind, hint := classifyStatus(resp.StatusCode)
		typ, msg := errBody(data)
		if typ == "" && msg == "" {
			msg = snippet(string(data), 200)
		}
		if typ == "overloaded_error" {
			kind = ErrTransient
		}
		return &APIError{
			Provider: provider, StatusCode: resp.StatusCode, Type: typ, Message: msg,
			RetryAfter: parseRetryAfter(resp.Header, time.Now()), Hint: hint, kind: kind,
		}
	}
	if err := json.Unmarshal(data, out); err != nil {
		// A 2xx whose body is not the API's JSON: a proxy or a cut
		// connection more likely than a permanent fault.
		return &APIError{Provider: provider, StatusCode: resp.StatusCode, kind: ErrTransient,
			cause: fmt.Errorf("decode response %q: %w", snippet(string(data), 120), err)}
	}
	return nil
}

// httpClient is the client providers use unless given one: no overall
// timeout (each call carries its own deadline), a bounded header wait.
func httpClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 5 * time.Minute
	return &http.Client{Transport: t}
}

// Option configures a model provider.
type Option func(*options)

type options struct {
	client *http.Client
}

// WithHTTPClient makes the provider send its requests with c.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) { o.client = c }
}

func buildOptions(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.client == nil {
		o.client = httpClient()
	}
	return o
}
