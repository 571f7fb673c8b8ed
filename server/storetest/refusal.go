package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"evidock"
)

// Refusal is a statement that a store's database must refuse whoever
// issues it, and a part of the error it must give ("" for any error). The
// suites that show a database keeping its history try the refusals both
// databases share themselves, and take from the driver's test those only
// its database can be asked for: TRUNCATE, a statement that touches no row
// (which PostgreSQL's statement triggers refuse), SQLite's INSERT OR
// REPLACE, and statements whose error names a constraint in the
// database's own words.
type Refusal struct{ Stmt, Want string }

// assertRefused fails t for every refusal that exec does not refuse with
// an error containing its Want.
func assertRefused(t *testing.T, exec func(stmt string) error, refusals []Refusal) {
	t.Helper()
	for _, r := range refusals {
		if err := exec(r.Stmt); err == nil || !strings.Contains(err.Error(), r.Want) {
			t.Errorf("%s: err = %v; want one containing %q", r.Stmt, err, r.Want)
		}
	}
}

// ClipStationStore is a registry store of clips and the stations that
// ingest them.
type ClipStationStore interface {
	evidock.ClipService
	evidock.StationService
}

// RunClipsNeverChanged shows that the database itself refuses to edit or
// delete a registered clip (Art. 17), or to delete the station that
// ingested it (migration 011), whatever statement is tried. exec runs a
// statement on s's database; more are the refusals only that database can
// be asked for.
func RunClipsNeverChanged(t *testing.T, s ClipStationStore, exec func(stmt string) error, more ...Refusal) {
	ctx := context.Background()
	if _, err := s.CreateStation(ctx, &evidock.Station{ID: "dock-01"}); err != nil {
		t.Fatal(err)
	}
	c := NewClip([]byte("original footage"), "A123456", "100001", day(0, 9), 1)
	c.StationID = "dock-01"
	if _, err := s.RegisterClip(ctx, c); err != nil {
		t.Fatal(err)
	}
	assertRefused(t, exec, append([]Refusal{
		{"UPDATE clips SET size = size + 1", "never edited"},
		{fmt.Sprintf("UPDATE clips SET officer_no = '999999' WHERE id = %d", c.ID), "never edited"},
		{"UPDATE clips SET corrected_started_at = started_at", "never edited"},
		{"UPDATE clips SET important = true", "never edited"},
		{"DELETE FROM clips", "never deleted"},
		{fmt.Sprintf("DELETE FROM clips WHERE id = %d", c.ID), "never deleted"},
		{"DELETE FROM stations", "never deleted"},
	}, more...))
	got, err := s.FindClipByDigest(ctx, c.Digest)
	if err != nil || got.Size != c.Size || got.OfficerNo != c.OfficerNo || got.StationID != "dock-01" {
		t.Fatalf("clip after the attempts = %+v, %v; want it unchanged", got, err)
	}
}
