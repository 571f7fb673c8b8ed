package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"evidock"
)

var (
	_ evidock.UnitService    = (*DB)(nil)
	_ evidock.OfficerService = (*DB)(nil)
	_ evidock.CaseService    = (*DB)(nil)
)

// dbTime returns t as stored: truncated to microseconds, as PostgreSQL
// keeps times, so that both stores hand back the same instants.
func dbTime(t time.Time) string { return formatTime(t.Truncate(time.Microsecond)) }

// nullTime returns t as stored, or NULL for a zero t.
func nullTime(t time.Time) sql.NullString {
	if t.IsZero() {
		return sql.NullString{}
	}
	return sql.NullString{String: dbTime(t), Valid: true}
}

// parseNullTime reads a nullable stored time; NULL is the zero time.
func parseNullTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return parseTime(s.String)
}

// placeholders returns n comma-separated '?'.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// anySlice returns vs as []any, for query arguments.
func anySlice[T any](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// subtreeCTE selects, as sub(code), the unit bound to its one parameter
// and every unit below it.
const subtreeCTE = `WITH RECURSIVE sub(code) AS (
	SELECT code FROM units WHERE code = ?
	UNION ALL
	SELECT u.code FROM units u JOIN sub ON u.parent_code = sub.code
) `

// isConstraint reports whether err is a violation of the constraint kind
// (an extended SQLite code such as SQLITE_CONSTRAINT_UNIQUE).
func isConstraint(err error, code int) bool { return sqliteCode(err) == code }

const unitColumns = `code, name, level, COALESCE(parent_code, ''), created_at`

// CreateUnit stores u, fills in its CreatedAt, and appends ev to the audit
// log in the same transaction, with its Object and Unit set to the new unit
// and its path. It returns EINVALID for a malformed unit or a parent that is
// unknown or not of the level above, ECONFLICT if the code is taken,
// EINTERNAL for a nil ev, and EUNAVAILABLE if the database stays locked.
func (db *DB) CreateUnit(ctx context.Context, u *evidock.Unit, ev *evidock.AuditEvent) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if ev == nil {
		return evidock.Errorf(evidock.EINTERNAL, "create unit %s: no audit event", u.Code)
	}
	op := "create unit " + u.Code
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError(op, err)
	}
	defer tx.Rollback()
	path := u.Code
	if want, ok := u.Level.ParentLevel(); ok {
		var (
			level       string
			grandparent sql.NullString
		)
		err := tx.QueryRowContext(ctx, "SELECT level, parent_code FROM units WHERE code = ?", u.ParentCode).Scan(&level, &grandparent)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return evidock.Errorf(evidock.EINVALID, "unit: parent_code %q is not a unit: create the %s first", u.ParentCode, want)
		case err != nil:
			return dbError(op, err)
		case evidock.UnitLevel(level) != want:
			return evidock.Errorf(evidock.EINVALID, "unit: parent_code %q is a %s; a %s hangs under a %s", u.ParentCode, level, u.Level, want)
		}
		// The levels are fixed, so the parent and its parent are all the
		// new unit's ancestors.
		path = u.ParentCode + "/" + u.Code
		if grandparent.String != "" {
			path = grandparent.String + "/" + path
		}
	}
	created := db.now()
	parent := sql.NullString{String: u.ParentCode, Valid: u.ParentCode != ""}
	if _, err := tx.ExecContext(ctx, "INSERT INTO units (code, name, level, parent_code, created_at) VALUES (?, ?, ?, ?, ?)",
		u.Code, u.Name, string(u.Level), parent, dbTime(created)); err != nil {
		if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
			return evidock.WrapError(evidock.ECONFLICT, err, "unit: code %s is taken", u.Code)
		}
		return dbError(op, err)
	}
	ev.Object, ev.Unit = "unit:"+u.Code, path
	if err := db.appendAudit(ctx, tx, ev); err != nil {
		return dbError(op, err)
	}
	if err := tx.Commit(); err != nil {
		return dbError(op, err)
	}
	u.CreatedAt, _ = parseTime(dbTime(created))
	return nil
}

