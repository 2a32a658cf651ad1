package access

import (
	"sync"
	"time"
)

// limiter is a token bucket per key: rate tokens a minute, and a burst of
// as many.
type limiter struct {
	perSecond float64
	burst     float64

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// sweepEvery is how often buckets that have refilled are dropped.
const sweepEvery = time.Minute

func newLimiter(perMinute int) *limiter {
	return &limiter{perSecond: float64(perMinute) / 60, burst: float64(perMinute), buckets: map[string]*bucket{}}
}

// allow takes a token from key's bucket. When there is none it returns how
// long until there is.
func (l *limiter) allow(key string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) >= sweepEvery {
		l.sweep(now)
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+elapsed.Seconds()*l.perSecond)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / l.perSecond * float64(time.Second)), false
}

// sweep drops the buckets that are full again: they hold no state a new
// bucket would not.
func (l *limiter) sweep(now time.Time) {
	l.swept = now
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.perSecond >= l.burst {
			delete(l.buckets, k)
		}
	}
}
