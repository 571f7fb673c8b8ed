package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/server/audit"
	"evidock/server/storetest"
)

// clipNames returns the bodies' names of a clip listing, by the digests of
// clips, and its total.
func listClips(t *testing.T, e *peopleEnv, c *http.Client, query string, names map[evidock.Digest]string) ([]string, int) {
	t.Helper()
	resp, b := e.call(t, c, "GET", "/api/v1/clips?"+query, "")
	wantStatus(t, "list clips?"+query, resp, b, http.StatusOK)
	var list struct {
		Clips []*evidock.Clip
		Total int
	}
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, c := range list.Clips {
		got = append(got, names[c.Digest])
	}
	return got, list.Total
}

// TestUserClipListing shows users listing clips: each sees exactly the
// clips view_clip allows them, whatever the filter asks, and each search
// is audited.
func TestUserClipListing(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *peopleEnv) {
		names := map[evidock.Digest]string{}
		for i, c := range []struct{ name, officer string }{
			{"t2-a", storetest.CityOfficerT2}, {"t1-a", storetest.CityOfficerT1}, {"t2-b", storetest.CityOfficerT2},
			{"nobody", "999999"}, {"t2-c", storetest.CityOfficerT2},
		} {
			names[e.registerAs(t, e.station, c.officer, "footage "+c.name, i+1).Digest] = c.name
		}
		for _, tt := range []struct {
			login, query string
			want         string
			total        int
		}{
			{"zhang.wei", "", "[t2-a t2-b t2-c]", 3},                 // his unit's officers
			{"chen.jie", "", "[t2-a t2-b t2-c]", 3},                  // supervisor of d1, above t2
			{"wang.fang", "limit=2&offset=1", "[t2-b t2-c]", 3},      // paged, total unchanged
			{"zhao.min", "", "[t1-a]", 1},                            // head of d2
			{"li.na", "officer=" + storetest.CityOfficerT2, "[]", 0}, // asking for another unit's officer finds nothing
			{"zhang.wei", "officer=" + storetest.CityOfficerT2 + "&from=" + url.QueryEscape(started.Add(2*time.Minute).Format(time.RFC3339)) +
				"&to=" + url.QueryEscape(started.Add(5*time.Minute).Format(time.RFC3339)), "[t2-b]", 1},
			{"admin", "", "[]", 0}, // administrators see no footage
		} {
			got, total := listClips(t, e, e.browser(t, tt.login), tt.query, names)
			if fmt.Sprint(got) != tt.want || total != tt.total {
				t.Errorf("%s lists clips?%s = %v of %d; want %s of %d", tt.login, tt.query, got, total, tt.want, tt.total)
			}
		}
		// A station lists every clip, and is not audited.
		resp, b := e.call(t, nil, "GET", "/api/v1/clips", "", "Authorization", "Bearer "+e.station)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"total":5`) {
			t.Fatalf("station listing = %s %s; want all 5", resp.Status, b)
		}
		resp, b = e.call(t, e.browser(t, "zhang.wei"), "GET", "/api/v1/clips?officer=12", "")
		wantStatus(t, "malformed filter", resp, b, http.StatusBadRequest)

		var searches []*evidock.AuditEvent
		for _, ev := range e.events(t, evidock.AuditViewClip) {
			if strings.HasPrefix(ev.Object, "clips?") {
				searches = append(searches, ev)
			}
		}
		if len(searches) != 7 {
			t.Fatalf("%d searches audited; want 7: %v", len(searches), eventsString(searches))
		}
		if s := searches[0]; s.Actor != "user:zhang.wei" || s.Object != "clips?" || s.Unit != "city/d1/t2" ||
			s.Outcome != evidock.AuditAllowed || s.Reason != "search: 3 of 3 clips by officer@city/d1/t2" {
			t.Errorf("search event = %+v", s)
		}
		if s := searches[2]; s.Object != "clips?limit=2&offset=1" || s.Reason != "search: 2 of 3 clips by department_head@city/d1" {
			t.Errorf("paged search event = %+v", s)
		}
		if s := searches[6]; s.Actor != "user:admin" || !strings.Contains(s.Reason, "no role or grant allows view_clip") {
			t.Errorf("admin's search event = %+v", s)
		}
	})
}

// TestCaseAccessRequest is Art. 19 for a case: an officer of another
// district asks for a case of unit t2, the head of d1 (above t2) approves,
// and the grant opens the clip linked to the case (and no other clip of the
// same officer) to view and to list, until it expires.
func TestCaseAccessRequest(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *peopleEnv) {
		ctx := context.Background()
		linked := e.register(t, e.station, "footage of the inspection", 1)
		other := e.register(t, e.station, "footage of something else", 2)
		names := map[evidock.Digest]string{linked.Digest: "linked", other.Digest: "other"}
		kase := storetest.MustCreateCase(t, e.db, storetest.NewCase("常人社监罚〔2024〕40号", "t2", started.Add(-48*time.Hour)))
		act := storetest.MustCreateActivity(t, e.db, storetest.NewActivity(kase.ID, evidock.ActivityInspection,
			started.Add(-10*time.Minute), started.Add(30*time.Minute), storetest.CityOfficerT2))
		if err := e.db.ChangeLink(ctx, &evidock.LinkEntry{ActivityID: act.ID, Digest: linked.Digest, Action: evidock.LinkConfirm,
			By: storetest.CityOfficerT2}); err != nil {
			t.Fatal(err)
		}
		li, zhao, wang := e.browser(t, "li.na"), e.browser(t, "zhao.min"), e.browser(t, "wang.fang")

		resp, b := e.call(t, li, "POST", "/api/v1/access-requests",
			`{"actions":["view_clip"],"case_id":"no such case","reason":"x","duration_seconds":60}`)
		if _, msg := apiError(t, b); resp.StatusCode != http.StatusBadRequest || !strings.Contains(msg, "no such case") {
			t.Fatalf("request for an unknown case = %s %s; want 400 naming it", resp.Status, b)
		}
		resp, b = e.call(t, li, "POST", "/api/v1/access-requests",
			fmt.Sprintf(`{"actions":["view_clip","download_clip"],"case_id":%q,"reason":"联合检查","duration_seconds":3600}`, kase.Number))
		wantStatus(t, "request for the case", resp, b, http.StatusCreated)
		var req evidock.AccessRequest
		json.Unmarshal(b, &req)
		if req.CaseID != kase.Number || fmt.Sprint(req.Units) != "[city/d1/t2]" || req.State != evidock.AccessPending {
			t.Fatalf("request = %s; want the case, in unit city/d1/t2", b)
		}
		decide := func(c *http.Client) (*http.Response, []byte) {
			return e.call(t, c, "POST", fmt.Sprintf("/api/v1/access-requests/%d/approve", req.ID), `{"reason":"同意"}`)
		}
		resp, b = decide(zhao)
		wantStatus(t, "approval by the head of d2", resp, b, http.StatusForbidden)
		resp, b = e.call(t, li, "GET", "/api/v1/clips/"+linked.Digest.String(), "")
		wantStatus(t, "view before approval", resp, b, http.StatusForbidden)
		if got, _ := listClips(t, e, li, "", names); len(got) != 0 {
			t.Fatalf("li.na lists %v before approval; want nothing", got)
		}
		resp, b = decide(wang)
		wantStatus(t, "approval by the head of d1", resp, b, http.StatusOK)

		resp, b = e.call(t, li, "GET", "/api/v1/clips/"+linked.Digest.String(), "")
		wantStatus(t, "view of the linked clip by grant", resp, b, http.StatusOK)
		resp, b = e.call(t, li, "GET", "/api/v1/clips/"+linked.Digest.String()+"/content", "")
		if resp.StatusCode != http.StatusOK || string(b) != "footage of the inspection" {
			t.Fatalf("download of the linked clip by grant = %s %q", resp.Status, b)
		}
		resp, b = e.call(t, li, "GET", "/api/v1/clips/"+other.Digest.String(), "")
		wantStatus(t, "view of a clip not linked to the case", resp, b, http.StatusForbidden)
		if got, total := listClips(t, e, li, "", names); fmt.Sprint(got) != "[linked]" || total != 1 {
			t.Fatalf("li.na lists %v of %d by the grant; want [linked]", got, total)
		}
		views := e.events(t, evidock.AuditViewClip)
		if v := views[len(views)-1]; v.Reason != fmt.Sprintf("search: 1 of 1 clips by officer@city/d2/t1, grant %d", req.ID) {
			t.Errorf("search by grant event = %+v", v)
		}

		e.clock.add(time.Hour + time.Second)
		resp, b = e.call(t, li, "GET", "/api/v1/clips/"+linked.Digest.String(), "")
		if _, msg := apiError(t, b); resp.StatusCode != http.StatusForbidden || !strings.Contains(msg, fmt.Sprintf("grant %d expired", req.ID)) {
			t.Fatalf("view by the expired case grant = %s %s", resp.Status, b)
		}
		if got, _ := listClips(t, e, li, "", names); len(got) != 0 {
			t.Fatalf("li.na lists %v after the grant expired; want nothing", got)
		}
		if _, _, err := audit.VerifyStore(ctx, e.db, nil); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRoleOnUnknownUnit shows an administrator refused a role in a unit
// path that is not in the tree, with the path and the bad segment named.
func TestRoleOnUnknownUnit(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *peopleEnv) {
		admin := e.browser(t, "admin")
		for path, want := range map[string]string{
			"city/d3":    `unit path "city/d3": segment 2, "d3", is not a unit`,
			"city/d2/t2": `unit path "city/d2/t2": segment 3, "t2", is not below "d2"`,
		} {
			resp, b := e.call(t, admin, "POST", "/api/v1/users",
				`{"login":"x1","name":"x","roles":[{"role":"officer","unit":"`+path+`"}],"password":"a long enough password"}`)
			if code, msg := apiError(t, b); resp.StatusCode != http.StatusBadRequest || code != evidock.EINVALID || !strings.Contains(msg, want) {
				t.Errorf("role at %s = %s %s; want 400 saying %s", path, resp.Status, b, want)
			}
		}
		if _, err := e.db.FindUserByLogin(context.Background(), "x1"); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("refused user stored: %v", err)
		}
	})
}
