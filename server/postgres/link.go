package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"evidock"
)

var _ evidock.LinkService = (*DB)(nil)

// linkColumns are an entry of clip_links l with its clip's digest from
// clips c.
const linkColumns = `l.id, l.clip_id, c.blake3, l.activity_id, l.seq, l.action, l.actor, l.at, l.reason`

// latestOnly keeps the latest entry of each clip and activity.
const latestOnly = ` AND l.seq = (SELECT MAX(m.seq) FROM clip_links m WHERE m.activity_id = l.activity_id AND m.clip_id = l.clip_id)`

// lockActivity locks the activity's row for the rest of tx, so that the
// link changes of one activity, from any server, are made one at a time
// and each sees the one before. It returns ENOTFOUND for an unknown
// activity.
func lockActivity(ctx context.Context, tx pgx.Tx, id int64) error {
	var one int64
	err := tx.QueryRow(ctx, "SELECT id FROM activities WHERE id = $1 FOR UPDATE", id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return evidock.Errorf(evidock.ENOTFOUND, "activity %d does not exist", id)
	}
	return err
}

// SuggestLinks returns the clips that may record the activity and are not
// decided on, recording a suggest entry for each suggested for the first
// time; see evidock.LinkService. It returns ENOTFOUND for an unknown
// activity, EINVALID for a margin out of range, and EUNAVAILABLE if the
// database cannot be reached.
func (db *DB) SuggestLinks(ctx context.Context, activityID int64, margin time.Duration) ([]*evidock.ClipLink, error) {
	if margin < 0 || margin > evidock.MaxSuggestMargin {
		return nil, evidock.Errorf(evidock.EINVALID, "suggest links: margin must be 0 to %s, got %s", evidock.MaxSuggestMargin, margin)
	}
	var links []*evidock.ClipLink
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		links = []*evidock.ClipLink{}
		if err := lockActivity(ctx, tx, activityID); err != nil {
			return err
		}
		a, err := findActivity(ctx, tx, activityID)
		if err != nil {
			return err
		}
		from, to := a.StartedAt.Add(-margin), a.EndedAt.Add(margin)
		history, err := findAssignments(ctx, tx, "officer_no = ANY($1)", a.Officers)
		if err != nil {
			return err
		}
		serials := []string{}
		for _, as := range history {
			if a.HasOfficer(as.OfficerNo) && !slices.Contains(serials, as.DeviceSerial) {
				serials = append(serials, as.DeviceSerial)
			}
		}
		rows, err := tx.Query(ctx, "SELECT "+clipColumns+` FROM clips
			WHERE corrected_started_at >= $1 AND corrected_started_at <= $2
			AND (officer_no = ANY($3) OR device_serial = ANY($4))
			ORDER BY corrected_started_at, id`, toDB(from.Add(-evidock.MaxClipDuration)), ceilDB(to), a.Officers, serials)
		if err != nil {
			return err
		}
		candidates, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*evidock.Clip, error) { return scanClip(row) })
		if err != nil {
			return err
		}
		latest, err := latestEntries(ctx, tx, "l.activity_id = $1", activityID)
		if err != nil {
			return err
		}
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
				if err := insertEntry(ctx, tx, last); err != nil {
					return err
				}
			case last.Action != evidock.LinkSuggest:
				continue // decided on by an officer
			}
			links = append(links, &evidock.ClipLink{ActivityID: a.ID, State: evidock.LinkSuggested, Clip: c, Last: last})
		}
		return nil
	})
	if code := evidock.ErrorCode(err); code == evidock.ENOTFOUND {
		return nil, err
	}
	if err != nil {
		return nil, dbError(fmt.Sprintf("suggest links for activity %d", activityID), err)
	}
	return links, nil
}

// insertEntry adds e to clip_links and fills in its ID and At.
func insertEntry(ctx context.Context, tx pgx.Tx, e *evidock.LinkEntry) error {
	var at time.Time
	if err := tx.QueryRow(ctx, "INSERT INTO clip_links (clip_id, activity_id, seq, action, actor, reason) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, at",
		e.ClipID, e.ActivityID, e.Seq, string(e.Action), e.By, e.Reason).Scan(&e.ID, &at); err != nil {
		return err
	}
	e.At = fromDB(at)
	return nil
}

