package evidock_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"evidock"
)

// TestAuthorizeMatrix is the authorization matrix: every role × every
// action × a resource in the role's own unit, in a unit below it, and
// outside it × no grant, a valid grant and an expired grant, against
// answers written out by hand from the rule table in user.go.
//
// Each answer is three groups, for the resource in the role's unit ("same",
// city/d1), below it (city/d1/t2) and outside it (city/d10/t1, whose id
// starts with the role's unit's but is another unit), and in each group the
// answer with no grant, with a valid grant and with an expired grant: Y
// allowed, N refused.
func TestAuthorizeMatrix(t *testing.T) {
	want := map[evidock.Role]map[evidock.Action]string{
		evidock.RoleOfficer: {
			evidock.ActionViewClip:      "YYY/NYN/NYN",
			evidock.ActionDownloadClip:  "NYN/NYN/NYN",
			evidock.ActionExport:        "NYN/NYN/NYN",
			evidock.ActionLinkClips:     "YYY/NNN/NNN",
			evidock.ActionApproveAccess: "NNN/NNN/NNN",
			evidock.ActionManageUsers:   "NNN/NNN/NNN",
			evidock.ActionReadAudit:     "NNN/NNN/NNN",
			evidock.ActionRegisterClip:  "NNN/NNN/NNN",
		},
		evidock.RoleArchivist: {
			evidock.ActionViewClip:      "YYY/YYY/NYN",
			evidock.ActionDownloadClip:  "YYY/YYY/NYN",
			evidock.ActionExport:        "YYY/YYY/NYN",
			evidock.ActionLinkClips:     "YYY/YYY/NNN",
			evidock.ActionApproveAccess: "NNN/NNN/NNN",
			evidock.ActionManageUsers:   "NNN/NNN/NNN",
			evidock.ActionReadAudit:     "NNN/NNN/NNN",
			evidock.ActionRegisterClip:  "NNN/NNN/NNN",
		},
		evidock.RoleSupervisor: {
			evidock.ActionViewClip:      "YYY/YYY/NYN",
			evidock.ActionDownloadClip:  "NYN/NYN/NYN",
			evidock.ActionExport:        "NYN/NYN/NYN",
			evidock.ActionLinkClips:     "YYY/YYY/NNN",
			evidock.ActionApproveAccess: "NNN/NNN/NNN",
			evidock.ActionManageUsers:   "NNN/NNN/NNN",
			evidock.ActionReadAudit:     "YYY/YYY/NNN",
			evidock.ActionRegisterClip:  "NNN/NNN/NNN",
		},
		evidock.RoleLegalReviewer: {
			evidock.ActionViewClip:      "YYY/YYY/NYN",
			evidock.ActionDownloadClip:  "NYN/NYN/NYN",
			evidock.ActionExport:        "NYN/NYN/NYN",
			evidock.ActionLinkClips:     "NNN/NNN/NNN",
			evidock.ActionApproveAccess: "NNN/NNN/NNN",
			evidock.ActionManageUsers:   "NNN/NNN/NNN",
			evidock.ActionReadAudit:     "NNN/NNN/NNN",
			evidock.ActionRegisterClip:  "NNN/NNN/NNN",
		},
		evidock.RoleDepartmentHead: {
			evidock.ActionViewClip:      "YYY/YYY/NYN",
			evidock.ActionDownloadClip:  "NYN/NYN/NYN",
			evidock.ActionExport:        "NYN/NYN/NYN",
			evidock.ActionLinkClips:     "NNN/NNN/NNN",
			evidock.ActionApproveAccess: "YYY/YYY/NNN",
			evidock.ActionManageUsers:   "NNN/NNN/NNN",
			evidock.ActionReadAudit:     "YYY/YYY/NNN",
			evidock.ActionRegisterClip:  "NNN/NNN/NNN",
		},
		evidock.RoleAdministrator: {
			// Least privilege: users, but no footage without a grant.
			evidock.ActionViewClip:      "NYN/NYN/NYN",
			evidock.ActionDownloadClip:  "NYN/NYN/NYN",
			evidock.ActionExport:        "NYN/NYN/NYN",
			evidock.ActionLinkClips:     "NNN/NNN/NNN",
			evidock.ActionApproveAccess: "NNN/NNN/NNN",
			evidock.ActionManageUsers:   "YYY/YYY/NNN",
			evidock.ActionReadAudit:     "NNN/NNN/NNN",
			evidock.ActionRegisterClip:  "NNN/NNN/NNN",
		},
	}
	now := time.Date(2024, 5, 10, 9, 0, 0, 0, evidock.ChinaTime)
	clip := mustDigest(t, "clip under test")
	placements := []struct {
		name string
		unit string
	}{
		{"same", "city/d1"},
		{"below", "city/d1/t2"},
		{"outside", "city/d10/t1"},
	}
	grants := []struct {
		name   string
		grants func(userID int64) []evidock.Grant
	}{
		{"no grant", func(int64) []evidock.Grant { return nil }},
		{"valid grant", func(id int64) []evidock.Grant {
			return []evidock.Grant{grantFor(id, clip, now.Add(-time.Hour), now.Add(time.Hour))}
		}},
		{"expired grant", func(id int64) []evidock.Grant {
			return []evidock.Grant{grantFor(id, clip, now.Add(-48*time.Hour), now.Add(-time.Hour))}
		}},
	}
	if len(want) != len(evidock.Roles()) {
		t.Fatalf("the matrix has %d roles, the domain %d", len(want), len(evidock.Roles()))
	}
	n := 0
	for _, role := range evidock.Roles() {
		if len(want[role]) != len(evidock.Actions()) {
			t.Fatalf("role %s: the matrix has %d actions, the domain %d", role, len(want[role]), len(evidock.Actions()))
		}
		for _, action := range evidock.Actions() {
			groups := strings.Split(want[role][action], "/")
			for pi, p := range placements {
				for gi, g := range grants {
					n++
					name := fmt.Sprintf("%s/%s/%s/%s", role, action, p.name, g.name)
					user := &evidock.User{ID: 7, Login: "u7", Roles: []evidock.RoleAssignment{{Role: role, Unit: "city/d1"}}}
					res := evidock.Resource{Units: []string{p.unit}, Clip: clip}
					d := evidock.Authorize(user, action, res, g.grants(user.ID), now)
					if wantY := groups[pi][gi] == 'Y'; d.Allowed != wantY {
						t.Errorf("%s: allowed = %v (%q %q); want %v", name, d.Allowed, d.Via, d.Reason, wantY)
					}
					switch {
					case d.Allowed && d.Via == "":
						t.Errorf("%s: allowed without saying via what", name)
					case !d.Allowed && d.Reason == "":
						t.Errorf("%s: refused without a reason", name)
					}
				}
			}
		}
	}
	if n != 6*8*3*3 {
		t.Fatalf("ran %d cases; want %d", n, 6*8*3*3)
	}
}

