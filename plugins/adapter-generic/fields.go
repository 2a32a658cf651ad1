package adaptergeneric

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// fields is one decoded generic event, kept as raw values so that each
// field is checked on its own and named in the rejection. (The helpers
// mirror plugins/adapter-claudecode/fields.go.)
type fields map[string]json.RawMessage

// parseObject decodes a payload that must be a JSON object. The reason is
// empty on success.
func parseObject(raw []byte) (fields, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, "event is empty: want a JSON object"
	}
	var f fields
	if err := json.Unmarshal(raw, &f); err != nil {
		// json.Unmarshal validates the whole input before decoding, so a
		// type error means valid JSON of the wrong shape.
		if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return nil, "event is not a JSON object, got " + kind(raw)
		}
		return nil, "event is not valid JSON: " + err.Error()
	}
	if f == nil {
		return nil, "event is not a JSON object, got null"
	}
	return f, ""
}

// lookup returns the first of keys whose value is present and not null.
func (f fields) lookup(keys ...string) (json.RawMessage, string) {
	for _, k := range keys {
		if v, ok := f[k]; ok && !isNull(v) {
			return v, k
		}
	}
	return nil, ""
}

// str returns the string at the first present key. A value of another JSON
// type is an error, named after the key the sender used.
func (f fields) str(keys ...string) (string, string) {
	v, k := f.lookup(keys...)
	if v == nil {
		return "", ""
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fmt.Sprintf("%s must be a string, got %s", k, kind(v))
	}
	return s, ""
}

// boolean returns the boolean at the first present key; another JSON type
// is an error.
func (f fields) boolean(keys ...string) (bool, string) {
	v, k := f.lookup(keys...)
	if v == nil {
		return false, ""
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		return false, fmt.Sprintf("%s must be a boolean, got %s", k, kind(v))
	}
	return b, ""
}

// rawJSON returns the value at the first present key as compact JSON, or
// nil when it is absent or null. Any JSON value is accepted. Invalid UTF-8
// inside strings is replaced with U+FFFD so that whatever stores or
// re-encodes the event later sees valid JSON text.
func (f fields) rawJSON(keys ...string) json.RawMessage {
	v, _ := f.lookup(keys...)
	if v == nil {
		return nil
	}
	return cleanJSON(v)
}

// cleanJSON compacts an already-valid JSON value and repairs invalid UTF-8.
func cleanJSON(v json.RawMessage) json.RawMessage {
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

func isNull(v json.RawMessage) bool {
	return string(bytes.TrimSpace(v)) == "null"
}

// kind names the JSON type of v for rejection messages.
func kind(v json.RawMessage) string {
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

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
