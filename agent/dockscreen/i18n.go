package dockscreen

import (
	"fmt"
	"net/http"
	"os"
	"strings"

	"golang.org/x/text/language"

	"evidock/agent"
)

// Lang is a language the dock screen speaks, as a BCP 47 tag.
type Lang string

// The dock screen's languages. Chinese is the default: the screen is for
// officers of a Chinese bureau.
const (
	Chinese Lang = "zh-CN"
	English Lang = "en"
)

// DefaultLang is the language of a request that asks for none.
const DefaultLang = Chinese

// Langs lists the supported languages, the default first.
var Langs = []Lang{Chinese, English}

// ParseLang returns the supported language that s names ("zh-CN", "zh",
// "en", "en-US", case-insensitive), or an error listing the supported ones.
func ParseLang(s string) (Lang, error) {
	t, err := language.Parse(s)
	if err == nil {
		if base, conf := t.Base(); conf != language.No {
			switch base.String() {
			case "zh":
				return Chinese, nil
			case "en":
				return English, nil
			}
		}
	}
	return "", fmt.Errorf("language %q: want zh-CN or en", s)
}

var matcher = language.NewMatcher([]language.Tag{language.MustParse(string(Chinese)), language.MustParse(string(English))})

// RequestLang returns the language of r: its lang query parameter when it
// names a supported language, else the best match of its Accept-Language
// header, else DefaultLang.
func RequestLang(r *http.Request) Lang {
	if l, err := ParseLang(r.URL.Query().Get("lang")); err == nil {
		return l
	}
	if h := r.Header.Get("Accept-Language"); h != "" {
		tags, _, err := language.ParseAcceptLanguage(h)
		if err == nil && len(tags) > 0 {
			if _, i, conf := matcher.Match(tags...); conf != language.No {
				return Langs[i]
			}
		}
	}
	return DefaultLang
}

// EnvLang returns the language of a terminal: Chinese when the first set of
// LC_ALL, LC_MESSAGES and LANG names Chinese (zh_CN.UTF-8), English
// otherwise. English is the safer default in a terminal: a console without
// a Chinese locale (a Windows console in its default code page, a serial
// console) garbles Chinese text, and an officer's screen is the page.
func EnvLang() Lang {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := os.Getenv(k)
		if v == "" {
			continue
		}
		if strings.HasPrefix(strings.ToLower(v), "zh") {
			return Chinese
		}
		return English
	}
	return English
}

// Strings holds every piece of text the dock screen shows, in one language.
type Strings struct {
	Title        string // the page's heading
	Station      string // label of the docking station's ID
	Updated      string // label of the status time
	TimeZone     string // said after times, which are Asia/Shanghai
	OtherLang    string // the link to the other language, in that language
	Empty        string // no recorder is docked
	EmptyHint    string
	Unavailable  string // the agent's status cannot be read
	Stale        string // the page lost contact with the agent
	Serial       string
	Officer      string
	Files        string
	Footage      string
	Speed        string
	ETA          string
	Phase        string
	Progress     string // terminal column headings
	Unplug       string
	Attention    string // heading of the files that need attention
	More         string // after the files shown, when there are more: "%d more"
	NoFootage    string // the reason on a recorder with no footage found (yet)
	Safe         string // the banner when a recorder may be unplugged
	Unsafe       string // the banner when it must stay
	Unknown      string // a value not known yet (speed, time left)
	Alarm        string // label of an alarm
	Colon        string // between a label and what follows, in running text
	Phases       map[agent.Phase]string
	Reasons      map[string]string // by agent.RecorderStatus.ReasonCode
	States       map[agent.State]string
	Alarms       map[string]string // by agent.Alarm.Kind up to any ":"; a %s takes what follows it (a recorder's serial)
	AlarmUnknown string            // an alarm whose kind is not in Alarms; the agent's message follows
}

// alarmRecorderStorage is the kind of the agent's alarm that a recorder's
// storage is nearly full, "recorder_storage:SERIAL" (agent.AlarmRecorderStorage).
const alarmRecorderStorage = "recorder_storage"

