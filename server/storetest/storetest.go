// Package storetest is the test suite that every registry store must pass:
// SQLite and PostgreSQL. A store's tests call RunClipService,
// RunStationService and RunRecorderService with a function that opens a
// fresh, empty store, so that all stores are held to one contract rather
// than to tests each wrote for itself. RunFixityStore holds them to the
// fixity schedule, check history and alarms (fixity.Store), and
// RunPeopleStore to users, sessions, failed logins, access requests and the
// audit chain (RunAuditTamper shows the chain catching a changed row).
//
// Clip listings are held to corrected time: FindClips filters
// (ClipFilter.From and To) and orders by CorrectedStartedAt, the recorder's
// start time corrected by its clock offset, because deadlines and the
// linking of clips to activities run from it; StartedAt is kept as the
// recorder wrote it.
package storetest

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"evidock"
	"evidock/server"
)

// NewClip returns a valid, unregistered clip for footage with the given bytes,
// named as recorder serial of officer would name a video it started at
// started (read in evidock.ChinaTime) with sequence number seq. Its clock
// offset is 0, so its CorrectedStartedAt is its StartedAt; a test that sets
// an offset sets CorrectedStartedAt to match or to zero, which the store
// fills in.
func NewClip(body []byte, serial, officer string, started time.Time, seq int) *evidock.Clip {
	started = started.In(evidock.ChinaTime).Truncate(time.Second)
	name := evidock.RecordingName{DeviceSerial: serial, OfficerNo: officer, StartedAt: started, Seq: seq, Ext: "MP4", Kind: evidock.MediaVideo}
	d, n, _ := evidock.DigestOf(bytes.NewReader(body)) // a bytes.Reader cannot fail
	return &evidock.Clip{
		Digest:       d,
		Size:         n,
		ObjectKey:    evidock.ObjectKey(d),
		FileName:     name.String(),
		DeviceSerial: serial,
		OfficerNo:    officer,
		StartedAt:    started,
		// What Validate would fill in; set so that a clip compares equal
		// to the stored one.
		CorrectedStartedAt: started,
		Seq:                seq,
		Kind:               evidock.MediaVideo,
		DurationMS:         61_500,
		IngestedAt:         started.Add(9 * time.Hour),
	}
}

// offsetClip is NewClip for a recorder whose clock was offset ahead of true
// time (behind, if negative), with CorrectedStartedAt to match.
func offsetClip(body []byte, serial, officer string, started time.Time, seq int, offset time.Duration) *evidock.Clip {
	c := NewClip(body, serial, officer, started, seq)
	c.ClockOffsetMS = offset.Milliseconds()
	c.CorrectedStartedAt = c.StartedAt.Add(-offset)
	return c
}

// day returns hour h of 1 May 2024 plus d days, China time.
func day(d, h int) time.Time {
	return time.Date(2024, 5, 1+d, h, 0, 0, 0, evidock.ChinaTime)
}

