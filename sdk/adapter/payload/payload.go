// Package payload reads hook payloads field by field, for adapters.
//
// A payload is decoded into an Object whose values stay raw JSON, so that
// each field is checked on its own: a field an agent adds or retypes in a
// future version must not make the whole payload unreadable, while the few
// fields an event depends on are checked strictly, and a wrong one is named
// in the rejection.
//
// Readers that can fail return a reason instead of an error: a reason is
// the text of an adapter.NormalizeResult's Rejection, "" on success. A key
// whose value is JSON null counts as absent everywhere.
package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Object is one decoded JSON object, its values kept raw.
type Object map[string]json.RawMessage

// Parse decodes raw, which must be a JSON object. noun names the payload in
// the reason ("payload", "event"), which is empty on success:
//
//	<noun> is empty: want a JSON object
//	<noun> is not valid JSON: <the decoder's error>
//	<noun> is not a JSON object, got <Kind>
func Parse(raw []byte, noun string) (Object, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, noun + " is empty: want a JSON object"
	}
	var o Object
	if err := json.Unmarshal(raw, &o); err != nil {
		// json.Unmarshal validates the whole input before decoding, so a
		// type error means valid JSON of the wrong shape.
		if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return nil, noun + " is not a JSON object, got " + Kind(raw)
		}
		return nil, noun + " is not valid JSON: " + err.Error()
	}
	if o == nil {
		return nil, noun + " is not a JSON object, got null"
	}
	return o, ""
}

// Lookup returns the value of the first of keys that is present and not
// null, and that key; nil and "" when there is none.
func (o Object) Lookup(keys ...string) (json.RawMessage, string) {
	for _, k := range keys {
		if v, ok := o[k]; ok && !IsNull(v) {
			return v, k
		}
	}
	return nil, ""
}

// Str returns the string at the first present key, "" when there is none.
// A value of another JSON type is a reason, named after the key the sender
// used: "<key> must be a string, got a number".
func (o Object) Str(keys ...string) (string, string) {
	v, k := o.Lookup(keys...)
	if v == nil {
		return "", ""
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fmt.Sprintf("%s must be a string, got %s", k, Kind(v))
	}
	return s, ""
}

// OptStr is Str for fields that only decorate an event: a value of the
// wrong type is ignored rather than failing the payload.
func (o Object) OptStr(keys ...string) string {
	s, reason := o.Str(keys...)
	if reason != "" {
		return ""
	}
	return s
}

// Bool returns the boolean at the first present key, false when there is
// none. A value of another JSON type is a reason, as for Str.
func (o Object) Bool(keys ...string) (bool, string) {
	v, k := o.Lookup(keys...)
	if v == nil {
		return false, ""
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		return false, fmt.Sprintf("%s must be a boolean, got %s", k, Kind(v))
	}
	return b, ""
}

// OptBool reports whether the first present key holds JSON true. Anything
// else, including a missing key or the string "true", is false.
func (o Object) OptBool(keys ...string) bool {
	b, reason := o.Bool(keys...)
	return reason == "" && b
}

// JSON returns the value at the first present key, of any JSON type, as
// Clean makes it; nil when it is absent or null.
func (o Object) JSON(keys ...string) json.RawMessage {
	v, _ := o.Lookup(keys...)
	if v == nil {
		return nil
	}
	return Clean(v)
}

// Clean compacts an already-valid JSON value into a new slice, and replaces
// invalid UTF-8 inside its strings with U+FFFD, so that whatever stores or
// re-encodes the event later sees valid JSON text.
func Clean(v json.RawMessage) json.RawMessage {
	if !utf8.Valid(v) {
		var anyv any
		if err := json.Unmarshal(v, &anyv); err == nil {
			if b, err := json.Marshal(anyv); err == nil {
				return b
			}
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		// Unreachable for a value that came out of json.Unmarshal; keep
		// the bytes rather than lose the payload.
		return append(json.RawMessage(nil), v...)
	}
	return buf.Bytes()
}

// IsNull reports whether v is JSON null.
func IsNull(v json.RawMessage) bool {
	return string(bytes.TrimSpace(v)) == "null"
}

// Kind names the JSON type of v for reasons: "a string", "an object",
// "an array", "a boolean", "null", "a number", or "nothing" when v is
// empty. v is assumed valid; only its first byte is read.
func Kind(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// Truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
