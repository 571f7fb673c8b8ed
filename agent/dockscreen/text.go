package dockscreen

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// BarWidth is the number of cells in a terminal progress bar.
const BarWidth = 20

// ProgressBar returns percent as a bar of BarWidth cells and the number,
// e.g. "[███████░░░░░░░░░░░░░]  35%".
func ProgressBar(percent int) string {
	percent = max(0, min(100, percent))
	full := percent * BarWidth / 100
	return fmt.Sprintf("[%s%s] %3d%%", strings.Repeat("█", full), strings.Repeat("░", BarWidth-full), percent)
}

// WriteText writes v for a terminal: a title line, the alarms (each with
// the agent's English detail on the line below), then one line per
// recorder (device, officer, progress bar, files, footage, speed, time
// left, and whether it is safe to unplug with the reason, in capitals in
// English, and while copying when it will be), then the files that need
// attention, each with its note and the agent's English detail below.
// Columns are aligned for a monospace terminal in which Chinese characters
// take two cells. It returns w's error.
func WriteText(w io.Writer, v *View) error {
	t := v.T
	bw := bufio.NewWriter(w)
	title := t.Title
	if v.StationID != "" {
		title += " · " + t.Station + " " + v.StationID
	}
	if v.Updated != "" {
		title += " · " + t.Updated + " " + v.Updated + " (" + t.TimeZone + ")"
	}
	fmt.Fprintln(bw, title)
	for _, a := range v.Alarms {
		fmt.Fprintf(bw, "%s%s%s\n", strings.ToUpper(t.Alarm), t.Colon, a.Text)
		if a.Detail != "" {
			fmt.Fprintf(bw, "    %s\n", a.Detail)
		}
	}
	if len(v.Cards) == 0 {
		fmt.Fprintln(bw, t.Empty)
		return bw.Flush()
	}
	rows := [][]string{{t.Serial, t.Officer, t.Progress, t.Files, t.Footage, t.Speed, t.ETA, t.Unplug}}
	for _, c := range v.Cards {
		verdict := strings.ToUpper(c.Banner)
		if c.Reason != "" {
			verdict += t.Colon + c.Reason
		}
		if c.CopyETA != "" {
			verdict += t.Sep + c.CopyETA
		}
		rows = append(rows, []string{c.Serial, c.Officer, ProgressBar(c.Percent), c.Files, c.Footage, c.Speed, c.ETA, verdict})
	}
	writeColumns(bw, rows)
	var notes []string
	for _, c := range v.Cards {
		for _, f := range c.Attention {
			line := "  " + c.Serial + "  " + f.FileName + "  " + f.StateText
			if f.Note != "" {
				line += t.Colon + f.Note
			}
			notes = append(notes, line)
			if f.Detail != "" {
				notes = append(notes, "      "+f.Detail)
			}
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(bw, t.Attention+strings.TrimSpace(t.Colon))
		for _, n := range notes {
			fmt.Fprintln(bw, n)
		}
	}
	return bw.Flush()
}

// writeColumns writes rows with each column padded to its widest cell, two
// spaces apart; the last column is not padded.
func writeColumns(w io.Writer, rows [][]string) {
	var widths []int
	for _, r := range rows {
		for i, cell := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(cell))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, cell := range r {
			b.WriteString(cell)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(cell)+2))
			}
		}
		fmt.Fprintln(w, b.String())
	}
}

// displayWidth returns the number of terminal cells s takes: two for East
// Asian wide and full-width characters, one for the rest (the bar's block
// characters included, as most terminals draw them).
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n++
		if isWide(r) {
			n++
		}
	}
	return n
}

func isWide(r rune) bool {
	switch {
	case r >= 0x1100 && r <= 0x115F, // Hangul Jamo
		r >= 0x2E80 && r <= 0x303E, // CJK radicals, punctuation
		r >= 0x3041 && r <= 0x33FF, // kana, CJK symbols
		r >= 0x3400 && r <= 0x4DBF, // CJK extension A
		r >= 0x4E00 && r <= 0x9FFF, // CJK unified ideographs
		r >= 0xA000 && r <= 0xA4CF, // Yi
		r >= 0xAC00 && r <= 0xD7A3, // Hangul syllables
		r >= 0xF900 && r <= 0xFAFF, // CJK compatibility ideographs
		r >= 0xFE30 && r <= 0xFE4F, // CJK compatibility forms
		r >= 0xFF00 && r <= 0xFF60, // full-width forms
		r >= 0xFFE0 && r <= 0xFFE6,
		r >= 0x20000 && r <= 0x3FFFD: // CJK extensions B and on
		return true
	}
	return false
}
