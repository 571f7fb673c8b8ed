package dockscreen

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"evidock"
	"evidock/agent"
)

// View is a DockStatus made ready to show in one language: every value is
// formatted, every code is said in words. The page and the terminal both
// render a View, so that they always say the same thing.
type View struct {
	Lang      Lang
	T         *Strings
	StationID string
	Updated   string // the status time in Asia/Shanghai, "2006-01-02 15:04:05"
	Alarms    []AlarmView
	Cards     []Card // one per docked recorder
}

// AlarmView is an alarm in words.
type AlarmView struct {
	Kind   string
	Text   string // in the view's language; the agent's English for a code this screen does not know
	Detail string // the agent's message, in English, for the administrator; empty when it is Text
}

// Card is one docked recorder in words.
type Card struct {
	Volume     string
	Serial     string // the recorder's serial; before its first file is read, the volume's name
	Officer    string
	Percent    int    // of the copy and upload work, 0 to 100
	Files      string // "3 / 5"
	Footage    string // footage moved through the pipeline, "1.2 / 3.4 GB"
	Speed      string // "42.0 MB/s", or "—"
	ETA        string // until copied and uploaded: "mm:ss" or "h:mm:ss", or "—"
	CopyETA    string // while copying, when it may be unplugged: "可以拔出还需 ~3 分钟"; empty when not known or not copying
	Phase      agent.Phase
	PhaseText  string
	Safe       bool
	Banner     string // "可以拔出" or "请勿拔出", in the view's language
	ReasonCode string
	Reason     string
	Attention  []FileNote // files an officer or administrator must look at
}

// MaxAttentionShown is how many files that need attention a card on the
// page lists; the rest are counted ("3 more"), so that one recorder's
// troubles do not push the others off the screen. The terminal lists all.
const MaxAttentionShown = 4

// AttentionShown returns the files the page lists.
func (c Card) AttentionShown() []FileNote {
	return c.Attention[:min(len(c.Attention), MaxAttentionShown)]
}

// AttentionMore returns how many files the page does not list.
func (c Card) AttentionMore() int { return max(0, len(c.Attention)-MaxAttentionShown) }

// FileNote is one file that needs attention.
type FileNote struct {
	FileName  string
	State     agent.State
	StateText string
	NoteCode  agent.NoteCode
	Note      string // what happened and what to do, in the view's language; the agent's English for a code this screen does not know
	Detail    string // the agent's note, in English with the technical detail, for the administrator; empty when it is Note
}

// NewView returns st in words in language l. A nil st gives a view with no
// recorders.
func NewView(st *agent.DockStatus, l Lang) *View {
	t := StringsFor(l)
	v := &View{Lang: l, T: t}
	if l != English {
		v.Lang = Chinese
	}
	if st == nil {
		return v
	}
	v.StationID = st.StationID
	if !st.At.IsZero() {
		v.Updated = st.At.In(evidock.ChinaTime).Format(time.DateTime)
	}
	for _, a := range st.Alarms {
		v.Alarms = append(v.Alarms, alarmView(a, t))
	}
	for _, rs := range st.Recorders {
		v.Cards = append(v.Cards, newCard(&rs, t))
	}
	return v
}

// alarmView says alarm a in t's language, its subject (a recorder's
// serial) filling the text's %s. An agent older than Alarm.Code carries
// the code and subject in the kind only ("recorder_storage:DSJ0001"). A
// code this screen does not know (a newer agent) is said in the agent's
// English.
func alarmView(a agent.Alarm, t *Strings) AlarmView {
	code, subject := a.Code, a.Subject
	if code == "" {
		code, subject, _ = strings.Cut(a.Kind, ":")
	}
	av := AlarmView{Kind: a.Kind, Detail: a.Message, Text: t.Alarms[code]}
	switch {
	case av.Text == "" && a.Message != "":
		av.Text, av.Detail = a.Message, ""
	case av.Text == "":
		av.Text = t.AlarmUnknown
	case strings.Contains(av.Text, "%s"):
		av.Text = fmt.Sprintf(av.Text, subject)
	}
	return av
}

// Note says a recording's note, code and English text, in t's language,
// with the English as the detail. A code this screen does not know (a
// newer agent), or none (a note written before notes had codes), gives the
// English alone as the note and no detail.
func (t *Strings) Note(code agent.NoteCode, english string) (note, detail string) {
	if text := t.Notes[code]; text != "" && code != "" {
		return text, english
	}
	return english, ""
}

