// Package hookcli is `claude-mem hook <adapter> <event>`: the command hook
// for agents (and Claude Code versions) without HTTP hooks. It reads the
// hook payload on stdin, posts it to the server's
// /v1/hooks/<adapter>/<event>, and prints the reply, which is what the
// adapter rendered for the agent.
//
// It fails open. A server that is down, slow, overloaded or broken (no
// connection, a timeout, a 5xx or a 429) costs the agent nothing: the hook
// exits 0 and prints nothing, within the short timeouts below. A 4xx means
// the hook itself is wrong (an unknown adapter or event, a payload the
// adapter rejects): it still exits 0, with one line on stderr, which Claude
// Code shows only in its transcript view. It never exits 2, the code that
// blocks an agent.
//
// It starts fast: it loads no plugin, opens no database and reads no
// config beyond what locates the server.
package hookcli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of Options.
const (
	// DefaultTimeout bounds the whole exchange with the server. A healthy
	// local server answers in milliseconds; SessionStart, which builds a
	// context pack, in tens of milliseconds.
	DefaultTimeout = 5 * time.Second
	// DefaultDialTimeout bounds the connection: a closed port fails at
	// once, a black-holed address within this.
	DefaultDialTimeout = 500 * time.Millisecond
	// DefaultStdinTimeout bounds reading the payload: an agent that never
	// closes stdin does not hang the hook.
	DefaultStdinTimeout = 10 * time.Second
	// DefaultMaxPayload is the largest payload posted (the server's own
	// default body limit); a larger one is not sent.
	DefaultMaxPayload = 4 << 20
)

// Options configure one hook run.
type Options struct {
	// BaseURL is the server, e.g. http://127.0.0.1:37701. Required.
	BaseURL string
	// Adapter and Event name the hook, e.g. "claude-code" and "PostToolUse".
	Adapter, Event string
	// APIKey, when set, is sent as Authorization: Bearer.
	APIKey string
	// UserAgent is sent as User-Agent.
	UserAgent string
	Stdin     io.Reader
	Stdout    io.Writer
	// Stderr receives the one-line notes of a 4xx, and with Verbose the
	// reason of every fail-open.
	Stderr io.Writer
	// Verbose explains on stderr why a hook failed open.
	Verbose bool
	// Timeout, DialTimeout, StdinTimeout and MaxPayload default to the
	// Default* constants.
	Timeout      time.Duration
	DialTimeout  time.Duration
	StdinTimeout time.Duration
	MaxPayload   int64
}

// Outcome says what a run did, for tests and --verbose.
type Outcome string

// Outcomes.
const (
	// OutcomeReplied: the server answered 2xx and its body was printed.
	OutcomeReplied Outcome = "replied"
	// OutcomeRejected: the server answered 4xx (the hook is misconfigured
	// or the payload invalid); nothing was printed on stdout.
	OutcomeRejected Outcome = "rejected"
	// OutcomeUnavailable: no connection, a timeout, a 5xx or a 429.
	OutcomeUnavailable Outcome = "unavailable"
	// OutcomeNoPayload: stdin was empty, unreadable or too large.
	OutcomeNoPayload Outcome = "no-payload"
)

// Run runs the hook and reports what it did. The process should exit 0
// whatever the outcome: see the package doc.
func Run(ctx context.Context, opts Options) Outcome {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	if opts.StdinTimeout <= 0 {
		opts.StdinTimeout = DefaultStdinTimeout
	}
	if opts.MaxPayload <= 0 {
		opts.MaxPayload = DefaultMaxPayload
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	note := func(format string, args ...any) {
		if opts.Verbose {
			fmt.Fprintf(opts.Stderr, "claude-mem hook: "+format+"\n", args...)
		}
	}

	payload, err := readPayload(opts.Stdin, opts.MaxPayload, opts.StdinTimeout)
	if err != nil {
		note("%v; nothing was sent", err)
		return OutcomeNoPayload
	}

	target, err := hookURL(opts.BaseURL, opts.Adapter, opts.Event)
	if err != nil {
		note("%v", err)
		return OutcomeUnavailable
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(payload))
	if err != nil {
		note("%v", err)
		return OutcomeUnavailable
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if opts.UserAgent != "" {
		req.Header.Set("User-Agent", opts.UserAgent)
	}
	if opts.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+opts.APIKey)
	}
	client := &http.Client{Transport: &http.Transport{
		Proxy:             nil, // the server is ours; never go through a proxy
		DialContext:       (&net.Dialer{Timeout: opts.DialTimeout}).DialContext,
		DisableKeepAlives: true,
		// The reply must fit in the time we have left.
		ResponseHeaderTimeout: opts.Timeout,
	}}
	resp, err := client.Do(req)
	if err != nil {
		note("server unreachable at %s: %v", opts.BaseURL, err)
		return OutcomeUnavailable
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, opts.MaxPayload))
	if err != nil {
		note("reading the reply: %v", err)
		return OutcomeUnavailable
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		out := bytes.TrimSpace(body)
		if len(out) > 0 {
			if _, err := opts.Stdout.Write(append(out, '\n')); err != nil {
				return OutcomeUnavailable
			}
		}
		return OutcomeReplied
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		note("server answered %s; skipped", resp.Status)
		return OutcomeUnavailable
	default:
		fmt.Fprintf(opts.Stderr, "claude-mem hook %s %s: the server answered %s: %s\n",
			opts.Adapter, opts.Event, resp.Status, errorText(body))
		return OutcomeRejected
	}
}

// hookURL is <base>/v1/hooks/<adapter>/<event>.
func hookURL(base, adapter, event string) (string, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(base), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("server URL %q is not an http(s) URL", base)
	}
	if adapter == "" || event == "" {
		return "", errors.New("adapter and event are required")
	}
	return u.String() + "/v1/hooks/" + url.PathEscape(adapter) + "/" + url.PathEscape(event), nil
}

// readPayload reads all of r, within limit bytes and timeout.
func readPayload(r io.Reader, limit int64, timeout time.Duration) ([]byte, error) {
	if r == nil {
		return nil, errors.New("no stdin")
	}
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(r, limit+1))
		done <- result{b, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case res := <-done:
		switch {
		case res.err != nil:
			return nil, fmt.Errorf("read stdin: %w", res.err)
		case int64(len(res.b)) > limit:
			return nil, fmt.Errorf("the payload exceeds %d bytes", limit)
		case len(bytes.TrimSpace(res.b)) == 0:
			return nil, errors.New("stdin is empty")
		}
		return res.b, nil
	case <-t.C:
		return nil, fmt.Errorf("stdin was not closed within %s", timeout)
	}
}

// errorText is the message of a JSON error reply ({"error": "..."}), or
// the start of the body.
func errorText(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
