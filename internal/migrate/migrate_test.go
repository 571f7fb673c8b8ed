package migrate_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"evidock/internal/migrate"
)

func TestLoad(t *testing.T) {
	ms, err := migrate.Load(fstest.MapFS{
		"010_later.sql": {Data: []byte("B")},
		"002_first.sql": {Data: []byte("A")},
		"notes.txt":     {Data: []byte("ignored")},
	})
	if err != nil || len(ms) != 2 || ms[0].Version != 2 || ms[0].SQL != "A" || ms[1].Name != "010_later.sql" {
		t.Fatalf("Load = %+v, %v", ms, err)
	}
	for name, files := range map[string]fstest.MapFS{
		"name must start": {"init.sql": {}},
		"share version":   {"001_a.sql": {}, "01_b.sql": {}},
	} {
		if _, err := migrate.Load(files); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}
