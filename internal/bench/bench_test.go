package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuickSmoke runs the whole benchmark on small sizes (-quick) and checks
// that every row has a figure, so that make bench does not break unseen. It
// asserts no speed. make test runs it on its own, after the other packages,
// with EVIDOCK_BENCH_SMOKE=1: beside them it would slow their timeouts down.
// A missing peer (b3sum, rclone, versitygw) skips it, or fails it under
// CI=true.
func TestQuickSmoke(t *testing.T) {
	if os.Getenv("EVIDOCK_BENCH_SMOKE") != "1" {
		t.Skip("set EVIDOCK_BENCH_SMOKE=1 to run the quick benchmark")
	}
	m := NewMain()
	out := filepath.Join(t.TempDir(), "bench.md")
	if err := m.ParseFlags([]string{"-quick", "-dir", t.TempDir(), "-out", out}); err != nil {
		t.Fatal(err)
	}
	b, err := NewBench(context.Background(), m.Config, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	for _, p := range b.peers {
		if p.Missing == "" {
			continue
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and a peer is missing: %s", p.Missing)
		}
		t.Skipf("a peer is missing: %s", p.Missing)
	}
	report, err := b.Run(context.Background())
	if err != nil {
		t.Fatalf("%v\n%s", err, report)
	}
	// hash 2, ingest 1, upload 5, idle 2, registrations 6 per database,
	// latency 2 per database.
	const want = 26
	if len(b.rows) != want {
		t.Errorf("%d rows, want %d:\n%s", len(b.rows), want, report)
	}
	for _, r := range b.rows {
		if r.Evidock == "error" || strings.HasPrefix(r.Met, "error") {
			t.Errorf("row %q failed:\n%s", r.Figure, report)
		}
		if r.Evidock == "" || r.Goal == "" || r.Met == "" {
			t.Errorf("row %q is incomplete: %+v", r.Figure, r)
		}
	}
	for _, s := range b.sides {
		if s.side.Err != nil {
			t.Errorf("%s / %s: %v", s.figure, s.side.Name, s.side.Err)
		}
	}
	if !strings.Contains(report, "| figure | evidock | peer | ratio | goal | met? |") {
		t.Errorf("no table in the report:\n%s", report)
	}
	for _, kind := range []string{"SQLite", "PostgreSQL"} {
		if !strings.Contains(report, "Registrations, "+kind+": the object check alone and the bare HTTP handler together took") {
			t.Errorf("the report does not say what any API could reach on %s:\n%s", kind, report)
		}
	}
	t.Log("\n" + report)
}

func TestFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"-quick", "-only", "hash,idle"}, ""},
		{[]string{"-size-gib", "0"}, "-size-gib"},
		{[]string{"-reps", "0"}, "-reps"},
		{[]string{"-only", "speed"}, `-only "speed"`},
		{[]string{"extra"}, "unexpected argument"},
	} {
		m := NewMain()
		err := m.ParseFlags(tt.args)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%v: %v", tt.args, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%v: got %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
	m := NewMain()
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	if c := m.Config; c.IngestFiles*int(c.IngestFileSize>>20) != 2048 || c.LargeSize != 1<<30 || c.SmallFiles != 200 || c.SmallSize != 5<<20 {
		t.Errorf("default sizes: %+v", c)
	}
}

func TestUpdateReadme(t *testing.T) {
	p := filepath.Join(t.TempDir(), "README.md")
	os.WriteFile(p, []byte("# x\n\n## Speed\n\n<!-- bench:begin -->\nold table\n<!-- bench:end -->\n\nmore\n"), 0o644)
	if err := updateReadme(p, "| new |"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	if want := "# x\n\n## Speed\n\n<!-- bench:begin -->\n| new |\n<!-- bench:end -->\n\nmore\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	os.WriteFile(p, []byte("no markers"), 0o644)
	m := NewMain()
	if err := m.ParseFlags([]string{"-readme", p}); err == nil || !strings.Contains(err.Error(), "bench:begin") {
		t.Errorf("README without markers: got %v", err)
	}
}