func newCard(rs *agent.RecorderStatus, t *Strings) Card {
	c := Card{
		Volume:     rs.Volume,
		Serial:     rs.DeviceSerial,
		Officer:    orUnknown(rs.OfficerNo, t),
		Percent:    Percent(rs.BytesDone, rs.BytesTotal),
		Files:      fmt.Sprintf("%d / %d", rs.FilesDone, rs.FilesTotal),
		Speed:      FormatRate(rs.BytesPerSec, t.Unknown),
		Phase:      rs.Phase,
		PhaseText:  t.Phases[rs.Phase],
		Safe:       rs.SafeToUnplug,
		ReasonCode: rs.ReasonCode,
		Reason:     t.Reasons[rs.ReasonCode],
	}
	// The agent counts work as copy plus upload, 2 bytes per footage byte;
	// officers think in footage.
	c.Footage = FormatBytesOf(rs.BytesDone/2, rs.BytesTotal/2)
	if c.PhaseText == "" {
		c.PhaseText = string(rs.Phase)
	}
	if c.Reason == "" {
		c.Reason = rs.Reason // a code this screen does not know: the agent's English
	}
	if rs.FilesTotal == 0 && rs.ReasonCode == agent.ReasonDone {
		// Nothing was stored because nothing was found: say so rather than
		// "all footage is stored". (The agent says done also before its
		// first scan of a volume that has just appeared.)
		c.Reason = t.NoFootage
	}
	if c.Serial == "" {
		// Before the first file is read the serial is unknown; the volume's
		// name (its label) is what the officer can tell it by.
		c.Serial = filepath.Base(rs.Volume)
		if rs.Volume == "" {
			c.Serial = t.Unknown
		}
	}
	c.Banner = t.Unsafe
	if c.Safe {
		c.Banner = t.Safe
	}
	c.ETA = t.Unknown
	if rs.ETASeconds >= 0 && rs.Phase != agent.PhaseDone {
		c.ETA = FormatETA(rs.ETASeconds)
	}
	if rs.Phase == agent.PhaseCopying {
		// 0 is "copied" from this agent but "not said" from one older than
		// the copy ETA: not shown either way, the banner turns green.
		c.CopyETA = FormatCopyETA(rs.CopyETASeconds, t)
	}
	for _, r := range rs.Recordings {
		if !needsAttention(r) {
			continue
		}
		s := t.States[r.State]
		if s == "" {
			s = string(r.State)
		}
		note, detail := t.Note(r.NoteCode, r.Note)
		c.Attention = append(c.Attention, FileNote{FileName: r.FileName, State: r.State, StateText: s, NoteCode: r.NoteCode, Note: note, Detail: detail})
	}
	return c
}

// needsAttention reports whether a file must be looked at by a person: it
// failed, it was never taken in, or it was kept on the recorder with an
// alarm (not merely because clear_after is never).
func needsAttention(r agent.RecordingStatus) bool {
	switch r.State {
	case agent.StateFailed, agent.StateRejected:
		return true
	case agent.StateKept:
		return r.NoteCode == agent.NoteRereadMismatch || strings.HasPrefix(r.Note, "ALARM")
	}
	return false
}

func orUnknown(s string, t *Strings) string {
	if s == "" {
		return t.Unknown
	}
	return s
}

// Percent returns done of total in whole percent, from 0 to 100; 0 of 0 is
// 100 (nothing to do is all done). It rounds down, so that 100 means done.
func Percent(done, total int64) int {
	switch {
	case total <= 0:
		return 100
	case done <= 0:
		return 0
	case done >= total:
		return 100
	}
	return int(done * 100 / total)
}

// FormatETA returns secs as "mm:ss", or "h:mm:ss" from an hour on, rounded
// up to the second so that it never says 00:00 while work is left.
func FormatETA(secs float64) string {
	if math.IsNaN(secs) || math.IsInf(secs, 0) || secs < 0 {
		return "—"
	}
	s := int64(math.Ceil(secs))
	h, m, sec := s/3600, s/60%60, s%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%02d:%02d", m, sec)
}

// FormatCopyETA returns how long until a recorder being copied may be
// unplugged, secs, in t's words: whole minutes rounded up ("可以拔出还需
// ~3 分钟"), or "under a minute"; "" when secs is not a time left (0,
// negative: unknown).
func FormatCopyETA(secs float64, t *Strings) string {
	switch {
	case math.IsNaN(secs) || math.IsInf(secs, 0) || secs <= 0:
		return ""
	case secs < 60:
		return t.CopyETASoon
	}
	return fmt.Sprintf(t.CopyETA, int64(math.Ceil(secs/60)))
}

// FormatRate returns bytesPerSec in decimal megabytes per second with one
// decimal ("42.0 MB/s"), or unknown when nothing is moving.
func FormatRate(bytesPerSec float64, unknown string) string {
	if bytesPerSec <= 0 || math.IsNaN(bytesPerSec) || math.IsInf(bytesPerSec, 0) {
		return unknown
	}
	return fmt.Sprintf("%.1f MB/s", bytesPerSec/1e6)
}

// FormatBytesOf returns "done / total UNIT" in the decimal unit that suits
// total (kB, MB or GB), so that both numbers read alike: "0.4 / 1.2 GB".
func FormatBytesOf(done, total int64) string {
	unit, div := "B", 1.0
	switch {
	case total >= 1e9:
		unit, div = "GB", 1e9
	case total >= 1e6:
		unit, div = "MB", 1e6
	case total >= 1e3:
		unit, div = "kB", 1e3
	}
	if div == 1 {
		return fmt.Sprintf("%d / %d B", done, total)
	}
	// Three significant digits or so: "0.4 / 1.2 GB", "12.0 / 31.0 MB", "120 / 300 MB".
	prec := 1
	if float64(total)/div >= 100 {
		prec = 0
	}
	return fmt.Sprintf("%.*f / %.*f %s", prec, float64(done)/div, prec, float64(total)/div, unit)
}
