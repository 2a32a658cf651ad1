// Package httpapi is the host's HTTP surface: the chi router, its
// middleware (request IDs, body limits, panic recovery), JSON errors shaped
// {"error": "...", "code": "..."}, and the routes of the host itself.
package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/claude-mem/claude-mem-server/host/supervisor"
)

// Error codes, stable for clients to switch on.
const (
	CodeBadRequest         = "bad_request"
	CodeInvalidJSON        = "invalid_json"
	CodeBodyTooLarge       = "body_too_large"
	CodeNotFound           = "not_found"
	CodeMethodNotAllowed   = "method_not_allowed"
	CodeServiceUnavailable = "service_unavailable"
	CodeInternal           = "internal"
)

// ErrorBody is the shape of every error response.
type ErrorBody struct {
	Error     string `json:"error"`
	Code      string `json:"code"`
	RequestID string `json:"request_id,omitempty"`
}

// WriteJSON writes v with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError writes a JSON error.
func WriteError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	WriteJSON(w, status, ErrorBody{Error: msg, Code: code, RequestID: RequestID(r.Context())})
}

// WriteErr maps err to a status: a plugin that is down is a 503, anything
// else unexpected a 500 whose detail stays in the log.
func WriteErr(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, supervisor.ErrUnavailable) {
		WriteError(w, r, http.StatusServiceUnavailable, CodeServiceUnavailable, err.Error()+"; retry shortly")
		return
	}
	WriteError(w, r, http.StatusInternalServerError, CodeInternal, "internal error; see the server log for request "+RequestID(r.Context()))
}

// DecodeJSON reads a JSON body into dst strictly: unknown fields, trailing
// data, wrong types and oversize bodies are errors, answered here with a
// 4xx. It reports whether decoding succeeded.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil && dec.More() {
		err = errors.New("unexpected data after the JSON value")
	}
	if err == nil {
		if _, rerr := io.Copy(io.Discard, r.Body); rerr != nil {
			err = rerr
		}
	}
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		WriteError(w, r, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("request body exceeds %d bytes", tooBig.Limit))
	case errors.As(err, &syntax):
		WriteError(w, r, http.StatusBadRequest, CodeInvalidJSON, fmt.Sprintf("malformed JSON at byte %d: %v", syntax.Offset, err))
	case errors.As(err, &typeErr):
		WriteError(w, r, http.StatusBadRequest, CodeInvalidJSON, fmt.Sprintf("field %q must be %s, not %s", typeErr.Field, typeErr.Type, typeErr.Value))
	case errors.Is(err, io.ErrUnexpectedEOF):
		WriteError(w, r, http.StatusBadRequest, CodeInvalidJSON, "malformed JSON: the body ends before the JSON value does")
	case errors.Is(err, io.EOF):
		WriteError(w, r, http.StatusBadRequest, CodeInvalidJSON, "request body is empty; send a JSON object")
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		WriteError(w, r, http.StatusBadRequest, CodeInvalidJSON, strings.TrimPrefix(err.Error(), "json: "))
	default:
		WriteError(w, r, http.StatusBadRequest, CodeInvalidJSON, "invalid JSON: "+err.Error())
	}
	return false
}
