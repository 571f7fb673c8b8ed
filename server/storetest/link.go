package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"evidock"
)

// LinkStore is what RunLinkService holds to its contract: clips, cases
// and the links between them.
type LinkStore interface {
	CaseStore
	evidock.ClipService
	evidock.LinkService
}

// linkScene is a case with one activity, 09:00 to 10:00 on 2 May 2024 with
// officers Zhang and Wang present, and clips around it.
type linkScene struct {
	svc   LinkStore
	c     *evidock.Case
	act   *evidock.Activity
	clips map[string]*evidock.Clip
}

// at returns h:m on 2 May 2024, China time.
func at(h, m int) time.Time { return time.Date(2024, 5, 2, h, m, 0, 0, evidock.ChinaTime) }

func newLinkScene(t *testing.T, svc LinkStore) *linkScene {
	t.Helper()
	SeedOrg(t, svc)
	s := &linkScene{svc: svc, clips: map[string]*evidock.Clip{}}
	s.c = MustCreateCase(t, svc, NewCase("常人社监罚〔2024〕7号", UnitTN1, day(0, 9)))
	s.act = MustCreateActivity(t, svc, NewActivity(s.c.ID, evidock.ActivityInspection, at(9, 0), at(10, 0), OfficerZhang, OfficerWang))
	// Recorder C000003 carries Li's number, but was issued to Wang the
	// day before: its footage is Wang's.
	if err := svc.AssignRecorder(context.Background(), &evidock.RecorderAssignment{
		DeviceSerial: "C000003", OfficerNo: OfficerWang, From: day(0, 8), AssignedBy: "装备管理员"}); err != nil {
		t.Fatal(err)
	}
	add := func(name string, c *evidock.Clip) {
		mustRegister(t, svc, c)
		s.clips[name] = c
	}
	add("zhang 09:05", NewClip([]byte("zhang 09:05"), "A000001", OfficerZhang, at(9, 5), 1))
	add("wang 08:35", NewClip([]byte("wang 08:35"), "B000002", OfficerWang, at(8, 35), 1))
	add("zhang 08:00", NewClip([]byte("zhang 08:00"), "A000001", OfficerZhang, at(8, 0), 2))
	add("assigned 09:10", NewClip([]byte("assigned 09:10"), "C000003", OfficerLi, at(9, 10), 1))
	add("li 09:20", NewClip([]byte("li 09:20"), "D000004", OfficerLi, at(9, 20), 1))
	long := NewClip([]byte("zhang 07:00 long"), "A000001", OfficerZhang, at(7, 0), 3)
	long.DurationMS = (2 * time.Hour).Milliseconds() // ends at 09:00, inside the margin
	add("zhang 07:00 long", long)
	// Recorder clocks two hours fast: 11:20 by the recorder is 09:20.
	add("fast clock 09:20", offsetClip([]byte("fast clock"), "A000001", OfficerZhang, at(11, 20), 4, 2*time.Hour))
	// Three hours fast: 09:15 by the recorder is 06:15, long before.
	add("fast clock 06:15", offsetClip([]byte("fast clock 2"), "B000002", OfficerWang, at(9, 15), 2, 3*time.Hour))
	add("zhang 10:45", NewClip([]byte("zhang 10:45"), "A000001", OfficerZhang, at(10, 45), 5))
	return s
}

// names returns the scene's names for the clips of links.
func (s *linkScene) names(links []*evidock.ClipLink) []string {
	var out []string
	for _, l := range links {
		for name, c := range s.clips {
			if c.ID == l.Clip.ID {
				out = append(out, name)
			}
		}
	}
	return out
}

// change makes an officer's change to the link of clip name, returning the
// entry and the store's error.
func (s *linkScene) change(name string, action evidock.LinkAction, by, reason string) (*evidock.LinkEntry, error) {
	e := &evidock.LinkEntry{ActivityID: s.act.ID, Digest: s.clips[name].Digest, Action: action, By: by, Reason: reason}
	return e, s.svc.ChangeLink(context.Background(), e)
}

