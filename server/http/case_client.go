package http

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"evidock"
)

// The client's side of the case API. Cases are named by their numbers, as
// people name them, so these methods take numbers where the store
// interfaces take case IDs; errors come back as *evidock.Error with the
// server's code.

// CreateUnit creates u on the server and fills u with the unit as stored.
// It returns EINVALID or ECONFLICT as the server does.
func (c *Client) CreateUnit(ctx context.Context, u *evidock.Unit) error {
	body, err := encodeBody(unitBody{Code: u.Code, Name: u.Name, Level: u.Level, ParentCode: u.ParentCode})
	if err != nil {
		return err
	}
	var got evidock.Unit
	if _, err := c.do(ctx, http.MethodPost, "/api/v1/units", body, &got); err != nil {
		return fmt.Errorf("create unit %s: %w", u.Code, err)
	}
	*u = got
	return nil
}

// UnitTree returns the server's tree of units.
func (c *Client) UnitTree(ctx context.Context) ([]*evidock.UnitNode, error) {
	var tree unitTree
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/units", nil, &tree); err != nil {
		return nil, fmt.Errorf("find units: %w", err)
	}
	if tree.Units == nil {
		tree.Units = []*evidock.UnitNode{}
	}
	return tree.Units, nil
}

// FindUnit returns the unit with the code, or ENOTFOUND.
func (c *Client) FindUnit(ctx context.Context, code string) (*evidock.Unit, error) {
	var u evidock.Unit
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/units/"+url.PathEscape(code), nil, &u); err != nil {
		return nil, fmt.Errorf("find unit %s: %w", code, err)
	}
	return &u, nil
}

// CreateOfficer creates o on the server and fills o with the officer as
// stored. It returns EINVALID or ECONFLICT as the server does.
func (c *Client) CreateOfficer(ctx context.Context, o *evidock.Officer) error {
	body, err := encodeBody(officerBody{No: o.No, CertificateNo: o.CertificateNo, Name: o.Name, UnitCode: o.UnitCode})
	if err != nil {
		return err
	}
	var got evidock.Officer
	if _, err := c.do(ctx, http.MethodPost, "/api/v1/officers", body, &got); err != nil {
		return fmt.Errorf("create officer %s: %w", o.No, err)
	}
	*o = got
	return nil
}

// FindOfficer returns the officer with the number, ENOTFOUND, or EINVALID
// for a malformed number.
func (c *Client) FindOfficer(ctx context.Context, no string) (*evidock.Officer, error) {
	var o evidock.Officer
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/officers/"+url.PathEscape(no), nil, &o); err != nil {
		return nil, fmt.Errorf("find officer %s: %w", no, err)
	}
	return &o, nil
}

// FindOfficers returns the officers matching f; ENOTFOUND for an unknown
// unit.
func (c *Client) FindOfficers(ctx context.Context, f evidock.OfficerFilter) ([]*evidock.Officer, error) {
	path := "/api/v1/officers"
	if f.UnitCode != "" {
		path += "?" + url.Values{"unit": {f.UnitCode}}.Encode()
	}
	var list officerList
	if _, err := c.do(ctx, http.MethodGet, path, nil, &list); err != nil {
		return nil, fmt.Errorf("find officers: %w", err)
	}
	if list.Officers == nil {
		list.Officers = []*evidock.Officer{}
	}
	return list.Officers, nil
}

// AssignRecorder adds a to its recorder's assignment history on the server
// and fills a with the assignment as stored. It returns EINVALID or
// ECONFLICT as the server does.
func (c *Client) AssignRecorder(ctx context.Context, a *evidock.RecorderAssignment) error {
	if a.DeviceSerial == "" {
		return evidock.Errorf(evidock.EINVALID, "assign recorder: device_serial is required")
	}
	body, err := encodeBody(assignmentBody{OfficerNo: a.OfficerNo, From: bodyTime(a.From), AssignedBy: a.AssignedBy, Reason: a.Reason})
	if err != nil {
		return err
	}
	var got evidock.RecorderAssignment
	if _, err := c.do(ctx, http.MethodPost, "/api/v1/recorders/"+url.PathEscape(a.DeviceSerial)+"/assignments", body, &got); err != nil {
		return fmt.Errorf("assign recorder %s: %w", a.DeviceSerial, err)
	}
	*a = got
	return nil
}

