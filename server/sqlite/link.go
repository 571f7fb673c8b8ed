package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"evidock"
)

var _ evidock.LinkService = (*DB)(nil)

// linkColumns are an entry of clip_links l with its clip's digest from
// clips c.
const linkColumns = `l.id, l.clip_id, c.blake3, l.activity_id, l.seq, l.action, l.actor, l.at, l.reason`

// latestOnly keeps the latest entry of each clip and activity.
const latestOnly = ` AND l.seq = (SELECT MAX(m.seq) FROM clip_links m WHERE m.activity_id = l.activity_id AND m.clip_id = l.clip_id)`

// SuggestLinks returns the clips that may record the activity and are not
// decided on, recording a suggest entry for each suggested for the first
// time; see evidock.LinkService. It returns ENOTFOUND for an unknown
// activity, EINVALID for a margin out of range, and EUNAVAILABLE if the
// database stays locked.
func (db *DB) SuggestLinks(ctx context.Context, activityID int64, margin time.Duration) ([]*evidock.ClipLink, error) {
	if margin < 0 || margin > evidock.MaxSuggestMargin {
		return nil, evidock.Errorf(evidock.EINVALID, "suggest links: margin must be 0 to %s, got %s", evidock.MaxSuggestMargin, margin)
	}
	op := fmt.Sprintf("suggest links for activity %d", activityID)
	// A write transaction throughout: suggestions read the history and
	// add to it, and two requests must not both add the first entry.
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, dbError(op, err)
	}
	defer tx.Rollback()
	a, err := findActivity(ctx, tx, activityID)
	if err != nil {
		return nil, err
	}
	from, to := a.StartedAt.Add(-margin), a.EndedAt.Add(margin)
	history, err := findAssignments(ctx, tx, "officer_no IN ("+placeholders(len(a.Officers))+")", anySlice(a.Officers)...)
	if err != nil {
		return nil, err
	}
	serials := []string{}
	for _, as := range history {
		if a.HasOfficer(as.OfficerNo) && !slices.Contains(serials, as.DeviceSerial) {
			serials = append(serials, as.DeviceSerial)
		}
	}
	args := append([]any{dbTime(from.Add(-evidock.MaxClipDuration)), formatTime(to)}, anySlice(a.Officers)...)
	args = append(args, anySlice(serials)...)
	rows, err := tx.QueryContext(ctx, "SELECT "+clipColumns+` FROM clips
		WHERE corrected_started_at >= ? AND corrected_started_at <= ?
		AND (officer_no IN (`+placeholders(len(a.Officers))+`) OR device_serial IN (`+placeholders(len(serials))+`))
		ORDER BY corrected_started_at, id`, args...)
	if err != nil {
		return nil, dbError(op, err)
	}
	var candidates []*evidock.Clip
	for rows.Next() {
		c, err := scanClip(rows)
		if err != nil {
			rows.Close()
			return nil, dbError(op, err)
		}
		candidates = append(candidates, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, dbError(op, err)
	}
	latest, err := latestEntries(ctx, tx, "l.activity_id = ?", activityID)
	if err != nil {
		return nil, err
	}
	now := db.now()
	links := []*evidock.ClipLink{}
	for _, c := range candidates {
		reason, ok := evidock.SuggestionReason(a, c, history, from, to)
		if !ok {
			continue
		}
		last := latest[c.ID]
		switch {
		case last == nil:
			last = &evidock.LinkEntry{ClipID: c.ID, Digest: c.Digest, ActivityID: a.ID, Seq: 1,
				Action: evidock.LinkSuggest, By: evidock.LinkSystem, Reason: reason}
			if err := insertEntry(ctx, tx, last, now); err != nil {
				return nil, dbError(op, err)
			}
		case last.Action != evidock.LinkSuggest:
			continue // decided on by an officer
		}
		links = append(links, &evidock.ClipLink{ActivityID: a.ID, State: evidock.LinkSuggested, Clip: c, Last: last})
	}
	if err := tx.Commit(); err != nil {
		return nil, dbError(op, err)
	}
	return links, nil
}

// insertEntry adds e to clip_links at now and fills in its ID and At.
func insertEntry(ctx context.Context, tx *sql.Tx, e *evidock.LinkEntry, now time.Time) error {
	at := dbTime(now)
	res, err := tx.ExecContext(ctx, "INSERT INTO clip_links (clip_id, activity_id, seq, action, actor, at, reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
		e.ClipID, e.ActivityID, e.Seq, string(e.Action), e.By, at, e.Reason)
	if err != nil {
		return err
	}
	if e.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	e.At, _ = parseTime(at)
	return nil
}

