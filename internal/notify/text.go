package notify

import (
	"fmt"
	"strings"
)

// What leaves the system through e-mail and the group bots is written
// here, and only here: counts, a kind of reminder and a link to a page that
// needs a login — never a graduate's name, ID number, phone or ledger text.
// The texts are in Chinese, the language of the groups they go to, and
// start with 帮扶, which a 钉钉 robot can take as its keyword.

// Counts is what a daily digest says.
type Counts struct {
	// Follow-ups due today, and overdue ones.
	DueToday int `json:"due_today"`
	Overdue  int `json:"overdue"`
	// Escalations raised since the previous digest and still open.
	Escalations int `json:"escalations"`
	// Hardship evidence expiring within seven days.
	Expiring int `json:"expiring"`
	// Destinations waiting for a supervisor's verification.
	ToVerify int `json:"to_verify"`
}

// Empty reports whether there is nothing to say.
func (c Counts) Empty() bool { return c == Counts{} }

// Summary is the counts in words, the ones that are not zero:
// "今日待跟进 7 人，逾期 2 人，新升级 1 条".
func (c Counts) Summary() string {
	var parts []string
	add := func(n int, format string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf(format, n))
		}
	}
	add(c.DueToday, "今日待跟进 %d 人")
	add(c.Overdue, "逾期 %d 人")
	add(c.Escalations, "新升级 %d 条")
	add(c.Expiring, "本周到期材料 %d 份")
	add(c.ToVerify, "待核验去向 %d 条")
	return strings.Join(parts, "，")
}

// withLink ends text with the link to path under the public URL, or with a
// request to log in when no public URL is configured.
func (s *Service) withLink(text, path string) string {
	if s.PublicURL == "" {
		return text + "。请登录帮扶系统查看。"
	}
	return text + "：" + s.PublicURL + path
}

// digestText is a digest's message.
func (s *Service) digestText(c Counts, path string) string {
	return s.withLink("【帮扶每日提醒】"+c.Summary(), path)
}

// digestSubject is a digest e-mail's subject, from its notification's
// title ("每日提醒 6月1日").
func digestSubject(title string) string { return "帮扶" + title }

// urgentText tells of n urgent escalations.
func (s *Service) urgentText(n int) string {
	return s.withLink(fmt.Sprintf("【帮扶紧急提醒】新的二、三级升级事项 %d 条，请尽快处理", n), "/escalations")
}

const urgentSubject = "帮扶紧急提醒：升级事项"

// testText is a test message's.
func (s *Service) testText() string {
	return s.withLink("【帮扶】测试消息：这里将收到帮扶系统的提醒（只有数量和链接，不含个人信息）", "/settings/notifications")
}

const testSubject = "帮扶测试消息"

// kindNames name the kinds of notification in the e-mail sent for each
// one ("each" e-mail mode).
var kindNames = map[string]string{
	"followup_due":      "跟进提醒",
	"escalation":        "升级事项",
	"evidence_expiring": "材料到期提醒",
	"digest":            "每日提醒",
}

// eachMail is the e-mail of one notification: its kind and a link, not its
// title or body (which name the graduate).
func (s *Service) eachMail(kind string, studentID *int64) (subject, body string) {
	name, ok := kindNames[kind]
	if !ok {
		name = "提醒"
	}
	path := "/notifications"
	if studentID != nil {
		path = fmt.Sprintf("/students/%d", *studentID)
	}
	return "帮扶" + name, s.withLink("您有一条新的"+name, path)
}
