package storetest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"evidock"
)

// runRevoke holds a store to station revocation: a revoked station's token
// is refused with EUNAUTHORIZED saying when it was revoked and what to do,
// other stations' tokens still work, a second revocation keeps the first
// one's time, an unknown station is ENOTFOUND, and the station's clips (if
// the store keeps clips too) stay as they were.
func runRevoke(t *testing.T, open func(t *testing.T) evidock.StationService) {
	ctx := context.Background()

	t.Run("Revoke", func(t *testing.T) {
		svc := open(t)
		token1 := mustCreateStation(t, svc, "dock-01")
		token2 := mustCreateStation(t, svc, "dock-02")
		clips, _ := svc.(evidock.ClipService)
		var clip *evidock.Clip
		if clips != nil {
			clip = NewClip([]byte("footage from a dock about to be stolen"), "A123456", "100001", day(0, 9), 1)
			clip.StationID = "dock-01"
			mustRegister(t, clips, clip)
		}

		before := time.Now()
		at, err := svc.RevokeStation(ctx, "dock-01")
		after := time.Now()
		if err != nil {
			t.Fatalf("RevokeStation: %v", err)
		}
		// The PostgreSQL store reads the database's clock, on this machine;
		// a millisecond allows for the truncation to microseconds.
		if at.Before(before.Add(-time.Millisecond)) || at.After(after.Add(time.Millisecond)) {
			t.Errorf("revoked at %v; want between %v and %v", at, before, after)
		}
		if at.Location().String() != evidock.ChinaTime.String() || at.Nanosecond()%1000 != 0 {
			t.Errorf("revoked at %v; want it in evidock.ChinaTime, in whole microseconds", at)
		}
		assertRevoked(t, svc, token1, "dock-01", at)

		// Another station's token still works.
		if s, err := svc.AuthenticateStation(ctx, token2); err != nil || s.ID != "dock-02" {
			t.Fatalf("dock-02's token after revoking dock-01 = %+v, %v; want dock-02", s, err)
		}

		// Revoking again changes nothing and answers the first time.
		time.Sleep(2 * time.Millisecond) // so that a second "now" would differ
		again, err := svc.RevokeStation(ctx, "dock-01")
		if err != nil || !again.Equal(at) {
			t.Fatalf("second RevokeStation = %v, %v; want the first revocation's time %v", again, err, at)
		}
		assertRevoked(t, svc, token1, "dock-01", at)

		// The ID stays taken: a new PC gets a new station.
		if _, err := svc.CreateStation(ctx, &evidock.Station{ID: "dock-01"}); evidock.ErrorCode(err) != evidock.ECONFLICT {
			t.Fatalf("CreateStation with a revoked station's id = %v; want ECONFLICT", err)
		}

		// Its clips are kept as they were (Art. 17).
		if clips != nil {
			got, err := clips.FindClipByDigest(ctx, clip.Digest)
			if err != nil {
				t.Fatalf("dock-01's clip after the revocation: %v", err)
			}
			assertClip(t, "clip of a revoked station", got, clip)
		}
	})

	t.Run("RevokeUnknown", func(t *testing.T) {
		svc := open(t)
		token := mustCreateStation(t, svc, "dock-01")
		for _, id := range []string{"dock-99", "", "DOCK-01"} {
			at, err := svc.RevokeStation(ctx, id)
			if evidock.ErrorCode(err) != evidock.ENOTFOUND || !at.IsZero() {
				t.Errorf("RevokeStation(%q) = %v, %v; want ENOTFOUND", id, at, err)
				continue
			}
			if !strings.Contains(evidock.ErrorMessage(err), `"`+id+`"`) {
				t.Errorf("RevokeStation(%q) error %q does not name the id", id, err)
			}
		}
		if s, err := svc.AuthenticateStation(ctx, token); err != nil || s.ID != "dock-01" {
			t.Fatalf("dock-01's token after revoking unknown stations = %+v, %v", s, err)
		}
	})

	t.Run("RevokeConcurrently", func(t *testing.T) {
		svc := open(t)
		mustCreateStation(t, svc, "dock-01")
		const n = 8
		var (
			wg    sync.WaitGroup
			times [n]time.Time
			errs  [n]error
		)
		for i := range n {
			wg.Go(func() { times[i], errs[i] = svc.RevokeStation(ctx, "dock-01") })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil || !times[i].Equal(times[0]) {
				t.Fatalf("revocation %d = %v, %v; want every one to answer %v", i, times[i], errs[i], times[0])
			}
		}
	})
}

