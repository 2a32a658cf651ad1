package provider_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/claude-mem/claude-mem-server/host/provider"
)

var reMarker = regexp.MustCompile(`<elided chars="(\d+)" original_size_chars="(\d+)" reason="oversize" />`)

func TestTruncate(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 6000) + strings.Repeat("m", 8000) + strings.Repeat("z", 6000) // 20000
	// The marker is sized for the largest count it can carry.
	mk := len(`<elided chars="20000" original_size_chars="20000" reason="oversize" />`)
	tests := map[string]struct {
		in         string
		limit      int
		want       string // exact, when set
		head, tail int    // kept bytes, when want is unset
	}{
		"short stays":    {in: "hello", limit: 10, want: "hello"},
		"exact stays":    {in: "0123456789", limit: 10, want: "0123456789"},
		"no limit":       {in: long, limit: 0, want: long},
		"60/30 split":    {in: long, limit: 16000, head: 9600, tail: 4800},
		"tiny limit":     {in: long, limit: 50, want: strings.Repeat("a", 50)},
		"small shrinks":  {in: long, limit: 300, head: (300 - mk) * 2 / 3, tail: 300 - mk - (300-mk)*2/3},
		"utf8 boundary":  {in: strings.Repeat("é", 1000), limit: 501},
		"empty":          {in: "", limit: 5, want: ""},
		"negative limit": {in: "abc", limit: -1, want: "abc"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := provider.Truncate(tc.in, tc.limit)
			if tc.want != "" || tc.in == "" {
				if got != tc.want {
					t.Fatalf("Truncate = %.80q…, want %.80q…", got, tc.want)
				}
				return
			}
			if tc.limit > 0 && len(got) > tc.limit {
				t.Fatalf("len = %d > limit %d", len(got), tc.limit)
			}
			if !utf8.ValidString(got) {
				t.Fatalf("invalid UTF-8: %q", got)
			}
			m := reMarker.FindStringSubmatchIndex(got)
			if m == nil {
				t.Fatalf("no marker in %q", got)
			}
			head, tail := got[:m[0]], got[m[1]:]
			if tc.head != 0 && (len(head) != tc.head || len(tail) != tc.tail) {
				t.Errorf("kept head %d tail %d, want %d and %d", len(head), len(tail), tc.head, tc.tail)
			}
			elided, _ := strconv.Atoi(got[m[2]:m[3]])
			orig, _ := strconv.Atoi(got[m[4]:m[5]])
			if orig != len(tc.in) || elided != len(tc.in)-len(head)-len(tail) {
				t.Errorf("marker says %d of %d elided; in %d, kept %d", elided, orig, len(tc.in), len(head)+len(tail))
			}
			if !strings.HasPrefix(tc.in, head) || !strings.HasSuffix(tc.in, tail) {
				t.Error("head or tail is not from the input")
			}
		})
	}
}

func FuzzTruncate(f *testing.F) {
	f.Add("hello world", 5)
	f.Add(strings.Repeat("é", 500), 333)
	f.Add(strings.Repeat("x", 20000), 16000)
	f.Add("\xff\xfe\xfd", 2)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		limit %= 1 << 16
		got := provider.Truncate(s, limit)
		if limit <= 0 || len(s) <= limit {
			if got != s {
				t.Fatal("changed input within the limit")
			}
			return
		}
		if len(got) > limit {
			t.Fatalf("len %d > limit %d", len(got), limit)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("split a rune: %q", got)
		}
		if m := reMarker.FindStringIndex(got); m != nil {
			if !strings.HasPrefix(s, got[:m[0]]) || !strings.HasSuffix(s, got[m[1]:]) {
				t.Fatal("head or tail not from the input")
			}
		} else if !strings.HasPrefix(s, got) {
			t.Fatal("marker-less result is not a prefix")
		}
	})
}
