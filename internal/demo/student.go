package demo

import (
	"context"
	"fmt"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/plan"
)

// studentLogin is the graduate's own login, linked to the demo student's file.
var studentLogin = Login{bangfu.RoleStudent, "student", "bangfu-demo-student"}

// demoStudent is 李明, whose own login is the demo student's: a shared and
// an internal entry on his ledger (he sees only the shared ones), and a
// plan whose current revision he has not yet acknowledged (he did the
// first one).
func (d *demo) demoStudent(ctx context.Context) error {
	d.logins = append(d.logins, studentLogin)
	st := story{seq: 1, name: "李明", major: "软件技术", level: "zhuanke", category: "dibao", dept: infoDept, counselor: "counselor",
		year: d.cohort, created: 28, verified: true, account: &studentLogin,
		events: []event{
			{days: 20, hour: 14, channel: "meeting", shared: true, summary: "面谈：了解求职意向（软件测试，广州），一起修改简历",
				nextStep: "投递简历后告诉老师", next: 7},
			{days: 13, hour: 16, channel: "phone", summary: "家访前电话了解家庭情况：父亲务工收入不稳定，母亲务农；学生担心求职路费",
				nextStep: "申请求职创业补贴", next: 7},
			{days: 9, hour: 10, channel: "wechat", shared: true, summary: "推荐参加宏志助航计划培训，已帮助报名",
				nextStep: "下周二参加培训", next: 5},
			{days: 2, hour: 17, channel: "phone", summary: "电话回访：培训出勤正常；学生情绪有些焦虑，需继续关注",
				nextStep: "一周内面谈", next: 4},
		}}
	g, made, err := d.play(ctx, st)
	if err != nil || !made {
		return err
	}
	me, err := d.app.Directory.UserByUsername(ctx, studentLogin.Username)
	if err != nil {
		return err
	}
	// He acknowledged the first plan; the counselor revised it after the
	// training was arranged, and he has not read the new one yet.
	if _, err := d.at(d.day(26, 20)).Plans.Acknowledge(ctx, me.Actor(), g.ID, 1); err != nil {
		return fmt.Errorf("acknowledge: %w", err)
	}
	c := d.users["counselor"]
	ahead := func(n int) string { return bangfu.DateOf(d.now).AddDays(n).String() }
	base := 1
	_, err = d.at(d.day(9, 11)).Plans.Put(ctx, c, g.ID, &base, plan.Input{
		Goals:       []string{"毕业前落实软件测试相关岗位", "完成宏志助航计划培训", "申请求职创业补贴"},
		CadenceDays: 7,
		Note:        "加入宏志助航培训和求职补贴",
		Measures: []plan.MeasureInput{
			{Kind: "career_guidance", Description: "一对一就业指导，完善简历", Owner: "王老师", DueOn: ahead(7), Status: "done"},
			{Kind: "job_referral", Description: "推荐不少于3个软件测试岗位", Owner: "王老师", DueOn: ahead(21), Status: "in_progress"},
			{Kind: "hongzhi_training", Description: "参加宏志助航计划培训（共5天）", Owner: "李明", DueOn: ahead(10), Status: "in_progress"},
			{Kind: "job_seeking_subsidy", Description: "协助申请求职创业补贴", Owner: "王老师", DueOn: ahead(14)},
		},
	})
	return err
}