// RunClipService runs the clip-store contract against stores made by open,
// which must return a new empty store for every call. If the store is also
// an evidock.StationService, clips are tied to stations too.
func RunClipService(t *testing.T, open func(t *testing.T) evidock.ClipService) {
	ctx := context.Background()

	t.Run("Register", func(t *testing.T) {
		svc := open(t)
		c := NewClip([]byte("register"), "A123456", "100001", day(0, 9), 1)
		want := *c
		created, err := svc.RegisterClip(ctx, c)
		if err != nil || !created {
			t.Fatalf("RegisterClip = %v, %v; want true, nil", created, err)
		}
		if c.ID == 0 || c.RegisteredAt.IsZero() {
			t.Fatalf("RegisterClip did not fill ID and RegisteredAt: %+v", c)
		}
		want.ID, want.RegisteredAt = c.ID, c.RegisteredAt
		assertClip(t, "registered", c, &want)
		got, err := svc.FindClipByDigest(ctx, c.Digest)
		if err != nil {
			t.Fatalf("FindClipByDigest: %v", err)
		}
		assertClip(t, "found", got, &want)
	})

	t.Run("Times", func(t *testing.T) {
		svc := open(t)
		c := NewClip([]byte("times"), "A123456", "100001", day(0, 9), 1)
		// Nanoseconds, and a zone other than China's: stores keep
		// microseconds, as PostgreSQL does, and hand every time back in
		// evidock.ChinaTime, so that both stores answer alike.
		c.IngestedAt = time.Date(2024, 5, 1, 1, 0, 7, 123_456_789, time.UTC)
		c.ClockOffsetMS = 1_234
		c.CorrectedStartedAt = day(0, 9).Add(-1_234 * time.Millisecond).UTC()
		before := time.Now()
		mustRegister(t, svc, c)
		after := time.Now()
		got, err := svc.FindClipByDigest(ctx, c.Digest)
		if err != nil {
			t.Fatal(err)
		}
		for _, clip := range []*evidock.Clip{c, got} {
			for _, tt := range []struct {
				name     string
				got      time.Time
				want     time.Time // zero: only the zone and precision are known
				notAfter time.Time
			}{
				{name: "started_at", got: clip.StartedAt, want: day(0, 9)},
				{name: "corrected_started_at", got: clip.CorrectedStartedAt, want: time.Date(2024, 5, 1, 8, 59, 58, 766_000_000, evidock.ChinaTime)},
				{name: "ingested_at", got: clip.IngestedAt, want: time.Date(2024, 5, 1, 9, 0, 7, 123_456_000, evidock.ChinaTime)},
				{name: "registered_at", got: clip.RegisteredAt},
			} {
				if !tt.want.IsZero() && !tt.got.Equal(tt.want) {
					t.Errorf("%s = %v; want %v", tt.name, tt.got, tt.want)
				}
				if tt.got.Location().String() != evidock.ChinaTime.String() || tt.got.Nanosecond()%1000 != 0 {
					t.Errorf("%s = %v; want it in evidock.ChinaTime, in whole microseconds", tt.name, tt.got)
				}
			}
			// A database on another host has its own clock, hence the
			// minute of slack.
			if clip.RegisteredAt.Before(before.Add(-time.Minute)) || clip.RegisteredAt.After(after.Add(time.Minute)) {
				t.Errorf("registered_at = %v; want the time of registration, between %v and %v", clip.RegisteredAt, before, after)
			}
		}
	})

	t.Run("RepeatReturnsFirst", func(t *testing.T) {
		svc := open(t)
		first := NewClip([]byte("repeat"), "A123456", "100001", day(0, 9), 1)
		mustRegister(t, svc, first)
		again := NewClip([]byte("repeat"), "A123456", "100001", day(0, 9), 1)
		again.IngestedAt = again.IngestedAt.Add(time.Hour) // a second station ingested it later
		again.DurationMS = 0
		again.ClockOffsetMS, again.CorrectedStartedAt, again.Important = 2_000, time.Time{}, true
		created, err := svc.RegisterClip(ctx, again)
		if err != nil || created {
			t.Fatalf("second RegisterClip = %v, %v; want false, nil", created, err)
		}
		assertClip(t, "repeat", again, first)
		assertTotal(t, svc, evidock.ClipFilter{}, 1)
	})

	t.Run("ConflictingSize", func(t *testing.T) {
		svc := open(t)
		c := NewClip([]byte("conflict"), "A123456", "100001", day(0, 9), 1)
		mustRegister(t, svc, c)
		bad := *c
		bad.ID, bad.Size = 0, c.Size+1
		created, err := svc.RegisterClip(ctx, &bad)
		if code := evidock.ErrorCode(err); code != evidock.ECONFLICT || created {
			t.Fatalf("RegisterClip with another size = %v, %v; want ECONFLICT", created, err)
		}
		got, err := svc.FindClipByDigest(ctx, c.Digest)
		if err != nil {
			t.Fatal(err)
		}
		assertClip(t, "after conflict", got, c)
		assertTotal(t, svc, evidock.ClipFilter{}, 1)
	})

	t.Run("Invalid", func(t *testing.T) {
		svc := open(t)
		for _, tt := range []struct {
			name   string
			modify func(c *evidock.Clip)
		}{
			{"no digest", func(c *evidock.Clip) { c.Digest = evidock.Digest{} }},
			{"zero size", func(c *evidock.Clip) { c.Size = 0 }},
			{"wrong object key", func(c *evidock.Clip) { c.ObjectKey = "clips/elsewhere" }},
			{"no file name", func(c *evidock.Clip) { c.FileName = "" }},
			{"no ingest time", func(c *evidock.Clip) { c.IngestedAt = time.Time{} }},
			{"officer differs from name", func(c *evidock.Clip) { c.OfficerNo = "999999" }},
			// CorrectedStartedAt is StartedAt, which this offset contradicts.
			{"corrected time disagrees with offset", func(c *evidock.Clip) { c.ClockOffsetMS = 1_000 }},
			{"corrected time a millisecond off", func(c *evidock.Clip) { c.CorrectedStartedAt = c.StartedAt.Add(time.Millisecond) }},
			{"offset beyond a century", func(c *evidock.Clip) {
				c.ClockOffsetMS, c.CorrectedStartedAt = server.MaxClockOffset.Milliseconds()+1, time.Time{}
			}},
			{"offset that overflows", func(c *evidock.Clip) { c.ClockOffsetMS, c.CorrectedStartedAt = -1<<63, time.Time{} }},
		} {
			t.Run(tt.name, func(t *testing.T) {
				c := NewClip([]byte("invalid "+tt.name), "A123456", "100001", day(0, 9), 1)
				tt.modify(c)
				if _, err := svc.RegisterClip(ctx, c); evidock.ErrorCode(err) != evidock.EINVALID {
					t.Fatalf("RegisterClip = %v; want EINVALID", err)
				}
			})
		}
		assertTotal(t, svc, evidock.ClipFilter{}, 0)
	})

	t.Run("NotFound", func(t *testing.T) {
		svc := open(t)
		c := NewClip([]byte("absent"), "A123456", "100001", day(0, 9), 1)
		if _, err := svc.FindClipByDigest(ctx, c.Digest); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("FindClipByDigest of an unregistered digest = %v; want ENOTFOUND", err)
		}
	})

	t.Run("Filters", func(t *testing.T) {
		svc := open(t)
		// Registered out of time order, to show that listings sort by
		// StartedAt and not by registration.
		for _, c := range []*evidock.Clip{
			NewClip([]byte("c"), "B000002", "100001", day(1, 9), 3),
			NewClip([]byte("a"), "A000001", "100001", day(0, 9), 1),
			NewClip([]byte("b"), "A000001", "100001", day(0, 10), 2),
			NewClip([]byte("d"), "A000001", "100002", day(1, 14), 4),
			NewClip([]byte("e"), "B000002", "100002", day(2, 8), 5),
		} {
			mustRegister(t, svc, c)
		}
		for _, tt := range []struct {
			name   string
			filter evidock.ClipFilter
			seqs   []int // the clips expected, by Seq, in order
		}{
			{"all", evidock.ClipFilter{}, []int{1, 2, 3, 4, 5}},
			{"officer", evidock.ClipFilter{OfficerNo: "100001"}, []int{1, 2, 3}},
			{"recorder", evidock.ClipFilter{DeviceSerial: "A000001"}, []int{1, 2, 4}},
			{"officer and recorder", evidock.ClipFilter{OfficerNo: "100002", DeviceSerial: "B000002"}, []int{5}},
			{"from is inclusive", evidock.ClipFilter{From: day(0, 10)}, []int{2, 3, 4, 5}},
			{"to is exclusive", evidock.ClipFilter{To: day(1, 9)}, []int{1, 2}},
			{"one day", evidock.ClipFilter{From: day(1, 0), To: day(2, 0)}, []int{3, 4}},
			{"from in UTC", evidock.ClipFilter{From: day(1, 0).UTC()}, []int{3, 4, 5}},
			{"officer and span", evidock.ClipFilter{OfficerNo: "100002", From: day(1, 0), To: day(2, 0)}, []int{4}},
			// Bounds finer than stored times still mean what they say.
			{"from a nanosecond after", evidock.ClipFilter{From: day(0, 10).Add(time.Nanosecond)}, []int{3, 4, 5}},
			{"from a nanosecond before", evidock.ClipFilter{From: day(0, 10).Add(-time.Nanosecond)}, []int{2, 3, 4, 5}},
			{"to a nanosecond after", evidock.ClipFilter{To: day(1, 9).Add(time.Nanosecond)}, []int{1, 2, 3}},
			{"to a nanosecond before", evidock.ClipFilter{To: day(0, 10).Add(-time.Nanosecond)}, []int{1}},
			{"from equals to", evidock.ClipFilter{From: day(0, 10), To: day(0, 10)}, nil},
			{"from after to", evidock.ClipFilter{From: day(1, 0), To: day(0, 0)}, nil},
			{"no match", evidock.ClipFilter{OfficerNo: "999999"}, nil},
			{"empty span", evidock.ClipFilter{From: day(3, 0)}, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				clips, total, err := svc.FindClips(ctx, tt.filter)
				if err != nil {
					t.Fatalf("FindClips: %v", err)
				}
				if got := seqs(clips); fmt.Sprint(got) != fmt.Sprint(tt.seqs) || total != len(tt.seqs) {
					t.Fatalf("FindClips = %v (total %d); want %v (total %d)", got, total, tt.seqs, len(tt.seqs))
				}
			})
		}
	})

	t.Run("ClockOffset", func(t *testing.T) {
		svc := open(t)
		// The recorder's clock ran 90.5 s fast: it named the file 09:00:00
		// when it was 08:58:29.5. Both times come back as sent.
		c := offsetClip([]byte("fast"), "A123456", "100001", day(0, 9), 1, 90_500*time.Millisecond)
		want := *c
		mustRegister(t, svc, c)
		want.ID, want.RegisteredAt = c.ID, c.RegisteredAt
		assertClip(t, "registered", c, &want)
		got, err := svc.FindClipByDigest(ctx, c.Digest)
		if err != nil {
			t.Fatal(err)
		}
		assertClip(t, "found", got, &want)
		if !got.StartedAt.Equal(day(0, 9)) || !got.CorrectedStartedAt.Equal(time.Date(2024, 5, 1, 8, 58, 29, 500_000_000, evidock.ChinaTime)) {
			t.Fatalf("started %v, corrected %v; want the recorder's 09:00:00 and the true 08:58:29.5", got.StartedAt, got.CorrectedStartedAt)
		}
	})

	t.Run("CorrectedTimeFilledIn", func(t *testing.T) {
		svc := open(t)
		// A station sends the offset and leaves the corrected time to the
		// registry: a clock an hour slow started at 10:00, not 09:00.
		c := NewClip([]byte("slow"), "A123456", "100001", day(0, 9), 1)
		c.ClockOffsetMS, c.CorrectedStartedAt = -3_600_000, time.Time{}
		mustRegister(t, svc, c)
		got, err := svc.FindClipByDigest(ctx, c.Digest)
		if err != nil {
			t.Fatal(err)
		}
		for what, clip := range map[string]*evidock.Clip{"registered": c, "found": got} {
			if !clip.CorrectedStartedAt.Equal(day(0, 10)) || !clip.StartedAt.Equal(day(0, 9)) || clip.ClockOffsetMS != -3_600_000 {
				t.Fatalf("%s clip: started %v, offset %d ms, corrected %v; want 09:00, -3600000 and 10:00",
					what, clip.StartedAt, clip.ClockOffsetMS, clip.CorrectedStartedAt)
			}
		}
		// Without an offset, the corrected time is the recorder's.
		plain := NewClip([]byte("plain"), "A123456", "100001", day(0, 11), 2)
		plain.CorrectedStartedAt = time.Time{}
		mustRegister(t, svc, plain)
		if !plain.CorrectedStartedAt.Equal(day(0, 11)) || plain.ClockOffsetMS != 0 {
			t.Fatalf("clip without an offset: corrected %v, offset %d; want 11:00 and 0", plain.CorrectedStartedAt, plain.ClockOffsetMS)
		}
	})

	t.Run("Important", func(t *testing.T) {
		svc := open(t)
		marked := NewClip([]byte("marked"), "A123456", "100001", day(0, 9), 1)
		marked.Important = true
		plain := NewClip([]byte("unmarked"), "A123456", "100001", day(0, 10), 2)
		mustRegister(t, svc, marked)
		mustRegister(t, svc, plain)
		for _, want := range []*evidock.Clip{marked, plain} {
			got, err := svc.FindClipByDigest(ctx, want.Digest)
			if err != nil {
				t.Fatal(err)
			}
			assertClip(t, "found", got, want)
		}
		clips, _, err := svc.FindClips(ctx, evidock.ClipFilter{})
		if err != nil || len(clips) != 2 || !clips[0].Important || clips[1].Important {
			t.Fatalf("FindClips = %+v, %v; want the marked clip important and the other not", clips, err)
		}
	})

	t.Run("FiltersUseCorrectedTime", func(t *testing.T) {
		svc := open(t)
		// By the recorders' clocks the order is 2 1 3 5 4; by the true
		// (corrected) time it is 1 2 3 4 5, and spans select by it.
		for _, c := range []*evidock.Clip{
			offsetClip([]byte("1"), "A000001", "100001", day(0, 9), 1, 2*time.Hour),    // true 07:00
			offsetClip([]byte("2"), "B000002", "100001", day(0, 8), 2, 0),              // true 08:00
			offsetClip([]byte("3"), "A000001", "100001", day(0, 10), 3, -3*time.Hour),  // true 13:00
			offsetClip([]byte("4"), "B000002", "100002", day(1, 0), 4, 30*time.Minute), // true 23:30 the day before
			offsetClip([]byte("5"), "A000001", "100002", day(0, 23), 5, -2*time.Hour),  // true 01:00 the day after
		} {
			mustRegister(t, svc, c)
		}
		for _, tt := range []struct {
			name   string
			filter evidock.ClipFilter
			seqs   []int
		}{
			{"all, in corrected order", evidock.ClipFilter{}, []int{1, 2, 3, 4, 5}},
			{"from", evidock.ClipFilter{From: day(0, 8)}, []int{2, 3, 4, 5}},
			{"from is inclusive of the corrected time", evidock.ClipFilter{From: day(0, 7)}, []int{1, 2, 3, 4, 5}},
			{"from a nanosecond after a corrected time", evidock.ClipFilter{From: day(0, 7).Add(time.Nanosecond)}, []int{2, 3, 4, 5}},
			{"to", evidock.ClipFilter{To: day(1, 0)}, []int{1, 2, 3, 4}},
			{"day two", evidock.ClipFilter{From: day(1, 0), To: day(2, 0)}, []int{5}},
			{"officer and to", evidock.ClipFilter{OfficerNo: "100002", To: day(1, 0)}, []int{4}},
			{"recorder and from", evidock.ClipFilter{DeviceSerial: "A000001", From: day(0, 9)}, []int{3, 5}},
			{"paged", evidock.ClipFilter{Limit: 2, Offset: 1}, []int{2, 3}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				clips, total, err := svc.FindClips(ctx, tt.filter)
				if err != nil {
					t.Fatalf("FindClips: %v", err)
				}
				wantTotal := len(tt.seqs)
				if tt.filter.Limit > 0 {
					wantTotal = 5
				}
				if got := seqs(clips); fmt.Sprint(got) != fmt.Sprint(tt.seqs) || total != wantTotal {
					t.Fatalf("FindClips = %v (total %d); want %v (total %d)", got, total, tt.seqs, wantTotal)
				}
			})
		}
	})

	t.Run("SameStartInRegistrationOrder", func(t *testing.T) {
		svc := open(t)
		// Two recorders started at the same second: the listing keeps
		// the order in which they were registered, whatever their Seq.
		for _, c := range []*evidock.Clip{
			NewClip([]byte("tie 3"), "B000002", "100001", day(0, 9), 3),
			NewClip([]byte("tie 1"), "A000001", "100002", day(0, 9), 1),
			NewClip([]byte("tie 2"), "C000003", "100003", day(0, 9), 2),
		} {
			mustRegister(t, svc, c)
		}
		for limit, want := range map[int][]int{0: {3, 1, 2}, 2: {3, 1}} {
			clips, _, err := svc.FindClips(ctx, evidock.ClipFilter{Limit: limit})
			if err != nil {
				t.Fatal(err)
			}
			if got := seqs(clips); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("FindClips(limit %d) = %v; want %v, the registration order", limit, got, want)
			}
		}
	})

	t.Run("Paging", func(t *testing.T) {
		svc := open(t)
		for i := 1; i <= 5; i++ {
			mustRegister(t, svc, NewClip(fmt.Appendf(nil, "page %d", i), "A000001", "100001", day(0, 8+i), i))
		}
		for _, tt := range []struct {
			limit, offset int
			seqs          []int
		}{
			{0, 0, []int{1, 2, 3, 4, 5}},
			{2, 0, []int{1, 2}},
			{2, 2, []int{3, 4}},
			{2, 4, []int{5}},
			{2, 5, nil},
			{10, 99, nil},
			{evidock.DefaultClipLimit, 0, []int{1, 2, 3, 4, 5}},
		} {
			t.Run(fmt.Sprintf("limit %d offset %d", tt.limit, tt.offset), func(t *testing.T) {
				clips, total, err := svc.FindClips(ctx, evidock.ClipFilter{Limit: tt.limit, Offset: tt.offset})
				if err != nil {
					t.Fatalf("FindClips: %v", err)
				}
				if got := seqs(clips); fmt.Sprint(got) != fmt.Sprint(tt.seqs) || total != 5 {
					t.Fatalf("FindClips = %v (total %d); want %v (total 5)", got, total, tt.seqs)
				}
				if clips == nil {
					t.Fatal("FindClips returned a nil slice; want an empty one so that JSON shows []")
				}
			})
		}
		for _, f := range []evidock.ClipFilter{
			{Offset: -1},
			{Limit: -1},
			{Limit: evidock.DefaultClipLimit + 1},
		} {
			if _, _, err := svc.FindClips(ctx, f); evidock.ErrorCode(err) != evidock.EINVALID {
				t.Errorf("FindClips(%+v) = %v; want EINVALID", f, err)
			}
		}
	})

	t.Run("ConcurrentSameDigest", func(t *testing.T) {
		svc := open(t)
		const n = 8
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			created int
			ids     = map[int64]bool{}
			errs    []error
		)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := NewClip([]byte("raced"), "A123456", "100001", day(0, 9), 1)
				ok, err := svc.RegisterClip(ctx, c)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				if ok {
					created++
				}
				ids[c.ID] = true
			}()
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("%d of %d concurrent registrations failed, first: %v", len(errs), n, errs[0])
		}
		if created != 1 || len(ids) != 1 {
			t.Fatalf("%d registrations reported created and %d IDs were returned; want 1 and 1", created, len(ids))
		}
		assertTotal(t, svc, evidock.ClipFilter{}, 1)
	})

	t.Run("Station", func(t *testing.T) {
		svc := open(t)
		stations, ok := svc.(evidock.StationService)
		if !ok {
			t.Skip("store has no stations")
		}
		if _, err := stations.CreateStation(ctx, &evidock.Station{ID: "dock-01"}); err != nil {
			t.Fatal(err)
		}
		c := NewClip([]byte("station"), "A123456", "100001", day(0, 9), 1)
		c.StationID = "dock-01"
		mustRegister(t, svc, c)
		got, err := svc.FindClipByDigest(ctx, c.Digest)
		if err != nil || got.StationID != "dock-01" {
			t.Fatalf("FindClipByDigest = %+v, %v; want station dock-01", got, err)
		}
		c = NewClip([]byte("stranger"), "A123456", "100001", day(0, 9), 2)
		c.StationID = "dock-99"
		if _, err := svc.RegisterClip(ctx, c); evidock.ErrorCode(err) != evidock.EINVALID || !strings.Contains(err.Error(), "dock-99") {
			t.Fatalf("RegisterClip from an unknown station = %v; want EINVALID naming dock-99", err)
		}
		if _, err := svc.FindClipByDigest(ctx, c.Digest); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("clip from an unknown station after the refusal: %v; want ENOTFOUND", err)
		}
		// A repeat names the station that sent it again; the stored clip
		// is what counts, and it came from a known station.
		again := NewClip([]byte("station"), "A123456", "100001", day(0, 9), 1)
		again.StationID = "dock-99"
		if created, err := svc.RegisterClip(ctx, again); err != nil || created || again.StationID != "dock-01" {
			t.Fatalf("repeat from an unknown station = %v, %v, station %q; want the stored clip, from dock-01", created, err, again.StationID)
		}
		// A clip without a station (an import) is allowed.
		c.StationID = ""
		mustRegister(t, svc, c)
		assertTotal(t, svc, evidock.ClipFilter{}, 2)
	})
}

