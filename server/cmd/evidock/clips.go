package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"evidock"
)

// timeLayout shows times as people in the bureau read them: China time,
// to the second.
const timeLayout = "2006-01-02 15:04:05"

func chinaTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(evidock.ChinaTime).Format(timeLayout)
}

// listClips prints the clips matching m.Filter, fetching page after page
// until it has them all (or m.Filter.Limit of them).
func (m *Main) listClips(ctx context.Context) error {
	want := m.Filter.Limit
	f := m.Filter
	var clips []*evidock.Clip
	total := 0
	for {
		f.Limit = evidock.DefaultClipLimit
		if want > 0 && want-len(clips) < f.Limit {
			f.Limit = want - len(clips)
		}
		f.Offset = len(clips)
		page, n, err := m.client.FindClips(ctx, f)
		if err != nil {
			return err
		}
		clips, total = append(clips, page...), n
		if len(page) == 0 || len(clips) >= total || (want > 0 && len(clips) >= want) {
			break
		}
	}
	if m.JSON {
		return writeJSON(m.Stdout, map[string]any{"clips": clips, "total": total})
	}
	if len(clips) == 0 {
		fmt.Fprintln(m.Stderr, "no clips match")
		return nil
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tSIZE\tBLAKE3\tOBJECT KEY\tREGISTERED AT")
	for _, c := range clips {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", c.FileName, c.Size, c.Digest, c.ObjectKey, chinaTime(c.RegisteredAt))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if len(clips) < total {
		fmt.Fprintf(m.Stderr, "showing %d of %d matching clips; --limit 0 shows all\n", len(clips), total)
	}
	return nil
}

// showClip prints one clip, field by field.
func (m *Main) showClip(ctx context.Context) error {
	c, err := m.client.FindClipByDigest(ctx, m.Digest)
	if err != nil {
		return err
	}
	if m.JSON {
		return writeJSON(m.Stdout, c)
	}
	duration := "unknown"
	if c.DurationMS > 0 {
		duration = (time.Duration(c.DurationMS) * time.Millisecond).String()
	}
	station := c.StationID
	if station == "" {
		station = "-"
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	for _, row := range [][2]string{
		{"FILE", c.FileName},
		{"SIZE", fmt.Sprintf("%d bytes", c.Size)},
		{"BLAKE3", c.Digest.String()},
		{"OBJECT KEY", c.ObjectKey},
		{"RECORDER", c.DeviceSerial},
		{"OFFICER", c.OfficerNo},
		{"STARTED AT", chinaTime(c.StartedAt) + " (recorder clock)"},
		{"CLOCK OFFSET", formatOffset(c.ClockOffsetMS)},
		{"CORRECTED START", chinaTime(c.CorrectedStartedAt)},
		{"IMPORTANT", yesNo(c.Important)},
		{"SEQ", fmt.Sprint(c.Seq)},
		{"KIND", string(c.Kind)},
		{"DURATION", duration},
		{"STATION", station},
		{"INGESTED AT", chinaTime(c.IngestedAt)},
		{"REGISTERED AT", chinaTime(c.RegisteredAt)},
		{"ID", fmt.Sprint(c.ID)},
	} {
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}