// RunLinkService runs the contract of evidock.LinkService against stores
// made by open, which must return a new empty store for every call.
func RunLinkService(t *testing.T, open func(t *testing.T) LinkStore) {
	ctx := context.Background()
	expected := "[zhang 07:00 long wang 08:35 zhang 09:05 assigned 09:10 fast clock 09:20]"

	t.Run("Suggest", func(t *testing.T) {
		s := newLinkScene(t, open(t))
		links, err := s.svc.SuggestLinks(ctx, s.act.ID, evidock.DefaultSuggestMargin)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(s.names(links)); got != expected {
			t.Fatalf("suggestions = %s; want %s (by corrected time, officers present or recorders assigned to them)", got, expected)
		}
		for _, l := range links {
			e := l.Last
			if l.State != evidock.LinkSuggested || l.ActivityID != s.act.ID || e == nil || e.Action != evidock.LinkSuggest ||
				e.By != evidock.LinkSystem || e.Seq != 1 || e.Reason == "" || e.Digest != l.Clip.Digest || e.ClipID != l.Clip.ID ||
				e.At.Location().String() != evidock.ChinaTime.String() || e.At.Nanosecond()%1000 != 0 {
				t.Errorf("suggestion %+v with entry %+v", l, e)
			}
		}
		if r := links[3].Last.Reason; !containsAll(r, "C000003", OfficerWang) {
			t.Errorf("reason for the assigned recorder's clip = %q; want it to name the recorder and the officer", r)
		}
		// Asking again suggests the same clips and adds nothing to the
		// history.
		again, err := s.svc.SuggestLinks(ctx, s.act.ID, evidock.DefaultSuggestMargin)
		if err != nil || fmt.Sprint(s.names(again)) != expected {
			t.Fatalf("suggestions again = %v, %v", s.names(again), err)
		}
		history, err := s.svc.LinkHistory(ctx, evidock.LinkFilter{ActivityID: s.act.ID})
		if err != nil || len(history) != 5 {
			t.Fatalf("history after suggesting twice has %d entries (%v); want 5", len(history), err)
		}
		if _, err := s.svc.SuggestLinks(ctx, 999999, evidock.DefaultSuggestMargin); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("SuggestLinks(unknown activity) = %v; want ENOTFOUND", err)
		}
		for _, m := range []time.Duration{-time.Second, evidock.MaxSuggestMargin + time.Second} {
			if _, err := s.svc.SuggestLinks(ctx, s.act.ID, m); evidock.ErrorCode(err) != evidock.EINVALID {
				t.Fatalf("SuggestLinks(margin %s) = %v; want EINVALID", m, err)
			}
		}
	})

	t.Run("Margin", func(t *testing.T) {
		s := newLinkScene(t, open(t))
		for _, tt := range []struct {
			margin time.Duration
			want   string
		}{
			{0, "[zhang 09:05 assigned 09:10 fast clock 09:20]"},
			// 08:00 to 11:00: the clip of 08:00 ends just after 08:00.
			{time.Hour, "[zhang 07:00 long zhang 08:00 wang 08:35 zhang 09:05 assigned 09:10 fast clock 09:20 zhang 10:45]"},
			{4 * time.Hour, "[fast clock 06:15 zhang 07:00 long zhang 08:00 wang 08:35 zhang 09:05 assigned 09:10 fast clock 09:20 zhang 10:45]"},
		} {
			links, err := s.svc.SuggestLinks(ctx, s.act.ID, tt.margin)
			if err != nil || fmt.Sprint(s.names(links)) != tt.want {
				t.Errorf("margin %s: suggestions = %v, %v; want %s", tt.margin, s.names(links), err, tt.want)
			}
		}
	})

	t.Run("Change", func(t *testing.T) {
		s := newLinkScene(t, open(t))
		if _, err := s.svc.SuggestLinks(ctx, s.act.ID, evidock.DefaultSuggestMargin); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			clip   string
			action evidock.LinkAction
			by     string
			reason string
			code   string
			seq    int
		}{
			{"zhang 09:05", evidock.LinkConfirm, OfficerZhang, "", "", 2},
			{"zhang 09:05", evidock.LinkConfirm, OfficerWang, "", evidock.ECONFLICT, 0},
			{"zhang 09:05", evidock.LinkReject, OfficerWang, "错误关联", evidock.ECONFLICT, 0}, // confirmed: unlink instead
			{"wang 08:35", evidock.LinkReject, OfficerWang, "", evidock.EINVALID, 0},       // no reason
			{"wang 08:35", evidock.LinkReject, OfficerWang, "路上录的，与检查无关", "", 2},
			{"wang 08:35", evidock.LinkReject, OfficerWang, "again", evidock.ECONFLICT, 0},
			{"zhang 09:05", evidock.LinkUnlink, OfficerZhang, "录像属于另一案件", "", 3},
			{"zhang 09:05", evidock.LinkUnlink, OfficerZhang, "again", evidock.ECONFLICT, 0},
			{"zhang 09:05", evidock.LinkConfirm, OfficerWang, "核对后确认属于本次检查", "", 4},
			{"li 09:20", evidock.LinkConfirm, OfficerLi, "李强到场协助", "", 1}, // never suggested
			{"li 09:20", evidock.LinkConfirm, "999999", "", evidock.EINVALID, 0},
			{"zhang 10:45", evidock.LinkConfirm, evidock.LinkSystem, "", evidock.EINVALID, 0},
			{"zhang 10:45", evidock.LinkSuggest, OfficerZhang, "", evidock.EINVALID, 0},
			{"zhang 10:45", "approve", OfficerZhang, "", evidock.EINVALID, 0},
			{"zhang 10:45", evidock.LinkUnlink, OfficerZhang, "never linked", evidock.ECONFLICT, 0},
		}
		for i, st := range steps {
			e, err := s.change(st.clip, st.action, st.by, st.reason)
			if evidock.ErrorCode(err) != st.code {
				t.Fatalf("step %d: %s %s by %s = %v; want %q", i, st.action, st.clip, st.by, err, st.code)
			}
			if err == nil && (e.Seq != st.seq || e.ID == 0 || e.ClipID != s.clips[st.clip].ID || e.At.IsZero()) {
				t.Fatalf("step %d: entry %+v; want seq %d and the rest filled in", i, e, st.seq)
			}
		}
		unknown := NewClip([]byte("never registered"), "A000001", OfficerZhang, at(9, 30), 9)
		if err := s.svc.ChangeLink(ctx, &evidock.LinkEntry{ActivityID: s.act.ID, Digest: unknown.Digest, Action: evidock.LinkConfirm, By: OfficerZhang}); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("confirm an unregistered clip = %v; want ENOTFOUND", err)
		}
		if err := s.svc.ChangeLink(ctx, &evidock.LinkEntry{ActivityID: 999999, Digest: s.clips["li 09:20"].Digest, Action: evidock.LinkConfirm, By: OfficerZhang}); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("confirm for an unknown activity = %v; want ENOTFOUND", err)
		}

		// Where each link stands.
		links, err := s.svc.FindLinks(ctx, evidock.LinkFilter{ActivityID: s.act.ID})
		if err != nil {
			t.Fatal(err)
		}
		var states []string
		for i, l := range links {
			states = append(states, s.names(links)[i]+"="+string(l.State))
		}
		want := "[zhang 07:00 long=suggested wang 08:35=rejected zhang 09:05=confirmed assigned 09:10=suggested li 09:20=confirmed fast clock 09:20=suggested]"
		if fmt.Sprint(states) != want {
			t.Fatalf("FindLinks = %v; want %s", states, want)
		}
		if byCase, err := s.svc.FindLinks(ctx, evidock.LinkFilter{CaseID: s.c.ID}); err != nil || len(byCase) != len(links) {
			t.Fatalf("FindLinks(case) = %d links, %v; want %d", len(byCase), err, len(links))
		}
		byClip, err := s.svc.FindLinks(ctx, evidock.LinkFilter{Digest: s.clips["zhang 09:05"].Digest})
		if err != nil || len(byClip) != 1 || byClip[0].State != evidock.LinkConfirmed || byClip[0].Last.By != OfficerWang ||
			byClip[0].Last.Reason != "核对后确认属于本次检查" || byClip[0].Clip.FileName != s.clips["zhang 09:05"].FileName {
			t.Fatalf("FindLinks(clip) = %+v, %v", byClip, err)
		}

		// Suggesting again leaves out what officers decided.
		again, err := s.svc.SuggestLinks(ctx, s.act.ID, evidock.DefaultSuggestMargin)
		if err != nil || fmt.Sprint(s.names(again)) != "[zhang 07:00 long assigned 09:10 fast clock 09:20]" {
			t.Fatalf("suggestions after decisions = %v, %v", s.names(again), err)
		}

		// The whole history of one clip, in order, nothing overwritten.
		history, err := s.svc.LinkHistory(ctx, evidock.LinkFilter{Digest: s.clips["zhang 09:05"].Digest})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range history {
			got = append(got, fmt.Sprintf("%d %s %s %s", e.Seq, e.Action, e.By, e.Reason))
		}
		wantHistory := []string{"1 suggest system " + history[0].Reason, "2 confirm 100001 ", "3 unlink 100001 录像属于另一案件", "4 confirm 100002 核对后确认属于本次检查"}
		if fmt.Sprint(got) != fmt.Sprint(wantHistory) {
			t.Fatalf("history = %q; want %q", got, wantHistory)
		}
		all, err := s.svc.LinkHistory(ctx, evidock.LinkFilter{CaseID: s.c.ID})
		if err != nil || len(all) != 5+5 { // 5 suggestions, 5 changes
			t.Fatalf("case history has %d entries (%v); want 10", len(all), err)
		}
		for i := 1; i < len(all); i++ {
			if all[i].ID <= all[i-1].ID {
				t.Fatalf("history out of order: %+v", all)
			}
		}
		for _, f := range []evidock.LinkFilter{{}, {CaseID: 1, ActivityID: 1}, {CaseID: -1}} {
			if _, err := s.svc.FindLinks(ctx, f); evidock.ErrorCode(err) != evidock.EINVALID {
				t.Errorf("FindLinks(%+v) = %v; want EINVALID", f, err)
			}
			if _, err := s.svc.LinkHistory(ctx, f); evidock.ErrorCode(err) != evidock.EINVALID {
				t.Errorf("LinkHistory(%+v) = %v; want EINVALID", f, err)
			}
		}
		if none, err := s.svc.FindLinks(ctx, evidock.LinkFilter{ActivityID: 999999}); err != nil || none == nil || len(none) != 0 {
			t.Fatalf("FindLinks(unknown activity) = %v, %v; want an empty slice", none, err)
		}
	})

	t.Run("ConcurrentConfirm", func(t *testing.T) {
		s := newLinkScene(t, open(t))
		const n = 6
		var (
			wg            sync.WaitGroup
			mu            sync.Mutex
			ok, conflicts int
		)
		for i := range n {
			wg.Go(func() {
				by := []string{OfficerZhang, OfficerWang}[i%2]
				_, err := s.change("zhang 09:05", evidock.LinkConfirm, by, "")
				mu.Lock()
				defer mu.Unlock()
				switch evidock.ErrorCode(err) {
				case "":
					ok++
				case evidock.ECONFLICT:
					conflicts++
				default:
					t.Errorf("concurrent confirm: %v", err)
				}
			})
		}
		wg.Wait()
		if ok != 1 || conflicts != n-1 {
			t.Fatalf("%d confirms succeeded and %d conflicted; want 1 and %d", ok, conflicts, n-1)
		}
		history, err := s.svc.LinkHistory(ctx, evidock.LinkFilter{Digest: s.clips["zhang 09:05"].Digest})
		if err != nil || len(history) != 1 {
			t.Fatalf("history = %+v, %v; want the one confirm", history, err)
		}
	})

	t.Run("MissingRecordings", func(t *testing.T) {
		s := newLinkScene(t, open(t))
		svc := s.svc
		if m, err := svc.MissingRecordings(ctx, s.c.ID); err != nil || m == nil || len(m) != 0 {
			t.Fatalf("MissingRecordings with no mandatory activity = %v, %v; want an empty slice", m, err)
		}
		sampling := MustCreateActivity(t, svc, NewActivity(s.c.ID, evidock.ActivitySampling, at(13, 0), at(14, 0), OfficerZhang))
		leave := NewActivity(s.c.ID, evidock.ActivityService, day(10, 9), day(10, 10), OfficerWang)
		leave.ServiceMethod = evidock.ServiceByLeaving
		MustCreateActivity(t, svc, leave)
		post := NewActivity(s.c.ID, evidock.ActivityService, day(10, 11), day(10, 12), OfficerWang)
		post.ServiceMethod = evidock.ServiceByPost
		MustCreateActivity(t, svc, post)
		assertMissing(t, svc, s.c.ID, sampling.ID, leave.ID)

		clip := NewClip([]byte("sampling"), "A000001", OfficerZhang, at(13, 5), 7)
		mustRegister(t, svc, clip)
		confirm := &evidock.LinkEntry{ActivityID: sampling.ID, Digest: clip.Digest, Action: evidock.LinkConfirm, By: OfficerZhang}
		if err := svc.ChangeLink(ctx, confirm); err != nil {
			t.Fatal(err)
		}
		assertMissing(t, svc, s.c.ID, leave.ID)
		// A clip suggested, not confirmed, is not a recording yet.
		if links, err := svc.SuggestLinks(ctx, leave.ID, evidock.DefaultSuggestMargin); err != nil || len(links) != 0 {
			t.Fatalf("suggestions for the service = %v, %v; want none", links, err)
		}
		unlink := &evidock.LinkEntry{ActivityID: sampling.ID, Digest: clip.Digest, Action: evidock.LinkUnlink, By: OfficerZhang, Reason: "错录"}
		if err := svc.ChangeLink(ctx, unlink); err != nil {
			t.Fatal(err)
		}
		assertMissing(t, svc, s.c.ID, sampling.ID, leave.ID)
		if _, err := svc.MissingRecordings(ctx, 999999); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("MissingRecordings(unknown case) = %v; want ENOTFOUND", err)
		}
	})
}

// assertMissing fails t unless the activities of the case missing their
// mandatory recording are want, in order.
func assertMissing(t *testing.T, svc evidock.LinkService, caseID int64, want ...int64) {
	t.Helper()
	missing, err := svc.MissingRecordings(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	got := []int64{}
	for _, a := range missing {
		got = append(got, a.ID)
		if !a.RecordingMandatory {
			t.Errorf("activity %d listed as missing but not mandatory", a.ID)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(append([]int64{}, want...)) {
		t.Fatalf("MissingRecordings = %v; want %v", got, want)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !contains(s, sub) {
			return false
		}
	}
	return true
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