// FindRecorderAssignments returns the assignment history of a recorder.
func (c *Client) FindRecorderAssignments(ctx context.Context, serial string) ([]*evidock.RecorderAssignment, error) {
	var list assignmentList
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/recorders/"+url.PathEscape(serial)+"/assignments", nil, &list); err != nil {
		return nil, fmt.Errorf("find assignments of recorder %s: %w", serial, err)
	}
	if list.Assignments == nil {
		list.Assignments = []*evidock.RecorderAssignment{}
	}
	return list.Assignments, nil
}

// CreateCase files c on the server and fills c with the case as stored. It
// returns EINVALID or ECONFLICT as the server does.
func (c *Client) CreateCase(ctx context.Context, kase *evidock.Case) error {
	body, err := encodeCase(kase)
	if err != nil {
		return err
	}
	var got evidock.Case
	if _, err := c.do(ctx, http.MethodPost, "/api/v1/cases", body, &got); err != nil {
		return fmt.Errorf("create case %s: %w", kase.Number, err)
	}
	*kase = got
	return nil
}

// casePath returns the path of the case with the number.
func casePath(number string) string { return "/api/v1/cases/" + url.PathEscape(number) }

// FindCaseDetail returns the case with the number, its activities with
// their links, and the activities missing their mandatory recording; or
// ENOTFOUND.
func (c *Client) FindCaseDetail(ctx context.Context, number string) (*evidock.CaseDetail, error) {
	var d evidock.CaseDetail
	if _, err := c.do(ctx, http.MethodGet, casePath(number), nil, &d); err != nil {
		return nil, fmt.Errorf("find case %s: %w", number, err)
	}
	if d.Case == nil {
		return nil, evidock.Errorf(evidock.EUNAVAILABLE, "find case %s: the server's answer holds no case", number)
	}
	return &d, nil
}

// FindCases returns the cases matching f, latest filed first, and how many
// match in all; EINVALID for a filter the server refuses.
func (c *Client) FindCases(ctx context.Context, f evidock.CaseFilter) ([]*evidock.Case, int, error) {
	path := "/api/v1/cases"
	if q := encodeCaseFilter(f); q != "" {
		path += "?" + q
	}
	var list caseList
	if _, err := c.do(ctx, http.MethodGet, path, nil, &list); err != nil {
		return nil, 0, fmt.Errorf("find cases: %w", err)
	}
	if list.Cases == nil {
		list.Cases = []*evidock.Case{}
	}
	return list.Cases, list.Total, nil
}

// RecordCaseDates records the dates set in d on the case with the number
// and returns the case as stored; ENOTFOUND, ECONFLICT or EINVALID as the
// server answers.
func (c *Client) RecordCaseDates(ctx context.Context, number string, d evidock.CaseDates) (*evidock.Case, error) {
	body, err := encodeBody(datesBodyOf(d))
	if err != nil {
		return nil, err
	}
	var got evidock.Case
	if _, err := c.do(ctx, http.MethodPost, casePath(number)+"/dates", body, &got); err != nil {
		return nil, fmt.Errorf("record dates of case %s: %w", number, err)
	}
	return &got, nil
}

// CreateActivity adds a to the case with the number and fills a with the
// activity as stored; ENOTFOUND for an unknown case, EINVALID as the server
// answers.
func (c *Client) CreateActivity(ctx context.Context, number string, a *evidock.Activity) error {
	body, err := encodeActivity(a)
	if err != nil {
		return err
	}
	var got evidock.Activity
	if _, err := c.do(ctx, http.MethodPost, casePath(number)+"/activities", body, &got); err != nil {
		return fmt.Errorf("create activity in case %s: %w", number, err)
	}
	*a = got
	return nil
}

// FindActivity returns the activity with its links, or ENOTFOUND.
func (c *Client) FindActivity(ctx context.Context, id int64) (*evidock.ActivityDetail, error) {
	var d evidock.ActivityDetail
	if _, err := c.do(ctx, http.MethodGet, activityPath(id), nil, &d); err != nil {
		return nil, fmt.Errorf("find activity %d: %w", id, err)
	}
	return &d, nil
}