var zhCN = &Strings{
	Title:       "执法记录仪停靠站",
	Station:     "工作站",
	Updated:     "更新于",
	TimeZone:    "北京时间",
	OtherLang:   "English",
	Empty:       "请插入执法记录仪",
	EmptyHint:   "插入后自动导入视频，无需任何操作。",
	Unavailable: "无法读取停靠站状态",
	Stale:       "与本机服务失去联系：以下信息可能已过时，请勿据此拔出记录仪",
	Serial:      "设备编号",
	Officer:     "执法人员编号",
	Files:       "文件",
	Footage:     "视频",
	Speed:       "速度",
	ETA:         "剩余时间",
	Phase:       "状态",
	Progress:    "进度",
	Unplug:      "能否拔出",
	Attention:   "需要处理的文件",
	More:        "另有 %d 个文件，请用 evidock-agent status 查看",
	NoFootage:   "记录仪上尚未发现视频文件",
	Safe:        "可以拔出",
	Unsafe:      "请勿拔出",
	Unknown:     "—",
	Alarm:       "警报",
	Colon:       "：",
	Phases: map[agent.Phase]string{
		agent.PhaseCopying:   "正在复制",
		agent.PhaseUploading: "正在上传",
		agent.PhaseClearing:  "正在核验并清理",
		agent.PhaseDone:      "已完成",
		agent.PhaseAttention: "需要处理",
	},
	Reasons: map[string]string{
		agent.ReasonCopying:        "正在从记录仪复制视频，拔出会中断复制",
		agent.ReasonClearing:       "正在核验并清除记录仪上已安全保存的视频",
		agent.ReasonUploading:      "视频已全部复制到本机，由本机继续上传",
		agent.ReasonDone:           "全部视频已保存、登记，并已从记录仪清除",
		agent.ReasonNeedsAttention: "部分文件需要处理，见下方列表",
	},
	States: map[agent.State]string{
		agent.StateDiscovered: "等待复制",
		agent.StateCopying:    "正在复制",
		agent.StateStaged:     "已复制",
		agent.StateUploading:  "正在上传",
		agent.StateStored:     "已上传",
		agent.StateRegistered: "已登记",
		agent.StateVerified:   "已核验",
		agent.StateCleared:    "已清除",
		agent.StateKept:       "保留在记录仪上",
		agent.StateFailed:     "失败",
		agent.StateRejected:   "未导入",
	},
	Alarms: map[string]string{
		agent.AlarmStagingFull: "本机暂存磁盘将满，放不下的视频暂留在记录仪上等待导入，请联系管理员",
		alarmRecorderStorage:   "执法记录仪 %s 存储空间将满，请及时停靠导入",
	},
	AlarmUnknown: "请联系管理员",
}

var en = &Strings{
	Title:       "Recorder dock",
	Station:     "Station",
	Updated:     "Updated",
	TimeZone:    "Beijing time",
	OtherLang:   "中文",
	Empty:       "Dock a recorder",
	EmptyHint:   "Footage is taken in by itself; there is nothing to do.",
	Unavailable: "The dock's status cannot be read",
	Stale:       "Lost contact with the dock: what is shown may be out of date; do not unplug on its word",
	Serial:      "Device",
	Officer:     "Officer",
	Files:       "Files",
	Footage:     "Footage",
	Speed:       "Speed",
	ETA:         "Time left",
	Phase:       "State",
	Progress:    "Progress",
	Unplug:      "Unplug?",
	Attention:   "Files that need attention",
	More:        "%d more: see evidock-agent status",
	NoFootage:   "no footage found on the recorder (yet)",
	Safe:        "Safe to unplug",
	Unsafe:      "Do not unplug",
	Unknown:     "—",
	Alarm:       "Alarm",
	Colon:       ": ",
	Phases: map[agent.Phase]string{
		agent.PhaseCopying:   "Copying",
		agent.PhaseUploading: "Uploading",
		agent.PhaseClearing:  "Verifying and clearing",
		agent.PhaseDone:      "Done",
		agent.PhaseAttention: "Needs attention",
	},
	Reasons: map[string]string{
		agent.ReasonCopying:        "footage is being copied off the recorder",
		agent.ReasonClearing:       "footage is being verified and cleared from the recorder",
		agent.ReasonUploading:      "everything is copied; the dock uploads it",
		agent.ReasonDone:           "all footage is stored, registered and cleared",
		agent.ReasonNeedsAttention: "some files need attention: see the list",
	},
	States: map[agent.State]string{
		agent.StateDiscovered: "waiting to copy",
		agent.StateCopying:    "copying",
		agent.StateStaged:     "copied",
		agent.StateUploading:  "uploading",
		agent.StateStored:     "uploaded",
		agent.StateRegistered: "registered",
		agent.StateVerified:   "verified",
		agent.StateCleared:    "cleared",
		agent.StateKept:       "kept on the recorder",
		agent.StateFailed:     "failed",
		agent.StateRejected:   "not taken in",
	},
	Alarms: map[string]string{
		agent.AlarmStagingFull: "The dock's staging disk is nearly full: footage that does not fit waits on its recorder. Call the administrator.",
		alarmRecorderStorage:   "Recorder %s is nearly out of storage: dock it to take its footage in.",
	},
	AlarmUnknown: "Call the administrator.",
}

// StringsFor returns the text table of l; an unsupported l gets the default
// language's.
func StringsFor(l Lang) *Strings {
	if l == English {
		return en
	}
	return zhCN
}
