// Package demo loads the demonstration data that `make run` shows: one
// school with a department, one user of every role and, once the graduate
// records exist, a caseload to look at. Loading twice changes nothing.
package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/app"
	"github.com/bangfu/bangfu/internal/cnid"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/plan"
)

// Login is a demo user's credentials.
type Login struct {
	Role     bangfu.Role
	Username string
	Password string
}

// School is the demo school's national code.
const School = "4144010564"

// studentLogin is the graduate's own login, linked to the first demo file.
var studentLogin = Login{bangfu.RoleStudent, "student", "bangfu-demo-student"}

// Seed loads the demo data and returns the demo logins. The passwords are
// public, which is why `seed demo` refuses to run in prod.
func Seed(ctx context.Context, a *app.App) ([]Login, error) {
	logins := []Login{
		{bangfu.RoleAdmin, "admin", "bangfu-demo-admin"},
		{bangfu.RoleProvince, "province", "bangfu-demo-province"},
		{bangfu.RoleSupervisor, "supervisor", "bangfu-demo-supervisor"},
		{bangfu.RoleCounselor, "counselor", "bangfu-demo-counselor"},
		studentLogin,
	}
	school, err := a.Directory.EnsureSchool(ctx, directory.SchoolInput{Code: School, Name: "广东示范职业技术学院", Region: "广州"})
	if err != nil {
		return nil, err
	}
	dept, err := a.Directory.EnsureDepartment(ctx, school.ID, "信息工程学院")
	if err != nil {
		return nil, err
	}
	names := map[bangfu.Role]string{
		bangfu.RoleAdmin: "系统管理员", bangfu.RoleProvince: "省教育厅 陈处长", bangfu.RoleSupervisor: "就业指导中心 林主任",
		bangfu.RoleCounselor: "辅导员 王老师", bangfu.RoleStudent: "李明",
	}
	for _, l := range logins {
		if l.Role == bangfu.RoleStudent {
			continue // the graduate's own login is made with their file
		}
		// The supervisor heads the school's employment centre: school-wide.
		in := directory.UserInput{Username: l.Username, DisplayName: names[l.Role], Role: l.Role, Password: l.Password}
		if l.Role.NeedsSchool() {
			in.SchoolID = &school.ID
		}
		if l.Role == bangfu.RoleCounselor {
			in.DepartmentID = &dept.ID
		}
		if _, err := a.Directory.EnsureUser(ctx, in); err != nil {
			return nil, fmt.Errorf("demo user %s: %w", l.Username, err)
		}
	}
	if err := seedCaseload(ctx, a); err != nil {
		return nil, err
	}
	return logins, seedNotifications(ctx, a)
}

// demoGraduates is the counselor's demo caseload.
var demoGraduates = []struct {
	number, name, id, level, major, category string
}{
	{"D2026001", "李明", "44010620030315201", "zhuanke", "软件技术", "dibao"},
	{"D2026002", "陈晓燕", "44010620040622102", "zhuanke", "会计", "poverty_alleviated"},
	{"D2026003", "黄志强", "44010620021109303", "benke", "机械设计", "disabled"},
	{"D2026004", "周婷", "44010620030805404", "zhuanke", "电子商务", "zero_employment"},
	{"D2026005", "吴俊杰", "44010620040117505", "benke", "市场营销", "orphan"},
	{"D2026006", "郑雅琪", "44010620031230606", "zhuanke", "护理", "dibao"},
	// Last contacted 40 days ago: the stall sweep escalates this case one
	// level per run (counselor, supervisors, province) until someone calls.
	{"D2026007", "孙磊", "44010620030228707", "zhuanke", "物流管理", "zero_employment"},
}

// seedCaseload gives the demo counselor graduates with hardship evidence,
// plans and ledger entries, through the services (so audit and follow-ups
// run as they would), and links the demo student to the first of them.
func seedCaseload(ctx context.Context, a *app.App) error {
	counselor, err := a.Directory.UserByUsername(ctx, "counselor")
	if err != nil {
		return err
	}
	supervisor, err := a.Directory.UserByUsername(ctx, "supervisor")
	if err != nil {
		return err
	}
	c, s := counselor.Actor(), supervisor.Actor()
	now := a.Clock.Now()
	for i, g := range demoGraduates {
		var exists bool
		if err := a.DB.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM students WHERE school_id = $1 AND student_number = $2)`,
			*counselor.SchoolID, g.number).Scan(&exists); err != nil {
			return err
		}
		if exists {
			continue
		}
		id := g.id + string(cnid.ResidentIDCheck(g.id))
		st, err := a.Graduates.Create(ctx, c, graduate.Input{
			StudentNumber: g.number, Name: g.name, IDNumber: id, DepartmentID: counselor.DepartmentID,
			Major: g.major, EducationLevel: g.level, GraduationYear: now.In(bangfu.Shanghai).Year(),
			Phone: fmt.Sprintf("1380000%04d", i+1), Consent: true,
			Intention: graduate.Intention{Industry: "信息技术", Region: "广州", JobType: "技术支持"},
		})
		if err != nil {
			return fmt.Errorf("demo graduate %s: %w", g.number, err)
		}
		h, err := a.Graduates.AddHardship(ctx, c, st.ID, graduate.HardshipInput{
			Category: g.category, EvidenceType: "困难认定证明", IssuingAuthority: "广州市民政局",
			ValidUntil: bangfu.Today(a.Clock).AddDays(300).String(),
		})
		if err != nil {
			return err
		}
		if _, err := a.Graduates.VerifyHardship(ctx, s, st.ID, h.ID, graduate.Verification{Decision: "verified"}); err != nil {
			return err
		}
		if _, err := a.Graduates.Update(ctx, c, st.ID, st.Version, graduate.Patch{Status: ptr("active")}); err != nil {
			return err
		}
		if _, err := a.Plans.Put(ctx, c, st.ID, nil, plan.Input{
			Goals:       []string{"毕业前落实就业岗位"},
			CadenceDays: 7,
			Measures: []plan.MeasureInput{
				{Kind: "career_guidance", Description: "一对一就业指导，完善简历", Owner: counselor.DisplayName, DueOn: bangfu.Today(a.Clock).AddDays(14).String()},
				{Kind: "job_referral", Description: "推荐不少于3个目标岗位", Owner: counselor.DisplayName, DueOn: bangfu.Today(a.Clock).AddDays(30).String()},
				{Kind: "hongzhi_training", Description: "报名宏志助航计划培训", Owner: g.name},
			},
		}); err != nil {
			return err
		}
		contact := ledger.Input{
			Kind: "contact", Channel: "meeting", OccurredAt: now.Add(-time.Duration(i+1) * 24 * time.Hour),
			Summary: "面谈了解求职意向和家庭情况，制定帮扶计划", NextStep: "推荐岗位", Visibility: "shared",
			NextFollowupOn: bangfu.Today(a.Clock).AddDays(7 - i).String(),
		}
		if g.number == "D2026007" {
			contact.OccurredAt, contact.NextFollowupOn = now.AddDate(0, 0, -40), ""
			contact.Summary = "电话联系，学生表示暂不需要帮助"
		}
		if _, err := a.Ledger.Append(ctx, c, st.ID, contact); err != nil {
			return err
		}
		if i == 0 {
			if _, err := a.Graduates.CreateAccount(ctx, a.Directory, c, st.ID, graduate.AccountInput{Username: studentLogin.Username, Password: studentLogin.Password}); err != nil {
				return err
			}
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
