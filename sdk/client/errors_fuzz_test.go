package client

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzNewError: whatever a server or a proxy in front of it answers, the
// client turns it into an *Error without panicking, with a message that is
// valid UTF-8 and bounded.
func FuzzNewError(f *testing.F) {
	f.Add(`{"error":"no memory 7","code":"not_found","request_id":"r-1"}`, "")
	f.Add(`<html>502 Bad Gateway</html>`, "120")
	f.Add(`{"error":`, "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add(strings.Repeat("é", 400), "-3")
	f.Add("\xff\xfe\xfd", "9999999999999999999")
	f.Add("", "9223372036854775807")
	f.Fuzz(func(t *testing.T, body, retry string) {
		resp := &http.Response{StatusCode: 502, Header: http.Header{"Retry-After": {retry}}, Body: io.NopCloser(strings.NewReader(body))}
		e := newError(http.MethodGet, "/v1/info", resp)
		if e.StatusCode != 502 || e.Error() == "" {
			t.Fatalf("error %+v", e)
		}
		if !utf8.ValidString(e.Message) {
			t.Fatalf("message is not valid UTF-8: %q", e.Message)
		}
		if len(e.Message) > 512+len("…") && e.Code == "" {
			t.Fatalf("message of %d bytes", len(e.Message))
		}
		if e.RetryAfter < 0 || e.RetryAfter > maxRetryAfter {
			t.Fatalf("Retry-After %v from %q", e.RetryAfter, retry)
		}
	})
}
