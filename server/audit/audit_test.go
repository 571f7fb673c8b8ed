package audit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"evidock"
	"evidock/server/audit"
	"evidock/server/translog"
)

// chain returns n linked events.
func chain(n int) []*evidock.AuditEvent {
	var (
		events []*evidock.AuditEvent
		prev   evidock.LogHash
	)
	t0 := time.Date(2024, 5, 1, 9, 0, 0, 123_456_789, evidock.ChinaTime)
	for i := range n {
		e := &evidock.AuditEvent{Time: t0.Add(time.Duration(i) * time.Minute), Actor: "user:zhang.wei", Action: evidock.AuditViewClip,
			Object: fmt.Sprintf("clip:%d", i), Unit: "city/d1", Reason: "officer@city/d1", RemoteAddr: "10.0.0.7:5000",
			UserAgent: "Mozilla/5.0 (X11) 中文", Outcome: evidock.AuditAllowed}
		audit.Link(e, int64(i), prev, time.Time{})
		prev = e.Hash
		events = append(events, e)
	}
	return events
}

func TestEncode(t *testing.T) {
	e := chain(1)[0]
	want := "evidock audit event v1\n" +
		"seq 1\n" +
		"time 2024-05-01T01:00:00.123456Z\n" +
		"actor user:zhang.wei\n" +
		"action view_clip\n" +
		"object clip:0\n" +
		"unit city/d1\n" +
		"reason officer@city/d1\n" +
		"remote_addr 10.0.0.7:5000\n" +
		"user_agent Mozilla/5.0%20(X11)%20%E4%B8%AD%E6%96%87\n" +
		"outcome allowed\n" +
		"prev AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	if got := string(audit.Encode(e)); got != want {
		t.Fatalf("Encode =\n%s\nwant\n%s", got, want)
	}
}

func TestLinkCleans(t *testing.T) {
	e := &evidock.AuditEvent{UserAgent: "a\x00b\xff" + strings.Repeat("中", 400)}
	now := time.Date(2024, 5, 1, 9, 0, 0, 999, time.UTC)
	audit.Link(e, 0, evidock.LogHash{}, now)
	if !e.Time.Equal(now.Truncate(time.Microsecond)) || e.Seq != 1 {
		t.Fatalf("Link: time %v seq %d", e.Time, e.Seq)
	}
	if len(e.UserAgent) > audit.MaxFieldLen || strings.ContainsRune(e.UserAgent, 0) || !strings.HasPrefix(e.UserAgent, "a\uFFFDb\uFFFD中") ||
		!strings.HasSuffix(e.UserAgent, "中") {
		t.Fatalf("Link kept an unstorable user agent: %q", e.UserAgent)
	}
}

func TestChainDetectsTampering(t *testing.T) {
	check := func(events []*evidock.AuditEvent) error {
		var c audit.Chain
		for _, e := range events {
			if err := c.Add(e); err != nil {
				return err
			}
		}
		return nil
	}
	if err := check(chain(5)); err != nil {
		t.Fatalf("untouched chain: %v", err)
	}
	for _, tt := range []struct {
		name   string
		tamper func(es []*evidock.AuditEvent) []*evidock.AuditEvent
		want   string
	}{
		{"reason changed", func(es []*evidock.AuditEvent) []*evidock.AuditEvent { es[2].Reason = "grant 1"; return es }, "audit event 3 "},
		{"actor changed", func(es []*evidock.AuditEvent) []*evidock.AuditEvent { es[1].Actor = "user:li.na"; return es }, "audit event 2 "},
		{"time changed", func(es []*evidock.AuditEvent) []*evidock.AuditEvent {
			es[3].Time = es[3].Time.Add(time.Microsecond)
			return es
		}, "audit event 4 "},
		{"outcome changed", func(es []*evidock.AuditEvent) []*evidock.AuditEvent { es[0].Outcome = evidock.AuditDenied; return es }, "audit event 1 "},
		{"removed", func(es []*evidock.AuditEvent) []*evidock.AuditEvent { return append(es[:2], es[3:]...) }, "event 3 should be"},
		{"removed and renumbered", func(es []*evidock.AuditEvent) []*evidock.AuditEvent {
			es = append(es[:2], es[3:]...)
			for i, e := range es {
				e.Seq = int64(i + 1)
			}
			return es
		}, "audit event 3: its prev_hash"},
		{"rehashed after a change", func(es []*evidock.AuditEvent) []*evidock.AuditEvent {
			// Whoever recomputes the changed event's hash breaks the
			// next event's link instead.
			es[1].Reason = "grant 1"
			es[1].Hash = audit.Hash(es[1])
			return es
		}, "audit event 3: its prev_hash"},
		{"swapped", func(es []*evidock.AuditEvent) []*evidock.AuditEvent { es[1], es[2] = es[2], es[1]; return es }, "event 2 should be"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := check(tt.tamper(chain(5)))
			if evidock.ErrorCode(err) != evidock.EUNVERIFIED || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Add = %v; want EUNVERIFIED containing %q", err, tt.want)
			}
		})
	}
}

