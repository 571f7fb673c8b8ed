package server

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

type batchItem struct {
	n     int
	batch int // the batch it ran in, from 1
}

func TestBatcherGathersWaitingCalls(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	var (
		mu      sync.Mutex
		batches [][]int
	)
	b := NewBatcher(4, func(_ context.Context, items []*batchItem) {
		if len(batches) == 0 {
			close(started)
			<-release // hold the first batch while the others queue up
		}
		mu.Lock()
		defer mu.Unlock()
		var ns []int
		for _, it := range items {
			ns = append(ns, it.n)
			it.batch = len(batches) + 1
		}
		batches = append(batches, ns)
	})
	ctx := context.Background()
	items := make([]*batchItem, 10)
	var wg sync.WaitGroup
	done := func(it *batchItem) {
		defer wg.Done()
		if err := b.Do(ctx, it); err != nil {
			t.Error(err)
		}
	}
	items[0] = &batchItem{n: 0}
	wg.Add(1)
	go done(items[0])
	<-started // the first call is running, alone
	for i := 1; i < len(items); i++ {
		items[i] = &batchItem{n: i}
		wg.Add(1)
		go done(items[i])
	}
	waitQueued(t, b, 9)
	close(release)
	wg.Wait()

	if len(batches) != 4 || len(batches[0]) != 1 || len(batches[1]) != 4 || len(batches[2]) != 4 || len(batches[3]) != 1 {
		t.Fatalf("batches = %v; want 1 call alone, then the 9 that waited in batches of at most 4", batches)
	}
	for _, it := range items {
		if it.batch == 0 {
			t.Errorf("item %d never ran", it.n)
		}
	}
}

func TestBatcherCallerGivesUp(t *testing.T) {
	release := make(chan struct{})
	ran := make(chan []*batchItem, 2)
	b := NewBatcher(8, func(_ context.Context, items []*batchItem) {
		ran <- items
		if items[0].n == 0 {
			<-release
		}
	})
	go b.Do(context.Background(), &batchItem{n: 0})
	<-ran
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() { errc <- b.Do(ctx, &batchItem{n: 1}) }()
	waitQueued(t, b, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Do after cancel = %v; want context.Canceled", err)
	}
	close(release)
	// The abandoned call is dropped, not run: the next batch has only
	// the new call.
	if err := b.Do(context.Background(), &batchItem{n: 2}); err != nil {
		t.Fatal(err)
	}
	<-ran // batch of item 2 (item 1 was dropped)
	select {
	case items := <-ran:
		t.Fatalf("an extra batch ran: %d items", len(items))
	default:
	}
}

// waitQueued waits until n calls wait in b's queue.
func waitQueued[T any](t *testing.T, b *Batcher[T], n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.mu.Lock()
		got := len(b.queue)
		b.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued; want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}
