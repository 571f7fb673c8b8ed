package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"evidock"
)

// NewRecorder returns a valid dock report of recorder serial, bound to
// officer, docked at docked, with every field set.
func NewRecorder(serial, officer string, docked time.Time) *evidock.Recorder {
	return &evidock.Recorder{
		DeviceSerial:   serial,
		Manufacturer:   "Example Recorders",
		Model:          "DSJ-X1",
		Firmware:       "2.4.1",
		OfficerNo:      officer,
		OfficerName:    "张伟",
		UnitNo:         "110105",
		UnitName:       "朝阳分局",
		LastDockedAt:   docked,
		BatteryPercent: 80,
		StorageUsed:    12 << 30,
		StorageTotal:   64 << 30,
		ClockOffsetMS:  1_500,
		DriftPerDayMS:  300,
	}
}

// RunRecorderService runs the recorder-store contract against stores made by
// open, which must return a new empty store for every call. If the store is
// also an evidock.StationService, reports are tied to stations too.
//
// The contract: a report replaces the recorder's current state whole (the
// latest report is what FindRecorder answers), ReportDock fills the report
// with its stored form, FindRecorders lists by device serial, and a
// malformed report changes nothing. Stores also keep every report in a
// history that the interface does not show; RunDockHistoryKept checks it.
func RunRecorderService(t *testing.T, open func(t *testing.T) evidock.RecorderService) {
	ctx := context.Background()

	t.Run("ReportAndFind", func(t *testing.T) {
		svc := open(t)
		// Nanoseconds and UTC: stores keep microseconds and hand times
		// back in evidock.ChinaTime, as for clips.
		r := NewRecorder("A123456", "100001", time.Date(2024, 5, 1, 1, 0, 7, 123_456_789, time.UTC))
		want := *r
		want.LastDockedAt = time.Date(2024, 5, 1, 9, 0, 7, 123_456_000, evidock.ChinaTime)
		if err := svc.ReportDock(ctx, r); err != nil {
			t.Fatalf("ReportDock: %v", err)
		}
		assertRecorder(t, "reported", r, &want)
		got, err := svc.FindRecorder(ctx, "A123456")
		if err != nil {
			t.Fatalf("FindRecorder: %v", err)
		}
		assertRecorder(t, "found", got, &want)
		for _, ts := range []time.Time{r.LastDockedAt, got.LastDockedAt} {
			if ts.Location().String() != evidock.ChinaTime.String() || ts.Nanosecond()%1000 != 0 {
				t.Errorf("last_docked_at = %v; want it in evidock.ChinaTime, in whole microseconds", ts)
			}
		}
	})

	t.Run("LatestReportReplaces", func(t *testing.T) {
		svc := open(t)
		first := NewRecorder("A123456", "100001", day(0, 9))
		mustReport(t, svc, first)
		// Reassigned to another officer, with every reading changed, and
		// the fields the recorder no longer reports empty again.
		second := &evidock.Recorder{
			DeviceSerial: "A123456", OfficerNo: "100002", LastDockedAt: day(1, 18),
			BatteryPercent: -1, StorageUsed: 0, StorageTotal: 0,
			ClockOffsetMS: -4_000, DriftPerDayMS: -3_900, ClockDrifted: true,
		}
		want := *second
		mustReport(t, svc, second)
		got, err := svc.FindRecorder(ctx, "A123456")
		if err != nil {
			t.Fatal(err)
		}
		assertRecorder(t, "after the second report", got, &want)
		assertSerials(t, svc, "100001", nil)
		assertSerials(t, svc, "100002", []string{"A123456"})
		assertSerials(t, svc, "", []string{"A123456"})
	})

	t.Run("FindRecorders", func(t *testing.T) {
		svc := open(t)
		for _, r := range []*evidock.Recorder{
			NewRecorder("C000003", "100001", day(0, 9)),
			NewRecorder("A000001", "100002", day(0, 10)),
			NewRecorder("B000002", "100001", day(1, 8)),
			NewRecorder("D000004", "", day(1, 9)), // bound to nobody
		} {
			mustReport(t, svc, r)
		}
		assertSerials(t, svc, "", []string{"A000001", "B000002", "C000003", "D000004"})
		assertSerials(t, svc, "100001", []string{"B000002", "C000003"})
		assertSerials(t, svc, "100002", []string{"A000001"})
		assertSerials(t, svc, "999999", nil)
	})

	t.Run("Empty", func(t *testing.T) {
		svc := open(t)
		recs, err := svc.FindRecorders(ctx, "")
		if err != nil || recs == nil || len(recs) != 0 {
			t.Fatalf("FindRecorders of an empty store = %v (nil: %v), %v; want an empty slice so that JSON shows []", recs, recs == nil, err)
		}
		if _, err := svc.FindRecorder(ctx, "A123456"); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("FindRecorder of an unknown recorder = %v; want ENOTFOUND", err)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		svc := open(t)
		mustReport(t, svc, NewRecorder("A123456", "100001", day(0, 9)))
		for _, tt := range []struct {
			name   string
			modify func(r *evidock.Recorder)
		}{
			{"no serial", func(r *evidock.Recorder) { r.DeviceSerial = "" }},
			{"lower-case serial", func(r *evidock.Recorder) { r.DeviceSerial = "a123456" }},
			{"short serial", func(r *evidock.Recorder) { r.DeviceSerial = "A12345" }},
			{"officer not digits", func(r *evidock.Recorder) { r.OfficerNo = "10000A" }},
			{"battery over 100", func(r *evidock.Recorder) { r.BatteryPercent = 101 }},
			{"battery below unknown", func(r *evidock.Recorder) { r.BatteryPercent = -2 }},
			{"more used than there is", func(r *evidock.Recorder) { r.StorageUsed = r.StorageTotal + 1 }},
			{"negative storage", func(r *evidock.Recorder) { r.StorageUsed = -1 }},
			{"no dock time", func(r *evidock.Recorder) { r.LastDockedAt = time.Time{} }},
		} {
			t.Run(tt.name, func(t *testing.T) {
				// The known recorder, so that a refused report can be seen
				// to have changed nothing.
				r := NewRecorder("A123456", "100002", day(1, 9))
				tt.modify(r)
				if err := svc.ReportDock(ctx, r); evidock.ErrorCode(err) != evidock.EINVALID {
					t.Fatalf("ReportDock = %v; want EINVALID", err)
				}
			})
		}
		got, err := svc.FindRecorder(ctx, "A123456")
		if err != nil {
			t.Fatal(err)
		}
		assertRecorder(t, "after refused reports", got, NewRecorder("A123456", "100001", day(0, 9)))
		assertSerials(t, svc, "", []string{"A123456"})
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
		r := NewRecorder("A123456", "100001", day(0, 9))
		r.LastStationID = "dock-01"
		mustReport(t, svc, r)
		if got, err := svc.FindRecorder(ctx, "A123456"); err != nil || got.LastStationID != "dock-01" {
			t.Fatalf("FindRecorder = %+v, %v; want station dock-01", got, err)
		}
		stranger := NewRecorder("A123456", "100002", day(1, 9))
		stranger.LastStationID = "dock-99"
		if err := svc.ReportDock(ctx, stranger); evidock.ErrorCode(err) != evidock.EINVALID || !strings.Contains(err.Error(), "dock-99") {
			t.Fatalf("ReportDock from an unknown station = %v; want EINVALID naming dock-99", err)
		}
		if got, err := svc.FindRecorder(ctx, "A123456"); err != nil || got.LastStationID != "dock-01" || got.OfficerNo != "100001" {
			t.Fatalf("FindRecorder after the refusal = %+v, %v; want the report from dock-01", got, err)
		}
		// A report through no station (an import) is allowed.
		other := NewRecorder("B000002", "100001", day(0, 9))
		mustReport(t, svc, other)
		if other.LastStationID != "" {
			t.Fatalf("report without a station stored with station %q", other.LastStationID)
		}
	})

	t.Run("ConcurrentReports", func(t *testing.T) {
		svc := open(t)
		const n = 8
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
		)
		for i := range n {
			wg.Go(func() {
				r := NewRecorder("A123456", "100001", day(0, 9).Add(time.Duration(i)*time.Minute))
				r.BatteryPercent = 10 * i
				if err := svc.ReportDock(ctx, r); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("%d of %d concurrent reports failed, first: %v", len(errs), n, errs[0])
		}
		got, err := svc.FindRecorder(ctx, "A123456")
		if err != nil {
			t.Fatal(err)
		}
		// Whichever came last, whole: its battery and dock time agree.
		if i := got.BatteryPercent / 10; got.BatteryPercent%10 != 0 || i >= n || !got.LastDockedAt.Equal(day(0, 9).Add(time.Duration(i)*time.Minute)) {
			t.Fatalf("recorder after concurrent reports = %+v; want one of the reports, whole", got)
		}
		assertSerials(t, svc, "", []string{"A123456"})
	})
}

// DockStore is a registry store of recorders and the stations they dock
// at.
type DockStore interface {
	evidock.StationService
	evidock.RecorderService
}

// RunDockHistoryKept shows that every dock report is kept, and kept
// unchanged, while recorders holds only the latest. exec runs a statement
// on s's database and query returns the first column of every row a query
// gives, as text; docks is the query that lists recorder_docks in ID order
// as "battery docked_at station_id", docked_at as SQLite stores it (UTC,
// nanoseconds), leaving out reports without their reception time. more are
// the refusals only that database can be asked for.
func RunDockHistoryKept(t *testing.T, s DockStore, exec func(stmt string) error, query func(q string) ([]string, error), docks string, more ...Refusal) {
	ctx := context.Background()
	if _, err := s.CreateStation(ctx, &evidock.Station{ID: "dock-01"}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		r := NewRecorder("A123456", "100001", day(i, 9))
		r.BatteryPercent, r.LastStationID = 50+i, "dock-01"
		mustReport(t, s, r)
	}
	want := []string{
		"50 2024-05-01T01:00:00.000000000Z dock-01",
		"51 2024-05-02T01:00:00.000000000Z dock-01",
		"52 2024-05-03T01:00:00.000000000Z dock-01",
	}
	if got, err := query(docks); err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("recorder_docks = %q, %v; want %q", got, err, want)
	}
	if n, err := query("SELECT COUNT(*) FROM recorders"); err != nil || fmt.Sprint(n) != "[1]" {
		t.Fatalf("recorders holds %v rows (%v); want 1", n, err)
	}
	assertRefused(t, exec, append([]Refusal{
		{"UPDATE recorder_docks SET battery_percent = 0", "never edited"},
		{"DELETE FROM recorder_docks", "never deleted"},
	}, more...))
}

