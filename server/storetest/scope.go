package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/server"
	"evidock/server/auth"
)

// The tree SeedCity builds, with unit paths city, city/d1, city/d2,
// city/d1/t2 and city/d2/t1, and its officers.
const (
	CityOfficerT2 = "100001" // in t2, below d1
	CityOfficerT1 = "100002" // in t1, below d2
)

// SeedCity creates a small tree whose unit codes read as paths: the bureau
// "city", its districts "d1" and "d2", unit "t2" below d1 and unit "t1"
// below d2, with officer CityOfficerT2 in t2 and CityOfficerT1 in t1. It
// fails tb if the store refuses any of them.
func SeedCity(tb testing.TB, svc UnitStore) {
	tb.Helper()
	ctx := context.Background()
	for _, u := range []*evidock.Unit{
		{Code: "city", Name: "市人社局", Level: evidock.UnitBureau},
		{Code: "d1", Name: "一区人社局", Level: evidock.UnitDistrict, ParentCode: "city"},
		{Code: "d2", Name: "二区人社局", Level: evidock.UnitDistrict, ParentCode: "city"},
		{Code: "t2", Name: "一区监察二中队", Level: evidock.UnitTeam, ParentCode: "d1"},
		{Code: "t1", Name: "二区监察一中队", Level: evidock.UnitTeam, ParentCode: "d2"},
	} {
		MustCreateUnit(tb, svc, u)
	}
	for _, o := range []*evidock.Officer{NewOfficer(CityOfficerT2, "张伟", "t2"), NewOfficer(CityOfficerT1, "李娜", "t1")} {
		if err := svc.CreateOfficer(ctx, o); err != nil {
			tb.Fatalf("CreateOfficer %s: %v", o.No, err)
		}
	}
}

// ScopeStore is what RunScope holds to its contract: the registry (units,
// officers, cases, clips and their links) that says where footage belongs,
// and the users, roles and grants that say who may see it.
type ScopeStore interface {
	LinkStore
	server.LinkedCaseFinder
	auth.Store
	evidock.AccessService
}

// Unit paths of the SeedOrg tree.
const (
	pathBureau = BureauCode
	pathTN     = BureauCode + "/" + DistrictTN
	pathTN1    = pathTN + "/" + UnitTN1
	pathWJ     = BureauCode + "/" + DistrictWJ
	pathWJ1    = pathWJ + "/" + UnitWJ1
)

// OfficerMover is what RunScope needs of a store beyond ScopeStore: a way
// to transfer an officer to another unit (officers.unit_code changes), as
// the bureau's registry does. The stores have no API for it; their tests
// give them one.
type OfficerMover interface {
	// MoveOfficer puts officer no in the unit with code unit.
	MoveOfficer(ctx context.Context, no, unit string) error
}

