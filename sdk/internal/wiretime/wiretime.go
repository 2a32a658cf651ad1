// Package wiretime converts times to and from the Unix milliseconds that the
// protocols carry. The zero time travels as 0, so "unset" survives the wire.
package wiretime

import "time"

// ToMS converts t to Unix milliseconds, 0 for the zero time.
func ToMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// FromMS converts Unix milliseconds back, 0 to the zero time.
func FromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}
