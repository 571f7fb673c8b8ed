package postgres_test

import (
	"context"
	"strings"
	"testing"

	"evidock/server/postgres"
	"evidock/server/postgres/pgtest"
	"evidock/server/storetest"
)

func TestScope(t *testing.T) {
	pgtest.DSN(t)
	storetest.RunScope(t, func(t *testing.T) storetest.ScopeStore { return MustOpen(t) })
}

// TestMigrateUnitPaths shows migration 008 on a database an older server
// left: roles in unit paths of the tree gain their unit, a role in a path
// that is not in the tree stops the migration naming it, and afterwards
// units are neither moved nor deleted.
func TestMigrateUnitPaths(t *testing.T) {
	ctx := context.Background()
	legacy := func(t *testing.T, rolePath string) string {
		dsn := pgtest.NewSchema(t)
		db, err := postgres.OpenAt(ctx, dsn, 7)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, stmt := range []string{
			`INSERT INTO units (code, name, level, parent_code, created_at) VALUES
				('city', 'c', 'bureau', NULL, now()), ('d1', 'd', 'district', 'city', now()), ('t2', 't', 'unit', 'd1', now())`,
			`INSERT INTO users (id, login, name, password_hash, created_at) OVERRIDING SYSTEM VALUE VALUES (1, 'chen.jie', 'c', 'x', now())`,
			`INSERT INTO user_roles (user_id, role, unit_id) VALUES (1, 'supervisor', 'city/d1'), (1, 'officer', '` + rolePath + `')`,
		} {
			if _, err := db.Pool().Exec(ctx, stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		return dsn
	}

	t.Run("RolesInTheTree", func(t *testing.T) {
		db, err := postgres.Open(ctx, legacy(t, "city/d1/t2"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		u, err := db.FindUserByLogin(ctx, "chen.jie")
		if err != nil || len(u.Roles) != 2 || u.Roles[0].String() != "supervisor@city/d1" || u.Roles[1].String() != "officer@city/d1/t2" {
			t.Fatalf("migrated user = %+v, %v", u, err)
		}
		var codes string
		if err := db.Pool().QueryRow(ctx, "SELECT string_agg(unit_code, ' ' ORDER BY unit_code) FROM user_roles").Scan(&codes); err != nil || codes != "d1 t2" {
			t.Fatalf("unit codes = %q, %v; want d1 t2", codes, err)
		}
		for _, stmt := range []string{
			"UPDATE units SET parent_code = 'city' WHERE code = 't2'",
			"UPDATE units SET code = 't9' WHERE code = 't2'",
			"DELETE FROM units WHERE code = 't2'",
			"TRUNCATE units CASCADE",
			"INSERT INTO user_roles (user_id, role, unit_id, unit_code) VALUES (1, 'archivist', 'city/d1', 't2')",
			"INSERT INTO user_roles (user_id, role, unit_id, unit_code) VALUES (1, 'archivist', 'city/x1', 'x1')",
		} {
			if _, err := db.Pool().Exec(ctx, stmt); err == nil {
				t.Errorf("%s: accepted; want it refused", stmt)
			}
		}
		if _, err := db.Pool().Exec(ctx, "UPDATE units SET name = '天宁区' WHERE code = 'd1'"); err != nil {
			t.Errorf("renaming a unit: %v; names may change", err)
		}
	})

	t.Run("RoleOutsideTheTree", func(t *testing.T) {
		_, err := postgres.Open(ctx, legacy(t, "city/d2/t2"))
		if err == nil || !strings.Contains(err.Error(), "chen.jie officer@city/d2/t2") || !strings.Contains(err.Error(), "evidock-server unit add") {
			t.Fatalf("Open = %v; want migration 008 to stop, naming the role and how to fix it", err)
		}
	})
}
