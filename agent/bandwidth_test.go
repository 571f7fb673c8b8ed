package agent

import (
	"testing"
	"time"

	"golang.org/x/time/rate"

	"evidock"
)

func TestBandwidthSchedule(t *testing.T) {
	s := BandwidthSchedule{DefaultMBps: 0, Windows: []BandwidthWindow{
		{From: "08:00", To: "18:00", MBps: 20},
		{From: "22:00", To: "06:00", MBps: 0}, // nights: unlimited
		{From: "18:00", To: "22:00", MBps: 50},
	}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	at := func(hh, mm int) time.Time { return time.Date(2026, 11, 25, hh, mm, 0, 0, evidock.ChinaTime) }
	for _, tt := range []struct {
		t    time.Time
		want rate.Limit
	}{
		{at(7, 59), rate.Inf},
		{at(8, 0), 20e6},
		{at(17, 59), 20e6},
		{at(18, 0), 50e6},
		{at(23, 30), rate.Inf},
		{at(3, 0), rate.Inf},
		{at(9, 0).UTC(), 20e6}, // the zone of t does not matter
	} {
		if got := s.LimitAt(tt.t); got != tt.want {
			t.Errorf("LimitAt(%v) = %v, want %v", tt.t, got, tt.want)
		}
	}
	capped := BandwidthSchedule{DefaultMBps: 5}
	if got := capped.LimitAt(at(12, 0)); got != 5e6 {
		t.Errorf("default cap: %v", got)
	}
	for _, bad := range []BandwidthSchedule{
		{DefaultMBps: -1},
		{Windows: []BandwidthWindow{{From: "8am", To: "18:00"}}},
		{Windows: []BandwidthWindow{{From: "08:00", To: "25:00"}}},
		{Windows: []BandwidthWindow{{From: "08:00", To: "18:00", MBps: -2}}},
	} {
		if bad.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want an error", bad)
		}
	}
}
