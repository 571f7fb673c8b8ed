package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"evidock"
	"evidock/server/audit"
	"evidock/server/auth"
)

// PeopleStore is what the people-and-permissions suite needs of a store:
// users, sessions and failed logins (auth.Store), access requests, the
// audit chain, clips to name in requests, and the units roles are held in.
type PeopleStore interface {
	auth.Store
	evidock.AccessService
	audit.Store
	evidock.ClipService
	UnitStore
}

// NewUser returns a valid, unsaved user with the roles given as
// "role@unit".
func NewUser(login, officerNo string, roles ...string) *evidock.User {
	u := &evidock.User{Login: login, Name: "用户 " + login, OfficerNo: officerNo}
	for _, r := range roles {
		role, unit, _ := strings.Cut(r, "@")
		u.Roles = append(u.Roles, evidock.RoleAssignment{Role: evidock.Role(role), Unit: unit})
	}
	return u
}

// TestPassword is the password MustCreateUser gives every user.
const TestPassword = "correct horse battery staple"

// MustCreateUser stores u with TestPassword (hashed with auth.TestParams),
// failing tb on error.
func MustCreateUser(tb testing.TB, store auth.Store, u *evidock.User) *evidock.User {
	tb.Helper()
	hash, err := auth.HashPassword(TestPassword, auth.TestParams)
	if err != nil {
		tb.Fatal(err)
	}
	ev := &evidock.AuditEvent{Actor: "system:test", Action: evidock.AuditCreateUser, Outcome: evidock.AuditAllowed, Unit: evidock.CommonUnit(u.Units())}
	if err := store.CreateUser(context.Background(), u, hash, ev); err != nil {
		tb.Fatalf("create user %s: %v", u.Login, err)
	}
	return u
}

// testPolicy is auth.DefaultPolicy with cheap hashes and small limits.
var testPolicy = auth.Policy{
	SessionTTL:          8 * time.Hour,
	IdleTimeout:         30 * time.Minute,
	MaxFailuresPerLogin: 3,
	MaxFailuresPerAddr:  10,
	FailureWindow:       15 * time.Minute,
	Params:              auth.TestParams,
}