func grantFor(userID int64, clip evidock.Digest, from, until time.Time) evidock.Grant {
	return evidock.Grant{
		RequestID: 99, UserID: userID,
		Actions:   []evidock.Action{evidock.ActionViewClip, evidock.ActionDownloadClip, evidock.ActionExport},
		Clips:     []evidock.Digest{clip},
		ValidFrom: from, ValidUntil: until,
	}
}

func mustDigest(t *testing.T, s string) evidock.Digest {
	t.Helper()
	d, _, err := evidock.DigestOf(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestAuthorizeEdges covers what the matrix does not: grants that do not fit,
// several units, unknown units, disabled users and a unit above the scope.
func TestAuthorizeEdges(t *testing.T) {
	now := time.Date(2024, 5, 10, 9, 0, 0, 0, evidock.ChinaTime)
	clip, other := mustDigest(t, "clip"), mustDigest(t, "other clip")
	sup := &evidock.User{ID: 1, Login: "sup", Roles: []evidock.RoleAssignment{
		{Role: evidock.RoleSupervisor, Unit: "city/d1"},
		{Role: evidock.RoleOfficer, Unit: "city/d2/t1"},
	}}
	valid := grantFor(1, clip, now.Add(-time.Hour), now.Add(time.Hour))
	viewOnly := valid
	viewOnly.Actions = []evidock.Action{evidock.ActionViewClip}
	othersGrant := valid
	othersGrant.UserID = 2
	otherClip := valid
	otherClip.Clips = []evidock.Digest{other}
	future := grantFor(1, clip, now.Add(time.Hour), now.Add(2*time.Hour))
	atEnd := grantFor(1, clip, now.Add(-time.Hour), now) // ValidUntil is exclusive
	caseGrant := evidock.Grant{RequestID: 5, UserID: 1, Actions: []evidock.Action{evidock.ActionViewClip},
		CaseID: "case-1", ValidFrom: now.Add(-time.Hour), ValidUntil: now.Add(time.Hour)}
	disabled := *sup
	disabled.Disabled = true

	for _, tt := range []struct {
		name   string
		user   *evidock.User
		action evidock.Action
		res    evidock.Resource
		grants []evidock.Grant
		want   bool
		via    string
	}{
		{"two roles cover two units", sup, evidock.ActionViewClip, evidock.Resource{Units: []string{"city/d1/t3", "city/d2/t1"}}, nil, true, "supervisor@city/d1, officer@city/d2/t1"},
		{"one unit of two outside", sup, evidock.ActionViewClip, evidock.Resource{Units: []string{"city/d1/t3", "city/d3"}}, nil, false, ""},
		{"officer reach is the unit only", sup, evidock.ActionViewClip, evidock.Resource{Units: []string{"city/d2/t1/x"}}, nil, false, ""},
		{"unit above the scope", sup, evidock.ActionViewClip, evidock.Resource{Units: []string{"city"}}, nil, false, ""},
		{"no unit known", sup, evidock.ActionViewClip, evidock.Resource{Clip: clip}, nil, false, ""},
		{"no unit known, grant", sup, evidock.ActionViewClip, evidock.Resource{Clip: clip}, []evidock.Grant{valid}, true, "grant 99"},
		{"grant for view only", sup, evidock.ActionDownloadClip, evidock.Resource{Units: []string{"city/d3"}, Clip: clip}, []evidock.Grant{viewOnly}, false, ""},
		{"another user's grant", sup, evidock.ActionViewClip, evidock.Resource{Units: []string{"city/d3"}, Clip: clip}, []evidock.Grant{othersGrant}, false, ""},
		{"grant for another clip", sup, evidock.ActionViewClip, evidock.Resource{Units: []string{"city/d3"}, Clip: clip}, []evidock.Grant{otherClip}, false, ""},
		{"grant not yet valid", sup, evidock.ActionViewClip, evidock.Resource{Units: []string{"city/d3"}, Clip: clip}, []evidock.Grant{future}, false, ""},
		{"grant ends now", sup, evidock.ActionViewClip, evidock.Resource{Units: []string{"city/d3"}, Clip: clip}, []evidock.Grant{atEnd}, false, ""},
		{"grant for the clip's case", sup, evidock.ActionViewClip, evidock.Resource{Units: []string{"city/d3"}, Clip: clip, Cases: []string{"case-0", "case-1"}}, []evidock.Grant{caseGrant}, true, "grant 5"},
		{"grant for another case", sup, evidock.ActionViewClip, evidock.Resource{Units: []string{"city/d3"}, Clip: clip, Cases: []string{"case-2"}}, []evidock.Grant{caseGrant}, false, ""},
		{"disabled", &disabled, evidock.ActionViewClip, evidock.Resource{Units: []string{"city/d1"}}, []evidock.Grant{valid}, false, ""},
		{"nobody", nil, evidock.ActionViewClip, evidock.Resource{Units: []string{"city/d1"}}, nil, false, ""},
		{"unknown action", sup, evidock.Action("delete_clip"), evidock.Resource{Units: []string{"city/d1"}}, nil, false, ""},
		{"grant cannot give approve", sup, evidock.ActionApproveAccess, evidock.Resource{Units: []string{"city/d1"}, Clip: clip}, []evidock.Grant{valid}, false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := evidock.Authorize(tt.user, tt.action, tt.res, tt.grants, now)
			if d.Allowed != tt.want || (tt.via != "" && d.Via != tt.via) {
				t.Fatalf("Authorize = %+v; want allowed %v via %q", d, tt.want, tt.via)
			}
		})
	}
	// An expired grant says so, so that the person knows to ask again.
	expired := grantFor(1, clip, now.Add(-48*time.Hour), now.Add(-time.Hour))
	d := evidock.Authorize(sup, evidock.ActionViewClip, evidock.Resource{Units: []string{"city/d3"}, Clip: clip}, []evidock.Grant{expired}, now)
	if d.Allowed || !strings.Contains(d.Reason, "grant 99 expired") {
		t.Fatalf("expired grant: %+v; want a refusal naming the expired grant", d)
	}
}

func TestUnitWithin(t *testing.T) {
	for _, tt := range []struct {
		unit, scope string
		want        bool
	}{
		{"city", "city", true},
		{"city/d1", "city", true},
		{"city/d1/t2", "city/d1", true},
		{"city/d10", "city/d1", false},
		{"city", "city/d1", false},
		{"town/d1", "city", false},
		{"", "city", false},
		{"city", "", false},
	} {
		if got := evidock.UnitWithin(tt.unit, tt.scope); got != tt.want {
			t.Errorf("UnitWithin(%q, %q) = %v; want %v", tt.unit, tt.scope, got, tt.want)
		}
	}
}

func TestCommonUnit(t *testing.T) {
	for _, tt := range []struct {
		units []string
		want  string
	}{
		{nil, ""},
		{[]string{"city/d1/t1"}, "city/d1/t1"},
		{[]string{"city/d1/t1", "city/d1/t2"}, "city/d1"},
		{[]string{"city/d1/t1", "city/d10"}, "city"},
		{[]string{"city/d1", "town/d1"}, ""},
	} {
		if got := evidock.CommonUnit(tt.units); got != tt.want {
			t.Errorf("CommonUnit(%q) = %q; want %q", tt.units, got, tt.want)
		}
	}
}

func TestUserValidate(t *testing.T) {
	ok := func() *evidock.User {
		return &evidock.User{Login: "zhang.wei", Name: "张伟", OfficerNo: "100001",
			Roles: []evidock.RoleAssignment{{Role: evidock.RoleOfficer, Unit: "city/d1/t2"}}}
	}
	if err := ok().Validate(); err != nil {
		t.Fatalf("valid user: %v", err)
	}
	for _, tt := range []struct {
		name   string
		change func(u *evidock.User)
		want   string
	}{
		{"no login", func(u *evidock.User) { u.Login = "" }, "login is required"},
		{"upper-case login", func(u *evidock.User) { u.Login = "Zhang" }, "lower-case"},
		{"login starts with a dot", func(u *evidock.User) { u.Login = ".x" }, "starting with"},
		{"bad officer no", func(u *evidock.User) { u.OfficerNo = "12" }, "officer_no"},
		{"no roles", func(u *evidock.User) { u.Roles = nil }, "at least one role"},
		{"unknown role", func(u *evidock.User) { u.Roles[0].Role = "root" }, "unknown"},
		{"empty unit", func(u *evidock.User) { u.Roles[0].Unit = "" }, "unit: id is required"},
		{"unit with empty segment", func(u *evidock.User) { u.Roles[0].Unit = "city//d1" }, "single '/'"},
		{"unit with a trailing slash", func(u *evidock.User) { u.Roles[0].Unit = "city/" }, "single '/'"},
		{"unit with dot-dot", func(u *evidock.User) { u.Roles[0].Unit = "city/../x" }, "single '/'"},
		{"unit with a space", func(u *evidock.User) { u.Roles[0].Unit = "city/d 1" }, "only letters"},
		{"role twice", func(u *evidock.User) { u.Roles = append(u.Roles, u.Roles[0]) }, "twice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := ok()
			tt.change(u)
			err := u.Validate()
			if evidock.ErrorCode(err) != evidock.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v; want EINVALID containing %q", err, tt.want)
			}
		})
	}
}

