package evidock

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// MediaKind says what a footage file holds.
type MediaKind string

// Media kinds written by body-worn recorders.
const (
	MediaVideo MediaKind = "video"
	MediaPhoto MediaKind = "photo"
	MediaAudio MediaKind = "audio"
)

// footageExts maps the extensions recorders write (upper case) to their kind.
var footageExts = map[string]MediaKind{
	"MP4": MediaVideo,
	"MOV": MediaVideo,
	"JPG": MediaPhoto,
	"WAV": MediaAudio,
	"AAC": MediaAudio,
}

// IsFootage reports whether a file name has an extension that recorders use
// for footage, whatever the rest of the name looks like.
func IsFootage(name string) bool {
	_, ok := footageExts[strings.ToUpper(strings.TrimPrefix(path.Ext(name), "."))]
	return ok
}

// Field widths of the recorder info, per GA/T 947.
const (
	DeviceSerialLen = 7
	OfficerNoLen    = 6
)

// RecordingName is what a recorder encodes in a footage file name:
// <device-serial>_<officer-no>_<YYYYMMDDhhmmss>_<seq>.<ext>.
type RecordingName struct {
	DeviceSerial string    // 7 letters or digits, upper case
	OfficerNo    string    // 6 digits
	StartedAt    time.Time // by the recorder's clock, in ChinaTime
	Seq          int       // the recorder's running number
	Ext          string    // upper case, without the dot
	Kind         MediaKind
}

// String returns the canonical form of the name, as the registry shows it.
func (n RecordingName) String() string {
	return fmt.Sprintf("%s_%s_%s_%04d.%s", n.DeviceSerial, n.OfficerNo,
		n.StartedAt.In(ChinaTime).Format("20060102150405"), n.Seq, n.Ext)
}

// ParseRecordingName parses the base name of a footage file. It accepts the
// variants that real recorders write: any letter case, '_' or '-' between
// fields, and the extensions MP4, MOV, JPG, WAV and AAC. Anything else gets an
// EINVALID error whose message says what is wrong with the name.
func ParseRecordingName(name string) (RecordingName, error) {
	var n RecordingName
	base := path.Base(strings.ReplaceAll(name, `\`, "/"))
	dot := strings.LastIndexByte(base, '.')
	if dot < 0 {
		return n, Errorf(EINVALID, "recording name %q has no extension (want .MP4, .MOV, .JPG, .WAV or .AAC)", base)
	}
	stem, ext := base[:dot], strings.ToUpper(base[dot+1:])
	kind, ok := footageExts[ext]
	if !ok {
		return n, Errorf(EINVALID, "recording name %q: extension %q is not footage (want MP4, MOV, JPG, WAV or AAC)", base, base[dot:])
	}
	fields := strings.FieldsFunc(stem, func(r rune) bool { return r == '_' || r == '-' })
	if len(fields) != 4 || strings.Count(stem, "_")+strings.Count(stem, "-") != 3 {
		return n, Errorf(EINVALID, "recording name %q: want four fields serial_officer_YYYYMMDDhhmmss_seq, got %q", base, stem)
	}
	serial, officer, stamp, seq := strings.ToUpper(fields[0]), fields[1], fields[2], fields[3]
	if len(serial) != DeviceSerialLen || !isAlnum(serial) {
		return n, Errorf(EINVALID, "recording name %q: device serial %q must be %d letters or digits", base, fields[0], DeviceSerialLen)
	}
	if len(officer) != OfficerNoLen || !isDigits(officer) {
		return n, Errorf(EINVALID, "recording name %q: officer number %q must be %d digits", base, officer, OfficerNoLen)
	}
	if len(stamp) != 14 || !isDigits(stamp) {
		return n, Errorf(EINVALID, "recording name %q: start time %q must be 14 digits YYYYMMDDhhmmss", base, stamp)
	}
	started, err := time.ParseInLocation("20060102150405", stamp, ChinaTime)
	if err != nil {
		return n, Errorf(EINVALID, "recording name %q: start time %q is not a real date and time", base, stamp)
	}
	if len(seq) == 0 || len(seq) > 6 || !isDigits(seq) {
		return n, Errorf(EINVALID, "recording name %q: sequence %q must be 1 to 6 digits", base, seq)
	}
	seqNo, _ := strconv.Atoi(seq) // cannot fail: at most 6 digits
	return RecordingName{
		DeviceSerial: serial,
		OfficerNo:    officer,
		StartedAt:    started,
		Seq:          seqNo,
		Ext:          ext,
		Kind:         kind,
	}, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
