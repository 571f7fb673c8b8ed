package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"evidock"
)

var (
	_ evidock.UnitService    = (*DB)(nil)
	_ evidock.OfficerService = (*DB)(nil)
	_ evidock.CaseService    = (*DB)(nil)
)

// nullTime returns t as stored, or NULL for a zero t.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	s := toDB(t)
	return &s
}

// fromNullTime reads a nullable stored time; NULL is the zero time.
func fromNullTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return fromDB(*t)
}

// subtreeCTE selects, as sub(code), the unit bound to $1 and every unit
// below it.
const subtreeCTE = `WITH RECURSIVE sub(code) AS (
	SELECT code FROM units WHERE code = $1
	UNION ALL
	SELECT u.code FROM units u JOIN sub ON u.parent_code = sub.code
) `

// isConstraint reports whether err violates the named constraint.
func isConstraint(err error, name string) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.ConstraintName == name
}

const unitColumns = `code, name, level, COALESCE(parent_code, ''), created_at`

// CreateUnit stores u, fills in its CreatedAt, and appends ev to the audit
// log in the same transaction, with its Object and Unit set to the new unit
// and its path. It returns EINVALID for a malformed unit or a parent that is
// unknown or not of the level above, ECONFLICT if the code is taken,
// EINTERNAL for a nil ev, and EUNAVAILABLE if the database cannot be
// reached.
func (db *DB) CreateUnit(ctx context.Context, u *evidock.Unit, ev *evidock.AuditEvent) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if ev == nil {
		return evidock.Errorf(evidock.EINTERNAL, "create unit %s: no audit event", u.Code)
	}
	var stored *evidock.Unit
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var parent any
		path := u.Code
		if want, ok := u.Level.ParentLevel(); ok {
			var (
				level       string
				grandparent *string
			)
			// FOR SHARE: the parent cannot change level or vanish
			// before the child is in.
			err := tx.QueryRow(ctx, "SELECT level, parent_code FROM units WHERE code = $1 FOR SHARE", u.ParentCode).Scan(&level, &grandparent)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				return evidock.Errorf(evidock.EINVALID, "unit: parent_code %q is not a unit: create the %s first", u.ParentCode, want)
			case err != nil:
				return err
			case evidock.UnitLevel(level) != want:
				return evidock.Errorf(evidock.EINVALID, "unit: parent_code %q is a %s; a %s hangs under a %s", u.ParentCode, level, u.Level, want)
			}
			parent = u.ParentCode
			// The levels are fixed, so the parent and its parent are
			// all the new unit's ancestors.
			path = u.ParentCode + "/" + u.Code
			if grandparent != nil && *grandparent != "" {
				path = *grandparent + "/" + path
			}
		}
		var err error
		stored, err = scanUnit(tx.QueryRow(ctx, "INSERT INTO units (code, name, level, parent_code) VALUES ($1, $2, $3, $4) RETURNING "+unitColumns,
			u.Code, u.Name, string(u.Level), parent))
		if err != nil {
			return err
		}
		ev.Object, ev.Unit = "unit:"+u.Code, path
		return appendAudit(ctx, tx, ev)
	})
	switch {
	case evidock.ErrorCode(err) == evidock.EINVALID:
		return err
	case isConstraint(err, "units_pkey"):
		return evidock.WrapError(evidock.ECONFLICT, err, "unit: code %s is taken", u.Code)
	case err != nil:
		return dbError("create unit "+u.Code, err)
	}
	*u = *stored
	return nil
}

// FindUnit returns the unit with the code, ENOTFOUND, or EUNAVAILABLE if the
// database cannot be reached.
func (db *DB) FindUnit(ctx context.Context, code string) (*evidock.Unit, error) {
	return findUnit(ctx, db.pool, code)
}

func findUnit(ctx context.Context, q querier, code string) (*evidock.Unit, error) {
	u, err := scanUnit(q.QueryRow(ctx, "SELECT "+unitColumns+" FROM units WHERE code = $1", code))
	if errors.Is(err, pgx.ErrNoRows) {
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
	rows, err := db.pool.Query(ctx, "SELECT "+unitColumns+` FROM units
		ORDER BY CASE level WHEN 'bureau' THEN 0 WHEN 'district' THEN 1 ELSE 2 END, code COLLATE "C"`)
	if err != nil {
		return nil, dbError("find units", err)
	}
	units, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*evidock.Unit, error) { return scanUnit(row) })
	if err != nil {
		return nil, dbError("find units", err)
	}
	return nonNil(units), nil
}

