package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"evidock"
	"evidock/server"
)

// listRecorders prints the recorders the server knows, all of them or those
// of m.Officer.
func (m *Main) listRecorders(ctx context.Context) error {
	recs, err := m.client.FindRecorders(ctx, m.Officer)
	if err != nil {
		return err
	}
	if m.JSON {
		return writeJSON(m.Stdout, map[string]any{"recorders": recs})
	}
	if len(recs) == 0 {
		fmt.Fprintln(m.Stderr, "no recorders match")
		return nil
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERIAL\tOFFICER\tLAST DOCK\tSTATION\tBATTERY\tSTORAGE\tCLOCK OFFSET\tDRIFT")
	for _, r := range recs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.DeviceSerial, orDash(r.OfficerNo), chinaTime(r.LastDockedAt), orDash(r.LastStationID),
			formatBattery(r.BatteryPercent), formatStorage(r.StorageUsed, r.StorageTotal),
			formatOffset(r.ClockOffsetMS), driftFlag(r))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// driftFlag is "yes" for a recorder whose clock drifts beyond
// evidock.MaxClockDriftPerDay, "-" otherwise.
func driftFlag(r *evidock.Recorder) string {
	if r.ClockDrifted {
		return "yes"
	}
	return "-"
}

// formatBattery shows a battery level, or "-" when the recorder did not
// report one.
func formatBattery(pct int) string {
	if pct < 0 {
		return "-"
	}
	return fmt.Sprintf("%d%%", pct)
}

// formatStorage shows used/total in binary units, "?" for an unknown
// total, and "-" when nothing is known.
func formatStorage(used, total int64) string {
	switch {
	case used == 0 && total == 0:
		return "-"
	case total == 0:
		return formatBytes(used) + "/?"
	}
	return formatBytes(used) + "/" + formatBytes(total)
}

// formatBytes shows n in the largest binary unit it fills, to one decimal.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	f, i := float64(n), -1
	for f >= unit && i < 4 {
		f /= unit
		i++
	}
	return fmt.Sprintf("%.1f%ciB", f, "KMGTP"[i])
}

// formatOffset shows a clock offset with its sign: "+1.5s" for a recorder
// clock ahead of the station's, "-4m2s" for one behind, "0s" for none.
func formatOffset(ms int64) string {
	if max := server.MaxClockOffset.Milliseconds(); ms > max || ms < -max {
		// Damaged data, and beyond what a time.Duration may hold: shown
		// as it came.
		return fmt.Sprintf("%+dms", ms)
	}
	d := time.Duration(ms) * time.Millisecond
	if d > 0 {
		return "+" + d.String()
	}
	return d.String()
}