func mustReport(t *testing.T, svc evidock.RecorderService, r *evidock.Recorder) {
	t.Helper()
	if err := svc.ReportDock(context.Background(), r); err != nil {
		t.Fatalf("ReportDock(%s): %v", r.DeviceSerial, err)
	}
}

// assertSerials fails t unless FindRecorders(officer) lists exactly the
// serials, in order.
func assertSerials(t *testing.T, svc evidock.RecorderService, officer string, want []string) {
	t.Helper()
	recs, err := svc.FindRecorders(context.Background(), officer)
	if err != nil {
		t.Fatalf("FindRecorders(%q): %v", officer, err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.DeviceSerial)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("FindRecorders(%q) = %v; want %v", officer, got, want)
	}
}

// assertRecorder compares recorders field by field, the dock time by
// instant.
func assertRecorder(t *testing.T, what string, got, want *evidock.Recorder) {
	t.Helper()
	g, w := *got, *want
	if !g.LastDockedAt.Equal(w.LastDockedAt) {
		t.Fatalf("%s recorder: last_docked_at %v; want %v", what, g.LastDockedAt, w.LastDockedAt)
	}
	g.LastDockedAt, w.LastDockedAt = time.Time{}, time.Time{}
	if g != w {
		t.Fatalf("%s recorder:\n got %+v\nwant %+v", what, g, w)
	}
}