func TestAccessRequestValidate(t *testing.T) {
	clip := mustDigest(t, "clip")
	ok := func() *evidock.AccessRequest {
		return &evidock.AccessRequest{Actions: []evidock.Action{evidock.ActionViewClip}, Clips: []evidock.Digest{clip},
			Reason: "complaint 2024-17 names this inspection", DurationSeconds: 86400}
	}
	if err := ok().Validate(); err != nil {
		t.Fatalf("valid request: %v", err)
	}
	for _, tt := range []struct {
		name   string
		change func(r *evidock.AccessRequest)
		want   string
	}{
		{"no actions", func(r *evidock.AccessRequest) { r.Actions = nil }, "actions is required"},
		{"ungrantable action", func(r *evidock.AccessRequest) { r.Actions = []evidock.Action{evidock.ActionApproveAccess} }, "cannot be granted"},
		{"register", func(r *evidock.AccessRequest) { r.Actions = []evidock.Action{evidock.ActionRegisterClip} }, "cannot be granted"},
		{"nothing named", func(r *evidock.AccessRequest) { r.Clips = nil }, "name the clips"},
		{"clips and case", func(r *evidock.AccessRequest) { r.CaseID = "c1" }, "not both"},
		{"no reason", func(r *evidock.AccessRequest) { r.Reason = "  " }, "reason is required"},
		{"no duration", func(r *evidock.AccessRequest) { r.DurationSeconds = 0 }, "must be positive"},
		{"too long", func(r *evidock.AccessRequest) { r.DurationSeconds = 31 * 86400 }, "longer than"},
		{"clip twice", func(r *evidock.AccessRequest) { r.Clips = append(r.Clips, clip) }, "twice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := ok()
			tt.change(r)
			err := r.Validate()
			if evidock.ErrorCode(err) != evidock.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v; want EINVALID containing %q", err, tt.want)
			}
		})
	}
}
