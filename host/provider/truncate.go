package provider

import (
	"strconv"
	"unicode/utf8"
)

// Truncate caps s at limit bytes the way claude-mem caps tool payloads: it
// keeps about 60% of the limit from the head and 30% from the tail, and puts
// an <elided chars="N" original_size_chars="M" reason="oversize" /> marker
// between them, where N counts the bytes removed and M the original size.
//
// The result is never longer than limit (when limit is too small for the
// marker, the head alone is kept) and never splits a UTF-8 sequence. A
// limit <= 0 means no cap.
func Truncate(s string, limit int) string {
	if limit <= 0 || len(s) <= limit {
		return s
	}
	head := limit * 60 / 100
	tail := limit * 30 / 100
	// The marker's length depends on the numbers in it; size it for the
	// largest elided count it can carry.
	markerLen := len(elidedMarker(len(s), len(s)))
	if head+tail+markerLen > limit {
		avail := limit - markerLen
		if avail <= 0 {
			return s[:cutBack(s, limit)]
		}
		head = avail * 2 / 3
		tail = avail - head
	}
	h := cutBack(s, head)
	t := cutForward(s, len(s)-tail)
	return s[:h] + elidedMarker(t-h, len(s)) + s[t:]
}

func elidedMarker(elided, original int) string {
	return `<elided chars="` + strconv.Itoa(elided) + `" original_size_chars="` + strconv.Itoa(original) + `" reason="oversize" />`
}

// cutBack moves i back to the start of a UTF-8 sequence.
func cutBack(s string, i int) int {
	if i >= len(s) {
		return len(s)
	}
	for j := i; j > 0 && i-j < utf8.UTFMax; j-- {
		if utf8.RuneStart(s[j]) {
			return j
		}
	}
	return i
}

// cutForward moves i forward to the start of a UTF-8 sequence.
func cutForward(s string, i int) int {
	for j := i; j < len(s) && j-i < utf8.UTFMax; j++ {
		if utf8.RuneStart(s[j]) {
			return j
		}
	}
	return i
}

// EstimateTokens is the rough token count claude-mem uses for text it has
// not sent to a model: one token per four characters (bytes here), rounded
// up.
func EstimateTokens(s string) int64 {
	return int64(len(s)+3) / 4
}
