package demo

import (
	"context"

	"github.com/bangfu/bangfu"

	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/ledger"
)

// student2 is a graduate of the current cohort who reported a destination
// herself: it waits for the supervisor's verification.
var student2 = Login{bangfu.RoleStudent, "student2", "bangfu-demo-student2"}

// currentCohort is the demo counselor's part of the cohort now being
// placed: about two dozen cases of every urgency — overdue follow-ups,
// escalations at each level (raised by the sweep, see escalations),
// follow-ups due this week, new files never contacted, placed graduates,
// evidence and destinations waiting for verification.
func (d *demo) currentCohort(ctx context.Context) error {
	y := d.cohort
	info := func(seq int, name, major, level, category string) story {
		return story{seq: seq, name: name, major: major, level: level, category: category, dept: infoDept, counselor: "counselor",
			year: y, created: 28, verified: true}
	}
	contact := func(days, next int, summary string) event {
		return event{days: days, hour: 15, summary: summary, next: next}
	}
	stories := []story{}
	add := func(st story, f func(*story)) {
		if f != nil {
			f(&st)
		}
		stories = append(stories, st)
	}
	add(info(2, "陈晓燕", "会计", "zhuanke", "poverty_alleviated"), func(st *story) {
		st.account = &student2
		st.events = []event{contact(15, 0, "电话了解求职进展，已参加两场面试"), {days: 5, hour: 10, channel: "wechat", summary: "微信沟通，准备自主接单做财务代账", next: 10, shared: true}}
		st.dest = &destStory{days: 1, byStudent: true, in: destination.Input{Code: "76", Position: "财务代账（自由职业）", Region: "广州",
			ProofKind: "signed_statement", ProofRef: "本人承诺书（已交学院）"}}
	})
	add(info(3, "黄志强", "机械设计", "benke", "disabled"), func(st *story) {
		st.verified, st.accommodations = false, "需要无障碍通道，面试安排在一楼"
		st.events = []event{contact(3, 7, "电话联系，了解到残联有定向招聘会")}
	})
	add(info(4, "周婷", "电子商务", "zhuanke", "zero_employment"), func(st *story) {
		st.events = []event{contact(20, 0, "面谈，确定求职方向为电商运营"),
			{days: 12, hour: 11, kind: "referral", summary: "推荐电商运营岗位", referral: &ledger.Referral{Employer: "广州云帆电子商务有限公司", Position: "电商运营助理", CreditCode: creditCode("91440101MA5C0D1X0")}},
			contact(4, 14, "已签劳动合同，下周入职")}
		st.dest = &destStory{days: 2, in: destination.Input{Code: "11", Employer: "广州云帆电子商务有限公司", CreditCode: creditCode("91440101MA5C0D1X0"),
			Position: "电商运营助理", Region: "广州", ProofKind: "labor_contract", ProofRef: "劳动合同 YF-2026-031"}}
	})
	add(info(5, "吴俊杰", "市场营销", "benke", "orphan"), func(st *story) {
		st.events = []event{contact(12, 7, "电话沟通，约好一周后再联系")}
	})
	add(info(6, "郑雅琪", "护理", "zhuanke", "dibao"), func(st *story) {
		st.events = []event{contact(18, 7, "电话未接通，已发短信")}
	})
	add(info(7, "孙磊", "物流管理", "zhuanke", "zero_employment"), func(st *story) {
		st.created = 45
		st.events = []event{contact(40, 0, "电话联系，学生表示暂不需要帮助")}
	})
	add(info(8, "刘洋", "软件技术", "zhuanke", "poverty_alleviated"), func(st *story) {
		st.events = []event{contact(24, 5, "面谈后学生回老家，约定电话联系")}
	})
	add(info(9, "赵敏", "会计", "zhuanke", "tekun"), func(st *story) { st.created, st.open = 16, true })
	add(info(10, "钱程", "计算机网络", "benke", "dibao"), func(st *story) { st.created, st.open, st.verified = 26, true, false })
	add(info(11, "杨帆", "电子商务", "zhuanke", "other_certified"), func(st *story) { st.created, st.open, st.verified = 3, true, false })
	add(info(12, "许诺", "软件技术", "zhuanke", "poverty_alleviated"), func(st *story) { st.created = 5 })
	add(info(13, "马超", "机电一体化", "zhuanke", "disabled_parent"), func(st *story) {
		st.events = []event{contact(6, 9, "电话联系，推荐参加本周校园招聘会")}
	})
	add(info(14, "何静", "护理", "zhuanke", "dibao"), func(st *story) {
		st.events = []event{{days: 1, hour: 16, channel: "meeting", summary: "面谈，修改简历第二稿", next: 14, shared: true}}
	})
	add(info(15, "林峰", "软件技术", "benke", "poverty_alleviated"), func(st *story) {
		st.events = []event{contact(4, 6, "电话联系，已投递三家公司")}
	})
	add(info(16, "罗丹", "市场营销", "zhuanke", "zero_employment"), func(st *story) {
		st.events = []event{{days: 8, hour: 10, kind: "referral", summary: "推荐销售代表岗位", referral: &ledger.Referral{Employer: "广州恒信贸易有限公司", Position: "销售代表"}},
			contact(2, 10, "电话跟进面试结果：等待二面")}
	})
	add(info(17, "高远", "计算机网络", "benke", "orphan"), func(st *story) {
		for i, e := range [][2]string{{"广州数联网络科技有限公司", "网络运维"}, {"佛山华工智能设备有限公司", "技术支持"}, {"广州南方通信工程有限公司", "网络工程师助理"}} {
			st.events = append(st.events, event{days: 15 - 5*i, hour: 10, kind: "referral", summary: "推荐" + e[1] + "岗位", referral: &ledger.Referral{Employer: e[0], Position: e[1]}})
		}
		st.events = append(st.events, contact(5, 6, "电话了解三个岗位的面试安排"))
	})
	add(info(18, "梁静", "会计", "zhuanke", "dibao"), func(st *story) {
		st.events = []event{contact(10, 14, "面谈，报名宏志助航培训")}
	})
	add(info(19, "宋佳", "护理", "zhuanke", "poverty_alleviated"), func(st *story) {
		st.events = []event{contact(7, 7, "电话联系，约定一周后回访")}
	})
	add(info(20, "唐宁", "软件技术", "benke", "tekun"), func(st *story) {
		st.events = []event{contact(22, 0, "面谈，已收到专升本录取通知")}
		st.dest = &destStory{days: 21, verified: 18, in: destination.Input{Code: "80", Region: "广州", ProofKind: "admission_notice", ProofRef: "录取通知书 2026-1187"}}
	})
	add(info(21, "韩雪", "会计", "zhuanke", "dibao"), func(st *story) {
		st.events = []event{contact(19, 0, "面谈，已通过“三支一扶”招募")}
		st.dest = &destStory{days: 17, verified: 14, in: destination.Input{Code: "50", Employer: "清远市连山县人民政府", Region: "清远",
			Position: "三支一扶（支农）", ProofKind: "project_appointment", ProofRef: "粤三支一扶〔2026〕12号"}}
	})
	add(info(22, "冯凯", "物流管理", "zhuanke", "poverty_alleviated"), func(st *story) {
		st.validDays = 20 // the evidence expires soon: the expiry job warns the counselor
		st.events = []event{contact(3, 11, "电话联系，提醒补交新的脱贫户证明")}
	})
	add(info(23, "邓丽", "电子商务", "zhuanke", "zero_employment"), func(st *story) {
		st.verified = false
		st.events = []event{contact(6, 8, "面谈，补充零就业家庭认定材料")}
	})
	add(info(24, "曹阳", "机电一体化", "zhuanke", "orphan"), func(st *story) {
		st.events = []event{contact(13, 16, "电话联系，学生在准备技能证书考试")}
	})
	for _, st := range stories {
		if _, _, err := d.play(ctx, st); err != nil {
			return err
		}
		if st.account != nil {
			d.logins = append(d.logins, *st.account)
		}
	}
	return nil
}