// nonNil returns s, or an empty slice for nil, so that JSON shows [].
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func scanUnit(row pgx.Row) (*evidock.Unit, error) {
	var (
		u       evidock.Unit
		level   string
		created time.Time
	)
	if err := row.Scan(&u.Code, &u.Name, &level, &u.ParentCode, &created); err != nil {
		return nil, err
	}
	u.Level, u.CreatedAt = evidock.UnitLevel(level), fromDB(created)
	return &u, nil
}

const officerColumns = `officer_no, certificate_no, name, unit_code, created_at`

// CreateOfficer stores o and fills in its CreatedAt. It returns EINVALID
// for a malformed officer or an unknown unit, ECONFLICT if the officer
// number or the certificate number is taken, and EUNAVAILABLE if the
// database cannot be reached.
func (db *DB) CreateOfficer(ctx context.Context, o *evidock.Officer) error {
	if err := o.Validate(); err != nil {
		return err
	}
	stored, err := scanOfficer(db.pool.QueryRow(ctx, `INSERT INTO officers (officer_no, certificate_no, name, unit_code)
		VALUES ($1, $2, $3, $4) RETURNING `+officerColumns, o.No, o.CertificateNo, o.Name, o.UnitCode))
	switch {
	case pgCode(err) == codeForeignKeyViolation:
		return evidock.WrapError(evidock.EINVALID, err, "officer: unit_code %q is not a unit", o.UnitCode)
	case isConstraint(err, "officers_pkey"):
		return evidock.WrapError(evidock.ECONFLICT, err, "officer: officer_no %s is taken", o.No)
	case isConstraint(err, "officers_certificate_no_key"):
		return evidock.WrapError(evidock.ECONFLICT, err, "officer: certificate_no %s belongs to another officer", o.CertificateNo)
	case err != nil:
		return dbError("create officer "+o.No, err)
	}
	*o = *stored
	return nil
}

// FindOfficer returns the officer with the number, ENOTFOUND, or
// EUNAVAILABLE if the database cannot be reached.
func (db *DB) FindOfficer(ctx context.Context, no string) (*evidock.Officer, error) {
	o, err := scanOfficer(db.pool.QueryRow(ctx, "SELECT "+officerColumns+" FROM officers WHERE officer_no = $1", no))
	if errors.Is(err, pgx.ErrNoRows) {
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
	rows, err := db.pool.Query(ctx, query+" ORDER BY officer_no", args...)
	if err != nil {
		return nil, dbError("find officers", err)
	}
	officers, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*evidock.Officer, error) { return scanOfficer(row) })
	if err != nil {
		return nil, dbError("find officers", err)
	}
	return nonNil(officers), nil
}

func scanOfficer(row pgx.Row) (*evidock.Officer, error) {
	var (
		o       evidock.Officer
		created time.Time
	)
	if err := row.Scan(&o.No, &o.CertificateNo, &o.Name, &o.UnitCode, &created); err != nil {
		return nil, err
	}
	o.CreatedAt = fromDB(created)
	return &o, nil
}

const assignmentColumns = `id, device_serial, COALESCE(officer_no, ''), valid_from, assigned_by, reason, recorded_at`

