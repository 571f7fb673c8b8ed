package translog_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"evidock"
	"evidock/server/storetest"
	"evidock/server/translog"
)

func TestCacheHashes(t *testing.T) {
	var c translog.Cache
	var asked [][]int64
	read := func(indexes []int64) ([]evidock.LogHash, error) {
		asked = append(asked, slices.Clone(indexes))
		out := make([]evidock.LogHash, len(indexes))
		for i, x := range indexes {
			out[i] = evidock.LogHash{byte(x)}
		}
		return out, nil
	}
	// Only the missing ones are read, in the order asked, and then kept.
	got, err := c.ReadHashes([]int64{1, 2}, read)
	if err != nil || got[0] != (evidock.LogHash{1}) || got[1] != (evidock.LogHash{2}) {
		t.Fatalf("ReadHashes = %v, %v", got, err)
	}
	if got, err := c.ReadHashes([]int64{2, 3, 1}, read); err != nil || got[1] != (evidock.LogHash{3}) || len(asked) != 2 || !slices.Equal(asked[1], []int64{3}) {
		t.Fatalf("ReadHashes = %v, %v; reads %v, want the second to read [3] only", got, err, asked)
	}
	// A failed read or a short answer is an error, and nothing is kept.
	boom := errors.New("boom")
	if _, err := c.ReadHashes([]int64{9}, func([]int64) ([]evidock.LogHash, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("failed read: %v", err)
	}
	if _, err := c.ReadHashes([]int64{9, 10}, func([]int64) ([]evidock.LogHash, error) { return make([]evidock.LogHash, 1), nil }); err == nil {
		t.Fatal("a short answer was accepted")
	}
	if _, err := c.ReadHashes([]int64{9}, read); err != nil || !slices.Equal(asked[len(asked)-1], []int64{9}) {
		t.Fatalf("hash 9 was kept from a failed read: reads %v, %v", asked, err)
	}
}

func TestCacheCommitted(t *testing.T) {
	var c translog.Cache
	tree := &translog.Tree{}
	a := translog.NewAppender(0, func(ix []int64) ([]evidock.LogHash, error) {
		t.Fatalf("a fresh log read stored hashes %v", ix)
		return nil, nil
	})
	var clips []*evidock.Clip
	for i := range 3 {
		cl := storetest.NewClip(fmt.Appendf(nil, "cache %d", i), "A123456", "100001", time.Date(2024, 5, 1, 9, i, 0, 0, evidock.ChinaTime), i+1)
		cl.ID = int64(i + 1)
		e, err := a.Append(cl)
		if err != nil {
			t.Fatal(err)
		}
		tree.Append(e.Record)
		clips = append(clips, cl)
	}
	if _, _, _, ok := c.FindRecord(clips[0].Digest); ok {
		t.Fatal("a record was found before its transaction committed")
	}
	c.Committed(a)
	for i, cl := range clips {
		idx, rec, size, ok := c.FindRecord(cl.Digest)
		want, _ := translog.EncodeRecord(int64(i), cl)
		if !ok || idx != int64(i) || size != 3 || string(rec) != string(want) {
			t.Fatalf("FindRecord(%d) = %d, %q, %d, %v", i, idx, rec, size, ok)
		}
	}
	// Every stored hash of the three records is served without a read,
	// and matches the tree's.
	want, err := tree.ReadHashes([]int64{0, 1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ReadHashes([]int64{0, 1, 2, 3}, func(ix []int64) ([]evidock.LogHash, error) {
		return nil, fmt.Errorf("read %v: the appended hashes should be cached", ix)
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != evidock.LogHash(want[i]) {
			t.Fatalf("hash %d = %x; want %x", i, got[i], want[i])
		}
	}
}
