package postgres_test

import (
	"testing"

	"evidock/server/storetest"
)

// TestStationRevocationKept shows that PostgreSQL itself refuses to clear
// or change a station's revocation, or to delete a station (migration 011).
func TestStationRevocationKept(t *testing.T) {
	db := MustOpen(t)
	storetest.RunStationRevocationKept(t, db, execOn(db))
}
