package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// row is one line of the report's table.
type row struct {
	Figure, Evidock, Peer, Ratio, Goal, Met string
}

// addRow compares ev with peer by best throughput; goal is the least ratio
// wanted, or 0 for a row that is only information.
func (b *Bench) addRow(figure string, ev, peer *side, goal float64) {
	r := row{Figure: figure, Evidock: sideFigure(ev), Peer: peer.Name + ": " + sideFigure(peer), Ratio: "—", Goal: "info", Met: "—"}
	if goal > 0 {
		r.Goal = fmt.Sprintf("≥ %.1f×", goal)
	}
	switch {
	case ev.ok() && peer.ok():
		ratio := ev.MBps() / peer.MBps()
		r.Ratio = fmt.Sprintf("%.2f×", ratio)
		if goal > 0 {
			r.Met = "yes"
			if ratio < goal {
				r.Met = "**no**"
			}
		}
	case ev.Skip != "" || peer.Skip != "":
		r.Met = "skipped: " + strings.Trim(ev.Skip+"; "+peer.Skip, "; ")
	default:
		r.Met = "error (see below)"
	}
	b.rows = append(b.rows, r)
	for _, s := range []*side{ev, peer} {
		if !containsSide(b.sides, s) {
			b.sides = append(b.sides, reported{figure, s})
		}
	}
}

// reported is a side shown in the details, with the first figure it is in.
type reported struct {
	figure string
	side   *side
}

func containsSide(list []reported, s *side) bool {
	for _, r := range list {
		if r.side == s {
			return true
		}
	}
	return false
}

func sideFigure(s *side) string {
	switch {
	case s.Skip != "":
		return "skipped"
	case s.Err != nil:
		return "error"
	case len(s.Samples) == 0:
		return "—"
	}
	return fmt.Sprintf("%.0f MB/s", s.MBps())
}

// notef adds a line to the report's notes.
func (b *Bench) notef(format string, args ...any) {
	b.notes = append(b.notes, fmt.Sprintf(format, args...))
}

// report returns the Markdown report: how it was measured, the table, the
// notes and every run.
func (b *Bench) report() string {
	var w strings.Builder
	fmt.Fprintf(&w, "## Benchmark (`make bench`)\n\n%s", b.summary())
	b.details(&w)
	return w.String()
}

// summary is the report's first paragraph and its table, as the README
// shows them.
func (b *Bench) summary() string {
	var w strings.Builder
	mode := "full"
	if b.cfg.Quick {
		mode = "quick (-quick: small sizes, a smoke test; the figures mean little)"
	}
	fmt.Fprintf(&w, "Run %s in %v, %s mode, on %s, %d cores, %s; load average %s at the start, %s at the end (other work on the machine makes single runs slower, so compare the runs below). ",
		b.start.Format("2006-01-02 15:04 MST"), time.Since(b.start).Round(time.Second), mode, machine(), runtime.NumCPU(), runtime.Version(), b.load, loadAverage())
	fmt.Fprintf(&w, "Each side ran %d times, alternating with its peer, every other round in reverse (A B, B A); the table shows each side's best run. MB/s is 10⁶ bytes per second; a ratio is evidock's MB/s over the peer's, so higher is better for evidock. ", b.cfg.Reps)
	if b.cfg.DropCaches {
		fmt.Fprintf(&w, "The page cache was dropped before every timed run (so sources were read from disk).\n\n")
	} else {
		fmt.Fprintf(&w, "The page cache was not dropped (the machine is shared): the clips were generated just before, so both sides read them from memory; dirty pages were written back (syncfs) before every timed run.\n\n")
	}
	fmt.Fprintf(&w, "| figure | evidock | peer | ratio | goal | met? |\n|---|---|---|---|---|---|\n")
	for _, r := range b.rows {
		fmt.Fprintf(&w, "| %s | %s | %s | %s | %s | %s |\n", r.Figure, r.Evidock, r.Peer, r.Ratio, r.Goal, cell(r.Met))
	}
	return w.String()
}

// details writes how each figure was measured and every run.
func (b *Bench) details(w *strings.Builder) {
	if len(b.notes) > 0 {
		fmt.Fprintf(w, "\n### How each figure was measured\n\n")
		for _, n := range b.notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
	var skipped []string
	for _, name := range []string{"cp", "sync", "b3sum", "rclone", "versitygw"} {
		if p := b.peers[name]; p.Missing != "" {
			skipped = append(skipped, p.Missing)
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintf(w, "\nMissing peers (their rows are skipped, not estimated): %s.\n", strings.Join(skipped, "; "))
	}
	fmt.Fprintf(w, "\n### Runs\n\n| figure | side | how | bytes | runs (s) |\n|---|---|---|---|---|\n")
	for _, r := range b.sides {
		s := r.side
		var runs []string
		for _, d := range s.Samples {
			runs = append(runs, fmt.Sprintf("%.3f", d.Seconds()))
		}
		switch {
		case s.Skip != "":
			runs = append(runs, "skipped: "+s.Skip)
		case s.Err != nil:
			runs = append(runs, "error: "+cell(s.Err.Error()))
		}
		size := sizeString(s.Bytes)
		if s.Items != "" {
			size = s.Items
		}
		fmt.Fprintf(w, "| %s | %s | `%s` | %s | %s |\n", r.figure, s.Name, s.How, size, strings.Join(runs, ", "))
	}
}

// cell makes s fit in one table cell.
func cell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ", "\r", " ").Replace(s)
}

// README markers between which -readme puts the summary.
const (
	readmeBegin = "<!-- bench:begin -->"
	readmeEnd   = "<!-- bench:end -->"
)

// updateReadme replaces the text between the markers in the file at path
// with text. It returns an error, naming the fix, if the markers are
// missing, and leaves the file alone then.
func updateReadme(path, text string) error {
	s, i, j, err := readReadme(path)
	if err != nil {
		return err
	}
	s = s[:i+len(readmeBegin)] + "\n" + text + "\n" + s[j:]
	return os.WriteFile(path, []byte(s), 0o644)
}

// readReadme returns the file's text and where the markers are, or an
// error naming the fix.
func readReadme(path string) (text string, begin, end int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", 0, 0, fmt.Errorf("-readme: %w", err)
	}
	text = string(b)
	begin, end = strings.Index(text, readmeBegin), strings.Index(text, readmeEnd)
	if begin < 0 || end < begin {
		return "", 0, 0, fmt.Errorf("-readme %s: no %s ... %s markers: add them, each on a line of its own, where the table goes", path, readmeBegin, readmeEnd)
	}
	return text, begin, end, nil
}
