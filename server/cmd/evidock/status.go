package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"evidock/server/fixity"
)

// showStatus prints the server's condition, field by field.
func (m *Main) showStatus(ctx context.Context) error {
	st, err := m.client.Status(ctx)
	if err != nil {
		return err
	}
	if m.JSON {
		return writeJSON(m.Stdout, st)
	}
	lock := "NO: originals are protected only by the store's access policy"
	if st.ObjectLock.Enabled {
		lock = fmt.Sprintf("yes, %d days COMPLIANCE retention", st.ObjectLock.RetentionDays)
	}
	f := st.Fixity
	checker := "not run by this server"
	if f.Enabled {
		// Decimal megabytes, as fixity.bytes_per_second is written.
		checker = fmt.Sprintf("every %s, at most %s MB/s", formatInterval(f.Interval), strconv.FormatFloat(float64(f.BytesPerSecond)/1e6, 'f', -1, 64))
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	for _, row := range [][2]string{
		{"VERSION", st.Version},
		{"DATABASE", st.Database.Driver},
		{"BUCKET", st.ObjectStore.Bucket},
		{"OBJECT LOCK", lock},
		{"FIXITY CHECKS", checker},
		{"CLIPS", fmt.Sprintf("%d registered, %d checked", f.Clips, f.Checked)},
		{"LATEST RESULTS", fmt.Sprintf("ok %d, missing %d, changed %d, unreachable %d",
			f.OK, f.Failures[fixity.Missing], f.Failures[fixity.Changed], f.Failures[fixity.Unreachable])},
		{"ALL CHECKED SINCE", timeOrNever(f.AllCheckedSince)},
		{"LAST CHECK", timeOrNever(f.LastCheckAt)},
		{"OPEN ALARMS", fmt.Sprint(f.OpenAlarms)},
	} {
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if f.OpenAlarms > 0 {
		fmt.Fprintf(m.Stderr, "%d open alarm(s): run 'evidock alarms' to see them\n", f.OpenAlarms)
	}
	return nil
}

// listAlarms prints the open alarms, or all of them with m.AllAlarms.
func (m *Main) listAlarms(ctx context.Context) error {
	alarms, err := m.client.FindAlarms(ctx, fixity.AlarmFilter{Open: !m.AllAlarms})
	if err != nil {
		return err
	}
	if m.JSON {
		return writeJSON(m.Stdout, map[string]any{"alarms": alarms})
	}
	if len(alarms) == 0 {
		if m.AllAlarms {
			fmt.Fprintln(m.Stderr, "no alarms")
		} else {
			fmt.Fprintln(m.Stderr, "no open alarms")
		}
		return nil
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	header := "ID\tOPENED AT\tKIND\tSUBJECT\tMESSAGE"
	if m.AllAlarms {
		header += "\tACKNOWLEDGED"
	}
	fmt.Fprintln(tw, header)
	for _, a := range alarms {
		// A tab or newline in a message would break the table.
		msg := strings.NewReplacer("\t", " ", "\n", " ").Replace(a.Message)
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s", a.ID, chinaTime(a.OpenedAt), a.Kind, a.Subject, msg)
		if m.AllAlarms {
			ack := "-"
			if !a.Open() {
				ack = a.AcknowledgedBy + " " + chinaTime(*a.AcknowledgedAt)
			}
			fmt.Fprintf(tw, "\t%s", ack)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

func timeOrNever(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return chinaTime(*t)
}

// formatInterval shows a Go duration from the server in days when it is
// whole days ("30 days"), as it was given otherwise.
func formatInterval(s string) string {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d%(24*time.Hour) != 0 {
		return s
	}
	if days := d / (24 * time.Hour); days != 1 {
		return fmt.Sprintf("%d days", days)
	}
	return "1 day"
}
