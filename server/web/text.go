package web

import (
	"html/template"
	"net/http"
	"net/url"
	"time"

	"evidock"
)

// Languages: zh-CN is the default; English is chosen with ?lang=en and
// remembered in the langCookie.
const (
	LangZH     = "zh-CN"
	LangEN     = "en"
	langCookie = "evidock_lang"
)

// langOf returns the request's language, and remembers a ?lang= choice.
func langOf(w http.ResponseWriter, r *http.Request) string {
	if q := r.URL.Query().Get("lang"); q != "" {
		lang := LangZH
		if q == LangEN {
			lang = LangEN
		}
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, HttpOnly: true})
		return lang
	}
	if c, err := r.Cookie(langCookie); err == nil && c.Value == LangEN {
		return LangEN
	}
	return LangZH
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// funcs are the template helpers.
var funcs = template.FuncMap{
	// date formats t in Asia/Shanghai, or "—" for a zero time.
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(evidock.ChinaTime).Format("2006-01-02 15:04")
	},
	"path": url.PathEscape,
	"has": func(ids []int64, id int64) bool {
		for _, x := range ids {
			if x == id {
				return true
			}
		}
		return false
	},
}

// texts are the UI's strings, one table per language; both tables have
// the same keys (TestTextsComplete).
var texts = map[string]map[string]string{
	LangZH: {
		"app":              "执法记录仪视音频管理",
		"login":            "登录",
		"logout":           "退出",
		"username":         "用户名",
		"password":         "密码",
		"login_failed":     "用户名或密码错误，或尝试次数过多",
		"cases":            "案件",
		"case":             "案件",
		"approvals":        "访问审批",
		"audit":            "审计日志",
		"roles":            "角色",
		"unit":             "单位",
		"kind":             "案件类型",
		"stage":            "阶段",
		"all":              "全部",
		"filter":           "筛选",
		"number":           "案号",
		"title":            "案由",
		"filed_at":         "立案",
		"decided_at":       "作出决定",
		"served_at":        "送达",
		"executed_at":      "执行",
		"closed_at":        "结案",
		"archived_at":      "归档",
		"dates":            "第二十条记录的日期",
		"activities":       "执法活动",
		"activity":         "活动",
		"time":             "时间",
		"place":            "地点",
		"mandatory":        "必须全程音像记录",
		"not_mandatory":    "无强制音像记录要求",
		"missing":          "缺少必须的音像记录",
		"none_missing":     "必须的音像记录齐全",
		"clips":            "视音频",
		"state":            "状态",
		"confirm":          "确认关联",
		"reject":           "驳回",
		"reason":           "理由",
		"no_cases":         "没有案件",
		"clip":             "视音频",
		"file_name":        "文件名",
		"officer":          "执法人员",
		"recorder":         "记录仪",
		"started_at":       "开始时间",
		"size":             "大小（字节）",
		"registered_at":    "登记时间",
		"proof":            "防篡改证明",
		"log_index":        "日志序号",
		"checkpoint":       "签名检查点",
		"no_playback":      "本服务器未配置视音频存储，无法播放",
		"no_access":        "您无权查看此视音频",
		"request_access":   "申请访问（第十九条）",
		"duration_hours":   "期限（小时）",
		"submit":           "提交",
		"pending":          "待审批",
		"requester":        "申请人",
		"approve":          "批准",
		"refuse":           "不批准",
		"no_requests":      "没有待审批的申请",
		"my_requests":      "我的申请",
		"user":             "用户",
		"action":           "操作",
		"from":             "起",
		"to":               "止",
		"search":           "查询",
		"outcome":          "结果",
		"object":           "对象",
		"no_events":        "没有记录",
		"error":            "出错了",
		"flash_requested":  "已提交访问申请，等待部门负责人审批",
		"flash_decided":    "已作出审批决定",
		"flash_linked":     "已记录关联变更",
		"switch_lang":      "English",
		"switch_lang_code": "en",
	},
	LangEN: {
		"app":              "Body-worn footage",
		"login":            "Log in",
		"logout":           "Log out",
		"username":         "Login",
		"password":         "Password",
		"login_failed":     "Wrong login or password, or too many attempts",
		"cases":            "Cases",
		"case":             "Case",
		"approvals":        "Access approvals",
		"audit":            "Audit log",
		"roles":            "Roles",
		"unit":             "Unit",
		"kind":             "Kind",
		"stage":            "Stage",
		"all":              "All",
		"filter":           "Filter",
		"number":           "Number",
		"title":            "Title",
		"filed_at":         "Filed",
		"decided_at":       "Decided",
		"served_at":        "Served",
		"executed_at":      "Executed",
		"closed_at":        "Closed",
		"archived_at":      "Archived",
		"dates":            "Dates recorded (Art. 20)",
		"activities":       "Activities",
		"activity":         "Activity",
		"time":             "Time",
		"place":            "Place",
		"mandatory":        "Full recording mandatory",
		"not_mandatory":    "Recording not mandatory",
		"missing":          "Mandatory recordings missing",
		"none_missing":     "Mandatory recordings complete",
		"clips":            "Clips",
		"state":            "State",
		"confirm":          "Confirm",
		"reject":           "Reject",
		"reason":           "Reason",
		"no_cases":         "No cases",
		"clip":             "Clip",
		"file_name":        "File name",
		"officer":          "Officer",
		"recorder":         "Recorder",
		"started_at":       "Started",
		"size":             "Size (bytes)",
		"registered_at":    "Registered",
		"proof":            "Tamper-evidence proof",
		"log_index":        "Log index",
		"checkpoint":       "Signed checkpoint",
		"no_playback":      "This server keeps no footage store: no playback",
		"no_access":        "You may not view this clip",
		"request_access":   "Request access (Art. 19)",
		"duration_hours":   "Duration (hours)",
		"submit":           "Submit",
		"pending":          "Pending",
		"requester":        "Requester",
		"approve":          "Approve",
		"refuse":           "Refuse",
		"no_requests":      "No pending requests",
		"my_requests":      "My requests",
		"user":             "User",
		"action":           "Action",
		"from":             "From",
		"to":               "To",
		"search":           "Search",
		"outcome":          "Outcome",
		"object":           "Object",
		"no_events":        "No events",
		"error":            "Error",
		"flash_requested":  "Access requested: a department head will decide",
		"flash_decided":    "Decision recorded",
		"flash_linked":     "Link change recorded",
		"switch_lang":      "中文",
		"switch_lang_code": "zh-CN",
	},
}

// Texts returns a copy of the strings of lang (LangZH or LangEN), or nil
// for another language.
func Texts(lang string) map[string]string {
	src, ok := texts[lang]
	if !ok {
		return nil
	}
	m := make(map[string]string, len(src))
	for k, v := range src {
		m[k] = v
	}
	return m
}
