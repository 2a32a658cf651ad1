package payload

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		raw, reason string
		keys        int
	}{
		"object":           {raw: ` {"a":1,"b":null} `, keys: 2},
		"empty object":     {raw: `{}`},
		"empty":            {raw: "", reason: "event is empty: want a JSON object"},
		"blank":            {raw: " \n\t", reason: "event is empty: want a JSON object"},
		"null":             {raw: "null", reason: "event is not a JSON object, got null"},
		"array":            {raw: `[{"a":1}]`, reason: "event is not a JSON object, got an array"},
		"string":           {raw: `"hi"`, reason: "event is not a JSON object, got a string"},
		"number":           {raw: `3`, reason: "event is not a JSON object, got a number"},
		"boolean":          {raw: `true`, reason: "event is not a JSON object, got a boolean"},
		"truncated":        {raw: `{"a":`, reason: "event is not valid JSON: unexpected end of JSON input"},
		"trailing garbage": {raw: `{"a":1} x`, reason: "event is not valid JSON: invalid character 'x' after top-level value"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o, reason := Parse([]byte(tc.raw), "event")
			if reason != tc.reason {
				t.Errorf("Parse(%q) reason %q, want %q", tc.raw, reason, tc.reason)
			}
			if (o == nil) != (tc.reason != "") || len(o) != tc.keys {
				t.Errorf("Parse(%q) = %v, want %d keys", tc.raw, o, tc.keys)
			}
		})
	}
}

func TestReaders(t *testing.T) {
	t.Parallel()
	o, reason := Parse([]byte(`{"s":"x","n":1,"nul":null,"t":true,"f":false,"ts":"true","camelKey":"c","j":{ "a" : [1, 2] }}`), "payload")
	if reason != "" {
		t.Fatal(reason)
	}
	if v, k := o.Lookup("nul", "missing", "camelKey", "s"); string(v) != `"c"` || k != "camelKey" {
		t.Errorf("Lookup = %s, %q; want the first present, non-null key", v, k)
	}
	if v, k := o.Lookup("nul", "missing"); v != nil || k != "" {
		t.Errorf("Lookup of absent keys = %s, %q", v, k)
	}
	for name, tc := range map[string]struct {
		keys         []string
		want, reason string
	}{
		"string":          {keys: []string{"s"}, want: "x"},
		"absent":          {keys: []string{"missing"}},
		"null is absent":  {keys: []string{"nul", "s"}, want: "x"},
		"first key wins":  {keys: []string{"camelKey", "s"}, want: "c"},
		"number":          {keys: []string{"n"}, reason: "n must be a string, got a number"},
		"named as sent":   {keys: []string{"missing", "j"}, reason: "j must be a string, got an object"},
		"boolean":         {keys: []string{"t"}, reason: "t must be a string, got a boolean"},
		"wrong then good": {keys: []string{"n", "s"}, reason: "n must be a string, got a number"},
	} {
		s, reason := o.Str(tc.keys...)
		if s != tc.want || reason != tc.reason {
			t.Errorf("%s: Str(%q) = %q, %q; want %q, %q", name, tc.keys, s, reason, tc.want, tc.reason)
		}
		if got := o.OptStr(tc.keys...); got != tc.want {
			t.Errorf("%s: OptStr(%q) = %q, want %q", name, tc.keys, got, tc.want)
		}
	}
	for name, tc := range map[string]struct {
		key    string
		want   bool
		reason string
	}{
		"true":          {key: "t", want: true},
		"false":         {key: "f"},
		"absent":        {key: "missing"},
		"null":          {key: "nul"},
		"string 'true'": {key: "ts", reason: "ts must be a boolean, got a string"},
		"number is not": {key: "n", reason: "n must be a boolean, got a number"},
	} {
		b, reason := o.Bool(tc.key)
		if b != tc.want || reason != tc.reason {
			t.Errorf("%s: Bool(%q) = %v, %q; want %v, %q", name, tc.key, b, reason, tc.want, tc.reason)
		}
		if got := o.OptBool(tc.key); got != tc.want {
			t.Errorf("%s: OptBool(%q) = %v, want %v", name, tc.key, got, tc.want)
		}
	}
	if got := o.JSON("nul", "j"); string(got) != `{"a":[1,2]}` {
		t.Errorf("JSON = %s, want the compacted object", got)
	}
	if got := o.JSON("nul", "missing"); got != nil {
		t.Errorf("JSON of absent keys = %s, want nil", got)
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{ "a" : 1 }`:              `{"a":1}`,
		`[ ]`:                      `[]`,
		"\"a\xffb\"":               `"a` + "\uFFFD" + `b"`,
		"{\"k\":\"\xff\",\"a\":1}": `{"a":1,"k":"` + "\uFFFD" + `"}`,
	} {
		got := Clean(json.RawMessage(in))
		if string(got) != want || !json.Valid(got) || !utf8.Valid(got) {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
	in := json.RawMessage(`{"a":1}`)
	if got := Clean(in); &got[0] == &in[0] {
		t.Error("Clean returned its input's backing array")
	}
}

func TestKind(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		``: "nothing", ` `: "nothing", `"s"`: "a string", `{}`: "an object", `[]`: "an array",
		`true`: "a boolean", `false`: "a boolean", `null`: "null", `-1`: "a number", ` 2.5e3`: "a number",
	} {
		if got := Kind(json.RawMessage(in)); got != want {
			t.Errorf("Kind(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		s    string
		n    int
		want string
	}{
		"short":               {s: "abc", n: 5, want: "abc"},
		"exact":               {s: "abc", n: 3, want: "abc"},
		"cut":                 {s: "abcdef", n: 4, want: "abcd"},
		"rune boundary":       {s: strings.Repeat("é", 100), n: 128, want: strings.Repeat("é", 64)},
		"inside a rune":       {s: "aé", n: 2, want: "a"},
		"inside a 4-byte one": {s: "😀x", n: 3, want: ""},
		"zero":                {s: "abc", n: 0, want: ""},
	} {
		if got := Truncate(tc.s, tc.n); got != tc.want || !utf8.ValidString(got) {
			t.Errorf("%s: Truncate(%q, %d) = %q, want %q", name, tc.s, tc.n, got, tc.want)
		}
	}
}

// FuzzParse checks that Parse answers any input with an object or a reason,
// and that every reader then answers without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range []string{``, `null`, `{}`, `{"a":"b"}`, `[1]`, `{"a":`, "{\"a\":\"\xff\"}", `{"a":{"b":[null,true]}}`} {
		f.Add([]byte(s), "a")
	}
	f.Fuzz(func(t *testing.T, raw []byte, key string) {
		o, reason := Parse(raw, "payload")
		if (o == nil) == (reason == "") {
			t.Fatalf("Parse = %v, %q; want an object or a reason", o, reason)
		}
		if !strings.HasPrefix(reason, "payload ") && reason != "" {
			t.Fatalf("reason %q does not name the payload", reason)
		}
		_, _ = o.Str(key)
		_, _ = o.Bool(key)
		_ = o.OptStr(key)
		_ = o.OptBool(key)
		if v := o.JSON(key); v != nil && !json.Valid(v) {
			t.Fatalf("JSON(%q) = %q, not valid JSON", key, v)
		}
	})
}
