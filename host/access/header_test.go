package access_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/claude-mem/claude-mem-server/host/access"
)

const sampleKey = "cm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdef"

func TestCredential(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		headers map[string][]string
		want    string
		err     error
	}{
		"none":                {nil, "", nil},
		"bearer":              {map[string][]string{"Authorization": {"Bearer " + sampleKey}}, sampleKey, nil},
		"bearer lower case":   {map[string][]string{"Authorization": {"bearer " + sampleKey}}, sampleKey, nil},
		"bearer extra spaces": {map[string][]string{"Authorization": {"  Bearer   " + sampleKey + " "}}, sampleKey, nil},
		"x-api-key":           {map[string][]string{"X-Api-Key": {sampleKey}}, sampleKey, nil},
		"x-api-key padded":    {map[string][]string{"X-Api-Key": {" " + sampleKey + "\t"}}, sampleKey, nil},
		"both agree":          {map[string][]string{"Authorization": {"Bearer " + sampleKey}, "X-Api-Key": {sampleKey}}, sampleKey, nil},
		"both disagree":       {map[string][]string{"Authorization": {"Bearer " + sampleKey}, "X-Api-Key": {sampleKey + "x"}}, "", access.ErrConflictingHeaders},
		"basic":               {map[string][]string{"Authorization": {"Basic dXNlcjpwYXNz"}}, "", access.ErrUnsupportedScheme},
		"bearer without key":  {map[string][]string{"Authorization": {"Bearer"}}, "", access.ErrMalformedCredential},
		"bearer blank key":    {map[string][]string{"Authorization": {"Bearer   "}}, "", access.ErrMalformedCredential},
		"empty authorization": {map[string][]string{"Authorization": {""}}, "", access.ErrMalformedCredential},
		"empty x-api-key":     {map[string][]string{"X-Api-Key": {""}}, "", access.ErrMalformedCredential},
		"two tokens":          {map[string][]string{"Authorization": {"Bearer a b"}}, "", access.ErrMalformedCredential},
		"control character":   {map[string][]string{"X-Api-Key": {"cm_abc\x00def"}}, "", access.ErrMalformedCredential},
		"non-ascii":           {map[string][]string{"X-Api-Key": {"cm_abcé"}}, "", access.ErrMalformedCredential},
		"padding inside":      {map[string][]string{"X-Api-Key": {"cm_ab=cd"}}, "", access.ErrMalformedCredential},
		"only padding":        {map[string][]string{"X-Api-Key": {"=="}}, "", access.ErrMalformedCredential},
		"padding at end":      {map[string][]string{"X-Api-Key": {"abc=="}}, "abc==", nil},
		"repeated":            {map[string][]string{"X-Api-Key": {sampleKey, sampleKey}}, "", access.ErrRepeatedHeader},
		"repeated bearer":     {map[string][]string{"Authorization": {"Bearer a", "Bearer a"}}, "", access.ErrRepeatedHeader},
		"too long":            {map[string][]string{"X-Api-Key": {"cm_" + strings.Repeat("a", access.MaxCredentialLen)}}, "", access.ErrMalformedCredential},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for k, vs := range tc.headers {
				for _, v := range vs {
					h.Add(k, v)
				}
			}
			got, err := access.Credential(h)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Fatalf("Credential = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

// FuzzCredential checks that the parser never panics, that what it
// accepts is a bounded token without spaces or control characters, and
// that a token it accepts survives a round trip through both headers.
func FuzzCredential(f *testing.F) {
	for _, s := range []string{"Bearer " + sampleKey, "bearer x", "Basic abc", "", " ", "Bearer", "Bearer a b", "Bearer ==", "Bearer a==", "\x00", "Bearer cm_é"} {
		f.Add(s, sampleKey)
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, authorization, apiKey string) {
		h := http.Header{}
		if authorization != "" {
			h.Set("Authorization", authorization)
		}
		if apiKey != "" {
			h.Set("X-Api-Key", apiKey)
		}
		got, err := access.Credential(h)
		if err != nil {
			if got != "" {
				t.Fatalf("error %v with credential %q", err, got)
			}
			return
		}
		if len(got) > access.MaxCredentialLen {
			t.Fatalf("accepted a %d-byte credential", len(got))
		}
		for _, c := range []byte(got) {
			if c <= ' ' || c >= 0x7f {
				t.Fatalf("accepted %q, which holds byte %#x", got, c)
			}
		}
		if got == "" {
			if authorization != "" || apiKey != "" {
				t.Fatalf("headers %q / %q read as no credential", authorization, apiKey)
			}
			return
		}
		for _, hdr := range []http.Header{{"Authorization": {"Bearer " + got}}, {"X-Api-Key": {got}}} {
			if again, err := access.Credential(hdr); err != nil || again != got {
				t.Fatalf("round trip of %q: %q, %v", got, again, err)
			}
		}
	})
}
