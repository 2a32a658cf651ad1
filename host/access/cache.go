package access

import (
	"sync"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

// maxCached bounds the cache; past it, expired entries are swept.
const maxCached = 10000

// cache holds recent verifications, keyed by the SHA-256 of the
// credential so that no raw key is kept in memory longer than a request.
// Failures are not cached: a key created a moment ago works at once.
type cache struct {
	ttl time.Duration

	mu       sync.Mutex
	entries  map[[32]byte]cached
	inflight map[[32]byte]*call
}

type cached struct {
	p  auth.Principal
	at time.Time
}

type call struct {
	done chan struct{}
	p    auth.Principal
	err  error
}

func newCache(ttl time.Duration) *cache {
	return &cache{ttl: ttl, entries: map[[32]byte]cached{}, inflight: map[[32]byte]*call{}}
}

func (c *cache) get(sum [32]byte, now time.Time) (auth.Principal, bool) {
	if c.ttl <= 0 {
		return auth.Principal{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[sum]
	if !ok {
		return auth.Principal{}, false
	}
	if now.Sub(e.at) >= c.ttl || now.Before(e.at) {
		delete(c.entries, sum)
		return auth.Principal{}, false
	}
	return e.p, true
}

// do runs fn once for concurrent callers of sum, and caches a success.
func (c *cache) do(sum [32]byte, fn func() (auth.Principal, error), now func() time.Time) (auth.Principal, error) {
	c.mu.Lock()
	if cl, ok := c.inflight[sum]; ok {
		c.mu.Unlock()
		<-cl.done
		return cl.p, cl.err
	}
	cl := &call{done: make(chan struct{})}
	c.inflight[sum] = cl
	c.mu.Unlock()

	// The verification is as old as the moment it was asked for.
	at := now()
	cl.p, cl.err = fn()

	c.mu.Lock()
	delete(c.inflight, sum)
	if cl.err == nil && c.ttl > 0 {
		if len(c.entries) >= maxCached {
			c.sweep(at)
		}
		c.entries[sum] = cached{p: cl.p, at: at}
	}
	c.mu.Unlock()
	close(cl.done)
	return cl.p, cl.err
}

// sweep drops expired entries, or everything if none has expired.
func (c *cache) sweep(now time.Time) {
	for k, e := range c.entries {
		if now.Sub(e.at) >= c.ttl {
			delete(c.entries, k)
		}
	}
	if len(c.entries) >= maxCached {
		clear(c.entries)
	}
}

func (c *cache) forget(keyID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.p.KeyID == keyID {
			delete(c.entries, k)
		}
	}
}