// clock is a settable time for auth.Service.SetClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// RunPeopleStore runs the people-and-permissions contract against stores
// made by open, which must return a new empty store for every call: users
// and roles, sessions, failed logins (through auth.Service: good, bad and
// rate-limited logins, session expiry), access requests and grants, and the
// audit chain. Each store gets the units of SeedCity first, so that roles
// can be held in them.
func RunPeopleStore(t *testing.T, openEmpty func(t *testing.T) PeopleStore) {
	ctx := context.Background()
	open := func(t *testing.T) PeopleStore {
		s := openEmpty(t)
		SeedCity(t, s)
		return s
	}

	t.Run("Users", func(t *testing.T) {
		s := open(t)
		u := MustCreateUser(t, s, NewUser("zhang.wei", "100001", "officer@city/d1/t2", "supervisor@city/d1"))
		if u.ID == 0 || u.CreatedAt.IsZero() || u.CreatedAt.Location().String() != evidock.ChinaTime.String() {
			t.Fatalf("CreateUser did not fill ID and CreatedAt (China time): %+v", u)
		}
		for _, find := range []func() (*evidock.User, error){
			func() (*evidock.User, error) { return s.FindUserByID(ctx, u.ID) },
			func() (*evidock.User, error) { return s.FindUserByLogin(ctx, "zhang.wei") },
		} {
			got, err := find()
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != u.ID || got.Login != u.Login || got.Name != u.Name || got.OfficerNo != "100001" || got.Disabled ||
				!got.CreatedAt.Equal(u.CreatedAt) || fmt.Sprint(got.Roles) != "[supervisor@city/d1 officer@city/d1/t2]" {
				t.Fatalf("found %+v; want %+v", got, u)
			}
		}
		got, hash, err := s.UserCredentials(ctx, "zhang.wei")
		if err != nil || got.ID != u.ID {
			t.Fatalf("UserCredentials = %+v, %v", got, err)
		}
		if ok, err := auth.VerifyPassword(hash, TestPassword); !ok || err != nil {
			t.Fatalf("stored hash does not verify the password: %v, %v", ok, err)
		}
		MustCreateUser(t, s, NewUser("admin", "", "administrator@city"))
		users, err := s.FindUsers(ctx)
		if err != nil || len(users) != 2 || users[0].Login != "admin" || users[1].Login != "zhang.wei" || len(users[1].Roles) != 2 {
			t.Fatalf("FindUsers = %v, %v; want admin, zhang.wei with their roles", users, err)
		}
		for _, tt := range []struct {
			name string
			u    *evidock.User
			want string
		}{
			{"login taken", NewUser("zhang.wei", "", "officer@city/d1"), evidock.ECONFLICT},
			{"officer number taken", NewUser("li.na", "100001", "officer@city/d1"), evidock.ECONFLICT},
			{"invalid", NewUser("Li Na", "", "officer@city/d1"), evidock.EINVALID},
			{"no roles", NewUser("li.na", ""), evidock.EINVALID},
		} {
			if err := s.CreateUser(ctx, tt.u, "x", nil); evidock.ErrorCode(err) != tt.want {
				t.Errorf("%s: CreateUser = %v; want %s", tt.name, err, tt.want)
			}
		}
		if _, err := s.FindUserByLogin(ctx, "nobody"); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Errorf("FindUserByLogin(nobody) = %v; want ENOTFOUND", err)
		}
		if _, _, err := s.UserCredentials(ctx, "nobody"); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Errorf("UserCredentials(nobody) = %v; want ENOTFOUND", err)
		}
		// Each creation is in the audit log, in the creating transaction.
		events := mustAudit(t, s, evidock.AuditFilter{Action: evidock.AuditCreateUser})
		if len(events) != 2 || events[0].Object != "user:zhang.wei" || events[0].Unit != "city/d1" || events[1].Object != "user:admin" {
			t.Fatalf("create_user events = %v; want zhang.wei (unit city/d1) and admin", eventObjects(events))
		}
	})

	t.Run("DisableEndsSessions", func(t *testing.T) {
		s := open(t)
		u := MustCreateUser(t, s, NewUser("zhang.wei", "", "officer@city/d1"))
		_, hash, _ := auth.NewSessionToken()
		now := time.Now().Truncate(time.Microsecond)
		if err := s.CreateSession(ctx, &auth.Session{TokenHash: hash, UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		ev := &evidock.AuditEvent{Actor: "user:admin", Action: evidock.AuditDisableUser, Object: "user:zhang.wei", Outcome: evidock.AuditAllowed}
		if err := s.SetUserDisabled(ctx, u.ID, true, ev); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.FindUserByID(ctx, u.ID); !got.Disabled {
			t.Fatal("user not disabled")
		}
		if _, err := s.FindSession(ctx, hash); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("session of a disabled user = %v; want it gone", err)
		}
		if ev.Seq == 0 {
			t.Fatal("the disabling was not audited")
		}
		if err := s.SetUserDisabled(ctx, 9999, true, nil); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("SetUserDisabled(unknown) = %v; want ENOTFOUND", err)
		}
	})

	t.Run("Sessions", func(t *testing.T) {
		s := open(t)
		u := MustCreateUser(t, s, NewUser("zhang.wei", "", "officer@city/d1"))
		_, hash, _ := auth.NewSessionToken()
		now := time.Date(2024, 5, 1, 9, 0, 0, 123_456_789, evidock.ChinaTime)
		in := &auth.Session{TokenHash: hash, UserID: u.ID, CreatedAt: now.Truncate(time.Microsecond), LastSeenAt: now.Truncate(time.Microsecond),
			ExpiresAt: now.Add(time.Hour).Truncate(time.Microsecond), RemoteAddr: "10.0.0.7:5000", UserAgent: "Firefox"}
		if err := s.CreateSession(ctx, in); err != nil {
			t.Fatal(err)
		}
		got, err := s.FindSession(ctx, hash)
		if err != nil || got.UserID != u.ID || !got.ExpiresAt.Equal(in.ExpiresAt) || !got.LastSeenAt.Equal(in.LastSeenAt) || got.UserAgent != "Firefox" {
			t.Fatalf("FindSession = %+v, %v; want %+v", got, err, in)
		}
		later := now.Add(10 * time.Minute).Truncate(time.Microsecond)
		if err := s.TouchSession(ctx, hash, later); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.FindSession(ctx, hash); !got.LastSeenAt.Equal(later) {
			t.Fatalf("after TouchSession last seen = %v; want %v", got.LastSeenAt, later)
		}
		if err := s.DeleteSession(ctx, hash); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FindSession(ctx, hash); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("FindSession after delete = %v; want ENOTFOUND", err)
		}
		if err := s.DeleteSession(ctx, hash); err != nil {
			t.Fatalf("deleting a deleted session = %v; want nil", err)
		}
	})

	t.Run("LoginFailures", func(t *testing.T) {
		s := open(t)
		t0 := time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime)
		window := 15 * time.Minute
		keys := []string{"login:zhang.wei", "addr:10.0.0.7"}
		// Failures recorded at once from many goroutines, as from
		// several server instances, are all counted.
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				if err := s.RecordLoginFailure(ctx, keys, t0.Add(time.Duration(i)*time.Second), t0.Add(-window)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		counts, err := s.LoginFailures(ctx, append(keys, "login:other"), t0.Add(-window))
		if err != nil || counts["login:zhang.wei"] != 8 || counts["addr:10.0.0.7"] != 8 || counts["login:other"] != 0 {
			t.Fatalf("LoginFailures = %v, %v; want 8 for each key, none for others", counts, err)
		}
		// A window that began before since no longer counts...
		at := t0.Add(window + time.Minute)
		if counts, _ := s.LoginFailures(ctx, keys, at.Add(-window)); len(counts) != 0 {
			t.Fatalf("LoginFailures after the window = %v; want none", counts)
		}
		// ... and the next failure starts a new one.
		if err := s.RecordLoginFailure(ctx, keys[:1], at, at.Add(-window)); err != nil {
			t.Fatal(err)
		}
		if counts, _ := s.LoginFailures(ctx, keys, at.Add(-window)); counts["login:zhang.wei"] != 1 || counts["addr:10.0.0.7"] != 0 {
			t.Fatalf("LoginFailures in a new window = %v; want 1 for the login", counts)
		}
		if err := s.ClearLoginFailures(ctx, "login:zhang.wei"); err != nil {
			t.Fatal(err)
		}
		if counts, _ := s.LoginFailures(ctx, keys, t0.Add(-time.Hour)); counts["login:zhang.wei"] != 0 || counts["addr:10.0.0.7"] != 8 {
			t.Fatalf("LoginFailures after clearing the login = %v; want the address's kept", counts)
		}
	})

	t.Run("Login", func(t *testing.T) { runLogin(t, open(t)) })

	t.Run("AccessRequests", func(t *testing.T) { runAccessRequests(t, open(t)) })

	t.Run("AuditChain", func(t *testing.T) {
		s := openEmpty(t) // no units: their creation would be audited too
		// Nanoseconds: stored in microseconds, as both stores keep them.
		t0 := time.Date(2024, 5, 1, 9, 0, 0, 987_654_321, evidock.ChinaTime)
		us := t0.Truncate(time.Microsecond)
		units := []string{"city/d1", "city/d1/t2", "city/d10", "city/d2", ""}
		for i := range 20 {
			e := &evidock.AuditEvent{Time: t0.Add(time.Duration(i) * time.Minute), Actor: fmt.Sprintf("user:u%d", i%3),
				Action: []string{evidock.AuditViewClip, evidock.AuditLogin}[i%2], Object: fmt.Sprintf("clip:%d", i),
				Unit: units[i%len(units)], Reason: "理由 " + strings.Repeat("x", i), RemoteAddr: "10.0.0.7:5000",
				UserAgent: "Mozilla/5.0 (X11)\x00\xff", Outcome: evidock.AuditAllowed}
			if err := s.AppendAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
			if e.Seq != int64(i+1) || e.Hash != audit.Hash(e) {
				t.Fatalf("event %d: seq %d, hash matches content: %v", i, e.Seq, e.Hash == audit.Hash(e))
			}
		}
		n, head, err := audit.VerifyStore(ctx, s, nil)
		if err != nil || n != 20 {
			t.Fatalf("VerifyStore = %d, %v; want 20 events that verify", n, err)
		}
		last := mustAudit(t, s, evidock.AuditFilter{AfterSeq: 19})
		if len(last) != 1 || last[0].Hash != head {
			t.Fatalf("head %s is not the last event's hash", head)
		}
		if !last[0].Time.Equal(t0.Add(19*time.Minute).Truncate(time.Microsecond)) || last[0].Time.Location().String() != evidock.ChinaTime.String() {
			t.Errorf("stored time = %v; want %v in China time, in microseconds", last[0].Time, t0.Add(19*time.Minute))
		}
		for _, tt := range []struct {
			name string
			f    evidock.AuditFilter
			want []int64
		}{
			{"actor", evidock.AuditFilter{Actor: "user:u1", Limit: 3}, []int64{2, 5, 8}},
			{"action", evidock.AuditFilter{Action: evidock.AuditLogin, AfterSeq: 14}, []int64{16, 18, 20}},
			{"time", evidock.AuditFilter{From: us.Add(3 * time.Minute), To: us.Add(5 * time.Minute)}, []int64{4, 5}},
			{"time just before", evidock.AuditFilter{From: us.Add(17*time.Minute - time.Nanosecond)}, []int64{18, 19, 20}},
			{"time just after", evidock.AuditFilter{From: us.Add(17*time.Minute + time.Nanosecond), To: us.Add(19*time.Minute + time.Nanosecond)}, []int64{19, 20}},
			// city/d1 holds city/d1/t2 but not city/d10 or the unitless.
			{"scope", evidock.AuditFilter{Scopes: []string{"city/d1"}, Limit: 4}, []int64{1, 2, 6, 7}},
			{"scopes", evidock.AuditFilter{Scopes: []string{"city/d1/t2", "city/d2"}, Limit: 4}, []int64{2, 4, 7, 9}},
			{"no scopes", evidock.AuditFilter{Scopes: []string{}}, nil},
			{"scope and actor", evidock.AuditFilter{Scopes: []string{"city"}, Actor: "user:u0"}, []int64{1, 4, 7, 13, 16, 19}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var got []int64
				for _, e := range mustAudit(t, s, tt.f) {
					got = append(got, e.Seq)
				}
				if !slices.Equal(got, tt.want) {
					t.Fatalf("FindAuditEvents = %v; want %v", got, tt.want)
				}
			})
		}
		if _, err := s.FindAuditEvents(ctx, evidock.AuditFilter{Limit: evidock.MaxAuditLimit + 1}); evidock.ErrorCode(err) != evidock.EINVALID {
			t.Errorf("limit above the maximum = %v; want EINVALID", err)
		}
	})

	t.Run("AuditConcurrent", func(t *testing.T) {
		s := openEmpty(t) // no units: their creation would be audited too
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := range 10 {
					if err := s.AppendAudit(ctx, &evidock.AuditEvent{Actor: fmt.Sprintf("user:w%d", w), Action: evidock.AuditViewClip,
						Object: fmt.Sprint(i), Outcome: evidock.AuditAllowed}); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if n, _, err := audit.VerifyStore(ctx, s, nil); err != nil || n != 40 {
			t.Fatalf("after concurrent appends VerifyStore = %d, %v; want 40 events that verify", n, err)
		}
	})
}

