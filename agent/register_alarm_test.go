package agent_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/agent"
	"evidock/agent/sqlite"
	"evidock/internal/s3test"
	"evidock/server"
	evhttp "evidock/server/http"
	serverdb "evidock/server/sqlite"
)

// TestRevokedStationRaisesAlarm docks a recorder at a dock whose station an
// administrator has revoked, against a real case server and a real
// S3-compatible store: the footage is uploaded but its registration is
// refused, and the dock raises the station_refused alarm (what the dock
// screen shows even with no recorder docked) carrying the server's words.
// Given a new station, the dock registers the footage and takes the alarm
// down.
func TestRevokedStationRaisesAlarm(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	store := s3test.Start(t).MustOpen(t)

	sdb, err := serverdb.Open(ctx, filepath.Join(dir, "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	stolen, err := sdb.CreateStation(ctx, &evidock.Station{ID: "dock-01"})
	if err != nil {
		t.Fatal(err)
	}
	replacement, err := sdb.CreateStation(ctx, &evidock.Station{ID: "dock-02"})
	if err != nil {
		t.Fatal(err)
	}
	revokedAt, err := sdb.RevokeStation(ctx, "dock-01")
	if err != nil {
		t.Fatal(err)
	}
	reg := &server.Registry{Clips: sdb, Objects: store, VerifyDigest: true}
	ts := httptest.NewServer(evhttp.NewServer(reg, sdb, sdb, sdb.Ping, slog.New(slog.DiscardHandler)))
	defer ts.Close()

	db, err := sqlite.Open(ctx, filepath.Join(dir, "agent.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mounts := filepath.Join(dir, "mnt")
	vol := filepath.Join(mounts, "DSJ0003")
	const name = "DSJ0003_100234_20261125080000_0001.MP4"
	if err := os.MkdirAll(filepath.Join(vol, "DCIM"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vol, "DCIM", name), []byte("footage docked at a revoked station"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := &agent.Agent{
		StationID: "dock-01", MountRoot: mounts, StagingDir: filepath.Join(dir, "staging"), State: db,
		Objects: store, Registry: evhttp.NewClient(ts.URL, stolen),
		Settle: 10 * time.Millisecond, StagingReserve: 1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if err := a.ScanVolume(ctx, vol); err != nil {
		t.Fatal(err)
	}

	// run runs a until cond holds of its status, then stops it.
	run := func(what string, cond func(*agent.DockStatus) bool) *agent.DockStatus {
		t.Helper()
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- a.Run(runCtx) }()
		defer func() {
			stop()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		}()
		for {
			st, err := a.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if cond(st) {
				return st
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s: never happened; status %+v", what, st)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	refused := func(st *agent.DockStatus) *agent.Alarm {
		for i := range st.Alarms {
			if st.Alarms[i].Code == agent.AlarmStationRefused {
				return &st.Alarms[i]
			}
		}
		return nil
	}

	// The alarm goes up in the step, the note on the recording when the
	// step returns: wait for both.
	noted := func() bool {
		recs, err := db.FindRecordings(ctx, agent.RecordingFilter{})
		return err == nil && len(recs) == 1 && recs[0].ErrorCode == agent.NoteServerDenied
	}
	st := run("the station_refused alarm", func(st *agent.DockStatus) bool { return refused(st) != nil && noted() })
	al := refused(st)
	when := revokedAt.In(evidock.ChinaTime).Format(time.RFC3339)
	for _, want := range []string{"station token", "refused by the case server", "revoked at " + when, "contact the administrator"} {
		if !strings.Contains(al.Message, want) {
			t.Errorf("alarm message %q does not say %q", al.Message, want)
		}
	}
	if strings.Contains(al.Message, stolen) {
		t.Errorf("alarm message %q holds the token", al.Message)
	}
	recs, err := db.FindRecordings(ctx, agent.RecordingFilter{})
	if err != nil || len(recs) != 1 || recs[0].State != agent.StateStored || recs[0].ErrorCode != agent.NoteServerDenied {
		t.Fatalf("recordings = %+v, %v; want one stored, not registered, noted %s", recs, err, agent.NoteServerDenied)
	}

	// The administrator gives the dock a new station.
	a.StationID, a.Registry = "dock-02", evhttp.NewClient(ts.URL, replacement)
	run("registration with the new station", func(st *agent.DockStatus) bool {
		recs, err := db.FindRecordings(ctx, agent.RecordingFilter{})
		return err == nil && len(recs) == 1 && recs[0].State.Safe() && refused(st) == nil
	})
	if _, total, _ := sdb.FindClips(ctx, evidock.ClipFilter{}); total != 1 {
		t.Fatalf("%d clips registered; want 1", total)
	}
}
