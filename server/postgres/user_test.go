package postgres_test

import (
	"testing"

	"evidock/server/postgres/pgtest"
	"evidock/server/storetest"
)

func TestPeopleStore(t *testing.T) {
	pgtest.DSN(t)
	storetest.RunPeopleStore(t, func(t *testing.T) storetest.PeopleStore { return MustOpen(t) })
}

// TestAuditTamper shows that PostgreSQL refuses to change the audit log
// and that a change made behind the triggers' back breaks the chain at the
// changed event.
func TestAuditTamper(t *testing.T) {
	db := MustOpen(t)
	storetest.RunAuditTamper(t, db, execOn(db), "DROP TRIGGER audit_events_never_updated ON audit_events")
}