// ChangeLink adds an officer's confirm, reject or unlink to the history of
// a clip's link to an activity; see evidock.LinkService. It returns
// EINVALID for a malformed change or an unknown officer, ENOTFOUND for an
// unknown clip or activity, ECONFLICT if the action may not follow the
// link's state, and EUNAVAILABLE if the database stays locked.
func (db *DB) ChangeLink(ctx context.Context, e *evidock.LinkEntry) error {
	if err := e.Validate(); err != nil {
		return err
	}
	op := fmt.Sprintf("%s link of activity %d", e.Action, e.ActivityID)
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError(op, err)
	}
	defer tx.Rollback()
	if _, err := findActivity(ctx, tx, e.ActivityID); err != nil {
		return err
	}
	if err := officerExists(ctx, tx, e.By, "link: by"); err != nil {
		return err
	}
	var digest string
	if !e.Digest.IsZero() {
		err = tx.QueryRowContext(ctx, "SELECT id, blake3 FROM clips WHERE blake3 = ?", e.Digest.String()).Scan(&e.ClipID, &digest)
	} else {
		err = tx.QueryRowContext(ctx, "SELECT id, blake3 FROM clips WHERE id = ?", e.ClipID).Scan(&e.ClipID, &digest)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return evidock.Errorf(evidock.ENOTFOUND, "link: clip %s is not registered", clipName(e))
	}
	if err != nil {
		return dbError(op, err)
	}
	if e.Digest, err = evidock.ParseDigest(digest); err != nil {
		return fmt.Errorf("sqlite: clip %d: stored blake3 %q: %v", e.ClipID, digest, err)
	}
	latest, err := latestEntries(ctx, tx, "l.activity_id = ? AND l.clip_id = ?", e.ActivityID, e.ClipID)
	if err != nil {
		return err
	}
	state, seq := evidock.LinkNone, 0
	if last := latest[e.ClipID]; last != nil {
		state, seq = last.Action.State(), last.Seq
	}
	if err := evidock.CheckTransition(state, e.Action); err != nil {
		return err
	}
	e.Seq = seq + 1
	if err := insertEntry(ctx, tx, e, db.now()); err != nil {
		return dbError(op, err)
	}
	if err := tx.Commit(); err != nil {
		return dbError(op, err)
	}
	return nil
}

// clipName names the clip of a link change in messages.
func clipName(e *evidock.LinkEntry) string {
	if !e.Digest.IsZero() {
		return e.Digest.String()
	}
	return fmt.Sprintf("with id %d", e.ClipID)
}

// linkCond returns the condition on clip_links l that f selects, or
// EINVALID.
func linkCond(f evidock.LinkFilter) (string, any, error) {
	if err := f.Validate(); err != nil {
		return "", nil, err
	}
	switch {
	case f.CaseID > 0:
		return "l.activity_id IN (SELECT id FROM activities WHERE case_id = ?)", f.CaseID, nil
	case f.ActivityID > 0:
		return "l.activity_id = ?", f.ActivityID, nil
	}
	return "c.blake3 = ?", f.Digest.String(), nil
}

// FindLinks returns where each link matching f stands, by activity and the
// clip's corrected start; never a nil slice. It returns EINVALID for a
// malformed filter.
func (db *DB) FindLinks(ctx context.Context, f evidock.LinkFilter) ([]*evidock.ClipLink, error) {
	cond, arg, err := linkCond(f)
	if err != nil {
		return nil, err
	}
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, dbError("find links", err)
	}
	defer tx.Rollback()
	entries, err := findEntries(ctx, tx, cond+latestOnly, arg)
	if err != nil {
		return nil, err
	}
	ids := make([]any, 0, len(entries))
	for _, e := range entries {
		ids = append(ids, e.ClipID)
	}
	clips := map[int64]*evidock.Clip{}
	if len(ids) > 0 {
		rows, err := tx.QueryContext(ctx, "SELECT "+clipColumns+" FROM clips WHERE id IN ("+placeholders(len(ids))+")", ids...)
		if err != nil {
			return nil, dbError("find linked clips", err)
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanClip(rows)
			if err != nil {
				return nil, dbError("find linked clips", err)
			}
			clips[c.ID] = c
		}
		if err := rows.Err(); err != nil {
			return nil, dbError("find linked clips", err)
		}
	}
	links := make([]*evidock.ClipLink, 0, len(entries))
	for _, e := range entries {
		links = append(links, &evidock.ClipLink{ActivityID: e.ActivityID, State: e.Action.State(), Clip: clips[e.ClipID], Last: e})
	}
	evidock.SortLinks(links)
	return links, nil
}