// ChangeLink adds an officer's confirm, reject or unlink to the history of
// a clip's link to an activity; see evidock.LinkService. It returns
// EINVALID for a malformed change or an unknown officer, ENOTFOUND for an
// unknown clip or activity, ECONFLICT if the action may not follow the
// link's state, and EUNAVAILABLE if the database cannot be reached.
func (db *DB) ChangeLink(ctx context.Context, e *evidock.LinkEntry) error {
	if err := e.Validate(); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := lockActivity(ctx, tx, e.ActivityID); err != nil {
			return err
		}
		var known bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM officers WHERE officer_no = $1)", e.By).Scan(&known); err != nil {
			return err
		}
		if !known {
			return evidock.Errorf(evidock.EINVALID, "link: by %q is not a known officer", e.By)
		}
		var (
			digest []byte
			err    error
		)
		if !e.Digest.IsZero() {
			err = tx.QueryRow(ctx, "SELECT id, blake3 FROM clips WHERE blake3 = $1", e.Digest[:]).Scan(&e.ClipID, &digest)
		} else {
			err = tx.QueryRow(ctx, "SELECT id, blake3 FROM clips WHERE id = $1", e.ClipID).Scan(&e.ClipID, &digest)
		}
		if errors.Is(err, pgx.ErrNoRows) {
			return evidock.Errorf(evidock.ENOTFOUND, "link: clip %s is not registered", clipName(e))
		}
		if err != nil {
			return err
		}
		if len(digest) != len(e.Digest) {
			return fmt.Errorf("clip %d: stored blake3 is %d bytes, not %d", e.ClipID, len(digest), len(e.Digest))
		}
		copy(e.Digest[:], digest)
		latest, err := latestEntries(ctx, tx, "l.activity_id = $1 AND l.clip_id = $2", e.ActivityID, e.ClipID)
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
		return insertEntry(ctx, tx, e)
	})
	switch code := evidock.ErrorCode(err); {
	case err == nil:
		return nil
	case code == evidock.EINVALID, code == evidock.ENOTFOUND, code == evidock.ECONFLICT:
		return err
	case pgCode(err) == codeUniqueViolation:
		return evidock.WrapError(evidock.ECONFLICT, err, "link: another change to this link was made at the same moment; reload it and try again")
	}
	return dbError(fmt.Sprintf("%s link of activity %d", e.Action, e.ActivityID), err)
}

// clipName names the clip of a link change in messages.
func clipName(e *evidock.LinkEntry) string {
	if !e.Digest.IsZero() {
		return e.Digest.String()
	}
	return fmt.Sprintf("with id %d", e.ClipID)
}

// linkCond returns the condition on clip_links l that f selects, with its
// argument as $1, or EINVALID.
func linkCond(f evidock.LinkFilter) (string, any, error) {
	if err := f.Validate(); err != nil {
		return "", nil, err
	}
	switch {
	case f.CaseID > 0:
		return "l.activity_id IN (SELECT id FROM activities WHERE case_id = $1)", f.CaseID, nil
	case f.ActivityID > 0:
		return "l.activity_id = $1", f.ActivityID, nil
	}
	return "c.blake3 = $1", f.Digest[:], nil
}

// FindLinks returns where each link matching f stands, by activity and the
// clip's corrected start; never a nil slice. It returns EINVALID for a
// malformed filter and EUNAVAILABLE if the database cannot be reached.
func (db *DB) FindLinks(ctx context.Context, f evidock.LinkFilter) ([]*evidock.ClipLink, error) {
	cond, arg, err := linkCond(f)
	if err != nil {
		return nil, err
	}
	links := []*evidock.ClipLink{}
	err = pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		entries, err := findEntries(ctx, tx, cond+latestOnly, arg)
		if err != nil {
			return err
		}
		ids := make([]int64, 0, len(entries))
		for _, e := range entries {
			ids = append(ids, e.ClipID)
		}
		rows, err := tx.Query(ctx, "SELECT "+clipColumns+" FROM clips WHERE id = ANY($1)", ids)
		if err != nil {
			return err
		}
		clips, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*evidock.Clip, error) { return scanClip(row) })
		if err != nil {
			return err
		}
		byID := make(map[int64]*evidock.Clip, len(clips))
		for _, c := range clips {
			byID[c.ID] = c
		}
		for _, e := range entries {
			links = append(links, &evidock.ClipLink{ActivityID: e.ActivityID, State: e.Action.State(), Clip: byID[e.ClipID], Last: e})
		}
		return nil
	})
	if err != nil {
		return nil, dbError("find links", err)
	}
	evidock.SortLinks(links)
	return links, nil
}

