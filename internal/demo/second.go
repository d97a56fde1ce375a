package demo

import "context"

// secondCaseload is the second counselor's few graduates in the other
// department: the school-wide supervisor sees them, the department
// supervisor and the demo counselor do not.
func (d *demo) secondCaseload(ctx context.Context) error {
	base := func(seq int, name, major, category string) story {
		return story{seq: seq, name: name, major: major, level: "zhuanke", category: category, dept: econDept, counselor: "counselor2",
			year: d.cohort, created: 20, verified: true}
	}
	contact := func(days, next int, summary string) event {
		return event{days: days, hour: 14, summary: summary, next: next}
	}
	stories := []story{base(101, "朱婷", "国际贸易", "dibao"), base(102, "胡斌", "市场营销", "poverty_alleviated"),
		base(103, "郭琳", "会计", "zero_employment"), base(104, "袁杰", "物流管理", "orphan"), base(105, "邱月", "电子商务", "other_certified")}
	stories[0].events = []event{contact(3, 7, "电话联系，推荐外贸跟单岗位")}
	stories[1].events = []event{contact(9, 7, "面谈，准备公务员考试")}
	stories[2].verified = false
	stories[2].events = []event{contact(5, 10, "面谈，补交零就业家庭证明")}
	stories[3].events = []event{contact(1, 14, "电话联系，已有两个面试")}
	stories[4].created, stories[4].open = 15, true
	for _, st := range stories {
		if _, _, err := d.play(ctx, st); err != nil {
			return err
		}
	}
	return nil
}