// AssignRecorder adds a to its recorder's assignment history and fills in
// its ID and RecordedAt. It returns EINVALID for a malformed assignment or
// an unknown officer, ECONFLICT if a.From is not after the recorder's
// latest assignment, and EUNAVAILABLE if the database cannot be reached.
func (db *DB) AssignRecorder(ctx context.Context, a *evidock.RecorderAssignment) error {
	if err := a.Validate(); err != nil {
		return err
	}
	var stored *evidock.RecorderAssignment
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		// Assignments of one recorder queue up, so that each sees the
		// latest before it adds its own.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "evidock recorder assignment "+a.DeviceSerial); err != nil {
			return err
		}
		var latest *time.Time
		if err := tx.QueryRow(ctx, "SELECT MAX(valid_from) FROM recorder_assignments WHERE device_serial = $1", a.DeviceSerial).Scan(&latest); err != nil {
			return err
		}
		if latest != nil && !toDB(a.From).After(*latest) {
			return evidock.Errorf(evidock.ECONFLICT, "recorder assignment: recorder %s has an assignment from %s; a new one must start after it (the history is never rewritten)",
				a.DeviceSerial, fromDB(*latest).Format(time.RFC3339))
		}
		var officer any
		if a.OfficerNo != "" {
			officer = a.OfficerNo
		}
		var err error
		stored, err = scanAssignment(tx.QueryRow(ctx, `INSERT INTO recorder_assignments (device_serial, officer_no, valid_from, assigned_by, reason)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+assignmentColumns, a.DeviceSerial, officer, toDB(a.From), a.AssignedBy, a.Reason))
		return err
	})
	switch {
	case evidock.ErrorCode(err) == evidock.ECONFLICT:
		return err
	case pgCode(err) == codeForeignKeyViolation:
		return evidock.WrapError(evidock.EINVALID, err, "recorder assignment: officer_no %q is not a known officer", a.OfficerNo)
	case err != nil:
		return dbError("assign recorder "+a.DeviceSerial, err)
	}
	*a = *stored
	return nil
}

// FindRecorderAssignments returns the assignment history of a recorder in
// From order, each with its To; never a nil slice.
func (db *DB) FindRecorderAssignments(ctx context.Context, serial string) ([]*evidock.RecorderAssignment, error) {
	return findAssignments(ctx, db.pool, "device_serial = $1", serial)
}

// findAssignments returns the assignments of every recorder that has a row
// matching cond, in recorder and From order, with their To filled in.
func findAssignments(ctx context.Context, q querier, cond string, args ...any) ([]*evidock.RecorderAssignment, error) {
	rows, err := q.Query(ctx, "SELECT "+assignmentColumns+` FROM recorder_assignments
		WHERE device_serial IN (SELECT device_serial FROM recorder_assignments WHERE `+cond+`)
		ORDER BY device_serial, valid_from`, args...)
	if err != nil {
		return nil, dbError("find recorder assignments", err)
	}
	history, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*evidock.RecorderAssignment, error) { return scanAssignment(row) })
	if err != nil {
		return nil, dbError("find recorder assignments", err)
	}
	history = nonNil(history)
	evidock.FillAssignmentEnds(history)
	return history, nil
}

func scanAssignment(row pgx.Row) (*evidock.RecorderAssignment, error) {
	var (
		a                evidock.RecorderAssignment
		from, recordedAt time.Time
	)
	if err := row.Scan(&a.ID, &a.DeviceSerial, &a.OfficerNo, &from, &a.AssignedBy, &a.Reason, &recordedAt); err != nil {
		return nil, err
	}
	a.From, a.RecordedAt = fromDB(from), fromDB(recordedAt)
	return &a, nil
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
// EUNAVAILABLE if the database cannot be reached.
func (db *DB) CreateCase(ctx context.Context, c *evidock.Case) error {
	if err := c.Validate(); err != nil {
		return err
	}
	var stored *evidock.Case
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO cases (number, kind, title, unit_code,
			filed_at, decided_at, served_at, executed_at, closed_at, archived_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			c.Number, string(c.Kind), c.Title, c.UnitCode, toDB(c.FiledAt), nullTime(c.DecidedAt), nullTime(c.ServedAt),
			nullTime(c.ExecutedAt), nullTime(c.ClosedAt), nullTime(c.ArchivedAt)).Scan(&id); err != nil {
			return err
		}
		for i, p := range c.Parties {
			if _, err := tx.Exec(ctx, "INSERT INTO case_parties (case_id, position, role, name) VALUES ($1, $2, $3, $4)",
				id, i, string(p.Role), p.Name); err != nil {
				return err
			}
		}
		var err error
		stored, err = findCase(ctx, tx, "id = $1", id)
		return err
	})
	switch {
	case pgCode(err) == codeForeignKeyViolation:
		return evidock.WrapError(evidock.EINVALID, err, "case: unit_code %q is not a unit", c.UnitCode)
	case pgCode(err) == codeUniqueViolation:
		return evidock.WrapError(evidock.ECONFLICT, err, "case: number %s is taken", c.Number)
	case err != nil:
		return dbError("create case "+c.Number, err)
	}
	*c = *stored
	return nil
}

// FindCase returns the case with the number, ENOTFOUND, or EUNAVAILABLE if
// the database cannot be reached.
func (db *DB) FindCase(ctx context.Context, number string) (*evidock.Case, error) {
	return findCase(ctx, db.pool, "number = $1", number)
}

// findCase returns the one case matching cond, with its parties, or
// ENOTFOUND.
func findCase(ctx context.Context, q querier, cond string, arg any) (*evidock.Case, error) {
	c, err := scanCase(q.QueryRow(ctx, "SELECT "+caseColumns+" FROM cases WHERE "+cond, arg))
	if errors.Is(err, pgx.ErrNoRows) {
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
// match in all. It returns EINVALID for a malformed filter, ENOTFOUND for
// an unknown unit, and EUNAVAILABLE if the database cannot be reached.
func (db *DB) FindCases(ctx context.Context, f evidock.CaseFilter) ([]*evidock.Case, int, error) {
	if err := f.Validate(); err != nil {
		return nil, 0, err
	}
	var (
		with  string
		where []string
		args  []any
	)
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.UnitCode != "" {
		if _, err := db.FindUnit(ctx, f.UnitCode); err != nil {
			return nil, 0, err
		}
		with = subtreeCTE
		add("unit_code IN (SELECT code FROM sub)", f.UnitCode) // $1, as subtreeCTE has it
	}
	if f.Kind != "" {
		add("kind = ?", string(f.Kind))
	}
	if f.Stage != "" {
		add("("+stageExpr+") = ?", string(f.Stage))
	}
	if f.OfficerNo != "" {
		add(`EXISTS (SELECT 1 FROM activities a JOIN activity_officers o ON o.activity_id = a.id
			WHERE a.case_id = cases.id AND o.officer_no = ?)`, f.OfficerNo)
	}
	if !f.FiledFrom.IsZero() {
		add("filed_at >= ?", ceilDB(f.FiledFrom))
	}
	if !f.FiledTo.IsZero() {
		add("filed_at < ?", ceilDB(f.FiledTo))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var (
		cases = []*evidock.Case{}
		total int
	)
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, with+"SELECT COUNT(*) FROM cases"+cond, args...).Scan(&total); err != nil {
			return err
		}
		n := len(args)
		rows, err := tx.Query(ctx, with+"SELECT "+caseColumns+" FROM cases"+cond+
			" ORDER BY filed_at DESC, id DESC LIMIT $"+strconv.Itoa(n+1)+" OFFSET $"+strconv.Itoa(n+2),
			append(args, f.Limit, f.Offset)...)
		if err != nil {
			return err
		}
		page, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*evidock.Case, error) { return scanCase(row) })
		if err != nil {
			return err
		}
		cases = nonNil(page)
		return fillParties(ctx, tx, cases)
	})
	if err != nil {
		return nil, 0, dbError("find cases", err)
	}
	return cases, total, nil
}

// fillParties reads the parties of cases.
func fillParties(ctx context.Context, q querier, cases []*evidock.Case) error {
	if len(cases) == 0 {
		return nil
	}
	byID := make(map[int64]*evidock.Case, len(cases))
	ids := make([]int64, 0, len(cases))
	for _, c := range cases {
		byID[c.ID], c.Parties = c, []evidock.Party{}
		ids = append(ids, c.ID)
	}
	rows, err := q.Query(ctx, "SELECT case_id, role, name FROM case_parties WHERE case_id = ANY($1) ORDER BY case_id, position", ids)
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

func scanCase(row pgx.Row) (*evidock.Case, error) {
	var (
		c                                           evidock.Case
		kind                                        string
		filed, created                              time.Time
		decided, served, executed, closed, archived *time.Time
	)
	if err := row.Scan(&c.ID, &c.Number, &kind, &c.Title, &c.UnitCode,
		&filed, &decided, &served, &executed, &closed, &archived, &created); err != nil {
		return nil, err
	}
	c.Kind = evidock.CaseKind(kind)
	c.FiledAt, c.CreatedAt = fromDB(filed), fromDB(created)
	c.DecidedAt, c.ServedAt, c.ExecutedAt = fromNullTime(decided), fromNullTime(served), fromNullTime(executed)
	c.ClosedAt, c.ArchivedAt = fromNullTime(closed), fromNullTime(archived)
	c.Stage = c.CaseDates.Stage()
	return &c, nil
}

// RecordCaseDates records the dates set in d on the case with the number
// and returns the case as stored. It returns ENOTFOUND for an unknown case,
// ECONFLICT for a date the case has as another time, EINVALID for dates
// out of order, and EUNAVAILABLE if the database cannot be reached.
func (db *DB) RecordCaseDates(ctx context.Context, number string, d evidock.CaseDates) (*evidock.Case, error) {
	var stored *evidock.Case
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		// Lock the row: two recordings at once must each see the other's
		// dates.
		var id int64
		if err := tx.QueryRow(ctx, "SELECT id FROM cases WHERE number = $1 FOR UPDATE", number).Scan(&id); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return evidock.Errorf(evidock.ENOTFOUND, "case %s does not exist", number)
			}
			return err
		}
		c, err := findCase(ctx, tx, "id = $1", id)
		if err != nil {
			return err
		}
		for _, t := range []*time.Time{&d.FiledAt, &d.DecidedAt, &d.ServedAt, &d.ExecutedAt, &d.ClosedAt, &d.ArchivedAt} {
			*t = toDB(*t)
		}
		merged, err := c.CaseDates.Merge(d)
		if err != nil {
			return err
		}
		next := *c
		next.CaseDates = merged
		if err := next.Validate(); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET decided_at = $1, served_at = $2, executed_at = $3, closed_at = $4, archived_at = $5
			WHERE id = $6`, nullTime(merged.DecidedAt), nullTime(merged.ServedAt), nullTime(merged.ExecutedAt),
			nullTime(merged.ClosedAt), nullTime(merged.ArchivedAt), id); err != nil {
			return err
		}
		stored, err = findCase(ctx, tx, "id = $1", id)
		return err
	})
	if code := evidock.ErrorCode(err); code == evidock.ENOTFOUND || code == evidock.ECONFLICT || code == evidock.EINVALID {
		return nil, err
	}
	if err != nil {
		return nil, dbError("record dates of case "+number, err)
	}
	return stored, nil
}