// RunStationRevocationKept shows that the database itself keeps a
// revocation: clearing or changing a station's revoked_at, or deleting a
// station, is refused whatever statement is tried. exec runs a statement on
// svc's database.
func RunStationRevocationKept(t *testing.T, svc evidock.StationService, exec func(stmt string) error) {
	ctx := context.Background()
	token := mustCreateStation(t, svc, "dock-01")
	active := mustCreateStation(t, svc, "dock-02")
	at, err := svc.RevokeStation(ctx, "dock-01")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ stmt, want string }{
		{"UPDATE stations SET revoked_at = NULL WHERE id = 'dock-01'", "never cleared or changed"},
		{"UPDATE stations SET revoked_at = NULL", "never cleared or changed"},
		{"UPDATE stations SET revoked_at = created_at WHERE id = 'dock-01'", "never cleared or changed"},
		{"DELETE FROM stations WHERE id = 'dock-01'", "never deleted"},
		{"DELETE FROM stations WHERE id = 'dock-02'", "never deleted"},
		{"DELETE FROM stations", "never deleted"},
	} {
		if err := exec(tt.stmt); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s = %v; want the trigger's refusal, %q", tt.stmt, err, tt.want)
		}
	}
	// The trigger refuses only what would undo the revocation: renaming the
	// revoked station is allowed.
	if err := exec("UPDATE stations SET name = 'stolen 2024-05' WHERE id = 'dock-01'"); err != nil {
		t.Fatalf("renaming a revoked station: %v", err)
	}
	assertRevoked(t, svc, token, "dock-01", at)
	if s, err := svc.AuthenticateStation(ctx, active); err != nil || s.ID != "dock-02" {
		t.Fatalf("dock-02's token after the attempts = %+v, %v", s, err)
	}
	if again, err := svc.RevokeStation(ctx, "dock-01"); err != nil || !again.Equal(at) {
		t.Fatalf("RevokeStation after the attempts = %v, %v; want %v", again, err, at)
	}
}

// mustCreateStation creates station id and returns its token.
func mustCreateStation(t *testing.T, svc evidock.StationService, id string) string {
	t.Helper()
	token, err := svc.CreateStation(context.Background(), &evidock.Station{ID: id})
	if err != nil {
		t.Fatalf("CreateStation(%s): %v", id, err)
	}
	return token
}

// assertRevoked fails t unless token (station id's) is refused with
// EUNAUTHORIZED saying that it was revoked, at at, and what to do, without
// the token.
func assertRevoked(t *testing.T, svc evidock.StationService, token, id string, at time.Time) {
	t.Helper()
	s, err := svc.AuthenticateStation(context.Background(), token)
	if evidock.ErrorCode(err) != evidock.EUNAUTHORIZED || s != nil {
		t.Fatalf("revoked station's token = %+v, %v; want EUNAUTHORIZED", s, err)
	}
	msg := evidock.ErrorMessage(err)
	when := at.In(evidock.ChinaTime).Format(time.RFC3339)
	for _, want := range []string{id, "revoked", when, "ask the administrator for a new station: evidock-server station add"} {
		if !strings.Contains(msg, want) {
			t.Errorf("revoked station's error %q does not say %q", msg, want)
		}
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("revoked station's error %q echoes the token", err)
	}
}