// memStore is an audit.Store over a slice, for VerifyStore.
type memStore struct{ events []*evidock.AuditEvent }

func (m *memStore) AppendAudit(context.Context, *evidock.AuditEvent) error { return nil }
func (m *memStore) FindAuditEvents(context.Context, evidock.AuditFilter) ([]*evidock.AuditEvent, error) {
	return nil, nil
}
func (m *memStore) ReadAuditChain(_ context.Context, after int64, limit int) ([]*evidock.AuditEvent, error) {
	var out []*evidock.AuditEvent
	for _, e := range m.events {
		if e.Seq > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func TestCheckpoint(t *testing.T) {
	skey, vkey, err := translog.GenerateKey("evidock.test/registry")
	if err != nil {
		t.Fatal(err)
	}
	events := chain(2500) // more than one batch of VerifyStore
	store := &memStore{events: events}
	n, head, err := audit.VerifyStore(context.Background(), store, nil)
	if err != nil || n != 2500 || head != events[2499].Hash {
		t.Fatalf("VerifyStore = %d, %s, %v", n, head, err)
	}
	signed, err := audit.SignSkey(skey, audit.Checkpoint{Size: 1200, Head: events[1199].Hash})
	if err != nil {
		t.Fatal(err)
	}
	cp, err := audit.Open(vkey, signed)
	if err != nil || cp.Size != 1200 || cp.Head != events[1199].Hash || cp.Origin != "evidock.test/registry" {
		t.Fatalf("Open = %+v, %v", cp, err)
	}
	if _, _, err := audit.VerifyStore(context.Background(), store, cp.Matches); err != nil {
		t.Fatalf("the log passes through its checkpoint: %v", err)
	}
	// A log rewritten from event 1000 on, every hash recomputed, verifies
	// as a chain but not against the checkpoint signed before.
	rewritten := chain(2500)
	prev := rewritten[998].Hash
	for i := 999; i < len(rewritten); i++ {
		rewritten[i].Reason = "nothing to see"
		audit.Link(rewritten[i], int64(i), prev, time.Time{})
		prev = rewritten[i].Hash
	}
	_, _, err = audit.VerifyStore(context.Background(), &memStore{events: rewritten}, cp.Matches)
	if evidock.ErrorCode(err) != evidock.EUNVERIFIED || !strings.Contains(err.Error(), "rewritten") {
		t.Fatalf("rewritten log against the checkpoint = %v; want EUNVERIFIED ... rewritten", err)
	}

	// Forgeries and confusions.
	otherSkey, _, _ := translog.GenerateKey("evidock.test/registry")
	forged, _ := audit.SignSkey(otherSkey, audit.Checkpoint{Size: 1200, Head: events[1199].Hash})
	registry, _ := translog.SignCheckpoint(mustSigner(t, skey), translog.Checkpoint{Origin: "evidock.test/registry", Size: 1200, Root: events[1199].Hash})
	altered := []byte(strings.Replace(string(signed), "\n1200\n", "\n1199\n", 1))
	for name, note := range map[string][]byte{"another key": forged, "a registry checkpoint": registry, "altered": altered} {
		if _, err := audit.Open(vkey, note); evidock.ErrorCode(err) != evidock.EUNVERIFIED {
			t.Errorf("Open(%s) = %v; want EUNVERIFIED", name, err)
		}
	}
}

func mustSigner(t *testing.T, skey string) note.Signer {
	t.Helper()
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
