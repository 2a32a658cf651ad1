package queuevalkey

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// Wake-up plumbing: see "Blocking reserve" in the package doc.

// pingEvery is how long the wake subscription may stay silent before the
// loop pings it, so a connection that died without a FIN (a network
// partition) is noticed and replaced.
const pingEvery = 15 * time.Second

// subscribe opens the wake subscription and waits for the server to confirm
// it, so that Open returns with cross-host wake-ups already working.
func (e *Engine) subscribe(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, e.opts.ConnectTimeout)
	defer cancel()
	e.ps = e.rdb.Subscribe(cctx, e.wakeChannel())
	msg, err := e.ps.Receive(cctx)
	if err == nil {
		if _, ok := msg.(*redis.Subscription); !ok {
			err = fmt.Errorf("unexpected %T", msg)
		}
	}
	if err != nil {
		_ = e.ps.Close()
		return fmt.Errorf("%w %s: subscribe to wake channel: %w", ErrUnreachable, e.url, err)
	}
	e.subscribed.Store(true)
	e.subs.Add(1)
	return nil
}

func (e *Engine) wakeChannel() string { return e.base + "wake" }

// wakeLoop turns wake messages into in-process wake-ups until ctx ends.
// go-redis replaces a broken subscription connection and resubscribes on the
// next receive; the loop only has to keep receiving, back off while the
// server is away, and wake every waiter once the subscription is back,
// since messages published in between were lost.
func (e *Engine) wakeLoop(ctx context.Context) {
	defer close(e.bgDone)
	const minBackoff, maxBackoff = 50 * time.Millisecond, time.Second
	backoff := minBackoff
	for {
		msg, err := e.ps.ReceiveTimeout(ctx, pingEvery)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Silence: probe the connection. A failed write makes
				// go-redis reconnect; the reply arrives as a Pong.
				if err = e.ps.Ping(ctx); err == nil {
					continue
				}
			}
			if e.subscribed.Swap(false) {
				e.opts.Logger.Warn("wake subscription lost; blocked reserves fall back to re-checking",
					"component", "queue-valkey", "url", e.url, "error", err.Error())
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				if !e.subscribed.Swap(true) {
					e.opts.Logger.Info("wake subscription restored", "component", "queue-valkey", "url", e.url)
				}
				e.subs.Add(1)
				e.notify()
			}
		case *redis.Message:
			e.notify()
		}
	}
}

// wakeCh returns the channel the next wake-up will close. Take it before
// looking for work, so a wake-up between the look and the wait is not lost.
func (e *Engine) wakeCh() <-chan struct{} {
	e.wakeMu.Lock()
	defer e.wakeMu.Unlock()
	return e.wake
}

// notify wakes every blocked Reserve of this Engine.
func (e *Engine) notify() {
	e.wakeMu.Lock()
	close(e.wake)
	e.wake = make(chan struct{})
	e.wakeMu.Unlock()
}
