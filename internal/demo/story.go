package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/cnid"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/plan"
)

// story is one graduate's history, replayed through the services on the
// days it happened. Days are counted back from now.
type story struct {
	name, major, level, category string
	dept, counselor              string // department name, counselor username
	year                         int
	seq                          int // unique among the demo's graduates: student number and ID number
	// created is when the file was opened; open leaves it open (not
	// active), without a plan.
	created int
	open    bool
	// evidence: verified (by the supervisor the next day) or waiting;
	// validDays is how long it stays valid from now (default 300).
	verified  bool
	validDays int
	// accommodations, sealed like the ID number.
	accommodations string
	cadence        int // the plan's cadence (default 7)
	events         []event
	dest           *destStory
	// account is the graduate's own login, made with the file.
	account *Login
}

// event is one ledger entry: a contact (phone unless channel says),
// a referral or a note, days ago at hour; next is the next follow-up, in
// days after the entry (0: the plan's cadence decides).
type event struct {
	days, hour int
	kind       string
	channel    string
	summary    string
	next       int
	shared     bool
	nextStep   string
	referral   *ledger.Referral
}

// destStory is a destination record entered days ago by the counselor (or
// by the graduate's own login when byStudent), verified by the supervisor
// verified days ago (0: waiting).
type destStory struct {
	days      int
	in        destination.Input
	byStudent bool
	verified  int
}

func creditCode(first17 string) string { return first17 + string(cnid.CreditCodeCheck(first17)) }

var evidence = map[string][2]string{
	"poverty_alleviated": {"脱贫户证明", "广州市乡村振兴局"},
	"dibao":              {"低保证", "广州市民政局"},
	"zero_employment":    {"零就业家庭认定证明", "广州市人力资源和社会保障局"},
	"disabled":           {"残疾人证", "广州市残疾人联合会"},
	"tekun":              {"特困供养证明", "广州市民政局"},
	"orphan":             {"孤儿证明", "广州市民政局"},
	"disabled_parent":    {"父母残疾人证", "广州市残疾人联合会"},
	"other_certified":    {"学校困难认定表", "广东示范职业技术学院学生处"},
}

