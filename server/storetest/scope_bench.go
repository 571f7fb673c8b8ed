package storetest

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"evidock"
)

// Sizes of the bureau BenchClipAccess builds: districts, units per district
// and officers per unit.
const (
	benchDistricts       = 10
	benchUnitsPerDist    = 10
	benchOfficersPerUnit = 20
)

// BenchClips returns how many clips BenchClipAccess loads: $EVIDOCK_BENCH_CLIPS,
// or 20000.
func BenchClips() int {
	if n, err := strconv.Atoi(os.Getenv("EVIDOCK_BENCH_CLIPS")); err == nil && n > 0 {
		return n
	}
	return 20000
}

// BenchClip returns clip i of n: its officer cycles through the officers of
// the bench bureau, and n clips cover one year. Its UnitCode is its
// officer's unit, as registration stamps it, for load to store.
func BenchClip(i, n int) *evidock.Clip {
	var body [8]byte
	binary.BigEndian.PutUint64(body[:], uint64(i))
	h := evidock.NewHasher()
	h.Write(body[:])
	d := h.Digest()
	k := i % (benchDistricts * benchUnitsPerDist * benchOfficersPerUnit)
	serial, officer := fmt.Sprintf("R%06d", k), fmt.Sprintf("%06d", 200000+k)
	started := time.Date(2024, 1, 1, 8, 0, 0, 0, evidock.ChinaTime).Add(time.Duration(i) * (365 * 24 * time.Hour / time.Duration(n))).Truncate(time.Second)
	unit := fmt.Sprintf("D%d-U%d", k/benchOfficersPerUnit/benchUnitsPerDist, k/benchOfficersPerUnit%benchUnitsPerDist)
	seq := (i / 2000) % 10000
	name := evidock.RecordingName{DeviceSerial: serial, OfficerNo: officer, StartedAt: started, Seq: seq, Ext: "MP4", Kind: evidock.MediaVideo}
	return &evidock.Clip{Digest: d, Size: 8, ObjectKey: evidock.ObjectKey(d), FileName: name.String(),
		DeviceSerial: serial, OfficerNo: officer, UnitCode: unit, StartedAt: started, CorrectedStartedAt: started,
		Seq: seq, Kind: evidock.MediaVideo, DurationMS: 61_500, IngestedAt: started.Add(9 * time.Hour)}
}

// BenchClipAccess measures a user's clip listing (FindClips with
// ClipFilter.Access, as GET /api/v1/clips builds it) on a store holding
// BenchClips clips over 2000 officers in 100 units of 10 districts. load
// bulk-loads clips BenchClip(0..n-1, n), unit_code and all, into the
// store's clips table.
func BenchClipAccess(b *testing.B, s UnitStore, clips evidock.ClipService, load func(n int) error) {
	ctx := context.Background()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(s.CreateUnit(ctx, &evidock.Unit{Code: "B", Name: "bureau", Level: evidock.UnitBureau}, NewUnitEvent()))
	k := 0
	for d := range benchDistricts {
		dc := fmt.Sprintf("D%d", d)
		must(s.CreateUnit(ctx, &evidock.Unit{Code: dc, Name: dc, Level: evidock.UnitDistrict, ParentCode: "B"}, NewUnitEvent()))
		for u := range benchUnitsPerDist {
			uc := fmt.Sprintf("%s-U%d", dc, u)
			must(s.CreateUnit(ctx, &evidock.Unit{Code: uc, Name: uc, Level: evidock.UnitTeam, ParentCode: dc}, NewUnitEvent()))
			for range benchOfficersPerUnit {
				must(s.CreateOfficer(ctx, NewOfficer(fmt.Sprintf("%06d", 200000+k), "警员", uc)))
				k++
			}
		}
	}
	n := BenchClips()
	must(load(n))
	var district []string
	for u := range benchUnitsPerDist {
		district = append(district, fmt.Sprintf("D3-U%d", u))
	}
	var all []string
	for d := range benchDistricts {
		all = append(all, fmt.Sprintf("D%d", d))
		for u := range benchUnitsPerDist {
			all = append(all, fmt.Sprintf("D%d-U%d", d, u))
		}
	}
	from := time.Date(2024, 6, 1, 0, 0, 0, 0, evidock.ChinaTime)
	for _, bc := range []struct {
		name string
		f    evidock.ClipFilter
	}{
		{"unit/first-page", evidock.ClipFilter{Limit: 50, Access: &evidock.ClipAccess{Units: []string{"D3-U4"}}}},
		{"unit/officer-30d", evidock.ClipFilter{OfficerNo: "200685", From: from, To: from.AddDate(0, 0, 30), Limit: 50,
			Access: &evidock.ClipAccess{Units: []string{"D3-U4"}}}},
		{"unit/30d", evidock.ClipFilter{From: from, To: from.AddDate(0, 0, 30), Limit: 50, Access: &evidock.ClipAccess{Units: []string{"D3-U4"}}}},
		{"district/first-page", evidock.ClipFilter{Limit: 50, Access: &evidock.ClipAccess{Units: append([]string{"D3"}, district...)}}},
		{"bureau/first-page", evidock.ClipFilter{Limit: 50, Access: &evidock.ClipAccess{Units: append([]string{"B"}, all...)}}},
		{"bureau/30d", evidock.ClipFilter{From: from, To: from.AddDate(0, 0, 30), Limit: 50, Access: &evidock.ClipAccess{Units: append([]string{"B"}, all...)}}},
		{"grant-only", evidock.ClipFilter{Limit: 50, Access: &evidock.ClipAccess{Clips: []evidock.Digest{BenchClip(n/2, n).Digest}}}},
		{"unit-and-grant", evidock.ClipFilter{Limit: 50, Access: &evidock.ClipAccess{Units: []string{"D3-U4"}, Clips: []evidock.Digest{BenchClip(n/2, n).Digest}}}},
		{"station/first-page", evidock.ClipFilter{Limit: 50}},
		{"station/officer-30d", evidock.ClipFilter{OfficerNo: "200685", From: from, To: from.AddDate(0, 0, 30), Limit: 50}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var total int
			for b.Loop() {
				_, t, err := clips.FindClips(ctx, bc.f)
				if err != nil {
					b.Fatal(err)
				}
				total = t
			}
			b.ReportMetric(float64(total), "matches")
		})
	}
}
