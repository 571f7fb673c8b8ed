package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"

	"evidock"
)

func pathEscape(s string) string { return url.PathEscape(s) }

// RangeOpener is implemented by an object store that can read part of an
// object (an S3 ranged GET); objectSeeker uses it when it can.
type RangeOpener interface {
	// OpenObjectRange returns a reader of the object's bytes from offset
	// on, or ENOTFOUND.
	OpenObjectRange(ctx context.Context, key string, offset int64) (io.ReadCloser, error)
}

// objectSeeker is an io.ReadSeeker over an object in the store, for
// http.ServeContent: Seek only moves the position, and Read opens the
// object there. With a RangeOpener the store sends only the bytes asked
// for; without one, the object is read from the start and the bytes before
// the position are skipped, which is correct but costs the skipped bytes.
type objectSeeker struct {
	ctx     context.Context
	objects evidock.ObjectReader
	key     string
	size    int64

	pos  int64 // where the next Read reads
	body io.ReadCloser
	at   int64 // where body is
}

func (s *objectSeeker) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += s.pos
	case io.SeekEnd:
		offset += s.size
	default:
		return 0, errors.New("web: seek: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("web: seek: negative position")
	}
	s.pos = offset
	return offset, nil
}

func (s *objectSeeker) Read(p []byte) (int, error) {
	if s.pos >= s.size {
		return 0, io.EOF
	}
	if s.body == nil || s.at != s.pos {
		if err := s.open(); err != nil {
			return 0, err
		}
	}
	n, err := s.body.Read(p)
	s.pos += int64(n)
	s.at = s.pos
	if err == io.EOF && s.pos < s.size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// open (re)opens the object at pos.
func (s *objectSeeker) open() error {
	s.Close()
	if ro, ok := s.objects.(RangeOpener); ok {
		b, err := ro.OpenObjectRange(s.ctx, s.key, s.pos)
		if err != nil {
			return fmt.Errorf("web: open %s at %d: %w", s.key, s.pos, err)
		}
		s.body, s.at = b, s.pos
		return nil
	}
	b, err := s.objects.OpenObject(s.ctx, s.key)
	if err != nil {
		return fmt.Errorf("web: open %s: %w", s.key, err)
	}
	if _, err := io.CopyN(io.Discard, b, s.pos); err != nil {
		b.Close()
		return fmt.Errorf("web: skip to %d in %s: %w", s.pos, s.key, err)
	}
	s.body, s.at = b, s.pos
	return nil
}

// Close closes the open object, if any.
func (s *objectSeeker) Close() error {
	if s.body == nil {
		return nil
	}
	err := s.body.Close()
	s.body = nil
	return err
}