// RunScope runs the contract of unit identity against stores made by open,
// which must return a new empty store for every call, and an OfficerMover:
// roles are held only in unit paths that are chains of real units;
// server.RegistryScope files a clip under the unit its officer was in when
// it was registered (from the officers table, not the users; a later
// transfer moves none of it) and its confirmed cases, and a case under its
// unit; and evidock.ClipFilter.Access keeps exactly the clips a user may
// view.
func RunScope(t *testing.T, open func(t *testing.T) ScopeStore) {
	ctx := context.Background()

	t.Run("RolesNameRealUnits", func(t *testing.T) {
		s := open(t)
		SeedOrg(t, s)
		for _, tt := range []struct {
			path, want string // want: words the refusal must hold
		}{
			{"CZ/NOPE", `"CZ/NOPE": segment 2, "NOPE", is not a unit`},
			{"CZ/CZ-WJ/" + UnitTN1, `"CZ/CZ-WJ/CZ-TN-1": segment 3, "CZ-TN-1", is not below "CZ-WJ"`},
			{DistrictTN + "/" + UnitTN1, `segment 1, "CZ-TN", is not the top of the tree`},
			{UnitTN1, `segment 1, "CZ-TN-1", is not the top`},
			{"city/d1/t2", `segment 1, "city", is not a unit`},
			{pathTN1 + "/extra", `segment 4, "extra", is not a unit`},
		} {
			u := NewUser("zhang.wei", OfficerZhang, "supervisor@"+pathTN, "officer@"+tt.path)
			err := s.CreateUser(ctx, u, "x", nil)
			if evidock.ErrorCode(err) != evidock.EINVALID || !strings.Contains(evidock.ErrorMessage(err), tt.want) {
				t.Errorf("role at %s: CreateUser = %v; want EINVALID saying %s", tt.path, err, tt.want)
			}
			// The refused user is not half stored: the valid first role
			// went with the rest.
			if _, err := s.FindUserByLogin(ctx, "zhang.wei"); evidock.ErrorCode(err) != evidock.ENOTFOUND {
				t.Fatalf("after a refused role, FindUserByLogin = %v; want ENOTFOUND", err)
			}
		}
		for _, path := range []string{pathBureau, pathTN, pathTN1, pathWJ1} {
			u := MustCreateUser(t, s, NewUser("u-"+strings.ToLower(strings.ReplaceAll(path, "/", ".")), "", "supervisor@"+path))
			got, err := s.FindUserByID(ctx, u.ID)
			if err != nil || fmt.Sprint(got.Roles) != "[supervisor@"+path+"]" {
				t.Errorf("user with a role at %s = %+v, %v", path, got, err)
			}
		}
	})

	t.Run("ClipScopeFromOfficers", func(t *testing.T) {
		s := open(t)
		SeedOrg(t, s)
		scope := server.NewRegistryScope(s, s, s)
		zhang := MustRegister(t, s, NewClip([]byte("zhang's"), "A000001", OfficerZhang, at(9, 10), 1))
		dist := MustRegister(t, s, NewClip([]byte("district's"), "A000002", OfficerDistTN, at(9, 10), 1))
		stranger := MustRegister(t, s, NewClip([]byte("stranger's"), "A000003", "999999", at(9, 10), 1))
		li := MustRegister(t, s, NewClip([]byte("li's"), "A000004", OfficerLi, at(9, 10), 1))
		// A user account with Li's number holding the officer role in
		// another unit moves none of Li's footage there, and gives the
		// stranger's footage no unit either.
		MustCreateUser(t, s, NewUser("li.qiang", OfficerLi, "officer@"+pathTN1))
		MustCreateUser(t, s, NewUser("stranger", "999999", "officer@"+pathTN1))
		// An officer entered in the registry after the clip was
		// registered gives it no unit: it was stamped with none.
		if err := s.CreateOfficer(ctx, NewOfficer("999999", "陌生人", UnitTN1)); err != nil {
			t.Fatal(err)
		}
		stranger = mustFindClip(t, s, stranger.Digest)
		for _, tt := range []struct {
			clip *evidock.Clip
			want string
		}{
			{zhang, "[" + pathTN1 + "]"},
			{dist, "[" + pathTN + "]"},
			{li, "[" + pathWJ1 + "]"},
			{stranger, "[]"},
		} {
			units, cases, err := scope.ClipScope(ctx, tt.clip)
			if err != nil || fmt.Sprint(units) != tt.want || cases == nil || len(cases) != 0 {
				t.Errorf("ClipScope(officer %s) = %v, %#v, %v; want units %s and no cases", tt.clip.OfficerNo, units, cases, err, tt.want)
			}
		}

		// Cases: only links that stand confirmed count.
		c := MustCreateCase(t, s, NewCase("常人社监罚〔2024〕31号", UnitWJ1, day(0, 9)))
		act := MustCreateActivity(t, s, NewActivity(c.ID, evidock.ActivityInspection, at(9, 0), at(10, 0), OfficerZhang, OfficerLi))
		if _, err := s.SuggestLinks(ctx, act.ID, evidock.DefaultSuggestMargin); err != nil {
			t.Fatal(err)
		}
		assertCases := func(what string, clip *evidock.Clip, want string) {
			t.Helper()
			_, cases, err := scope.ClipScope(ctx, clip)
			if err != nil || fmt.Sprint(cases) != want {
				t.Fatalf("%s: cases of clip of %s = %v, %v; want %s", what, clip.OfficerNo, cases, err, want)
			}
		}
		assertCases("suggested", zhang, "[]")
		change := func(clip *evidock.Clip, action evidock.LinkAction) {
			t.Helper()
			e := &evidock.LinkEntry{ActivityID: act.ID, Digest: clip.Digest, Action: action, By: OfficerLi, Reason: "核对"}
			if err := s.ChangeLink(ctx, e); err != nil {
				t.Fatalf("%s: %v", action, err)
			}
		}
		change(zhang, evidock.LinkConfirm)
		change(li, evidock.LinkReject)
		assertCases("confirmed", zhang, "["+c.Number+"]")
		assertCases("rejected", li, "[]")
		change(zhang, evidock.LinkUnlink)
		assertCases("unlinked", zhang, "[]")
		change(zhang, evidock.LinkConfirm)
		assertCases("confirmed again", zhang, "["+c.Number+"]")

		if units, err := scope.CaseUnits(ctx, c.Number); err != nil || fmt.Sprint(units) != "["+pathWJ1+"]" {
			t.Errorf("CaseUnits = %v, %v; want [%s]", units, err, pathWJ1)
		}
		if _, err := scope.CaseUnits(ctx, "no such case"); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Errorf("CaseUnits(unknown) = %v; want ENOTFOUND", err)
		}
		p := server.NewUnitPaths(s)
		for code, want := range map[string]string{BureauCode: pathBureau, DistrictWJ: pathWJ, UnitTN1: pathTN1} {
			if got, err := p.Path(ctx, code); err != nil || got != want {
				t.Errorf("Path(%s) = %q, %v; want %q", code, got, err, want)
			}
		}
		if _, err := p.Path(ctx, "NOPE"); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Errorf("Path(unknown) = %v; want ENOTFOUND", err)
		}
	})

	t.Run("ClipStaysWithItsUnit", func(t *testing.T) {
		s := open(t)
		mover, ok := s.(OfficerMover)
		if !ok {
			t.Fatalf("%T is not an OfficerMover: the test cannot transfer an officer", s)
		}
		SeedOrg(t, s)
		scope := server.NewRegistryScope(s, s, s)
		a := MustRegister(t, s, NewClip([]byte("before the transfer"), "A000001", OfficerZhang, at(9, 0), 1))
		if err := mover.MoveOfficer(ctx, OfficerZhang, UnitWJ1); err != nil {
			t.Fatal(err)
		}
		if o, err := s.FindOfficer(ctx, OfficerZhang); err != nil || o.UnitCode != UnitWJ1 {
			t.Fatalf("after the transfer, officer = %+v, %v; want in %s", o, err, UnitWJ1)
		}
		b := MustRegister(t, s, NewClip([]byte("after the transfer"), "A000001", OfficerZhang, at(9, 30), 2))
		if a.UnitCode != UnitTN1 || b.UnitCode != UnitWJ1 {
			t.Fatalf("registered: A in %q, B in %q; want %s, %s", a.UnitCode, b.UnitCode, UnitTN1, UnitWJ1)
		}
		// Registering A again after the transfer returns it as stored.
		again := NewClip([]byte("before the transfer"), "A000001", OfficerZhang, at(9, 0), 1)
		if created, err := s.RegisterClip(ctx, again); err != nil || created || again.UnitCode != UnitTN1 {
			t.Errorf("A registered again = %v, %v, unit %q; want the stored clip in %s", created, err, again.UnitCode, UnitTN1)
		}
		for _, tt := range []struct {
			clip *evidock.Clip
			want string
		}{{a, pathTN1}, {b, pathWJ1}} {
			got := mustFindClip(t, s, tt.clip.Digest)
			units, _, err := scope.ClipScope(ctx, got)
			if err != nil || fmt.Sprint(units) != "["+tt.want+"]" || got.UnitCode != tt.clip.UnitCode {
				t.Errorf("clip %s: unit %q, ClipScope = %v, %v; want [%s]", got.FileName, got.UnitCode, units, err, tt.want)
			}
		}
		now := time.Now()
		names := map[evidock.Digest]string{a.Digest: "A", b.Digest: "B"}
		for _, tt := range []struct {
			role     string
			want     string // clips listed
			mayViewA bool
			mayViewB bool
		}{
			{"supervisor@" + pathTN, "[A]", true, false},
			{"supervisor@" + pathWJ, "[B]", false, true},
			{"officer@" + pathWJ1, "[B]", false, true},
			{"department_head@" + pathBureau, "[A B]", true, true},
		} {
			u := NewUser("x", "", tt.role)
			reach, err := scope.UnitsReaching(ctx, u, evidock.ActionViewClip, now)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := s.FindClips(ctx, evidock.ClipFilter{Access: &evidock.ClipAccess{Units: reach}})
			var listed []string
			for _, c := range got {
				listed = append(listed, names[c.Digest])
			}
			if err != nil || fmt.Sprint(orEmpty(listed)) != tt.want {
				t.Errorf("%s lists %v, %v; want %s", tt.role, listed, err, tt.want)
			}
			for _, v := range []struct {
				clip *evidock.Clip
				want bool
			}{{a, tt.mayViewA}, {b, tt.mayViewB}} {
				units, cases, err := scope.ClipScope(ctx, mustFindClip(t, s, v.clip.Digest))
				if err != nil {
					t.Fatal(err)
				}
				res := evidock.Resource{Units: units, Cases: cases, Clip: v.clip.Digest}
				if got := evidock.Authorize(u, evidock.ActionViewClip, res, nil, now).Allowed; got != v.want {
					t.Errorf("%s may view clip %s: %v; want %v", tt.role, names[v.clip.Digest], got, v.want)
				}
			}
		}
	})

	t.Run("UnitsReaching", func(t *testing.T) {
		s := open(t)
		SeedOrg(t, s)
		scope := server.NewRegistryScope(s, s, s)
		now := time.Now()
		for _, tt := range []struct {
			roles []string
			want  string
		}{
			{[]string{"officer@" + pathTN1}, "[CZ-TN-1]"},
			{[]string{"officer@" + pathTN}, "[CZ-TN]"}, // unit reach: the district itself, not below
			{[]string{"supervisor@" + pathTN}, "[CZ-TN CZ-TN-1]"},
			{[]string{"legal_reviewer@" + pathWJ1, "officer@" + pathTN1}, "[CZ-TN-1 CZ-WJ-1]"},
			{[]string{"department_head@" + pathBureau}, "[CZ CZ-TN CZ-TN-1 CZ-WJ CZ-WJ-1]"},
			{[]string{"administrator@" + pathBureau}, "[]"},
		} {
			u := NewUser("x", "", tt.roles...)
			got, err := scope.UnitsReaching(ctx, u, evidock.ActionViewClip, now)
			if err != nil || got == nil || fmt.Sprint(got) != tt.want {
				t.Errorf("UnitsReaching(%v) = %#v, %v; want %s", tt.roles, got, err, tt.want)
			}
		}
		u := NewUser("x", "", "department_head@"+pathBureau)
		u.Disabled = true
		if got, err := scope.UnitsReaching(ctx, u, evidock.ActionViewClip, now); err != nil || len(got) != 0 {
			t.Errorf("UnitsReaching(disabled) = %v, %v; want none", got, err)
		}
	})

	t.Run("ClipAccess", func(t *testing.T) {
		s := open(t)
		SeedOrg(t, s)
		clips := map[string]*evidock.Clip{}
		for i, o := range []struct{ name, officer string }{
			{"zhang1", OfficerZhang}, {"wang1", OfficerWang}, {"li1", OfficerLi}, {"dist1", OfficerDistTN},
			{"stranger1", "999999"}, {"zhang2", OfficerZhang}, {"li2", OfficerLi},
		} {
			clips[o.name] = MustRegister(t, s, NewClip([]byte(o.name), "A00000"+fmt.Sprint(i), o.officer, at(9, i), 1))
		}
		c := MustCreateCase(t, s, NewCase("常人社监罚〔2024〕32号", UnitWJ1, day(0, 9)))
		act := MustCreateActivity(t, s, NewActivity(c.ID, evidock.ActivityInspection, at(9, 0), at(10, 0), OfficerLi))
		for _, name := range []string{"li1", "li2"} {
			e := &evidock.LinkEntry{ActivityID: act.ID, Digest: clips[name].Digest, Action: evidock.LinkConfirm, By: OfficerLi}
			if err := s.ChangeLink(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.ChangeLink(ctx, &evidock.LinkEntry{ActivityID: act.ID, Digest: clips["li2"].Digest, Action: evidock.LinkUnlink,
			By: OfficerLi, Reason: "拍错了"}); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name   string
			f      evidock.ClipFilter
			want   string // clip names in corrected start order
			total  int
			access *evidock.ClipAccess
		}{
			{"unit", evidock.ClipFilter{}, "[zhang1 wang1 zhang2]", 3, &evidock.ClipAccess{Units: []string{UnitTN1}}},
			{"units", evidock.ClipFilter{}, "[zhang1 wang1 dist1 zhang2]", 4, &evidock.ClipAccess{Units: []string{DistrictTN, UnitTN1}}},
			{"a unit with no officers", evidock.ClipFilter{}, "[]", 0, &evidock.ClipAccess{Units: []string{BureauCode}}},
			{"granted clips", evidock.ClipFilter{}, "[li1 stranger1]", 2,
				&evidock.ClipAccess{Clips: []evidock.Digest{clips["stranger1"].Digest, clips["li1"].Digest}}},
			{"granted case: confirmed links only", evidock.ClipFilter{}, "[li1]", 1, &evidock.ClipAccess{Cases: []string{c.Number}}},
			{"unknown case", evidock.ClipFilter{}, "[]", 0, &evidock.ClipAccess{Cases: []string{"nope"}}},
			{"all three", evidock.ClipFilter{}, "[zhang1 wang1 li1 stranger1 zhang2]", 5,
				&evidock.ClipAccess{Units: []string{UnitTN1}, Clips: []evidock.Digest{clips["stranger1"].Digest}, Cases: []string{c.Number}}},
			{"nothing", evidock.ClipFilter{}, "[]", 0, &evidock.ClipAccess{}},
			{"and officer", evidock.ClipFilter{OfficerNo: OfficerZhang}, "[zhang1 zhang2]", 2,
				&evidock.ClipAccess{Units: []string{UnitTN1}, Cases: []string{c.Number}}},
			{"officer outside", evidock.ClipFilter{OfficerNo: OfficerLi}, "[]", 0, &evidock.ClipAccess{Units: []string{UnitTN1}}},
			{"and span", evidock.ClipFilter{From: at(9, 1), To: at(9, 5)}, "[wang1 li1]", 2,
				&evidock.ClipAccess{Units: []string{UnitTN1}, Cases: []string{c.Number}}},
			{"paged", evidock.ClipFilter{Limit: 2, Offset: 1}, "[wang1 dist1]", 4, &evidock.ClipAccess{Units: []string{DistrictTN, UnitTN1}}},
			{"no access filter", evidock.ClipFilter{}, "[zhang1 wang1 li1 dist1 stranger1 zhang2 li2]", 7, nil},
		} {
			f := tt.f
			f.Access = tt.access
			got, total, err := s.FindClips(ctx, f)
			if err != nil {
				t.Errorf("%s: FindClips = %v", tt.name, err)
				continue
			}
			var names []string
			for _, g := range got {
				for n, c := range clips {
					if c.Digest == g.Digest {
						names = append(names, n)
					}
				}
			}
			if fmt.Sprint(orEmpty(names)) != tt.want || total != tt.total {
				t.Errorf("%s: FindClips = %v of %d; want %s of %d", tt.name, names, total, tt.want, tt.total)
			}
		}
		// Many granted clips are one parameter, not one each.
		many := &evidock.ClipAccess{}
		for i := range 40000 {
			var d evidock.Digest
			d[0], d[1], d[2] = byte(i), byte(i>>8), 0xEE
			many.Clips = append(many.Clips, d)
		}
		many.Clips = append(many.Clips, clips["dist1"].Digest)
		if got, total, err := s.FindClips(ctx, evidock.ClipFilter{Access: many}); err != nil || total != 1 || len(got) != 1 {
			t.Errorf("FindClips with 40001 granted clips = %d of %d, %v; want dist1", len(got), total, err)
		}
	})

	t.Run("ValidGrants", func(t *testing.T) {
		s := open(t)
		SeedOrg(t, s)
		li := MustCreateUser(t, s, NewUser("li.qiang", OfficerLi, "officer@"+pathWJ1))
		head := MustCreateUser(t, s, NewUser("head", "", "department_head@"+pathTN))
		clip := MustRegister(t, s, NewClip([]byte("granted"), "A000001", OfficerZhang, at(9, 0), 1))
		t0 := time.Date(2024, 5, 3, 9, 0, 0, 0, evidock.ChinaTime)
		mk := func(r *evidock.AccessRequest, approve bool) *evidock.AccessRequest {
			t.Helper()
			if err := s.CreateAccessRequest(ctx, r, nil); err != nil {
				t.Fatal(err)
			}
			d, err := s.DecideAccessRequest(ctx, evidock.AccessDecision{RequestID: r.ID, Approve: approve, DeciderID: head.ID, Reason: "ok", At: t0}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		byClip := mk(&evidock.AccessRequest{RequesterID: li.ID, Actions: []evidock.Action{evidock.ActionViewClip}, Clips: []evidock.Digest{clip.Digest},
			Units: []string{pathTN1}, Reason: "联合检查", DurationSeconds: 3600}, true)
		byCase := mk(&evidock.AccessRequest{RequesterID: li.ID, Actions: []evidock.Action{evidock.ActionExport}, CaseID: "常人社监罚〔2024〕33号",
			Units: []string{pathTN1}, Reason: "移送", DurationSeconds: 7200}, true)
		mk(&evidock.AccessRequest{RequesterID: li.ID, Actions: []evidock.Action{evidock.ActionViewClip}, Clips: []evidock.Digest{clip.Digest},
			Units: []string{pathTN1}, Reason: "refused", DurationSeconds: 7200}, false)
		for _, tt := range []struct {
			at   time.Time
			user int64
			want string
		}{
			{t0.Add(-time.Second), li.ID, "[]"},
			{t0, li.ID, fmt.Sprint([]int64{byCase.ID, byClip.ID})},
			{t0.Add(time.Hour - time.Microsecond), li.ID, fmt.Sprint([]int64{byCase.ID, byClip.ID})},
			{t0.Add(time.Hour), li.ID, fmt.Sprint([]int64{byCase.ID})},
			{t0.Add(2 * time.Hour), li.ID, "[]"},
			{t0, head.ID, "[]"},
		} {
			grants, err := s.FindValidGrants(ctx, tt.user, tt.at)
			var ids []int64
			for _, g := range grants {
				ids = append(ids, g.RequestID)
			}
			if err != nil || grants == nil || fmt.Sprint(orEmpty(ids)) != tt.want {
				t.Errorf("FindValidGrants(user %d, %s) = %v, %v; want %s", tt.user, tt.at, ids, err, tt.want)
			}
		}
		grants, _ := s.FindValidGrants(ctx, li.ID, t0)
		if i := slices.IndexFunc(grants, func(g evidock.Grant) bool { return g.RequestID == byClip.ID }); i < 0 ||
			len(grants[i].Clips) != 1 || grants[i].Clips[0] != clip.Digest || !grants[i].ValidUntil.Equal(t0.Add(time.Hour)) {
			t.Errorf("grant by clip = %+v", grants)
		}
	})
}

// MustRegister registers c in svc, failing tb if it cannot, and returns it
// as stored.
func MustRegister(tb testing.TB, svc evidock.ClipService, c *evidock.Clip) *evidock.Clip {
	tb.Helper()
	if _, err := svc.RegisterClip(context.Background(), c); err != nil {
		tb.Fatalf("register %s: %v", c.FileName, err)
	}
	return c
}

// mustFindClip returns the clip with digest d as stored, failing tb if
// the store cannot find it.
func mustFindClip(tb testing.TB, svc evidock.ClipService, d evidock.Digest) *evidock.Clip {
	tb.Helper()
	c, err := svc.FindClipByDigest(context.Background(), d)
	if err != nil {
		tb.Fatalf("find clip %s: %v", d, err)
	}
	return c
}

// orEmpty returns s, or an empty slice for nil, so that both print as [].
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