const activityColumns = `id, case_id, type, service_method, emergency, uncooperative, recording_ordered,
	started_at, ended_at, place, note, created_at`

// CreateActivity stores a and fills in its ID, CreatedAt and derived
// fields; its officers come back in number order and its times as stored.
// It returns EINVALID for a malformed activity or an unknown officer,
// ENOTFOUND for an unknown case, and EUNAVAILABLE if the database cannot be
// reached.
func (db *DB) CreateActivity(ctx context.Context, a *evidock.Activity) error {
	if err := a.Validate(); err != nil {
		return err
	}
	var stored *evidock.Activity
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM cases WHERE id = $1)", a.CaseID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return evidock.Errorf(evidock.ENOTFOUND, "case %d does not exist", a.CaseID)
		}
		var known []string
		rows, err := tx.Query(ctx, "SELECT officer_no FROM officers WHERE officer_no = ANY($1)", a.Officers)
		if err != nil {
			return err
		}
		if known, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		for i, no := range a.Officers {
			if !slices.Contains(known, no) {
				return evidock.Errorf(evidock.EINVALID, "activity: officers[%d] %q is not a known officer", i, no)
			}
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO activities (case_id, type, service_method, emergency, uncooperative, recording_ordered,
			started_at, ended_at, place, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			a.CaseID, string(a.Type), string(a.ServiceMethod), a.Emergency, a.Uncooperative, a.RecordingOrdered,
			toDB(a.StartedAt), toDB(a.EndedAt), a.Place, a.Note).Scan(&id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO activity_officers (activity_id, officer_no) SELECT $1, unnest($2::text[])", id, a.Officers); err != nil {
			return err
		}
		acts, err := findActivities(ctx, tx, "id = $1", id)
		if err != nil {
			return err
		}
		stored = acts[0]
		return nil
	})
	if code := evidock.ErrorCode(err); code == evidock.ENOTFOUND || code == evidock.EINVALID {
		return err
	}
	if err != nil {
		return dbError(fmt.Sprintf("create activity in case %d", a.CaseID), err)
	}
	*a = *stored
	return nil
}