// LinkHistory returns every entry of the links matching f in the order they
// were made; never a nil slice. It returns EINVALID for a malformed filter
// and EUNAVAILABLE if the database cannot be reached.
func (db *DB) LinkHistory(ctx context.Context, f evidock.LinkFilter) ([]*evidock.LinkEntry, error) {
	cond, arg, err := linkCond(f)
	if err != nil {
		return nil, err
	}
	entries, err := findEntries(ctx, db.pool, cond, arg)
	if err != nil {
		return nil, dbError("find link history", err)
	}
	return entries, nil
}

// MissingRecordings returns the activities of the case whose recording is
// mandatory and that have no confirmed clip, in StartedAt order. It
// returns ENOTFOUND for an unknown case and EUNAVAILABLE if the database
// cannot be reached.
func (db *DB) MissingRecordings(ctx context.Context, caseID int64) ([]*evidock.Activity, error) {
	var missing []*evidock.Activity
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := findCase(ctx, tx, "id = $1", caseID); err != nil {
			return err
		}
		acts, err := findActivities(ctx, tx, "case_id = $1", caseID)
		if err != nil {
			return err
		}
		latest, err := findEntries(ctx, tx, "l.activity_id IN (SELECT id FROM activities WHERE case_id = $1)"+latestOnly, caseID)
		if err != nil {
			return err
		}
		missing = evidock.MissingRecordingsOf(acts, latest)
		return nil
	})
	if evidock.ErrorCode(err) == evidock.ENOTFOUND {
		return nil, err
	}
	if err != nil {
		return nil, dbError(fmt.Sprintf("find missing recordings of case %d", caseID), err)
	}
	return missing, nil
}

// latestEntries returns the latest entry of each clip's link matching cond,
// by clip ID. Its errors are the driver's.
func latestEntries(ctx context.Context, q querier, cond string, args ...any) (map[int64]*evidock.LinkEntry, error) {
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
// order they were made; never a nil slice. Its errors are the driver's.
func findEntries(ctx context.Context, q querier, cond string, args ...any) ([]*evidock.LinkEntry, error) {
	rows, err := q.Query(ctx, "SELECT "+linkColumns+" FROM clip_links l JOIN clips c ON c.id = l.clip_id WHERE "+cond+" ORDER BY l.id", args...)
	if err != nil {
		return nil, err
	}
	entries, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*evidock.LinkEntry, error) {
		var (
			e      evidock.LinkEntry
			digest []byte
			action string
			at     time.Time
		)
		if err := row.Scan(&e.ID, &e.ClipID, &digest, &e.ActivityID, &e.Seq, &action, &e.By, &at, &e.Reason); err != nil {
			return nil, err
		}
		if len(digest) != len(e.Digest) {
			return nil, fmt.Errorf("clip %d: stored blake3 is %d bytes, not %d", e.ClipID, len(digest), len(e.Digest))
		}
		copy(e.Digest[:], digest)
		e.Action, e.At = evidock.LinkAction(action), fromDB(at)
		return &e, nil
	})
	if err != nil {
		return nil, err
	}
	return nonNil(entries), nil
}

// confirmedClips selects the ids of the clips whose latest entry for some
// activity of a case numbered as in the text array parameter %s is a
// confirm: the clips linked to those cases.
const confirmedClips = `SELECT l.clip_id FROM clip_links l
	JOIN activities a ON a.id = l.activity_id JOIN cases k ON k.id = a.case_id
	WHERE k.number = ANY(%s) AND l.action = 'confirm'` + latestOnly

// LinkedCases returns the numbers of the cases clip d is linked to now: a
// confirmed link (its latest entry a confirm) to one of their activities;
// in number order, never nil, empty for an unknown clip.
func (db *DB) LinkedCases(ctx context.Context, d evidock.Digest) ([]string, error) {
	op := "find the cases of clip " + d.String()
	rows, err := db.pool.Query(ctx, `SELECT DISTINCT k.number FROM clip_links l
		JOIN clips c ON c.id = l.clip_id JOIN activities a ON a.id = l.activity_id JOIN cases k ON k.id = a.case_id
		WHERE c.blake3 = $1 AND l.action = 'confirm'`+latestOnly+` ORDER BY k.number`, d[:])
	if err != nil {
		return nil, dbError(op, err)
	}
	cases, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, dbError(op, err)
	}
	if cases == nil {
		cases = []string{}
	}
	return cases, nil
}
