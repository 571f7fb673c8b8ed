package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/server/auth"
)

// LegacyStore is a store opened on a database that an older server may
// have left, with what the tests of migrations do behind its back.
type LegacyStore interface {
	LinkStore
	FixityStore
	auth.Store
	// Exec runs stmt on the store's database.
	Exec(stmt string) error
	// Query returns the first column of every row query gives, as text.
	Query(query string) ([]string, error)
	// RegisterLegacy inserts c as a server between migrations 002 and 011
	// registered clips: every column of its day, no unit_code (RegisterClip
	// now stamps it, and such a database has none).
	RegisterLegacy(c *evidock.Clip) error
	Close() error
}

// OpenLegacy opens one database applying only the migrations up to version
// upTo, as a server of that version left it, or all of them if upTo is 0.
// A driver's test makes one for each new database; the tests of migrations
// open it first as an older server, then as this one.
type OpenLegacy func(upTo int) (LegacyStore, error)

// mustOpenLegacy opens the database at version upTo (all, if 0), closed
// when t ends if not before.
func mustOpenLegacy(t *testing.T, open OpenLegacy, upTo int) LegacyStore {
	t.Helper()
	db, err := open(upTo)
	if err != nil {
		t.Fatalf("open at version %d: %v", upTo, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// mustRegisterLegacy registers c in db as an older server did.
func mustRegisterLegacy(t *testing.T, db LegacyStore, c *evidock.Clip) {
	t.Helper()
	if err := db.RegisterLegacy(c); err != nil {
		t.Fatalf("insert clip %s as an older server: %v", c.FileName, err)
	}
}

// mustQuery returns what query gives on db, the rows' first column joined
// by spaces.
func mustQuery(t *testing.T, db LegacyStore, query string) string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return strings.Join(rows, " ")
}

// RunMigration006KeepsData opens a database that a server before
// migration 006 left, with clips in it, and adds cases beside them.
func RunMigration006KeepsData(t *testing.T, open OpenLegacy) {
	ctx := context.Background()
	old := mustOpenLegacy(t, open, 5)
	clip := NewClip([]byte("old"), "A000001", OfficerZhang, time.Date(2024, 5, 2, 9, 5, 0, 0, evidock.ChinaTime), 1)
	mustRegisterLegacy(t, old, clip)
	old.Close()
	db := mustOpenLegacy(t, open, 0)
	SeedOrg(t, db)
	c := MustCreateCase(t, db, NewCase("A-1", UnitTN1, time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime)))
	a := MustCreateActivity(t, db, NewActivity(c.ID, evidock.ActivityInspection,
		time.Date(2024, 5, 2, 9, 0, 0, 0, evidock.ChinaTime), time.Date(2024, 5, 2, 10, 0, 0, 0, evidock.ChinaTime), OfficerZhang))
	links, err := db.SuggestLinks(ctx, a.ID, evidock.DefaultSuggestMargin)
	if err != nil || len(links) != 1 || links[0].Clip.Digest != clip.Digest {
		t.Fatalf("suggestions for a clip registered before 006 = %v, %v", links, err)
	}
	if v := mustQuery(t, db, "SELECT version FROM schema_migrations WHERE version <= 6 ORDER BY version"); v != "1 2 3 4 5 6" {
		t.Fatalf("applied versions up to 6 = %s; want 1 to 6, each once", v)
	}
}

// RunMigration008UnitPaths shows migration 008 on a database an older
// server left: roles in unit paths of the tree gain their unit, a role in
// a path that is not in the tree stops the migration with a message saying
// what to do, and afterwards units are neither moved nor deleted. newDB
// returns a new database for each case; errorNames is what else that
// database's message must say (PostgreSQL's names the role); more are the
// refusals only that database can be asked for.
func RunMigration008UnitPaths(t *testing.T, newDB func(t *testing.T) OpenLegacy, errorNames string, more ...Refusal) {
	ctx := context.Background()
	// legacy returns a database at version 7 in which chen.jie (the first
	// user, ID 1) is a supervisor of city/d1 and an officer of rolePath.
	legacy := func(t *testing.T, rolePath string) OpenLegacy {
		open := newDB(t)
		db := mustOpenLegacy(t, open, 7)
		defer db.Close()
		for _, stmt := range []string{
			`INSERT INTO units (code, name, level, parent_code, created_at) VALUES
				('city', 'c', 'bureau', NULL, '2024-05-01T00:00:00.000000000Z'),
				('d1', 'd', 'district', 'city', '2024-05-01T00:00:00.000000000Z'),
				('t2', 't', 'unit', 'd1', '2024-05-01T00:00:00.000000000Z')`,
			`INSERT INTO users (login, name, password_hash, created_at) VALUES ('chen.jie', 'c', 'x', '2024-05-01T00:00:00.000000000Z')`,
			`INSERT INTO user_roles (user_id, role, unit_id) VALUES (1, 'supervisor', 'city/d1'), (1, 'officer', '` + rolePath + `')`,
		} {
			if err := db.Exec(stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		return open
	}

	t.Run("RolesInTheTree", func(t *testing.T) {
		db := mustOpenLegacy(t, legacy(t, "city/d1/t2"), 0)
		u, err := db.FindUserByLogin(ctx, "chen.jie")
		if err != nil || len(u.Roles) != 2 || u.Roles[0].String() != "supervisor@city/d1" || u.Roles[1].String() != "officer@city/d1/t2" {
			t.Fatalf("migrated user = %+v, %v", u, err)
		}
		if codes := mustQuery(t, db, "SELECT unit_code FROM user_roles ORDER BY unit_code"); codes != "d1 t2" {
			t.Fatalf("unit codes = %q; want d1 t2", codes)
		}
		assertRefused(t, db.Exec, append([]Refusal{
			{"UPDATE units SET parent_code = 'city' WHERE code = 't2'", ""},
			{"UPDATE units SET code = 't9' WHERE code = 't2'", ""},
			{"DELETE FROM units WHERE code = 't2'", ""},
			{"INSERT INTO user_roles (user_id, role, unit_id, unit_code) VALUES (1, 'archivist', 'city/d1', 't2')", ""},
			{"INSERT INTO user_roles (user_id, role, unit_id, unit_code) VALUES (1, 'archivist', 'city/x1', 'x1')", ""},
		}, more...))
		if err := db.Exec("UPDATE units SET name = '天宁区' WHERE code = 'd1'"); err != nil {
			t.Errorf("renaming a unit: %v; names may change", err)
		}
	})

	t.Run("RoleOutsideTheTree", func(t *testing.T) {
		db, err := legacy(t, "city/d2/t2")(0)
		if err == nil {
			db.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "008") || !strings.Contains(err.Error(), "evidock-server unit add") ||
			!strings.Contains(err.Error(), errorNames) {
			t.Fatalf("Open = %v; want migration 008 to stop, saying how to fix it (and %q)", err, errorNames)
		}
	})
}

// RunMigration010SchedulesClips shows that clips an older server
// registered get their fixity schedule row from migration 010, and clips
// registered afterwards get theirs with their registration.
func RunMigration010SchedulesClips(t *testing.T, open OpenLegacy) {
	old := mustOpenLegacy(t, open, 9)
	for i := range 2 {
		c := NewClip(fmt.Appendf(nil, "old %d", i), "A123456", "100001", day(0, 9).Add(time.Duration(i)*time.Minute), i+1)
		mustRegisterLegacy(t, old, c)
	}
	const scheduled = "SELECT count(*) FROM fixity_state"
	if n := mustQuery(t, old, scheduled); n != "0" {
		t.Fatalf("before 010: %s clips scheduled; want 0 (the test needs unscheduled clips)", n)
	}
	old.Close()
	db := mustOpenLegacy(t, open, 0)
	if n := mustQuery(t, db, scheduled); n != "2" {
		t.Fatalf("after 010: %s clips scheduled; want the 2 registered before", n)
	}
	mustRegister(t, db, NewClip([]byte("new"), "A123456", "100001", day(1, 9), 3))
	if n := mustQuery(t, db, scheduled); n != "3" {
		t.Fatalf("after a registration: %s clips scheduled; want 3", n)
	}
}

// RunMigration012ClipUnits shows migration 012 on a database an older
// server left: its clips are stamped with their officer's unit (none for
// an officer not in the officers table), clips registered afterwards are
// stamped at registration, and clips are still never updated or deleted.
// made are queries that each give 1 on that database when 012 made what it
// should (the index clips_unit_corrected, triggers left enabled); more are
// the refusals only that database can be asked for.
func RunMigration012ClipUnits(t *testing.T, open OpenLegacy, made []string, more ...Refusal) {
	ctx := context.Background()
	old := mustOpenLegacy(t, open, 11)
	SeedOrg(t, old)
	started := time.Date(2024, 5, 2, 9, 0, 0, 0, evidock.ChinaTime)
	clips := map[string]*evidock.Clip{
		UnitTN1: NewClip([]byte("zhang"), "A000001", OfficerZhang, started, 1),
		UnitWJ1: NewClip([]byte("li"), "A000002", OfficerLi, started, 1),
		"":      NewClip([]byte("stranger"), "A000003", "999999", started, 1),
	}
	for _, c := range clips {
		mustRegisterLegacy(t, old, c)
	}
	old.Close()

	db := mustOpenLegacy(t, open, 0)
	for unit, c := range clips {
		got, err := db.FindClipByDigest(ctx, c.Digest)
		if err != nil || got.UnitCode != unit {
			t.Errorf("clip of officer %s after 012: %+v, %v; want unit %q", c.OfficerNo, got, err, unit)
		}
	}
	fresh := NewClip([]byte("fresh"), "A000001", OfficerZhang, started.Add(time.Hour), 2)
	if _, err := db.RegisterClip(ctx, fresh); err != nil || fresh.UnitCode != UnitTN1 {
		t.Errorf("clip registered after 012: unit %q, %v; want %s", fresh.UnitCode, err, UnitTN1)
	}
	assertRefused(t, db.Exec, append([]Refusal{
		{"UPDATE clips SET unit_code = 'CZ-WJ-1'", "Art. 17"},
		{"UPDATE clips SET unit_code = NULL WHERE officer_no = '999999'", "Art. 17"},
		{"UPDATE clips SET size = size WHERE 0 = 1 OR officer_no = '100001'", "Art. 17"},
		{"DELETE FROM clips WHERE officer_no = '100003'", "Art. 17"},
	}, more...))
	for _, q := range made {
		if n := mustQuery(t, db, q); n != "1" {
			t.Errorf("%s after 012 = %s; want 1", q, n)
		}
	}
}
