package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"evidock"
	"evidock/server/fixity"
)

// FixityStore is a registry store that keeps the fixity schedule, checks
// and alarms beside the clips.
type FixityStore interface {
	evidock.ClipService
	fixity.Store
}

// RunFixityStore runs the fixity.Store contract against stores made by open,
// which must return a new empty store for every call.
func RunFixityStore(t *testing.T, open func(t *testing.T) FixityStore) {
	ctx := context.Background()
	const hour = time.Hour

	t.Run("ClaimOrder", func(t *testing.T) {
		svc := open(t)
		clips := registerN(t, svc, 3)
		got := mustClaim(t, svc, "a", 2, hour, hour)
		assertTargets(t, "first claim", got, clips[:2])
		for i, tg := range got {
			if c := clips[i]; tg.Size != c.Size || tg.ObjectKey != c.ObjectKey || tg.FileName != c.FileName || !tg.LastCheckedAt.IsZero() {
				t.Errorf("target %d = %+v; want the clip's size, key and file name, never checked", i, tg)
			}
		}
		// Leased clips are skipped, not waited for.
		assertTargets(t, "second holder", mustClaim(t, svc, "b", 10, hour, hour), clips[2:])
		assertTargets(t, "third holder", mustClaim(t, svc, "c", 10, hour, hour), nil)

		// Clips registered after a claim are scheduled by the next.
		late := registerN(t, svc, 1, "late")
		assertTargets(t, "after a new clip", mustClaim(t, svc, "c", 10, hour, hour), late)
	})

	t.Run("VerdictSchedulesNextCheck", func(t *testing.T) {
		svc := open(t)
		clips := registerN(t, svc, 2)
		targets := mustClaim(t, svc, "a", 10, hour, hour)
		// Checked in reverse, so that the oldest check is the second clip's.
		for i := len(targets) - 1; i >= 0; i-- {
			chk := &fixity.Check{ClipID: targets[i].ClipID, Result: fixity.OK, Detail: "fine", BytesRead: clips[i].Size, CheckedBy: "a"}
			before := time.Now()
			if alarm, err := svc.RecordCheck(ctx, chk); err != nil || alarm != nil {
				t.Fatalf("RecordCheck(ok) = %v, %v; want no alarm", alarm, err)
			}
			if chk.ID == 0 || chk.Digest != clips[i].Digest || chk.CheckedAt.Before(before.Add(-time.Minute)) ||
				chk.CheckedAt.Location().String() != evidock.ChinaTime.String() {
				t.Fatalf("recorded check = %+v; want its ID, the clip's digest and the time, in China time", chk)
			}
			time.Sleep(2 * time.Millisecond)
		}
		// Not due again within the interval, even for another holder.
		assertTargets(t, "within the interval", mustClaim(t, svc, "b", 10, hour, hour), nil)
		// Due again once the interval has passed: oldest check first.
		again := mustClaim(t, svc, "b", 10, 0, hour)
		assertTargets(t, "after the interval", again, []*evidock.Clip{clips[1], clips[0]})
		if again[0].LastCheckedAt.IsZero() || !again[0].LastCheckedAt.Before(again[1].LastCheckedAt) {
			t.Errorf("last checked = %v, %v; want both set, oldest first", again[0].LastCheckedAt, again[1].LastCheckedAt)
		}
		s := mustSummary(t, svc)
		if s.Clips != 2 || s.Checked != 2 || s.OK != 2 || s.AllCheckedSince == nil || s.LastCheckAt == nil ||
			!s.AllCheckedSince.Equal(again[0].LastCheckedAt) || !s.LastCheckAt.Equal(again[1].LastCheckedAt) {
			t.Errorf("summary = %s; want 2 clips, both checked and ok, all checked since the oldest check", summaryString(s))
		}
	})

	t.Run("Lease", func(t *testing.T) {
		svc := open(t)
		clips := registerN(t, svc, 2)
		got := mustClaim(t, svc, "a", 10, hour, hour)
		assertTargets(t, "claim", got, clips)
		if err := svc.ExtendLease(ctx, "a", got[0].ClipID, hour); err != nil {
			t.Fatalf("ExtendLease by the holder: %v", err)
		}
		if err := svc.ExtendLease(ctx, "b", got[0].ClipID, hour); evidock.ErrorCode(err) != evidock.ECONFLICT {
			t.Fatalf("ExtendLease by another = %v; want ECONFLICT", err)
		}
		// Given back: another holder takes them at once. A release by
		// someone else changes nothing.
		if err := svc.ReleaseClips(ctx, "b", []int64{got[0].ClipID}); err != nil {
			t.Fatal(err)
		}
		assertTargets(t, "after another's release", mustClaim(t, svc, "b", 10, hour, hour), nil)
		if err := svc.ReleaseClips(ctx, "a", []int64{got[0].ClipID, got[1].ClipID}); err != nil {
			t.Fatal(err)
		}
		assertTargets(t, "after release", mustClaim(t, svc, "b", 10, hour, hour), clips)
		if err := svc.ExtendLease(ctx, "a", got[0].ClipID, hour); evidock.ErrorCode(err) != evidock.ECONFLICT {
			t.Fatalf("ExtendLease after release = %v; want ECONFLICT", err)
		}
		if err := svc.ReleaseClips(ctx, "b", []int64{got[0].ClipID, got[1].ClipID}); err != nil {
			t.Fatal(err)
		}

		// A lease that runs out is taken by the next claim; its old
		// holder's check still counts but does not end the new lease.
		short := mustClaim(t, svc, "c", 1, hour, 20*time.Millisecond)
		assertTargets(t, "short lease", short, clips[:1])
		time.Sleep(60 * time.Millisecond)
		assertTargets(t, "after the lease ran out", mustClaim(t, svc, "d", 1, hour, hour), clips[:1])
		if err := svc.ExtendLease(ctx, "c", short[0].ClipID, hour); evidock.ErrorCode(err) != evidock.ECONFLICT {
			t.Fatalf("ExtendLease after the lease ran out and was taken = %v; want ECONFLICT", err)
		}
		if _, err := svc.RecordCheck(ctx, &fixity.Check{ClipID: short[0].ClipID, Result: fixity.OK, BytesRead: clips[0].Size, CheckedBy: "c"}); err != nil {
			t.Fatal(err)
		}
		if err := svc.ExtendLease(ctx, "d", short[0].ClipID, hour); err != nil {
			t.Fatalf("the new holder lost its lease to the old one's check: %v", err)
		}
	})

	t.Run("Alarms", func(t *testing.T) {
		svc := open(t)
		clips := registerN(t, svc, 2)
		targets := mustClaim(t, svc, "a", 10, hour, hour)
		missing := mustRecord(t, svc, targets[0].ClipID, fixity.Missing, "object clips/xx is not in the store")
		if missing == nil || missing.ID == 0 || missing.Kind != fixity.AlarmObjectMissing || missing.Subject != clips[0].Digest.String() ||
			!strings.Contains(missing.Message, clips[0].FileName) || !strings.Contains(missing.Message, "not in the store") ||
			missing.OpenedAt.IsZero() || !missing.Open() {
			t.Fatalf("alarm = %+v; want an open object_missing alarm on the clip naming its file and the detail", missing)
		}
		// Found missing again while the alarm is open: no second alarm.
		if again := mustRecord(t, svc, targets[0].ClipID, fixity.Missing, "still gone"); again != nil {
			t.Fatalf("second missing check opened %+v; want the open alarm to stand", again)
		}
		changed := mustRecord(t, svc, targets[1].ClipID, fixity.Changed, "object holds 3 bytes, but the registry says 4")
		if changed == nil || changed.Kind != fixity.AlarmObjectChanged || changed.Subject != clips[1].Digest.String() {
			t.Fatalf("alarm = %+v; want object_changed on the second clip", changed)
		}
		// A good check later does not close an alarm: a supervisor must.
		mustRecord(t, svc, targets[0].ClipID, fixity.OK, "restored")
		alarms, err := svc.FindAlarms(ctx, fixity.AlarmFilter{Open: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(alarms) != 2 || alarms[0].ID != changed.ID || alarms[1].ID != missing.ID {
			t.Fatalf("open alarms = %v; want the changed then the missing alarm, newest first", alarmIDs(alarms))
		}
		if alarms[1].Message != missing.Message || !alarms[1].OpenedAt.Equal(missing.OpenedAt) ||
			alarms[1].OpenedAt.Location().String() != evidock.ChinaTime.String() {
			t.Errorf("listed alarm = %+v; want it as opened, %+v", alarms[1], missing)
		}
		if all, err := svc.FindAlarms(ctx, fixity.AlarmFilter{Limit: 1}); err != nil || len(all) != 1 || all[0].ID != changed.ID {
			t.Fatalf("FindAlarms(limit 1) = %v, %v; want the newest", alarmIDs(all), err)
		}
		s := mustSummary(t, svc)
		if s.Clips != 2 || s.Checked != 2 || s.OK != 1 || s.Failures[fixity.Changed] != 1 || s.Failures[fixity.Missing] != 0 || s.OpenAlarms != 2 {
			t.Errorf("summary = %s; want 1 ok, 1 changed (by latest check) and 2 open alarms", summaryString(s))
		}
	})

	t.Run("Unreachable", func(t *testing.T) {
		svc := open(t)
		clips := registerN(t, svc, 2)
		targets := mustClaim(t, svc, "a", 10, hour, hour)
		first := mustRecord(t, svc, targets[0].ClipID, fixity.OK, "fine")
		if first != nil {
			t.Fatal("ok opened an alarm")
		}
		// Unreachable is no verdict: no alarm, the last check stands, and
		// the clip waits for its retry.
		for _, tg := range targets {
			chk := &fixity.Check{ClipID: tg.ClipID, Result: fixity.Unreachable, Detail: "connection refused", CheckedBy: "a", RetryAfter: hour}
			if tg.ClipID == targets[0].ClipID {
				// The first clip's lease was ended by its ok check.
				chk.CheckedBy = "b"
			}
			if alarm, err := svc.RecordCheck(ctx, chk); err != nil || alarm != nil {
				t.Fatalf("RecordCheck(unreachable) = %v, %v; want no alarm", alarm, err)
			}
		}
		s := mustSummary(t, svc)
		if s.Checked != 1 || s.OK != 0 || s.Failures[fixity.Unreachable] != 2 || s.OpenAlarms != 0 || s.AllCheckedSince != nil {
			t.Errorf("summary = %s; want 1 checked, 2 unreachable, no alarm, not all checked", summaryString(s))
		}
		// The first clip's lease was not "a"'s, so it is due at once; the
		// second waits an hour for its retry.
		got := mustClaim(t, svc, "c", 10, 0, hour)
		assertTargets(t, "retry", got, clips[:1])
		if got[0].LastCheckedAt.IsZero() {
			t.Error("an unreachable check erased the clip's last verdict")
		}
		if _, err := svc.RecordCheck(ctx, &fixity.Check{ClipID: got[0].ClipID, Result: fixity.Unreachable, CheckedBy: "c"}); err != nil {
			t.Fatal(err) // no retry delay
		}
		assertTargets(t, "retry without delay", mustClaim(t, svc, "c", 10, 0, hour), clips[:1])
	})

	t.Run("Summary", func(t *testing.T) {
		svc := open(t)
		s := mustSummary(t, svc)
		if s.Clips != 0 || s.Checked != 0 || s.LastCheckAt != nil || s.AllCheckedSince != nil || len(s.Failures) != 3 {
			t.Fatalf("empty summary = %s", summaryString(s))
		}
		registerN(t, svc, 2)
		// Registered, never claimed: counted, none checked.
		if s := mustSummary(t, svc); s.Clips != 2 || s.Checked != 0 || s.AllCheckedSince != nil {
			t.Fatalf("summary = %s; want 2 clips, none checked", summaryString(s))
		}
		targets := mustClaim(t, svc, "a", 1, hour, hour)
		mustRecord(t, svc, targets[0].ClipID, fixity.OK, "fine")
		if s := mustSummary(t, svc); s.Checked != 1 || s.OK != 1 || s.AllCheckedSince != nil || s.LastCheckAt == nil {
			t.Fatalf("summary = %s; want 1 of 2 checked, so not all", summaryString(s))
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		svc := open(t)
		c := registerN(t, svc, 1)[0]
		for name, err := range map[string]error{
			"no holder":     claimErr(svc, "", 1, hour, hour),
			"zero batch":    claimErr(svc, "a", 0, hour, hour),
			"zero lease":    claimErr(svc, "a", 1, hour, 0),
			"bad result":    recordErr(svc, &fixity.Check{ClipID: c.ID, Result: "fine", CheckedBy: "a"}),
			"no checker":    recordErr(svc, &fixity.Check{ClipID: c.ID, Result: fixity.OK}),
			"negative read": recordErr(svc, &fixity.Check{ClipID: c.ID, Result: fixity.OK, CheckedBy: "a", BytesRead: -1}),
			"alarm limit":   alarmsErr(svc, fixity.AlarmFilter{Limit: fixity.DefaultAlarmLimit + 1}),
		} {
			if evidock.ErrorCode(err) != evidock.EINVALID {
				t.Errorf("%s: err = %v; want EINVALID", name, err)
			}
		}
		if err := recordErr(svc, &fixity.Check{ClipID: c.ID + 1000, Result: fixity.OK, CheckedBy: "a"}); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Errorf("check of an unknown clip: err = %v; want ENOTFOUND", err)
		}
	})

	t.Run("ConcurrentClaims", func(t *testing.T) {
		svc := open(t)
		clips := registerN(t, svc, 24)
		var (
			mu      sync.Mutex
			claimed = map[int64]string{}
			wg      sync.WaitGroup
			errs    = make(chan error, 4)
		)
		for w := range 4 {
			holder := fmt.Sprintf("holder-%d", w)
			wg.Go(func() {
				for {
					got, err := svc.ClaimClips(ctx, holder, 3, hour, hour)
					if err != nil {
						errs <- err
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, tg := range got {
						if other, ok := claimed[tg.ClipID]; ok {
							errs <- fmt.Errorf("clip %d claimed by %s and %s", tg.ClipID, other, holder)
						}
						claimed[tg.ClipID] = holder
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if len(claimed) != len(clips) {
			t.Errorf("%d of %d clips claimed", len(claimed), len(clips))
		}
	})
}

// RunFixityHistoryKept shows that the database itself refuses to edit or
// delete a fixity check or an alarm, and lets an open alarm be acknowledged
// once, and only that. exec runs a statement on s's database; checkFailed
// is what its error says when an alarm breaks the CHECK that an
// acknowledgement names who made it; more are the refusals only that
// database can be asked for.
func RunFixityHistoryKept(t *testing.T, s FixityStore, exec func(stmt string) error, checkFailed string, more ...Refusal) {
	ctx := context.Background()
	c := NewClip([]byte("footage"), "A123456", "100001", day(0, 9), 1)
	mustRegister(t, s, c)
	alarm, err := s.RecordCheck(ctx, &fixity.Check{ClipID: c.ID, Result: fixity.Missing, Detail: "gone", CheckedBy: "test"})
	if err != nil || alarm == nil {
		t.Fatalf("RecordCheck = %v, %v; want an alarm", alarm, err)
	}
	// Times are written as SQLite stores them, which PostgreSQL reads too.
	assertRefused(t, exec, append([]Refusal{
		{"UPDATE fixity_checks SET result = 'ok'", "never edited"},
		{"DELETE FROM fixity_checks", "never deleted"},
		{"DELETE FROM alarms", "never deleted"},
		{"UPDATE alarms SET message = 'all fine'", "only acknowledged"},
		// Closed without saying who.
		{"UPDATE alarms SET acknowledged_at = '2024-05-02T00:00:00.000000000Z'", checkFailed},
		{"UPDATE alarms SET acknowledged_by = 'x', acknowledged_at = '2024-05-02T00:00:00.000000000Z', kind = 'other'", "only acknowledged"},
	}, more...))
	if err := exec("UPDATE alarms SET acknowledged_by = 'supervisor 100009', acknowledged_at = '2024-05-02T00:00:00.000000000Z'"); err != nil {
		t.Fatalf("acknowledge: %v", err)
	}
	if err := exec("UPDATE alarms SET acknowledged_by = 'someone else', acknowledged_at = '2024-05-03T00:00:00.000000000Z'"); err == nil ||
		!strings.Contains(err.Error(), "only acknowledged") {
		t.Fatalf("second acknowledgement: err = %v; want it refused", err)
	}
	alarms, err := s.FindAlarms(ctx, fixity.AlarmFilter{})
	if err != nil || len(alarms) != 1 || alarms[0].Open() || alarms[0].AcknowledgedBy != "supervisor 100009" {
		t.Fatalf("alarms = %+v, %v; want the one, acknowledged", alarms, err)
	}
	if open, err := s.FindAlarms(ctx, fixity.AlarmFilter{Open: true}); err != nil || len(open) != 0 {
		t.Fatalf("open alarms = %+v, %v; want none", open, err)
	}
	// Once acknowledged, the same clip found missing again opens a new
	// alarm.
	if again, err := s.RecordCheck(ctx, &fixity.Check{ClipID: c.ID, Result: fixity.Missing, Detail: "still gone", CheckedBy: "test"}); err != nil || again == nil || again.ID == alarm.ID {
		t.Fatalf("RecordCheck after the acknowledgement = %+v, %v; want a new alarm", again, err)
	}
}

// registerN registers n clips with distinct bytes (prefixed by tag, if
// given) and returns them in registration order.
func registerN(t *testing.T, svc evidock.ClipService, n int, tag ...string) []*evidock.Clip {
	t.Helper()
	prefix := strings.Join(tag, "")
	var clips []*evidock.Clip
	for i := range n {
		c := NewClip([]byte(fmt.Sprintf("%sfixity footage %d", prefix, i)), "A123456", "100001", day(len(prefix), 9).Add(time.Duration(i)*time.Minute), i+1)
		mustRegister(t, svc, c)
		clips = append(clips, c)
	}
	return clips
}

func mustClaim(t *testing.T, svc fixity.Store, holder string, n int, interval, lease time.Duration) []fixity.Target {
	t.Helper()
	got, err := svc.ClaimClips(context.Background(), holder, n, interval, lease)
	if err != nil {
		t.Fatalf("ClaimClips(%s): %v", holder, err)
	}
	return got
}

// mustRecord records a check of clip by holder "a" with no retry delay and
// returns the alarm it opened.
func mustRecord(t *testing.T, svc fixity.Store, clip int64, r fixity.Result, detail string) *fixity.Alarm {
	t.Helper()
	alarm, err := svc.RecordCheck(context.Background(), &fixity.Check{ClipID: clip, Result: r, Detail: detail, CheckedBy: "a"})
	if err != nil {
		t.Fatalf("RecordCheck(%s): %v", r, err)
	}
	return alarm
}

func mustSummary(t *testing.T, svc fixity.Store) *fixity.Summary {
	t.Helper()
	s, err := svc.FixitySummary(context.Background())
	if err != nil {
		t.Fatalf("FixitySummary: %v", err)
	}
	if len(s.Failures) != 3 {
		t.Errorf("summary failures = %v; want missing, changed and unreachable", s.Failures)
	}
	return s
}

func claimErr(svc fixity.Store, holder string, n int, interval, lease time.Duration) error {
	_, err := svc.ClaimClips(context.Background(), holder, n, interval, lease)
	return err
}

func recordErr(svc fixity.Store, c *fixity.Check) error {
	_, err := svc.RecordCheck(context.Background(), c)
	return err
}

func alarmsErr(svc fixity.Store, f fixity.AlarmFilter) error {
	_, err := svc.FindAlarms(context.Background(), f)
	return err
}

// assertTargets fails t unless got are the clips want, in order.
func assertTargets(t *testing.T, what string, got []fixity.Target, want []*evidock.Clip) {
	t.Helper()
	var g, w []string
	for _, tg := range got {
		g = append(g, fmt.Sprintf("%d:%.8s", tg.ClipID, tg.Digest))
	}
	for _, c := range want {
		w = append(w, fmt.Sprintf("%d:%.8s", c.ID, c.Digest))
	}
	if fmt.Sprint(g) != fmt.Sprint(w) {
		t.Fatalf("%s: claimed %v; want %v", what, g, w)
	}
}

func alarmIDs(alarms []*fixity.Alarm) []int64 {
	var ids []int64
	for _, a := range alarms {
		ids = append(ids, a.ID)
	}
	return ids
}

func summaryString(s *fixity.Summary) string {
	str := func(t *time.Time) string {
		if t == nil {
			return "nil"
		}
		return t.Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("{clips %d checked %d ok %d failures %v open alarms %d last %s all since %s}",
		s.Clips, s.Checked, s.OK, s.Failures, s.OpenAlarms, str(s.LastCheckAt), str(s.AllCheckedSince))
}