// RunAuditTamper shows that the database refuses to change or remove an
// audit event, and that a change made anyway (by someone who drops the
// trigger first) is found by audit.VerifyStore, naming the event. exec runs
// a statement on the store's database; dropUpdateTrigger is the statement
// that drops the trigger refusing UPDATE of audit_events.
func RunAuditTamper(t *testing.T, s PeopleStore, exec func(stmt string) error, dropUpdateTrigger string) {
	ctx := context.Background()
	for i := range 5 {
		if err := s.AppendAudit(ctx, &evidock.AuditEvent{Actor: "user:zhang.wei", Action: evidock.AuditViewClip,
			Object: fmt.Sprintf("clip:%d", i), Reason: "officer@city/d1", Outcome: evidock.AuditAllowed}); err != nil {
			t.Fatal(err)
		}
	}
	for _, stmt := range []string{
		"UPDATE audit_events SET reason = 'nothing to see' WHERE seq = 3",
		"DELETE FROM audit_events WHERE seq = 5",
		"DELETE FROM audit_events",
	} {
		if err := exec(stmt); err == nil || !strings.Contains(err.Error(), "never") {
			t.Errorf("%s = %v; want the trigger's refusal", stmt, err)
		}
	}
	if _, _, err := audit.VerifyStore(ctx, s, nil); err != nil {
		t.Fatalf("untouched log: %v", err)
	}
	if err := exec(dropUpdateTrigger); err != nil {
		t.Fatal(err)
	}
	if err := exec("UPDATE audit_events SET reason = 'nothing to see' WHERE seq = 3"); err != nil {
		t.Fatal(err)
	}
	n, _, err := audit.VerifyStore(ctx, s, nil)
	if evidock.ErrorCode(err) != evidock.EUNVERIFIED || !strings.Contains(err.Error(), "audit event 3 ") || n != 2 {
		t.Fatalf("VerifyStore after a changed row = %d, %v; want EUNVERIFIED naming event 3 after 2 good events", n, err)
	}
}

