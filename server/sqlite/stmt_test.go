package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"
)

func TestStmtCache(t *testing.T) {
	ctx := context.Background()
	sqldb, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sqldb.Close()
	if _, err := sqldb.Exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	c := &stmtCache{db: sqldb}
	defer c.close()
	pool := cachedQueryer{stmts: c}

	// More distinct statements than the cache holds: the ones past the
	// bound run unprepared, and every one gives its own answer.
	for i := range maxCachedStmts + 10 {
		q := fmt.Sprintf("INSERT INTO t (k, v) VALUES (?, 'v%d')", i)
		if _, err := pool.ExecContext(ctx, q, i); err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	if len(c.m) != maxCachedStmts {
		t.Errorf("cache holds %d statements; want the bound, %d", len(c.m), maxCachedStmts)
	}

	// The same cached statement inside transactions, one rolled back.
	const read = "SELECT v FROM t WHERE k = ?"
	for _, commit := range []bool{false, true} {
		tx, err := sqldb.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		q := cachedQueryer{stmts: c, tx: tx}
		if _, err := q.ExecContext(ctx, "UPDATE t SET v = ? WHERE k = ?", fmt.Sprint("changed ", commit), 3); err != nil {
			t.Fatal(err)
		}
		var v string
		if err := q.QueryRowContext(ctx, read, 3).Scan(&v); err != nil || v != fmt.Sprint("changed ", commit) {
			t.Fatalf("inside the transaction: %q, %v", v, err)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	var v string
	if err := pool.QueryRowContext(ctx, read, 3).Scan(&v); err != nil || v != "changed true" {
		t.Fatalf("after commit: %q, %v", v, err)
	}
	// A statement that cannot be prepared reports its error through the row.
	if err := pool.QueryRowContext(ctx, "SELECT nope FROM t").Scan(&v); err == nil {
		t.Fatal("a bad statement scanned without an error")
	}
	rows, err := pool.QueryContext(ctx, "SELECT k FROM t WHERE k < ? ORDER BY k", 3)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for rows.Next() {
		var k int
		rows.Scan(&k)
		got = append(got, k)
	}
	if rows.Close(); fmt.Sprint(got) != "[0 1 2]" {
		t.Fatalf("query = %v; want [0 1 2]", got)
	}
}