// LinkHistory returns every entry of the links matching f in the order they
// were made; never a nil slice. It returns EINVALID for a malformed filter.
func (db *DB) LinkHistory(ctx context.Context, f evidock.LinkFilter) ([]*evidock.LinkEntry, error) {
	cond, arg, err := linkCond(f)
	if err != nil {
		return nil, err
	}
	return findEntries(ctx, db.db, cond, arg)
}

// MissingRecordings returns the activities of the case whose recording is
// mandatory and that have no confirmed clip, in StartedAt order. It
// returns ENOTFOUND for an unknown case.
func (db *DB) MissingRecordings(ctx context.Context, caseID int64) ([]*evidock.Activity, error) {
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, dbError("find missing recordings", err)
	}
	defer tx.Rollback()
	if _, err := findCase(ctx, tx, "id = ?", caseID); err != nil {
		return nil, err
	}
	acts, err := findActivities(ctx, tx, "case_id = ?", caseID)
	if err != nil {
		return nil, err
	}
	latest, err := findEntries(ctx, tx, "l.activity_id IN (SELECT id FROM activities WHERE case_id = ?)"+latestOnly, caseID)
	if err != nil {
		return nil, err
	}
	return evidock.MissingRecordingsOf(acts, latest), nil
}

// latestEntries returns the latest entry of each clip's link matching cond,
// by clip ID.
func latestEntries(ctx context.Context, q queryer, cond string, args ...any) (map[int64]*evidock.LinkEntry, error) {
	entries, err := findEntries(ctx, q, cond+latestOnly, args...)
	if err != nil {
		return nil, err
	}
	m := make(map[int64]*evidock.LinkEntry, len(entries))
	for _, e := range entries {
		m[e.ClipID] = e
	}
	return m, nil
}

// findEntries returns the entries of clip_links l matching cond, in the
// order they were made.
func findEntries(ctx context.Context, q queryer, cond string, args ...any) ([]*evidock.LinkEntry, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+linkColumns+" FROM clip_links l JOIN clips c ON c.id = l.clip_id WHERE "+cond+" ORDER BY l.id", args...)
	if err != nil {
		return nil, dbError("find clip links", err)
	}
	defer rows.Close()
	entries := []*evidock.LinkEntry{}
	for rows.Next() {
		var (
			e                  evidock.LinkEntry
			digest, action, at string
		)
		if err := rows.Scan(&e.ID, &e.ClipID, &digest, &e.ActivityID, &e.Seq, &action, &e.By, &at, &e.Reason); err != nil {
			return nil, dbError("find clip links", err)
		}
		if e.Digest, err = evidock.ParseDigest(digest); err != nil {
			return nil, fmt.Errorf("sqlite: clip %d: stored blake3 %q: %v", e.ClipID, digest, err)
		}
		e.Action = evidock.LinkAction(action)
		if e.At, err = parseTime(at); err != nil {
			return nil, dbError("find clip links", err)
		}
		entries = append(entries, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("find clip links", err)
	}
	return entries, nil
}

// confirmedClips selects the ids of the clips whose latest entry for some
// activity of a case numbered as in the JSON array of the one parameter is
// a confirm: the clips linked to those cases.
const confirmedClips = `SELECT l.clip_id FROM clip_links l
	JOIN activities a ON a.id = l.activity_id JOIN cases k ON k.id = a.case_id
	WHERE k.number IN (SELECT value FROM json_each(?)) AND l.action = 'confirm'` + latestOnly

// LinkedCases returns the numbers of the cases clip d is linked to now: a
// confirmed link (its latest entry a confirm) to one of their activities;
// in number order, never nil, empty for an unknown clip.
func (db *DB) LinkedCases(ctx context.Context, d evidock.Digest) ([]string, error) {
	op := "find the cases of clip " + d.String()
	rows, err := db.db.QueryContext(ctx, `SELECT DISTINCT k.number FROM clip_links l
		JOIN clips c ON c.id = l.clip_id JOIN activities a ON a.id = l.activity_id JOIN cases k ON k.id = a.case_id
		WHERE c.blake3 = ? AND l.action = 'confirm'`+latestOnly+` ORDER BY k.number`, d.String())
	if err != nil {
		return nil, dbError(op, err)
	}
	defer rows.Close()
	cases := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, dbError(op, err)
		}
		cases = append(cases, n)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(op, err)
	}
	return cases, nil
}