// runLogin drives auth.Service over s: good, wrong and rate-limited logins,
// and sessions that expire, idle out, end at logout and end when the user is
// disabled.
func runLogin(t *testing.T, s PeopleStore) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime)}
	svc := mustService(t, s, clk)
	// A second instance sharing the database, as behind a load balancer.
	other := mustService(t, s, clk)
	u := MustCreateUser(t, s, NewUser("zhang.wei", "100001", "officer@city/d1/t2"))
	from := auth.Client{RemoteAddr: "10.0.0.7:50000", UserAgent: "Firefox"}

	login, err := svc.Login(ctx, "zhang.wei", TestPassword, from)
	if err != nil {
		t.Fatalf("good login: %v", err)
	}
	if login.User.ID != u.ID || !strings.HasPrefix(login.Token, auth.SessionTokenPrefix) || !login.ExpiresAt.Equal(clk.now().Add(testPolicy.SessionTTL)) {
		t.Fatalf("login = %+v", login)
	}
	got, _, err := other.Authenticate(ctx, login.Token)
	if err != nil || got.ID != u.ID {
		t.Fatalf("Authenticate on another instance = %+v, %v", got, err)
	}

	// Wrong passwords and unknown logins look alike.
	for _, tt := range []struct{ login, pw string }{{"zhang.wei", "wrong password!"}, {"nobody", TestPassword}, {"", ""}} {
		if _, err := svc.Login(ctx, tt.login, tt.pw, auth.Client{RemoteAddr: "10.0.0.9:1"}); evidock.ErrorCode(err) != evidock.EUNAUTHORIZED ||
			evidock.ErrorMessage(err) != "wrong login or password" {
			t.Errorf("Login(%q, %q) = %v; want EUNAUTHORIZED 'wrong login or password'", tt.login, tt.pw, err)
		}
	}

	// The limit per login, counted across instances: after 3 failures
	// (one above, two here, on either instance) even the right password
	// is refused, without being checked, until the window has passed.
	for _, inst := range []*auth.Service{other, svc} {
		if _, err := inst.Login(ctx, "zhang.wei", "wrong password!", from); evidock.ErrorCode(err) != evidock.EUNAUTHORIZED {
			t.Fatalf("wrong password = %v", err)
		}
	}
	for _, inst := range []*auth.Service{svc, other} {
		if _, err := inst.Login(ctx, "zhang.wei", TestPassword, from); evidock.ErrorCode(err) != evidock.ERATELIMITED {
			t.Fatalf("login after 3 failures = %v; want ERATELIMITED", err)
		}
	}
	clk.add(testPolicy.FailureWindow + time.Second)
	login2, err := other.Login(ctx, "zhang.wei", TestPassword, from)
	if err != nil {
		t.Fatalf("login after the window = %v", err)
	}

	// The limit per address: 10 failures from one address under
	// different logins lock out that address, not others.
	for i := range 10 {
		svc.Login(ctx, fmt.Sprintf("guess%d", i), "wrong password!", auth.Client{RemoteAddr: "192.0.2.1:4000"})
	}
	if _, err := svc.Login(ctx, "zhang.wei", TestPassword, auth.Client{RemoteAddr: "192.0.2.1:4001"}); evidock.ErrorCode(err) != evidock.ERATELIMITED {
		t.Fatalf("login from a locked-out address = %v; want ERATELIMITED", err)
	}
	if _, err := svc.Login(ctx, "zhang.wei", TestPassword, auth.Client{RemoteAddr: "192.0.2.2:4001"}); err != nil {
		t.Fatalf("login from another address = %v", err)
	}

	// Idle timeout: use within the timeout keeps the session, a gap of
	// the timeout ends it.
	clk.add(testPolicy.IdleTimeout - time.Minute)
	if _, _, err := svc.Authenticate(ctx, login2.Token); err != nil {
		t.Fatalf("session used within the idle timeout: %v", err)
	}
	clk.add(testPolicy.IdleTimeout - time.Minute)
	if _, _, err := svc.Authenticate(ctx, login2.Token); err != nil {
		t.Fatalf("session used again within the idle timeout: %v", err)
	}
	clk.add(testPolicy.IdleTimeout)
	if _, _, err := svc.Authenticate(ctx, login2.Token); evidock.ErrorCode(err) != evidock.EUNAUTHORIZED || !strings.Contains(err.Error(), "without use") {
		t.Fatalf("idle session = %v; want EUNAUTHORIZED ... without use", err)
	}

	// Absolute expiry, however busy the session.
	login3, err := svc.Login(ctx, "zhang.wei", TestPassword, from)
	if err != nil {
		t.Fatal(err)
	}
	for clk.now().Before(login3.ExpiresAt.Add(-20 * time.Minute)) {
		clk.add(20 * time.Minute)
		if _, _, err := svc.Authenticate(ctx, login3.Token); err != nil {
			t.Fatalf("busy session before expiry: %v", err)
		}
	}
	clk.add(20 * time.Minute)
	if _, _, err := svc.Authenticate(ctx, login3.Token); evidock.ErrorCode(err) != evidock.EUNAUTHORIZED || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("session past its expiry = %v; want EUNAUTHORIZED ... expired", err)
	}

	// Logout ends the session on every instance.
	login4, err := svc.Login(ctx, "zhang.wei", TestPassword, from)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Logout(ctx, login4.Token, from); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Authenticate(ctx, login4.Token); evidock.ErrorCode(err) != evidock.EUNAUTHORIZED {
		t.Fatalf("session after logout = %v; want EUNAUTHORIZED", err)
	}

	// A disabled user can neither log in nor use a session.
	login5, err := svc.Login(ctx, "zhang.wei", TestPassword, from)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserDisabled(ctx, u.ID, true, &evidock.AuditEvent{Actor: "user:admin", Action: evidock.AuditDisableUser, Outcome: evidock.AuditAllowed}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Authenticate(ctx, login5.Token); evidock.ErrorCode(err) != evidock.EUNAUTHORIZED {
		t.Fatalf("session of a disabled user = %v; want EUNAUTHORIZED", err)
	}
	if _, err := svc.Login(ctx, "zhang.wei", TestPassword, from); evidock.ErrorCode(err) != evidock.EUNAUTHORIZED || !strings.Contains(err.Error(), "disabled") {
		t.Fatalf("login of a disabled user = %v; want EUNAUTHORIZED ... disabled", err)
	}

	// Every attempt is in the audit log, from where it came.
	events := mustAudit(t, s, evidock.AuditFilter{Action: evidock.AuditLogin})
	outcomes := map[string]int{}
	for _, e := range events {
		outcomes[e.Outcome]++
		if e.RemoteAddr == "" {
			t.Errorf("login event %d has no remote address", e.Seq)
		}
	}
	if outcomes[evidock.AuditAllowed] != 6 || outcomes[evidock.AuditFailed] != 15 || outcomes[evidock.AuditDenied] != 4 {
		t.Errorf("login events by outcome = %v; want 6 allowed, 15 failed, 4 denied", outcomes)
	}
	if logouts := mustAudit(t, s, evidock.AuditFilter{Action: evidock.AuditLogout}); len(logouts) != 1 || logouts[0].Actor != "user:zhang.wei" {
		t.Errorf("logout events = %v", eventObjects(logouts))
	}
	if _, _, err := audit.VerifyStore(ctx, s, nil); err != nil {
		t.Fatal(err)
	}
}