// RunStationService runs the station-store contract against stores made by
// open, which must return a new empty store for every call: tokens, and
// their revocation. If a store is also an evidock.ClipService, a revoked
// station's clips are checked to be kept.
func RunStationService(t *testing.T, open func(t *testing.T) evidock.StationService) {
	ctx := context.Background()

	t.Run("CreateAndAuthenticate", func(t *testing.T) {
		svc := open(t)
		s := &evidock.Station{ID: "dock-01", Name: "一楼执法记录仪工作站"}
		token, err := svc.CreateStation(ctx, s)
		if err != nil {
			t.Fatalf("CreateStation: %v", err)
		}
		assertTokenForm(t, token)
		if s.CreatedAt.IsZero() {
			t.Fatal("CreateStation did not set CreatedAt")
		}
		got, err := svc.AuthenticateStation(ctx, token)
		if err != nil {
			t.Fatalf("AuthenticateStation: %v", err)
		}
		if got.ID != s.ID || got.Name != s.Name || !got.CreatedAt.Equal(s.CreatedAt) {
			t.Fatalf("AuthenticateStation = %+v; want %+v", got, s)
		}
		for _, ts := range []time.Time{s.CreatedAt, got.CreatedAt} {
			if ts.Location().String() != evidock.ChinaTime.String() || ts.Nanosecond()%1000 != 0 {
				t.Errorf("created_at = %v; want it in evidock.ChinaTime, in whole microseconds", ts)
			}
		}
	})

	t.Run("TokensAreOwn", func(t *testing.T) {
		svc := open(t)
		tokens := map[string]string{}
		for _, id := range []string{"dock-01", "dock-02", "dock-03"} {
			token, err := svc.CreateStation(ctx, &evidock.Station{ID: id})
			if err != nil {
				t.Fatal(err)
			}
			tokens[id] = token
		}
		seen := map[string]bool{}
		for id, token := range tokens {
			if seen[token] {
				t.Fatal("two stations got the same token")
			}
			seen[token] = true
			got, err := svc.AuthenticateStation(ctx, token)
			if err != nil || got.ID != id {
				t.Fatalf("token of %s authenticates as %+v, %v", id, got, err)
			}
		}
	})

	t.Run("DuplicateID", func(t *testing.T) {
		svc := open(t)
		token, err := svc.CreateStation(ctx, &evidock.Station{ID: "dock-01"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateStation(ctx, &evidock.Station{ID: "dock-01", Name: "impostor"}); evidock.ErrorCode(err) != evidock.ECONFLICT {
			t.Fatalf("second CreateStation = %v; want ECONFLICT", err)
		}
		got, err := svc.AuthenticateStation(ctx, token)
		if err != nil || got.Name != "" {
			t.Fatalf("first token after a duplicate = %+v, %v; want the first station", got, err)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		svc := open(t)
		for _, s := range []evidock.Station{
			{ID: ""},
			{ID: "dock 01"},
			{ID: "-dock"},
			{ID: "dock/01"},
			{ID: strings.Repeat("d", server.MaxStationIDLen+1)},
			{ID: "dock-01", Name: strings.Repeat("n", server.MaxStationNameLen+1)},
		} {
			if _, err := svc.CreateStation(ctx, &s); evidock.ErrorCode(err) != evidock.EINVALID {
				t.Errorf("CreateStation(%.20q) = %v; want EINVALID", s.ID, err)
			}
		}
	})

	t.Run("UnknownToken", func(t *testing.T) {
		svc := open(t)
		token, err := svc.CreateStation(ctx, &evidock.Station{ID: "dock-01"})
		if err != nil {
			t.Fatal(err)
		}
		other, _, err := server.NewStationToken()
		if err != nil {
			t.Fatal(err)
		}
		flipped := []byte(token)
		flipped[len(flipped)-1] ^= 1
		for _, bad := range []string{
			"",
			other,
			string(flipped),
			token + " ",
			strings.TrimPrefix(token, server.StationTokenPrefix),
			strings.ToUpper(token),
		} {
			s, err := svc.AuthenticateStation(ctx, bad)
			if evidock.ErrorCode(err) != evidock.EUNAUTHORIZED || s != nil {
				t.Errorf("AuthenticateStation(bad token) = %+v, %v; want EUNAUTHORIZED", s, err)
			}
			if bad != "" && err != nil && strings.Contains(err.Error(), bad) {
				t.Errorf("AuthenticateStation error %q echoes the token", err)
			}
		}
	})
	runRevoke(t, open) // station.go
}

// assertTokenForm fails t unless token is the prefix and 32 random bytes in
// unpadded base64url.
func assertTokenForm(t *testing.T, token string) {
	t.Helper()
	rest, ok := strings.CutPrefix(token, server.StationTokenPrefix)
	if !ok {
		t.Fatalf("token does not start with %q", server.StationTokenPrefix)
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(b) != 32 {
		t.Fatalf("token after the prefix is not 32 bytes of base64url (%d bytes, %v)", len(b), err)
	}
}

func mustRegister(t *testing.T, svc evidock.ClipService, c *evidock.Clip) {
	t.Helper()
	if created, err := svc.RegisterClip(context.Background(), c); err != nil || !created {
		t.Fatalf("RegisterClip(%s) = %v, %v; want true, nil", c.FileName, created, err)
	}
}

func assertTotal(t *testing.T, svc evidock.ClipService, f evidock.ClipFilter, want int) {
	t.Helper()
	_, total, err := svc.FindClips(context.Background(), f)
	if err != nil {
		t.Fatalf("FindClips: %v", err)
	}
	if total != want {
		t.Fatalf("store holds %d clips; want %d", total, want)
	}
}

// assertClip compares clips field by field, times by instant: stores may hand
// times back in another zone.
func assertClip(t *testing.T, what string, got, want *evidock.Clip) {
	t.Helper()
	g, w := *got, *want
	for _, ts := range []struct{ g, w *time.Time }{
		{&g.StartedAt, &w.StartedAt}, {&g.CorrectedStartedAt, &w.CorrectedStartedAt},
		{&g.IngestedAt, &w.IngestedAt}, {&g.RegisteredAt, &w.RegisteredAt},
	} {
		if !ts.g.Equal(*ts.w) {
			t.Fatalf("%s clip: time %v; want %v", what, *ts.g, *ts.w)
		}
		*ts.g, *ts.w = time.Time{}, time.Time{}
	}
	if g != w {
		t.Fatalf("%s clip:\n got %+v\nwant %+v", what, g, w)
	}
}

func seqs(clips []*evidock.Clip) []int {
	var s []int
	for _, c := range clips {
		s = append(s, c.Seq)
	}
	return s
}
