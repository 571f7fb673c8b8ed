package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"evidock"
	"evidock/internal/cli"
)

// CaseFlags are the settings of 'evidock cases' and 'evidock case'.
type CaseFlags struct {
	// Filter selects the cases 'evidock cases' lists; Filter.Limit 0
	// lists all of them.
	Filter evidock.CaseFilter
	// Number is the case 'evidock case' shows.
	Number string
	// Margin is how far around each activity 'evidock case' looks for
	// clips to suggest; negative uses the server's default.
	Margin time.Duration
}

// listCases prints the cases matching m.Cases.Filter, latest filed first,
// fetching page after page until it has them all (or Filter.Limit).
func (m *Main) listCases(ctx context.Context) error {
	want := m.Cases.Filter.Limit
	f := m.Cases.Filter
	var cases []*evidock.Case
	total := 0
	for {
		f.Limit = evidock.MaxCaseLimit
		if want > 0 && want-len(cases) < f.Limit {
			f.Limit = want - len(cases)
		}
		f.Offset = len(cases)
		page, n, err := m.client.FindCases(ctx, f)
		if err != nil {
			return err
		}
		cases, total = append(cases, page...), n
		if len(page) == 0 || len(cases) >= total || (want > 0 && len(cases) >= want) {
			break
		}
	}
	if m.JSON {
		return writeJSON(m.Stdout, map[string]any{"cases": cases, "total": total})
	}
	if len(cases) == 0 {
		fmt.Fprintln(m.Stderr, "no cases match")
		return nil
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NUMBER\tKIND\tSTAGE\tUNIT\tFILED\tTITLE\tPARTIES")
	for _, c := range cases {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Number, c.Kind.Label(), c.Stage.Label(), c.UnitCode,
			chinaDate(c.FiledAt), c.Title, partyNames(c.Parties))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if len(cases) < total {
		fmt.Fprintf(m.Stderr, "showing %d of %d matching cases; --limit 0 shows all\n", len(cases), total)
	}
	return nil
}

// caseReport is what 'evidock case --json' prints: the case as the server
// has it, and the clips it suggests for each activity, by activity ID.
type caseReport struct {
	*evidock.CaseDetail
	Suggestions map[string][]*evidock.ClipLink `json:"suggestions"`
}

// showCase prints one case: its dates, its activities with the clips
// linked to each, the clips the server suggests, and the activities whose
// mandatory recording is missing.
func (m *Main) showCase(ctx context.Context) error {
	d, err := m.client.FindCaseDetail(ctx, m.Cases.Number)
	if err != nil {
		return err
	}
	report := caseReport{CaseDetail: d, Suggestions: map[string][]*evidock.ClipLink{}}
	for _, a := range d.Activities {
		s, err := m.client.SuggestLinks(ctx, a.ID, m.Cases.Margin)
		if err != nil {
			return err
		}
		report.Suggestions[strconv.FormatInt(a.ID, 10)] = s
	}
	if m.JSON {
		return writeJSON(m.Stdout, report)
	}
	return writeCase(m.Stdout, report)
}

// writeCase prints a case report for people.
func writeCase(w io.Writer, r caseReport) error {
	c := r.Case
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, row := range [][2]string{
		{"CASE", c.Number},
		{"KIND", c.Kind.Label() + " (" + string(c.Kind) + ")"},
		{"TITLE", c.Title},
		{"UNIT", c.UnitCode},
		{"PARTIES", partyNames(c.Parties)},
		{"STAGE", c.Stage.Label() + " (" + string(c.Stage) + ")"},
		{"FILED", chinaTime(c.FiledAt)},
		{"DECIDED", chinaTime(c.DecidedAt)},
		{"SERVED", chinaTime(c.ServedAt)},
		{"EXECUTED", chinaTime(c.ExecutedAt)},
		{"CLOSED", chinaTime(c.ClosedAt)},
		{"ARCHIVED", chinaTime(c.ArchivedAt)},
	} {
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}

	missing := map[int64]bool{}
	for _, id := range r.MissingRecordings {
		missing[id] = true
	}
	fmt.Fprintf(w, "\nACTIVITIES (%d)\n", len(r.Activities))
	for _, a := range r.Activities {
		kind := a.Type.Label()
		if a.ServiceMethod != "" {
			kind += "/" + a.ServiceMethod.Label()
		}
		fmt.Fprintf(w, "\n#%d %s  %s to %s  officers %s", a.ID, kind, chinaTime(a.StartedAt), chinaTime(a.EndedAt), strings.Join(a.Officers, ", "))
		if a.Place != "" {
			fmt.Fprintf(w, "  at %s", a.Place)
		}
		fmt.Fprintln(w)
		if a.RecordingMandatory {
			var why []string
			for _, rule := range a.RecordingRules {
				why = append(why, rule.Article+" "+rule.Label)
			}
			fmt.Fprintf(w, "  recording mandatory: %s\n", strings.Join(why, "; "))
		}
		if missing[a.ID] {
			fmt.Fprintln(w, "  MISSING: no confirmed recording of this activity")
		}
		var linked, others []*evidock.ClipLink
		for _, l := range a.Links {
			switch l.State {
			case evidock.LinkConfirmed:
				linked = append(linked, l)
			case evidock.LinkRejected, evidock.LinkUnlinked:
				others = append(others, l)
			}
		}
		writeLinks(w, "linked clips", linked)
		writeLinks(w, "suggested clips (confirm or reject)", r.Suggestions[strconv.FormatInt(a.ID, 10)])
		writeLinks(w, "rejected or unlinked", others)
	}
	fmt.Fprintln(w)
	if len(r.MissingRecordings) == 0 {
		fmt.Fprintln(w, "MISSING RECORDINGS: none (Art. 10(7) of the legal review: complete)")
		return nil
	}
	ids := make([]string, len(r.MissingRecordings))
	for i, id := range r.MissingRecordings {
		ids[i] = "#" + strconv.FormatInt(id, 10)
	}
	fmt.Fprintf(w, "MISSING RECORDINGS: %d mandatory activities have no confirmed clip: %s\n", len(ids), strings.Join(ids, ", "))
	return nil
}

// writeLinks prints a titled list of clips, nothing if there are none.
func writeLinks(w io.Writer, title string, links []*evidock.ClipLink) {
	if len(links) == 0 {
		return
	}
	fmt.Fprintf(w, "  %s:\n", title)
	for _, l := range links {
		c := l.Clip
		if c == nil {
			continue
		}
		line := fmt.Sprintf("    %s  %s  %s  %s  %s", c.FileName, chinaTime(c.CorrectedStartedAt), clipDuration(c), c.OfficerNo, c.Digest)
		if e := l.Last; e != nil && e.By != evidock.LinkSystem {
			line += fmt.Sprintf("  (%s by %s %s", e.Action, e.By, chinaTime(e.At))
			if e.Reason != "" {
				line += ": " + e.Reason
			}
			line += ")"
		}
		fmt.Fprintln(w, line)
	}
}

// clipDuration shows a clip's length, "?" when unknown.
func clipDuration(c *evidock.Clip) string {
	if c.DurationMS <= 0 {
		return "?"
	}
	return (time.Duration(c.DurationMS) * time.Millisecond).String()
}

// partyNames lists the names of parties.
func partyNames(ps []evidock.Party) string {
	if len(ps) == 0 {
		return "-"
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// chinaDate shows the day of t in China time, "-" for zero.
func chinaDate(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(evidock.ChinaTime).Format(time.DateOnly)
}

// parseList checks the arguments of 'evidock cases' and reads its date
// bounds into the filter; it returns a *cli.UsageError for anything the
// user must fix.
func (f *CaseFlags) parseList(rest []string, from, to string) error {
	if len(rest) > 0 {
		return cli.Usagef("cases: unexpected argument %q; filter with --unit, --kind, --stage, --officer, --from and --to", rest[0])
	}
	var err error
	if f.Filter.FiledFrom, err = parseBound("--from", from, false); err != nil {
		return err
	}
	if f.Filter.FiledTo, err = parseBound("--to", to, true); err != nil {
		return err
	}
	if f.Filter.Limit < 0 {
		return cli.Usagef("--limit must be 0 (all) or more, got %d", f.Filter.Limit)
	}
	check := f.Filter
	check.Limit = 0
	if err := check.Validate(); err != nil {
		return cli.Usagef("cases: %s", strings.TrimPrefix(evidock.ErrorMessage(err), "case filter: "))
	}
	return nil
}
