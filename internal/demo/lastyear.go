package demo

import (
	"context"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/destination"
)

// lastYear is last year's cohort in the demo counselor's caseload: some
// placed and verified before 31 August, some still without work — still
// followed (code 70 after 31 July escalates), one with no destination at all.
func (d *demo) lastYear(ctx context.Context) error {
	y := d.cohort - 1
	// Days from the deadline (31 August of their year) back to now.
	deadline := bangfu.DateOf(d.now).DaysUntil(destination.ChangeDeadline(y)) * -1
	before := func(n int) int { return deadline + n } // n days before the deadline
	grad := func(seq int, name, major, category string) story {
		return story{seq: seq, name: name, major: major, level: "zhuanke", category: category, dept: infoDept, counselor: "counselor",
			year: y, created: before(150), verified: true, validDays: 200}
	}
	contact := func(days, next int, summary string) event {
		return event{days: days, hour: 15, summary: summary, next: next}
	}
	placed := func(code, employer, credit, position, proof, ref string) *destStory {
		in := destination.Input{Code: code, Employer: employer, Position: position, Region: "广州", ProofKind: proof, ProofRef: ref}
		if credit != "" {
			in.CreditCode = creditCode(credit)
		}
		return &destStory{days: before(40), verified: before(30), in: in}
	}
	stories := []story{
		func() story {
			st := grad(51, "彭浩", "软件技术", "dibao")
			st.events = []event{contact(before(60), 0, "面谈，确认签约意向")}
			st.dest = placed("10", "广州智汇软件有限公司", "91440101MA59K2L30", "测试工程师", "employment_agreement", "就业协议 2025-0412")
			return st
		}(),
		func() story {
			st := grad(52, "蒋敏", "会计", "poverty_alleviated")
			st.events = []event{contact(before(55), 0, "电话确认已签劳动合同")}
			st.dest = placed("11", "佛山顺达财务咨询有限公司", "91440604MA4W8T2K0", "会计助理", "labor_contract", "劳动合同 SD-118")
			return st
		}(),
		func() story {
			st := grad(53, "谢婷", "护理", "zero_employment")
			st.events = []event{contact(before(70), 0, "面谈，专升本已录取")}
			st.dest = placed("80", "", "", "", "admission_notice", "录取通知书 2025-0933")
			return st
		}(),
		func() story {
			st := grad(54, "邹强", "物流管理", "orphan")
			st.events = []event{contact(before(65), 0, "面谈，已通过西部计划招募")}
			st.dest = placed("51", "韶关市乳源县团委", "", "西部计划志愿者", "project_appointment", "粤团〔2025〕33号")
			return st
		}(),
		func() story {
			st := grad(55, "熊伟", "机电一体化", "dibao")
			st.events = []event{contact(before(45), 0, "面谈，暂未找到工作"), contact(20, 30, "电话联系，参加了人社局的技能培训")}
			st.dest = &destStory{days: before(20), in: destination.Input{Code: "70", Note: "仍在求职"}}
			return st
		}(),
		func() story {
			st := grad(56, "金鑫", "电子商务", "tekun")
			st.events = []event{contact(before(50), 0, "面谈，求职受挫"), contact(9, 7, "电话联系，情绪低落，建议心理疏导")}
			st.dest = &destStory{days: before(25), in: destination.Input{Code: "70", Note: "仍在求职"}}
			return st
		}(),
		func() story {
			st := grad(57, "江涛", "计算机网络", "disabled_parent")
			st.events = []event{contact(30, 10, "电话联系，学生在外地打零工，未登记去向")}
			return st
		}(),
		func() story {
			st := grad(58, "范琳", "会计", "poverty_alleviated")
			st.events = []event{contact(12, 20, "电话联系，在备考专升本")}
			st.dest = &destStory{days: before(15), in: destination.Input{Code: "71", Note: "备考专升本"}}
			return st
		}(),
	}
	for _, st := range stories {
		if _, _, err := d.play(ctx, st); err != nil {
			return err
		}
	}
	return nil
}
