package server

import (
	"context"
	"sync"
	"time"
)

// Batcher runs calls that arrive at the same time as one batch: group
// commit. The stores register clips through it, so that stations
// registering at once share one transaction, one commit (one fsync) and one
// turn at the transparency log's lock, instead of queueing for each.
//
// A call that finds nothing running starts a batch of its own at once, so a
// lone registration waits for nothing; calls that arrive while a batch runs
// go into the next one. Batches run one at a time, in arrival order, on a
// goroutine that exits when no calls are left.
type Batcher[T any] struct {
	// run runs one batch and records each item's outcome in the item
	// itself. ctx is not any one caller's: a caller that gives up must not
	// fail the others in its batch.
	run func(ctx context.Context, items []T)
	// max bounds a batch, so a burst does not make one huge transaction.
	max int

	mu      sync.Mutex
	queue   []*batchCall[T]
	running bool
}

// batchTimeout fails a batch that hangs (a database that stopped answering)
// rather than holding every later call behind it.
const batchTimeout = time.Minute

type batchCall[T any] struct {
	ctx  context.Context
	item T
	done chan struct{}
}

// NewBatcher returns a Batcher that hands run at most max items at a time.
func NewBatcher[T any](max int, run func(ctx context.Context, items []T)) *Batcher[T] {
	return &Batcher[T]{run: run, max: max}
}

// Do queues item for the next batch and waits until its batch has run; the
// outcome is in item. It returns ctx's error if ctx ends first, in which
// case the item may still run (callers' operations are idempotent: a
// station retries a registration whose answer it did not get).
func (b *Batcher[T]) Do(ctx context.Context, item T) error {
	c := &batchCall[T]{ctx: ctx, item: item, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	if !b.running {
		b.running = true
		go b.loop()
	}
	b.mu.Unlock()
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *Batcher[T]) loop() {
	for {
		b.mu.Lock()
		n := min(len(b.queue), b.max)
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		calls := b.queue[:n:n]
		b.queue = b.queue[n:]
		b.mu.Unlock()

		items := make([]T, 0, n)
		for _, c := range calls {
			if c.ctx.Err() == nil { // nobody waits for it any more
				items = append(items, c.item)
			}
		}
		if len(items) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
			b.run(ctx, items)
			cancel()
		}
		for _, c := range calls {
			close(c.done)
		}
	}
}