// FindActivity returns the activity with the ID, ENOTFOUND, or EUNAVAILABLE
// if the database cannot be reached.
func (db *DB) FindActivity(ctx context.Context, id int64) (*evidock.Activity, error) {
	return findActivity(ctx, db.pool, id)
}

func findActivity(ctx context.Context, q querier, id int64) (*evidock.Activity, error) {
	acts, err := findActivities(ctx, q, "id = $1", id)
	if err != nil {
		return nil, dbError(fmt.Sprintf("find activity %d", id), err)
	}
	if len(acts) == 0 {
		return nil, evidock.Errorf(evidock.ENOTFOUND, "activity %d does not exist", id)
	}
	return acts[0], nil
}

// FindActivities returns the activities of a case in StartedAt order;
// never a nil slice. It returns ENOTFOUND for an unknown case.
func (db *DB) FindActivities(ctx context.Context, caseID int64) ([]*evidock.Activity, error) {
	var acts []*evidock.Activity
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := findCase(ctx, tx, "id = $1", caseID); err != nil {
			return err
		}
		var err error
		acts, err = findActivities(ctx, tx, "case_id = $1", caseID)
		return err
	})
	if evidock.ErrorCode(err) == evidock.ENOTFOUND {
		return nil, err
	}
	if err != nil {
		return nil, dbError(fmt.Sprintf("find activities of case %d", caseID), err)
	}
	return acts, nil
}