func mustService(t *testing.T, s PeopleStore, clk *clock) *auth.Service {
	t.Helper()
	svc, err := auth.New(s, testPolicy)
	if err != nil {
		t.Fatal(err)
	}
	svc.SetClock(clk.now)
	return svc
}

// runAccessRequests holds the store to the life of an access request:
// created pending (with its audit event), listed, decided once by someone
// other than the requester (with its event), and then a grant.
func runAccessRequests(t *testing.T, s PeopleStore) {
	ctx := context.Background()
	officer := MustCreateUser(t, s, NewUser("zhang.wei", "100001", "officer@city/d1/t2"))
	head := MustCreateUser(t, s, NewUser("wang.fang", "", "department_head@city/d1"))
	clips := registerN(t, s, 3, "access")
	t0 := time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime)

	newRequest := func(clips ...*evidock.Clip) *evidock.AccessRequest {
		r := &evidock.AccessRequest{RequesterID: officer.ID, Actions: []evidock.Action{evidock.ActionViewClip, evidock.ActionDownloadClip},
			Units: []string{"city/d1/t3"}, Reason: "投诉 2024-17 涉及此次检查", DurationSeconds: 3600}
		for _, c := range clips {
			r.Clips = append(r.Clips, c.Digest)
		}
		return r
	}
	r := newRequest(clips[0], clips[1])
	ev := &evidock.AuditEvent{Actor: "user:zhang.wei", Action: evidock.AuditRequestAccess, Unit: "city/d1/t3", Reason: r.Reason, Outcome: evidock.AuditAllowed}
	if err := s.CreateAccessRequest(ctx, r, ev); err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 || r.State != evidock.AccessPending || r.CreatedAt.IsZero() || r.Requester != "zhang.wei" ||
		len(r.Clips) != 2 || r.Clips[0] != clips[0].Digest || fmt.Sprint(r.Units) != "[city/d1/t3]" || !r.DecidedAt.IsZero() {
		t.Fatalf("created request = %+v", r)
	}
	if ev.Seq == 0 || ev.Object != fmt.Sprintf("access_request:%d", r.ID) {
		t.Fatalf("request event = %+v; want it appended, naming the request", ev)
	}
	// No grant before a decision.
	if g, err := s.FindGrants(ctx, officer.ID, clips[0].Digest, nil); err != nil || len(g) != 0 {
		t.Fatalf("grants of a pending request = %v, %v; want none", g, err)
	}

	// Unknown clips and invalid requests store nothing.
	bad := newRequest(clips[2])
	bad.Clips = append(bad.Clips, NewClip([]byte("never registered"), "A123456", "100001", day(0, 9), 9).Digest)
	if err := s.CreateAccessRequest(ctx, bad, &evidock.AuditEvent{Actor: "user:zhang.wei", Action: evidock.AuditRequestAccess}); evidock.ErrorCode(err) != evidock.ENOTFOUND {
		t.Fatalf("request for an unregistered clip = %v; want ENOTFOUND", err)
	}
	bad = newRequest(clips[2])
	bad.Reason = ""
	if err := s.CreateAccessRequest(ctx, bad, nil); evidock.ErrorCode(err) != evidock.EINVALID {
		t.Fatalf("request without a reason = %v; want EINVALID", err)
	}

	second := newRequest(clips[2])
	if err := s.CreateAccessRequest(ctx, second, nil); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		f    evidock.AccessRequestFilter
		want []int64
	}{
		{evidock.AccessRequestFilter{}, []int64{second.ID, r.ID}},
		{evidock.AccessRequestFilter{State: evidock.AccessPending, Limit: 1}, []int64{second.ID}},
		{evidock.AccessRequestFilter{RequesterID: head.ID}, nil},
	} {
		got, err := s.FindAccessRequests(ctx, tt.f)
		var ids []int64
		for _, x := range got {
			ids = append(ids, x.ID)
		}
		if err != nil || !slices.Equal(ids, tt.want) {
			t.Errorf("FindAccessRequests(%+v) = %v, %v; want %v", tt.f, ids, err, tt.want)
		}
	}

	// Nobody decides their own request; a decision needs a reason.
	if _, err := s.DecideAccessRequest(ctx, evidock.AccessDecision{RequestID: r.ID, Approve: true, DeciderID: officer.ID, Reason: "mine", At: t0}, nil); evidock.ErrorCode(err) != evidock.EFORBIDDEN {
		t.Fatalf("deciding one's own request = %v; want EFORBIDDEN", err)
	}
	if _, err := s.DecideAccessRequest(ctx, evidock.AccessDecision{RequestID: r.ID, Approve: true, DeciderID: head.ID, At: t0}, nil); evidock.ErrorCode(err) != evidock.EINVALID {
		t.Fatalf("a decision without a reason = %v; want EINVALID", err)
	}
	if _, err := s.DecideAccessRequest(ctx, evidock.AccessDecision{RequestID: 9999, Approve: true, DeciderID: head.ID, Reason: "ok", At: t0}, nil); evidock.ErrorCode(err) != evidock.ENOTFOUND {
		t.Fatalf("deciding an unknown request = %v; want ENOTFOUND", err)
	}

	dev := &evidock.AuditEvent{Actor: "user:wang.fang", Action: evidock.AuditApproveAccess, Object: fmt.Sprintf("access_request:%d", r.ID), Outcome: evidock.AuditAllowed}
	approved, err := s.DecideAccessRequest(ctx, evidock.AccessDecision{RequestID: r.ID, Approve: true, DeciderID: head.ID, Reason: "与投诉相关", At: t0}, dev)
	if err != nil {
		t.Fatal(err)
	}
	if approved.State != evidock.AccessApproved || approved.Decider != "wang.fang" || approved.DecisionReason != "与投诉相关" ||
		!approved.DecidedAt.Equal(t0) || !approved.ValidUntil.Equal(t0.Add(time.Hour)) || dev.Seq == 0 {
		t.Fatalf("approved request = %+v (event seq %d)", approved, dev.Seq)
	}
	if _, err := s.DecideAccessRequest(ctx, evidock.AccessDecision{RequestID: r.ID, Approve: false, DeciderID: head.ID, Reason: "changed my mind", At: t0}, nil); evidock.ErrorCode(err) != evidock.ECONFLICT {
		t.Fatalf("deciding twice = %v; want ECONFLICT", err)
	}
	refused, err := s.DecideAccessRequest(ctx, evidock.AccessDecision{RequestID: second.ID, Approve: false, DeciderID: head.ID, Reason: "无关", At: t0}, nil)
	if err != nil || refused.State != evidock.AccessRefused || !refused.ValidUntil.IsZero() {
		t.Fatalf("refused request = %+v, %v", refused, err)
	}

	// The approved request is a grant for its clips, to its requester.
	grants, err := s.FindGrants(ctx, officer.ID, clips[1].Digest, nil)
	if err != nil || len(grants) != 1 {
		t.Fatalf("FindGrants = %v, %v; want the approved request", grants, err)
	}
	g := grants[0]
	if g.RequestID != r.ID || g.UserID != officer.ID || !g.ValidFrom.Equal(t0) || !g.ValidUntil.Equal(t0.Add(time.Hour)) ||
		fmt.Sprint(g.Actions) != "[view_clip download_clip]" || len(g.Clips) != 2 {
		t.Fatalf("grant = %+v", g)
	}
	for _, tt := range []struct {
		name string
		user int64
		clip evidock.Digest
	}{
		{"another user", head.ID, clips[0].Digest},
		{"the refused request's clip", officer.ID, clips[2].Digest},
	} {
		if g, err := s.FindGrants(ctx, tt.user, tt.clip, nil); err != nil || len(g) != 0 {
			t.Errorf("FindGrants for %s = %v, %v; want none", tt.name, g, err)
		}
	}

	// A request for a case is a grant for the clips of that case.
	cr := &evidock.AccessRequest{RequesterID: officer.ID, Actions: []evidock.Action{evidock.ActionExport}, CaseID: "2024-city-017",
		Units: []string{"city/d1"}, Reason: "court", DurationSeconds: 86400}
	if err := s.CreateAccessRequest(ctx, cr, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DecideAccessRequest(ctx, evidock.AccessDecision{RequestID: cr.ID, Approve: true, DeciderID: head.ID, Reason: "court order", At: t0}, nil); err != nil {
		t.Fatal(err)
	}
	if g, err := s.FindGrants(ctx, officer.ID, clips[2].Digest, []string{"2024-city-016", "2024-city-017"}); err != nil || len(g) != 1 || g[0].CaseID != "2024-city-017" {
		t.Fatalf("FindGrants by case = %+v, %v; want the case's grant", g, err)
	}
	if _, _, err := audit.VerifyStore(ctx, s, nil); err != nil {
		t.Fatal(err)
	}
}

func mustAudit(t *testing.T, s evidock.AuditService, f evidock.AuditFilter) []*evidock.AuditEvent {
	t.Helper()
	events, err := s.FindAuditEvents(context.Background(), f)
	if err != nil {
		t.Fatalf("FindAuditEvents(%+v): %v", f, err)
	}
	return events
}

func eventObjects(events []*evidock.AuditEvent) []string {
	var s []string
	for _, e := range events {
		s = append(s, fmt.Sprintf("%d %s %s %s %s", e.Seq, e.Actor, e.Action, e.Object, e.Outcome))
	}
	return s
}