func activityPath(id int64) string { return "/api/v1/activities/" + strconv.FormatInt(id, 10) }

// SuggestLinks returns the clips the server suggests for the activity,
// searching margin before and after it; a negative margin uses the
// server's default.
func (c *Client) SuggestLinks(ctx context.Context, activityID int64, margin time.Duration) ([]*evidock.ClipLink, error) {
	path := activityPath(activityID) + "/suggestions"
	if margin >= 0 {
		path += "?" + url.Values{"margin": {margin.String()}}.Encode()
	}
	var list suggestionList
	if _, err := c.do(ctx, http.MethodGet, path, nil, &list); err != nil {
		return nil, fmt.Errorf("suggest links for activity %d: %w", activityID, err)
	}
	if list.Suggestions == nil {
		list.Suggestions = []*evidock.ClipLink{}
	}
	return list.Suggestions, nil
}

// ChangeLink sends a confirm, reject or unlink as the officer the client
// is logged in as (see Login) and fills e with the entry as stored, By
// being that officer: e.By is not sent, since the server records who made
// the change. It returns EFORBIDDEN for a client with a station token only
// or a user who is no officer or whose link_clips does not reach the clip,
// and the server's other errors with their codes.
func (c *Client) ChangeLink(ctx context.Context, e *evidock.LinkEntry) error {
	body, err := encodeBody(linkBody{Digest: e.Digest.String(), Action: e.Action, Reason: e.Reason})
	if err != nil {
		return err
	}
	var got evidock.LinkEntry
	if _, err := c.do(ctx, http.MethodPost, activityPath(e.ActivityID)+"/links", body, &got); err != nil {
		return fmt.Errorf("%s link of activity %d: %w", e.Action, e.ActivityID, err)
	}
	*e = got
	return nil
}

// linksPath returns the path of the links f selects: an activity's or a
// clip's. A case's links come with FindCaseDetail.
func linksPath(f evidock.LinkFilter) (string, error) {
	switch {
	case f.ActivityID > 0 && f.Digest.IsZero() && f.CaseID == 0:
		return activityPath(f.ActivityID) + "/links", nil
	case !f.Digest.IsZero() && f.ActivityID == 0 && f.CaseID == 0:
		return "/api/v1/clips/" + f.Digest.String() + "/links", nil
	}
	return "", evidock.Errorf(evidock.EINVALID, "links: give an activity or a clip; a case's links come with its detail")
}

// FindLinks returns where the links of an activity or a clip stand.
func (c *Client) FindLinks(ctx context.Context, f evidock.LinkFilter) ([]*evidock.ClipLink, error) {
	path, err := linksPath(f)
	if err != nil {
		return nil, err
	}
	var list linkList
	if _, err := c.do(ctx, http.MethodGet, path, nil, &list); err != nil {
		return nil, fmt.Errorf("find links: %w", err)
	}
	if list.Links == nil {
		list.Links = []*evidock.ClipLink{}
	}
	return list.Links, nil
}

// LinkHistory returns every change to the links of an activity or a clip.
func (c *Client) LinkHistory(ctx context.Context, f evidock.LinkFilter) ([]*evidock.LinkEntry, error) {
	path, err := linksPath(f)
	if err != nil {
		return nil, err
	}
	var list entryList
	if _, err := c.do(ctx, http.MethodGet, path+"/history", nil, &list); err != nil {
		return nil, fmt.Errorf("find link history: %w", err)
	}
	if list.Entries == nil {
		list.Entries = []*evidock.LinkEntry{}
	}
	return list.Entries, nil
}

// MissingRecordings returns the activities of the case with the number
// whose mandatory recording has no confirmed clip; ENOTFOUND for an
// unknown case.
func (c *Client) MissingRecordings(ctx context.Context, number string) ([]*evidock.Activity, error) {
	var list activityList
	if _, err := c.do(ctx, http.MethodGet, casePath(number)+"/missing-recordings", nil, &list); err != nil {
		return nil, fmt.Errorf("find missing recordings of case %s: %w", number, err)
	}
	if list.Activities == nil {
		list.Activities = []*evidock.Activity{}
	}
	return list.Activities, nil
}