// FindUnit returns the unit with the code, or ENOTFOUND.
func (db *DB) FindUnit(ctx context.Context, code string) (*evidock.Unit, error) {
	return findUnit(ctx, db.db, code)
}

func findUnit(ctx context.Context, q queryer, code string) (*evidock.Unit, error) {
	u, err := scanUnit(q.QueryRowContext(ctx, "SELECT "+unitColumns+" FROM units WHERE code = ?", code))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, evidock.Errorf(evidock.ENOTFOUND, "unit %s does not exist", code)
	}
	if err != nil {
		return nil, dbError("find unit "+code, err)
	}
	return u, nil
}

// FindUnits returns every unit, level by level from the bureau down and in
// code order within a level, so parents come before their children; never
// a nil slice.
func (db *DB) FindUnits(ctx context.Context) ([]*evidock.Unit, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT "+unitColumns+` FROM units
		ORDER BY CASE level WHEN 'bureau' THEN 0 WHEN 'district' THEN 1 ELSE 2 END, code`)
	if err != nil {
		return nil, dbError("find units", err)
	}
	defer rows.Close()
	units := []*evidock.Unit{}
	for rows.Next() {
		u, err := scanUnit(rows)
		if err != nil {
			return nil, dbError("find units", err)
		}
		units = append(units, u)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("find units", err)
	}
	return units, nil
}

func scanUnit(s scanner) (*evidock.Unit, error) {
	var (
		u              evidock.Unit
		level, created string
	)
	if err := s.Scan(&u.Code, &u.Name, &level, &u.ParentCode, &created); err != nil {
		return nil, err
	}
	u.Level = evidock.UnitLevel(level)
	var err error
	if u.CreatedAt, err = parseTime(created); err != nil {
		return nil, fmt.Errorf("unit %s: created_at: %w", u.Code, err)
	}
	return &u, nil
}

const officerColumns = `officer_no, certificate_no, name, unit_code, created_at`

// CreateOfficer stores o and fills in its CreatedAt. It returns EINVALID
// for a malformed officer or an unknown unit, ECONFLICT if the officer
// number or the certificate number is taken, and EUNAVAILABLE if the
// database stays locked.
func (db *DB) CreateOfficer(ctx context.Context, o *evidock.Officer) error {
	if err := o.Validate(); err != nil {
		return err
	}
	op := "create officer " + o.No
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError(op, err)
	}
	defer tx.Rollback()
	if _, err := findUnit(ctx, tx, o.UnitCode); evidock.ErrorCode(err) == evidock.ENOTFOUND {
		return evidock.Errorf(evidock.EINVALID, "officer: unit_code %q is not a unit", o.UnitCode)
	} else if err != nil {
		return err
	}
	var no, cert string
	err = tx.QueryRowContext(ctx, "SELECT officer_no, certificate_no FROM officers WHERE officer_no = ? OR certificate_no = ?",
		o.No, o.CertificateNo).Scan(&no, &cert)
	switch {
	case err == nil && no == o.No:
		return evidock.Errorf(evidock.ECONFLICT, "officer: officer_no %s is taken", o.No)
	case err == nil:
		return evidock.Errorf(evidock.ECONFLICT, "officer: certificate_no %s belongs to officer %s", o.CertificateNo, no)
	case !errors.Is(err, sql.ErrNoRows):
		return dbError(op, err)
	}
	created := db.now()
	if _, err := tx.ExecContext(ctx, "INSERT INTO officers ("+officerColumns+") VALUES (?, ?, ?, ?, ?)",
		o.No, o.CertificateNo, o.Name, o.UnitCode, dbTime(created)); err != nil {
		return dbError(op, err)
	}
	if err := tx.Commit(); err != nil {
		return dbError(op, err)
	}
	o.CreatedAt, _ = parseTime(dbTime(created))
	return nil
}

// FindOfficer returns the officer with the number, or ENOTFOUND.
func (db *DB) FindOfficer(ctx context.Context, no string) (*evidock.Officer, error) {
	o, err := scanOfficer(db.db.QueryRowContext(ctx, "SELECT "+officerColumns+" FROM officers WHERE officer_no = ?", no))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, evidock.Errorf(evidock.ENOTFOUND, "officer %s does not exist", no)
	}
	if err != nil {
		return nil, dbError("find officer "+no, err)
	}
	return o, nil
}

// FindOfficers returns the officers matching f by officer number; never a
// nil slice. It returns ENOTFOUND for an unknown unit.
func (db *DB) FindOfficers(ctx context.Context, f evidock.OfficerFilter) ([]*evidock.Officer, error) {
	query, args := "SELECT "+officerColumns+" FROM officers", []any{}
	if f.UnitCode != "" {
		if _, err := db.FindUnit(ctx, f.UnitCode); err != nil {
			return nil, err
		}
		query = subtreeCTE + query + " WHERE unit_code IN (SELECT code FROM sub)"
		args = append(args, f.UnitCode)
	}
	rows, err := db.db.QueryContext(ctx, query+" ORDER BY officer_no", args...)
	if err != nil {
		return nil, dbError("find officers", err)
	}
	defer rows.Close()
	officers := []*evidock.Officer{}
	for rows.Next() {
		o, err := scanOfficer(rows)
		if err != nil {
			return nil, dbError("find officers", err)
		}
		officers = append(officers, o)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("find officers", err)
	}
	return officers, nil
}

func scanOfficer(s scanner) (*evidock.Officer, error) {
	var (
		o       evidock.Officer
		created string
	)
	if err := s.Scan(&o.No, &o.CertificateNo, &o.Name, &o.UnitCode, &created); err != nil {
		return nil, err
	}
	var err error
	if o.CreatedAt, err = parseTime(created); err != nil {
		return nil, fmt.Errorf("officer %s: created_at: %w", o.No, err)
	}
	return &o, nil
}

const assignmentColumns = `id, device_serial, COALESCE(officer_no, ''), valid_from, assigned_by, reason, recorded_at`

// AssignRecorder adds a to its recorder's assignment history and fills in
// its ID and RecordedAt. It returns EINVALID for a malformed assignment or
// an unknown officer, ECONFLICT if a.From is not after the recorder's
// latest assignment, and EUNAVAILABLE if the database stays locked.
func (db *DB) AssignRecorder(ctx context.Context, a *evidock.RecorderAssignment) error {
	if err := a.Validate(); err != nil {
		return err
	}
	op := "assign recorder " + a.DeviceSerial
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError(op, err)
	}
	defer tx.Rollback()
	if a.OfficerNo != "" {
		if err := officerExists(ctx, tx, a.OfficerNo, "recorder assignment: officer_no"); err != nil {
			return err
		}
	}
	var latest sql.NullString
	if err := tx.QueryRowContext(ctx, "SELECT MAX(valid_from) FROM recorder_assignments WHERE device_serial = ?", a.DeviceSerial).Scan(&latest); err != nil {
		return dbError(op, err)
	}
	from := dbTime(a.From)
	if latest.Valid && from <= latest.String {
		t, _ := parseTime(latest.String)
		return evidock.Errorf(evidock.ECONFLICT, "recorder assignment: recorder %s has an assignment from %s; a new one must start after it (the history is never rewritten)",
			a.DeviceSerial, t.Format(time.RFC3339))
	}
	recorded := db.now()
	officer := sql.NullString{String: a.OfficerNo, Valid: a.OfficerNo != ""}
	res, err := tx.ExecContext(ctx, `INSERT INTO recorder_assignments (device_serial, officer_no, valid_from, assigned_by, reason, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?)`, a.DeviceSerial, officer, from, a.AssignedBy, a.Reason, dbTime(recorded))
	if err != nil {
		return dbError(op, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return dbError(op, err)
	}
	if err := tx.Commit(); err != nil {
		return dbError(op, err)
	}
	a.ID, a.To = id, time.Time{}
	a.From, _ = parseTime(from)
	a.RecordedAt, _ = parseTime(dbTime(recorded))
	return nil
}

// officerExists returns EINVALID naming field if officer no does not exist.
func officerExists(ctx context.Context, q queryer, no, field string) error {
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM officers WHERE officer_no = ?", no).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return evidock.Errorf(evidock.EINVALID, "%s %q is not a known officer", field, no)
	}
	if err != nil {
		return dbError("find officer "+no, err)
	}
	return nil
}

// FindRecorderAssignments returns the assignment history of a recorder in
// From order, each with its To; never a nil slice.
func (db *DB) FindRecorderAssignments(ctx context.Context, serial string) ([]*evidock.RecorderAssignment, error) {
	return findAssignments(ctx, db.db, "device_serial = ?", serial)
}

// findAssignments returns the assignments of every recorder that has a row
// matching cond, in recorder and From order, with their To filled in.
func findAssignments(ctx context.Context, q queryer, cond string, args ...any) ([]*evidock.RecorderAssignment, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+assignmentColumns+` FROM recorder_assignments
		WHERE device_serial IN (SELECT device_serial FROM recorder_assignments WHERE `+cond+`)
		ORDER BY device_serial, valid_from`, args...)
	if err != nil {
		return nil, dbError("find recorder assignments", err)
	}
	defer rows.Close()
	history := []*evidock.RecorderAssignment{}
	for rows.Next() {
		var (
			a                evidock.RecorderAssignment
			from, recordedAt string
		)
		if err := rows.Scan(&a.ID, &a.DeviceSerial, &a.OfficerNo, &from, &a.AssignedBy, &a.Reason, &recordedAt); err != nil {
			return nil, dbError("find recorder assignments", err)
		}
		if a.From, err = parseTime(from); err != nil {
			return nil, dbError("find recorder assignments", err)
		}
		if a.RecordedAt, err = parseTime(recordedAt); err != nil {
			return nil, dbError("find recorder assignments", err)
		}
		history = append(history, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("find recorder assignments", err)
	}
	evidock.FillAssignmentEnds(history)
	return history, nil
}

const caseColumns = `id, number, kind, title, unit_code,
	filed_at, decided_at, served_at, executed_at, closed_at, archived_at, created_at`

// stageExpr is the stage of a case row, as evidock.CaseDates.Stage
// derives it.
const stageExpr = `CASE WHEN archived_at IS NOT NULL THEN 'archived'
	WHEN closed_at IS NOT NULL THEN 'closed'
	WHEN executed_at IS NOT NULL THEN 'executed'
	WHEN served_at IS NOT NULL THEN 'served'
	WHEN decided_at IS NOT NULL THEN 'decided'
	ELSE 'filed' END`

// CreateCase stores c and fills in its ID, CreatedAt and Stage; times come
// back as stored (microseconds, China time). It returns EINVALID for a
// malformed case or an unknown unit, ECONFLICT if the number is taken, and
// EUNAVAILABLE if the database stays locked.
func (db *DB) CreateCase(ctx context.Context, c *evidock.Case) error {
	if err := c.Validate(); err != nil {
		return err
	}
	op := "create case " + c.Number
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError(op, err)
	}
	defer tx.Rollback()
	if _, err := findUnit(ctx, tx, c.UnitCode); evidock.ErrorCode(err) == evidock.ENOTFOUND {
		return evidock.Errorf(evidock.EINVALID, "case: unit_code %q is not a unit", c.UnitCode)
	} else if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO cases (number, kind, title, unit_code,
		filed_at, decided_at, served_at, executed_at, closed_at, archived_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Number, string(c.Kind), c.Title, c.UnitCode, dbTime(c.FiledAt), nullTime(c.DecidedAt), nullTime(c.ServedAt),
		nullTime(c.ExecutedAt), nullTime(c.ClosedAt), nullTime(c.ArchivedAt), dbTime(db.now()))
	if err != nil {
		if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE) {
			return evidock.WrapError(evidock.ECONFLICT, err, "case: number %s is taken", c.Number)
		}
		return dbError(op, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return dbError(op, err)
	}
	for i, p := range c.Parties {
		if _, err := tx.ExecContext(ctx, "INSERT INTO case_parties (case_id, position, role, name) VALUES (?, ?, ?, ?)",
			id, i, string(p.Role), p.Name); err != nil {
			return dbError(op, err)
		}
	}
	stored, err := findCase(ctx, tx, "id = ?", id)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return dbError(op, err)
	}
	*c = *stored
	return nil
}

// FindCase returns the case with the number, or ENOTFOUND.
func (db *DB) FindCase(ctx context.Context, number string) (*evidock.Case, error) {
	return findCase(ctx, db.db, "number = ?", number)
}

// findCase returns the one case matching cond, with its parties, or
// ENOTFOUND.
func findCase(ctx context.Context, q queryer, cond string, arg any) (*evidock.Case, error) {
	c, err := scanCase(q.QueryRowContext(ctx, "SELECT "+caseColumns+" FROM cases WHERE "+cond, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, evidock.Errorf(evidock.ENOTFOUND, "case %v does not exist", arg)
	}
	if err != nil {
		return nil, dbError(fmt.Sprintf("find case %v", arg), err)
	}
	if err := fillParties(ctx, q, []*evidock.Case{c}); err != nil {
		return nil, err
	}
	return c, nil
}

// FindCases returns the cases matching f, latest filed first, and how many
// match in all. It returns EINVALID for a malformed filter and ENOTFOUND
// for an unknown unit.
func (db *DB) FindCases(ctx context.Context, f evidock.CaseFilter) ([]*evidock.Case, int, error) {
	if err := f.Validate(); err != nil {
		return nil, 0, err
	}
	var (
		with  string
		where []string
		args  []any
	)
	if f.UnitCode != "" {
		if _, err := db.FindUnit(ctx, f.UnitCode); err != nil {
			return nil, 0, err
		}
		with = subtreeCTE
		where, args = append(where, "unit_code IN (SELECT code FROM sub)"), append(args, f.UnitCode)
	}
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, string(f.Kind))
	}
	if f.Stage != "" {
		where, args = append(where, "("+stageExpr+") = ?"), append(args, string(f.Stage))
	}
	if f.OfficerNo != "" {
		where = append(where, `EXISTS (SELECT 1 FROM activities a JOIN activity_officers o ON o.activity_id = a.id
			WHERE a.case_id = cases.id AND o.officer_no = ?)`)
		args = append(args, f.OfficerNo)
	}
	if !f.FiledFrom.IsZero() {
		where, args = append(where, "filed_at >= ?"), append(args, formatTime(f.FiledFrom))
	}
	if !f.FiledTo.IsZero() {
		where, args = append(where, "filed_at < ?"), append(args, formatTime(f.FiledTo))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, dbError("find cases", err)
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, with+"SELECT COUNT(*) FROM cases"+cond, args...).Scan(&total); err != nil {
		return nil, 0, dbError("count cases", err)
	}
	rows, err := tx.QueryContext(ctx, with+"SELECT "+caseColumns+" FROM cases"+cond+" ORDER BY filed_at DESC, id DESC LIMIT ? OFFSET ?",
		append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, dbError("find cases", err)
	}
	cases := []*evidock.Case{}
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			rows.Close()
			return nil, 0, dbError("find cases", err)
		}
		cases = append(cases, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, dbError("find cases", err)
	}
	if err := fillParties(ctx, tx, cases); err != nil {
		return nil, 0, err
	}
	return cases, total, nil
}

// fillParties reads the parties of cases.
func fillParties(ctx context.Context, q queryer, cases []*evidock.Case) error {
	if len(cases) == 0 {
		return nil
	}
	byID := make(map[int64]*evidock.Case, len(cases))
	ids := make([]any, 0, len(cases))
	for _, c := range cases {
		byID[c.ID], c.Parties = c, []evidock.Party{}
		ids = append(ids, c.ID)
	}
	rows, err := q.QueryContext(ctx, "SELECT case_id, role, name FROM case_parties WHERE case_id IN ("+placeholders(len(ids))+") ORDER BY case_id, position", ids...)
	if err != nil {
		return dbError("find case parties", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id   int64
			role string
			p    evidock.Party
		)
		if err := rows.Scan(&id, &role, &p.Name); err != nil {
			return dbError("find case parties", err)
		}
		p.Role = evidock.PartyRole(role)
		byID[id].Parties = append(byID[id].Parties, p)
	}
	if err := rows.Err(); err != nil {
		return dbError("find case parties", err)
	}
	return nil
}

func scanCase(s scanner) (*evidock.Case, error) {
	var (
		c                                          evidock.Case
		kind, filed, created                       string
		decided, served, executed, closed, archive sql.NullString
	)
	if err := s.Scan(&c.ID, &c.Number, &kind, &c.Title, &c.UnitCode,
		&filed, &decided, &served, &executed, &closed, &archive, &created); err != nil {
		return nil, err
	}
	c.Kind = evidock.CaseKind(kind)
	var err error
	if c.FiledAt, err = parseTime(filed); err != nil {
		return nil, fmt.Errorf("case %d: filed_at: %w", c.ID, err)
	}
	if c.CreatedAt, err = parseTime(created); err != nil {
		return nil, fmt.Errorf("case %d: created_at: %w", c.ID, err)
	}
	for _, f := range []struct {
		dst *time.Time
		src sql.NullString
	}{{&c.DecidedAt, decided}, {&c.ServedAt, served}, {&c.ExecutedAt, executed}, {&c.ClosedAt, closed}, {&c.ArchivedAt, archive}} {
		if *f.dst, err = parseNullTime(f.src); err != nil {
			return nil, fmt.Errorf("case %d: %w", c.ID, err)
		}
	}
	c.Stage = c.CaseDates.Stage()
	return &c, nil
}

// RecordCaseDates records the dates set in d on the case with the number
// and returns the case as stored. It returns ENOTFOUND for an unknown case,
// ECONFLICT for a date the case has as another time, EINVALID for dates
// out of order, and EUNAVAILABLE if the database stays locked.
func (db *DB) RecordCaseDates(ctx context.Context, number string, d evidock.CaseDates) (*evidock.Case, error) {
	op := "record dates of case " + number
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, dbError(op, err)
	}
	defer tx.Rollback()
	c, err := findCase(ctx, tx, "number = ?", number)
	if err != nil {
		return nil, err
	}
	// Compare as stored: a date sent again with nanoseconds is the same
	// date.
	for _, t := range []*time.Time{&d.FiledAt, &d.DecidedAt, &d.ServedAt, &d.ExecutedAt, &d.ClosedAt, &d.ArchivedAt} {
		*t = t.Truncate(time.Microsecond)
	}
	merged, err := c.CaseDates.Merge(d)
	if err != nil {
		return nil, err
	}
	next := *c
	next.CaseDates = merged
	if err := next.Validate(); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE cases SET decided_at = ?, served_at = ?, executed_at = ?, closed_at = ?, archived_at = ?
		WHERE id = ?`, nullTime(merged.DecidedAt), nullTime(merged.ServedAt), nullTime(merged.ExecutedAt),
		nullTime(merged.ClosedAt), nullTime(merged.ArchivedAt), c.ID); err != nil {
		return nil, dbError(op, err)
	}
	stored, err := findCase(ctx, tx, "id = ?", c.ID)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, dbError(op, err)
	}
	return stored, nil
}

