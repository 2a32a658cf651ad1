package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Error codes the server answers with, stable to switch on (Error.Code).
// Routes may answer others; the message then says what to fix.
const (
	CodeBadRequest         = "bad_request"
	CodeInvalidJSON        = "invalid_json"
	CodeInvalidRequest     = "invalid_request"
	CodeInvalidEvent       = "invalid_event"
	CodeUnknownEvent       = "unknown_event"
	CodeRejected           = "rejected"
	CodeTooManyEvents      = "too_many_events"
	CodeInvalidLine        = "invalid_line"
	CodeBodyTooLarge       = "body_too_large"
	CodeNotFound           = "not_found"
	CodeMethodNotAllowed   = "method_not_allowed"
	CodeConflict           = "conflict"
	CodeSuperseded         = "superseded"
	CodeUnauthenticated    = "unauthenticated"
	CodeForbidden          = "forbidden"
	CodeRateLimited        = "rate_limited"
	CodeServiceUnavailable = "service_unavailable"
	CodeInternal           = "internal"
)

// Error is a non-2xx answer of the server. Use errors.As to reach it, or
// the Is* helpers.
type Error struct {
	// Method and Path are the request's.
	Method string
	Path   string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the server's error code (the Code* constants); empty when
	// the body was not the server's JSON error, e.g. from a proxy.
	Code string
	// Message is the server's explanation, or the start of a body that
	// was not JSON.
	Message string
	// RequestID identifies the request in the server's log.
	RequestID string
	// RetryAfter is how long a 429 or 503 asks to wait; 0 if it does not
	// say.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "client: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		b.WriteString(" (" + e.Code + ")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" [request " + e.RequestID + "]")
	}
	return b.String()
}

// maxErrorBody bounds what is read of an error answer.
const maxErrorBody = 64 << 10

// newError reads an error answer. It never fails: a body that is not the
// server's JSON error becomes the message.
func newError(method, path string, resp *http.Response) *Error {
	e := &Error{Method: method, Path: path, StatusCode: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
	e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body struct {
		Error     string `json:"error"`
		Code      string `json:"code"`
		RequestID string `json:"request_id"`
	}
	if json.Unmarshal(data, &body) == nil && (body.Error != "" || body.Code != "") {
		e.Code, e.Message = body.Code, body.Error
		if body.RequestID != "" {
			e.RequestID = body.RequestID
		}
		return e
	}
	msg := strings.ToValidUTF8(strings.TrimSpace(string(data)), "\uFFFD")
	if len(msg) > 512 {
		cut := 512
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut-- // not inside a rune
		}
		msg = msg[:cut] + "…"
	}
	e.Message = msg
	return e
}

// maxRetryAfter bounds what a Retry-After header can ask for.
const maxRetryAfter = 24 * time.Hour

// retryAfter reads a Retry-After header: seconds or an HTTP date, at most
// maxRetryAfter.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		// Bounded, so that a huge value cannot overflow the Duration.
		return time.Duration(min(s, int(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}

// StatusCode is the HTTP status of err's *Error, or 0 if it has none
// (a network error, a canceled context).
func StatusCode(err error) int {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.StatusCode
	}
	return 0
}

// IsNotFound reports a 404: the row does not exist, or belongs to another
// team or project.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// IsBadRequest reports a 400: the request must change.
func IsBadRequest(err error) bool { return StatusCode(err) == http.StatusBadRequest }

// IsUnauthorized reports a 401: no key, an unknown key, or a revoked or
// expired one.
func IsUnauthorized(err error) bool { return StatusCode(err) == http.StatusUnauthorized }

// IsForbidden reports a 403: the key lacks the route's scope, or is bound
// to another project.
func IsForbidden(err error) bool { return StatusCode(err) == http.StatusForbidden }

// IsConflict reports a 409: a duplicate, a superseded memory, a job that
// has not failed.
func IsConflict(err error) bool { return StatusCode(err) == http.StatusConflict }

// IsRateLimited reports a 429; the *Error's RetryAfter says when to retry.
func IsRateLimited(err error) bool { return StatusCode(err) == http.StatusTooManyRequests }