// play replays st, unless its file exists already (then nothing).
func (d *demo) play(ctx context.Context, st story) (graduate.Student, bool, error) {
	number := fmt.Sprintf("D%d%03d", st.year, st.seq)
	if ok, err := d.exists(ctx, number); err != nil || ok {
		return graduate.Student{}, false, err
	}
	c := d.users[st.counselor]
	sup := d.users["supervisor"]
	t0 := d.day(st.created, 10)
	s := d.at(t0)
	dept := d.depts[st.dept]
	first17 := fmt.Sprintf("440106%d%02d%02d%03d", st.year-22, st.seq%12+1, st.seq%28+1, st.seq)
	g, err := s.Graduates.Create(ctx, c, graduate.Input{
		StudentNumber: number, Name: st.name, IDNumber: first17 + string(cnid.ResidentIDCheck(first17)), DepartmentID: &dept,
		Major: st.major, EducationLevel: st.level, GraduationYear: st.year, Phone: fmt.Sprintf("138%08d", 20000000+st.seq),
		Email: fmt.Sprintf("d%d%03d@example.edu.cn", st.year, st.seq), Consent: true, Accommodations: st.accommodations,
		Intention: graduate.Intention{Industry: intentions[st.seq%len(intentions)][0], Region: "广州", JobType: intentions[st.seq%len(intentions)][1]},
	})
	if err != nil {
		return g, false, fmt.Errorf("%s: %w", number, err)
	}
	valid := st.validDays
	if valid == 0 {
		valid = 300
	}
	ev := evidence[st.category]
	h, err := s.Graduates.AddHardship(ctx, c, g.ID, graduate.HardshipInput{Category: st.category, EvidenceType: ev[0], IssuingAuthority: ev[1],
		CertificateNo: fmt.Sprintf("GZ%d%05d", st.year, st.seq), ValidUntil: bangfu.DateOf(d.now).AddDays(valid).String()})
	if err != nil {
		return g, false, err
	}
	if st.verified {
		if _, err := d.at(d.day(st.created-1, 15)).Graduates.VerifyHardship(ctx, sup, g.ID, h.ID, graduate.Verification{Decision: "verified"}); err != nil {
			return g, false, err
		}
	}
	if !st.open {
		if g, err = s.Graduates.Update(ctx, c, g.ID, g.Version, graduate.Patch{Status: ptr("active")}); err != nil {
			return g, false, err
		}
		cadence := st.cadence
		if cadence == 0 {
			cadence = 7
		}
		if _, err := s.Plans.Put(ctx, c, g.ID, nil, d.firstPlan(st, cadence)); err != nil {
			return g, false, err
		}
	}
	if st.account != nil {
		if _, err := s.Graduates.CreateAccount(ctx, d.app.Directory, c, g.ID, graduate.AccountInput{Username: st.account.Username, Password: st.account.Password}); err != nil {
			return g, false, err
		}
	}
	for _, e := range st.events {
		if err := d.log(ctx, c, g.ID, e); err != nil {
			return g, false, fmt.Errorf("%s: %w", number, err)
		}
	}
	if ds := st.dest; ds != nil {
		by := c
		if ds.byStudent {
			u, err := d.app.Directory.UserByUsername(ctx, st.account.Username)
			if err != nil {
				return g, false, err
			}
			by = u.Actor()
		}
		rec, err := d.at(d.day(ds.days, 16)).Destinations.Put(ctx, by, g.ID, nil, ds.in)
		if err != nil {
			return g, false, fmt.Errorf("%s destination: %w", number, err)
		}
		if ds.verified > 0 {
			if _, err := d.at(d.day(ds.verified, 11)).Destinations.Verify(ctx, sup, g.ID, rec.ID); err != nil {
				return g, false, err
			}
		}
	}
	return g, true, nil
}

var intentions = [][2]string{{"信息技术", "软件测试"}, {"制造业", "设备维护"}, {"商贸", "电商运营"}, {"财务", "出纳"}, {"医疗卫生", "护理"}, {"物流", "仓储管理"}}

// firstPlan is the plan a counselor makes when the case opens; measure due
// dates lie ahead of now, so that no measure is overdue at once.
func (d *demo) firstPlan(st story, cadence int) plan.Input {
	counselor := map[string]string{"counselor": "王老师", "counselor2": "张老师"}[st.counselor]
	ahead := func(n int) string { return bangfu.DateOf(d.now).AddDays(n).String() }
	return plan.Input{
		Goals:       []string{"毕业前落实就业岗位", "完善求职简历，提升面试能力"},
		CadenceDays: cadence,
		Measures: []plan.MeasureInput{
			{Kind: "career_guidance", Description: "一对一就业指导，完善简历", Owner: counselor, DueOn: ahead(14), Status: "in_progress"},
			{Kind: "job_referral", Description: "推荐不少于3个目标岗位", Owner: counselor, DueOn: ahead(30)},
			{Kind: "hongzhi_training", Description: "报名宏志助航计划培训", Owner: st.name, DueOn: ahead(45)},
		},
	}
}

// log appends e to a graduate's ledger as of its day.
func (d *demo) log(ctx context.Context, by bangfu.Actor, id int64, e event) error {
	at := d.day(e.days, e.hour)
	in := ledger.Input{Kind: e.kind, Channel: e.channel, OccurredAt: at, Summary: e.summary, NextStep: e.nextStep,
		Visibility: "internal", Referral: e.referral}
	if in.Kind == "" {
		in.Kind = "contact"
	}
	if in.Channel == "" && in.Kind == "contact" {
		in.Channel = "phone"
	}
	if e.shared {
		in.Visibility = "shared"
	}
	if e.next > 0 {
		in.NextFollowupOn = bangfu.DateOf(at).AddDays(e.next).String()
	}
	_, err := d.at(at.Add(5*time.Minute)).Ledger.Append(ctx, by, id, in)
	return err
}