// findActivities returns the activities matching cond in StartedAt order,
// with their officers and derived fields. Its errors are the driver's.
func findActivities(ctx context.Context, q querier, cond string, args ...any) ([]*evidock.Activity, error) {
	rows, err := q.Query(ctx, "SELECT "+activityColumns+" FROM activities WHERE "+cond+" ORDER BY started_at, id", args...)
	if err != nil {
		return nil, err
	}
	acts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*evidock.Activity, error) {
		var (
			a                   evidock.Activity
			typ, method         string
			start, end, created time.Time
		)
		if err := row.Scan(&a.ID, &a.CaseID, &typ, &method, &a.Emergency, &a.Uncooperative, &a.RecordingOrdered,
			&start, &end, &a.Place, &a.Note, &created); err != nil {
			return nil, err
		}
		a.Type, a.ServiceMethod = evidock.ActivityType(typ), evidock.ServiceMethod(method)
		a.StartedAt, a.EndedAt, a.CreatedAt = fromDB(start), fromDB(end), fromDB(created)
		a.Officers = []string{}
		return &a, nil
	})
	if err != nil {
		return nil, err
	}
	acts = nonNil(acts)
	if len(acts) == 0 {
		return acts, nil
	}
	byID := make(map[int64]*evidock.Activity, len(acts))
	ids := make([]int64, 0, len(acts))
	for _, a := range acts {
		byID[a.ID] = a
		ids = append(ids, a.ID)
	}
	orows, err := q.Query(ctx, "SELECT activity_id, officer_no FROM activity_officers WHERE activity_id = ANY($1) ORDER BY activity_id, officer_no COLLATE \"C\"", ids)
	if err != nil {
		return nil, err
	}
	defer orows.Close()
	for orows.Next() {
		var (
			id int64
			no string
		)
		if err := orows.Scan(&id, &no); err != nil {
			return nil, err
		}
		byID[id].Officers = append(byID[id].Officers, no)
	}
	if err := orows.Err(); err != nil {
		return nil, err
	}
	for _, a := range acts {
		slices.Sort(a.Officers)
		a.Derive()
	}
	return acts, nil
}