const activityColumns = `id, case_id, type, service_method, emergency, uncooperative, recording_ordered,
	started_at, ended_at, place, note, created_at`

// CreateActivity stores a and fills in its ID, CreatedAt and derived
// fields; its officers come back in number order and its times as stored.
// It returns EINVALID for a malformed activity or an unknown officer,
// ENOTFOUND for an unknown case, and EUNAVAILABLE if the database stays
// locked.
func (db *DB) CreateActivity(ctx context.Context, a *evidock.Activity) error {
	if err := a.Validate(); err != nil {
		return err
	}
	op := fmt.Sprintf("create activity in case %d", a.CaseID)
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError(op, err)
	}
	defer tx.Rollback()
	if _, err := findCase(ctx, tx, "id = ?", a.CaseID); err != nil {
		return err
	}
	for i, no := range a.Officers {
		if err := officerExists(ctx, tx, no, fmt.Sprintf("activity: officers[%d]", i)); err != nil {
			return err
		}
	}
	res, err := tx.ExecContext(ctx, "INSERT INTO activities ("+activityColumns[len("id, "):]+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		a.CaseID, string(a.Type), string(a.ServiceMethod), a.Emergency, a.Uncooperative, a.RecordingOrdered,
		dbTime(a.StartedAt), dbTime(a.EndedAt), a.Place, a.Note, dbTime(db.now()))
	if err != nil {
		return dbError(op, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return dbError(op, err)
	}
	for _, no := range a.Officers {
		if _, err := tx.ExecContext(ctx, "INSERT INTO activity_officers (activity_id, officer_no) VALUES (?, ?)", id, no); err != nil {
			return dbError(op, err)
		}
	}
	stored, err := findActivities(ctx, tx, "id = ?", id)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return dbError(op, err)
	}
	*a = *stored[0]
	return nil
}

