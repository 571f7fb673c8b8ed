package translog_test

import (
	"errors"
	"slices"
	"testing"

	"evidock"
	"evidock/server/translog"
)

func TestHashCache(t *testing.T) {
	var c translog.HashCache
	var asked [][]int64
	read := func(indexes []int64) ([]evidock.LogHash, error) {
		asked = append(asked, slices.Clone(indexes))
		out := make([]evidock.LogHash, len(indexes))
		for i, x := range indexes {
			out[i] = evidock.LogHash{byte(x)}
		}
		return out, nil
	}
	// Hashes added after a commit are served without a read.
	c.Add(map[int64]evidock.LogHash{5: {5}, 6: {6}})
	got, err := c.Read([]int64{6, 5}, read)
	if err != nil || got[0] != (evidock.LogHash{6}) || got[1] != (evidock.LogHash{5}) || len(asked) != 0 {
		t.Fatalf("Read of added hashes = %v, %v; reads %v", got, err, asked)
	}
	// Only the missing ones are read, in the order asked, and then kept.
	got, err = c.Read([]int64{1, 5, 2}, read)
	if err != nil || got[0] != (evidock.LogHash{1}) || got[1] != (evidock.LogHash{5}) || got[2] != (evidock.LogHash{2}) {
		t.Fatalf("Read = %v, %v", got, err)
	}
	if _, err := c.Read([]int64{2, 1}, read); err != nil || len(asked) != 1 || !slices.Equal(asked[0], []int64{1, 2}) {
		t.Fatalf("reads = %v, %v; want one read of [1 2]", asked, err)
	}
	// A failed read or a short answer is an error, and nothing is kept.
	boom := errors.New("boom")
	if _, err := c.Read([]int64{9}, func([]int64) ([]evidock.LogHash, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("failed read: %v", err)
	}
	if _, err := c.Read([]int64{9, 10}, func([]int64) ([]evidock.LogHash, error) { return make([]evidock.LogHash, 1), nil }); err == nil {
		t.Fatal("a short answer was accepted")
	}
	if _, err := c.Read([]int64{9}, read); err != nil || !slices.Equal(asked[len(asked)-1], []int64{9}) {
		t.Fatalf("hash 9 was kept from a failed read: reads %v, %v", asked, err)
	}
}
