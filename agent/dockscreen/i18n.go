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
	ETA          string // label of the time until copied and uploaded
	CopyETA      string // while copying, the time until it may be unplugged: "%d" minutes, rounded up
	CopyETASoon  string // the same, under a minute
	Sep          string // between two clauses, in running text
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
	Notes        map[agent.NoteCode]string  // by agent.RecordingStatus.NoteCode: what happened and what to do
	Alarms       map[agent.AlarmCode]string // by agent.Alarm.Code; a %s takes its subject (a recorder's serial)
	AlarmUnknown string                     // an alarm with no code and no message
}

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
	ETA:         "全部上传还需",
	CopyETA:     "可以拔出还需 ~%d 分钟",
	CopyETASoon: "可以拔出还需不到 1 分钟",
	Sep:         "；",
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
	Notes: map[agent.NoteCode]string{
		agent.NoteBadName:           "文件名不符合记录仪命名规则，未导入。请联系管理员",
		agent.NoteEmptyFile:         "空文件（0 字节），无需导入",
		agent.NoteRecorderUnplugged: "复制时记录仪被拔出，未复制完。请重新插入，等显示“可以拔出”再拔",
		agent.NoteRecorderRead:      "读取记录仪出错，未复制完。请重新插入；如再出现，请联系管理员",
		agent.NoteSizeChanged:       "复制时文件大小有变化，未复制完。请重新插入记录仪",
		agent.NoteStagingWrite:      "本机写入暂存磁盘出错。请联系管理员",
		agent.NoteStagingFull:       "本机暂存磁盘已满，视频暂留在记录仪上等待导入。请联系管理员",
		agent.NoteStagedRead:        "本机读取暂存副本出错，会自动重试。如一直出现，请联系管理员",
		agent.NoteStagedDamaged:     "本机暂存副本已损坏。请重新插入这台记录仪，重新复制",
		agent.NoteStagedRecopy:      "本机暂存副本已损坏，正在从记录仪重新复制，请勿拔出",
		agent.NoteStoreDown:         "暂时连不上存储服务器，会自动重试，无需操作",
		agent.NoteStoreDenied:       "存储服务器拒绝访问，会自动重试。请联系管理员",
		agent.NoteStoreMismatch:     "存储服务器上的副本与原视频不一致。请联系管理员",
		agent.NoteServerDown:        "暂时连不上案件服务器，会自动重试，无需操作",
		agent.NoteServerDenied:      "案件服务器拒绝本机登记，会自动重试。请联系管理员",
		agent.NoteServerRefused:     "案件服务器拒绝登记这段视频。请联系管理员",
		agent.NoteReceiptInvalid:    "案件服务器的登记回执核验失败，记录仪上的视频未删除。请联系管理员",
		agent.NoteNoReceipt:         "缺少案件服务器的登记回执，记录仪上的视频未删除。请联系管理员",
		agent.NoteClearUnplugged:    "视频已安全保存；清除前记录仪被拔出，下次插入时自动清除",
		agent.NoteClearRead:         "视频已安全保存；核验时读取记录仪出错，未删除，下次插入时再试",
		agent.NoteClearFailed:       "视频已安全保存，但无法从记录仪删除。请联系管理员",
		agent.NoteRereadMismatch:    "视频已安全保存；两次读取记录仪结果不一致，未删除。请检查记录仪和数据线，并联系管理员",
		agent.NoteKeptByConfig:      "视频已安全保存；按本机设置保留在记录仪上",
		agent.NoteKeptSerial:        "视频已安全保存；经串口导入，记录仪上的视频不会删除",
		agent.NoteAlreadyCleared:    "视频已安全保存；记录仪上已没有这个文件",
		agent.NoteInternal:          "处理出错。请联系管理员",
	},
	Alarms: map[agent.AlarmCode]string{
		agent.AlarmStagingFull:     "本机暂存磁盘将满，放不下的视频暂留在记录仪上等待导入，请联系管理员",
		agent.AlarmRecorderStorage: "执法记录仪 %s 存储空间将满，请及时停靠导入",
		agent.AlarmStationRefused:  "案件服务器拒绝了本停靠站的令牌，视频暂存本机、无法登记，记录仪上的视频不会删除。请联系管理员",
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
	ETA:         "All uploaded in",
	CopyETA:     "safe to unplug in ~%d min",
	CopyETASoon: "safe to unplug in under a minute",
	Sep:         "; ",
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
	Notes: map[agent.NoteCode]string{
		agent.NoteBadName:           "Not a file name a recorder writes: not taken in. Call the administrator.",
		agent.NoteEmptyFile:         "Empty file (0 bytes): nothing to take in.",
		agent.NoteRecorderUnplugged: "The recorder was unplugged during the copy. Dock it again and wait for “safe to unplug”.",
		agent.NoteRecorderRead:      "Reading the recorder failed; the copy is incomplete. Dock it again; if it happens again, call the administrator.",
		agent.NoteSizeChanged:       "The file changed size during the copy. Dock the recorder again.",
		agent.NoteStagingWrite:      "The dock could not write to its staging disk. Call the administrator.",
		agent.NoteStagingFull:       "The dock's staging disk is full: the footage waits on the recorder. Call the administrator.",
		agent.NoteStagedRead:        "The dock could not read its own copy; it tries again. If this stays, call the administrator.",
		agent.NoteStagedDamaged:     "The dock's copy was damaged. Dock this recorder again to copy it anew.",
		agent.NoteStagedRecopy:      "The dock's copy was damaged: copying again from the recorder. Do not unplug.",
		agent.NoteStoreDown:         "The storage server cannot be reached for now; the dock tries again by itself.",
		agent.NoteStoreDenied:       "The storage server refuses the dock; it tries again. Call the administrator.",
		agent.NoteStoreMismatch:     "The stored copy differs from the footage. Call the administrator.",
		agent.NoteServerDown:        "The case server cannot be reached for now; the dock tries again by itself.",
		agent.NoteServerDenied:      "The case server refuses this dock; it tries again. Call the administrator.",
		agent.NoteServerRefused:     "The case server refused to register this file. Call the administrator.",
		agent.NoteReceiptInvalid:    "The case server's receipt does not verify; the file stays on the recorder. Call the administrator.",
		agent.NoteNoReceipt:         "No receipt from the case server; the file stays on the recorder. Call the administrator.",
		agent.NoteClearUnplugged:    "Footage is safe; the recorder was unplugged before it was cleared. It is cleared at the next dock.",
		agent.NoteClearRead:         "Footage is safe; reading the recorder to verify it failed, so it was not deleted. Tried again at the next dock.",
		agent.NoteClearFailed:       "Footage is safe, but it could not be deleted from the recorder. Call the administrator.",
		agent.NoteRereadMismatch:    "Footage is safe; two reads of the recorder differ, so it was not deleted. Check the recorder and its cable, and call the administrator.",
		agent.NoteKeptByConfig:      "Footage is safe; kept on the recorder by the dock's settings.",
		agent.NoteKeptSerial:        "Footage is safe; pulled over the serial cable, so the recorder keeps its copy.",
		agent.NoteAlreadyCleared:    "Footage is safe; the file was already gone from the recorder.",
		agent.NoteInternal:          "Something went wrong. Call the administrator.",
	},
	Alarms: map[agent.AlarmCode]string{
		agent.AlarmStagingFull:     "The dock's staging disk is nearly full: footage that does not fit waits on its recorder. Call the administrator.",
		agent.AlarmRecorderStorage: "Recorder %s is nearly out of storage: dock it to take its footage in.",
		agent.AlarmStationRefused:  "This dock's station token was refused by the case server: footage waits at the dock, unregistered, and stays on the recorders. Contact the administrator.",
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