// FindActivity returns the activity with the ID, or ENOTFOUND.
func (db *DB) FindActivity(ctx context.Context, id int64) (*evidock.Activity, error) {
	return findActivity(ctx, db.db, id)
}

func findActivity(ctx context.Context, q queryer, id int64) (*evidock.Activity, error) {
	as, err := findActivities(ctx, q, "id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, evidock.Errorf(evidock.ENOTFOUND, "activity %d does not exist", id)
	}
	return as[0], nil
}

// FindActivities returns the activities of a case in StartedAt order;
// never a nil slice. It returns ENOTFOUND for an unknown case.
func (db *DB) FindActivities(ctx context.Context, caseID int64) ([]*evidock.Activity, error) {
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, dbError("find activities", err)
	}
	defer tx.Rollback()
	if _, err := findCase(ctx, tx, "id = ?", caseID); err != nil {
		return nil, err
	}
	return findActivities(ctx, tx, "case_id = ?", caseID)
}

// findActivities returns the activities matching cond in StartedAt order,
// with their officers and derived fields.
func findActivities(ctx context.Context, q queryer, cond string, args ...any) ([]*evidock.Activity, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+activityColumns+" FROM activities WHERE "+cond+" ORDER BY started_at, id", args...)
	if err != nil {
		return nil, dbError("find activities", err)
	}
	acts := []*evidock.Activity{}
	byID := map[int64]*evidock.Activity{}
	for rows.Next() {
		var (
			a                                evidock.Activity
			typ, method, start, end, created string
		)
		if err := rows.Scan(&a.ID, &a.CaseID, &typ, &method, &a.Emergency, &a.Uncooperative, &a.RecordingOrdered,
			&start, &end, &a.Place, &a.Note, &created); err != nil {
			rows.Close()
			return nil, dbError("find activities", err)
		}
		a.Type, a.ServiceMethod = evidock.ActivityType(typ), evidock.ServiceMethod(method)
		for _, t := range []struct {
			dst *time.Time
			src string
		}{{&a.StartedAt, start}, {&a.EndedAt, end}, {&a.CreatedAt, created}} {
			if *t.dst, err = parseTime(t.src); err != nil {
				rows.Close()
				return nil, dbError("find activities", fmt.Errorf("activity %d: %w", a.ID, err))
			}
		}
		a.Officers = []string{}
		acts = append(acts, &a)
		byID[a.ID] = &a
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, dbError("find activities", err)
	}
	if len(acts) == 0 {
		return acts, nil
	}
	ids := make([]any, 0, len(acts))
	for _, a := range acts {
		ids = append(ids, a.ID)
	}
	orows, err := q.QueryContext(ctx, "SELECT activity_id, officer_no FROM activity_officers WHERE activity_id IN ("+
		placeholders(len(ids))+") ORDER BY activity_id, officer_no", ids...)
	if err != nil {
		return nil, dbError("find activity officers", err)
	}
	defer orows.Close()
	for orows.Next() {
		var (
			id int64
			no string
		)
		if err := orows.Scan(&id, &no); err != nil {
			return nil, dbError("find activity officers", err)
		}
		byID[id].Officers = append(byID[id].Officers, no)
	}
	if err := orows.Err(); err != nil {
		return nil, dbError("find activity officers", err)
	}
	for _, a := range acts {
		slices.Sort(a.Officers)
		a.Derive()
	}
	return acts, nil
}
