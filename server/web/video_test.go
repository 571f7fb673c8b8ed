package web

import (
	"bytes"
	"context"
	"io"
	"testing"

	"evidock"
)

// memObjects is an object store of one object in memory, counting opens
// and, if ranged, answering from an offset.
type memObjects struct {
	body   []byte
	opens  int
	ranged bool
}

func (m *memObjects) StatObject(context.Context, string) (evidock.ObjectInfo, error) {
	return evidock.ObjectInfo{Size: int64(len(m.body))}, nil
}

func (m *memObjects) OpenObject(context.Context, string) (io.ReadCloser, error) {
	m.opens++
	return io.NopCloser(bytes.NewReader(m.body)), nil
}

type rangedObjects struct{ *memObjects }

func (m rangedObjects) OpenObjectRange(_ context.Context, _ string, off int64) (io.ReadCloser, error) {
	m.opens++
	return io.NopCloser(bytes.NewReader(m.body[off:])), nil
}

func TestObjectSeeker(t *testing.T) {
	body := make([]byte, 1000)
	for i := range body {
		body[i] = byte(i * 7)
	}
	for _, tt := range []struct {
		name    string
		objects func(*memObjects) evidock.ObjectReader
	}{
		{"skipping", func(m *memObjects) evidock.ObjectReader { return m }},
		{"ranged", func(m *memObjects) evidock.ObjectReader { return rangedObjects{m} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := &memObjects{body: body}
			s := &objectSeeker{ctx: context.Background(), objects: tt.objects(m), key: "k", size: int64(len(body))}
			defer s.Close()
			if n, err := s.Seek(0, io.SeekEnd); n != 1000 || err != nil {
				t.Fatalf("seek end = %d, %v", n, err)
			}
			if m.opens != 0 {
				t.Errorf("seeking opened the object")
			}
			read := func(off int64, n int) {
				t.Helper()
				if _, err := s.Seek(off, io.SeekStart); err != nil {
					t.Fatal(err)
				}
				got := make([]byte, n)
				if _, err := io.ReadFull(s, got); err != nil {
					t.Fatalf("read %d at %d: %v", n, off, err)
				}
				if !bytes.Equal(got, body[off:off+int64(n)]) {
					t.Errorf("read %d at %d: wrong bytes", n, off)
				}
			}
			read(500, 100)
			read(600, 50) // where the open object is: no new open
			if m.opens != 1 {
				t.Errorf("opens = %d after a contiguous read, want 1", m.opens)
			}
			read(10, 20) // backwards: reopened
			if m.opens != 2 {
				t.Errorf("opens = %d after a backward seek, want 2", m.opens)
			}
			s.Seek(990, io.SeekStart)
			b, err := io.ReadAll(s)
			if err != nil || !bytes.Equal(b, body[990:]) {
				t.Errorf("read to the end = %d bytes, %v", len(b), err)
			}
			if _, err := s.Seek(-1, io.SeekStart); err == nil {
				t.Error("negative seek allowed")
			}
		})
	}
}
