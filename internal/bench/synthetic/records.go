package synthetic

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/bangfu/bangfu"
)

// The records of one graduate besides the ledger: hardship evidence, the
// plan's revisions and the destination records. Each comes from its own
// stream, so every table that needs it (the table itself, the graduate's
// file, notifications, the audit log) draws the same.

type hardship struct {
	kind       hardshipKind
	authority  string
	certNo     string
	validUntil *bangfu.Date
	status     string
	verifiedBy int // user index; -1: none
	verifiedAt int64
	note       string
	createdBy  int
	createdAt  int64
	expiredAt  int64 // when the expiry job marked it unverified; 0: not expired
}

func (g *gen) hardships(i int) []hardship {
	s := &g.students[i]
	c := g.cases[s.caseIdx]
	sc := &g.schools[s.school]
	r := newRand(g.opts.Seed, streamHardship, i)
	var kinds []weighted[int]
	for k, h := range hardshipKinds {
		kinds = append(kinds, weighted[int]{k, h.w()})
	}
	today := dateOf(g.now)
	var out []hardship
	for range c.hardships {
		k := pickWeighted(r, kinds)
		kinds = slices.DeleteFunc(kinds, func(w weighted[int]) bool { return w.v == k })
		kind := hardshipKinds[k]
		h := hardship{kind: kind, verifiedBy: -1, createdBy: int(s.counselor)}
		h.createdAt = g.clampPast(workTime(r, s.created+int64(between(r, 0, 20))*day))
		h.authority = kind.authority
		if kind.authority != "学校学生资助管理中心" {
			h.authority = fmt.Sprintf(kind.authority, sc.city.name+"市")
		} else {
			h.authority = sc.name + "学生资助管理中心"
		}
		if chance(r, 0.6) {
			h.certNo = fmt.Sprintf("%s%s%d%06d", kind.certPrefix, sc.city.code, g.year-1-r.IntN(3), r.IntN(1_000_000))
		}
		verifiedAt := min(h.createdAt+hour+r.Int64N(10*day), g.now-minute)
		switch {
		case kind.permanent && chance(r, 0.7):
		case chance(r, 0.05) && h.createdAt < g.now-3*day:
			// Expired already: the daily job found it and asked for new evidence.
			d := dateOf(uniform(r, h.createdAt+day, g.now-day))
			h.validUntil = &d
		default:
			d := today.AddDays(between(r, 1, 730))
			h.validUntil = &d
		}
		switch x := r.Float64(); {
		case x < 0.90:
			h.status, h.verifiedBy, h.verifiedAt = "verified", sc.supervisors[0], verifiedAt
		case x < 0.97:
			h.status = "unverified"
		default:
			h.status, h.verifiedBy, h.verifiedAt = "rejected", sc.supervisors[0], verifiedAt
			h.note = "证明材料不清晰，请重新提交"
		}
		if h.validUntil != nil && h.validUntil.Before(today) && h.status == "verified" {
			expired := micros(h.validUntil.AddDays(1).At(6, 0))
			switch {
			case verifiedAt >= micros(h.validUntil.AddDays(1).At(0, 0)):
				// Expired evidence cannot be verified: it never was.
				h.status, h.verifiedBy, h.verifiedAt = "unverified", -1, 0
			case expired <= g.now:
				// The daily job found it expired and asked for new evidence.
				h.status, h.expiredAt = "unverified", expired
				h.note = "材料已于 " + h.validUntil.String() + " 过期，需重新认定"
			}
		}
		out = append(out, h)
	}
	return out
}

func (k hardshipKind) w() float64 { return k.weight }

type measure struct {
	kind, description, owner, status string
	due                              *bangfu.Date
}

type revision struct {
	n        int
	goals    []string
	note     string
	author   int
	created  int64
	measures []measure
}

// plan returns a case's plan revisions, oldest first.
func (g *gen) plan(i int) []revision {
	s := &g.students[i]
	c := g.cases[s.caseIdx]
	r := newRand(g.opts.Seed, streamPlan, i)
	limit := g.now - hour
	if s.statusName() == statusPlaced {
		limit = s.entered
	}
	today := dateOf(g.now)
	// When each revision was made: one after the intake interview, then
	// every couple of months while the case is open.
	times := []int64{min(c.intake+2*hour, g.now-minute)}
	for len(times) < 4 {
		t := workTime(r, times[len(times)-1]+int64(between(r, 45, 120))*day)
		if t > limit {
			break
		}
		times = append(times, t)
	}
	out := make([]revision, len(times))
	for k, t := range times {
		rev := revision{n: k + 1, author: int(s.counselor), created: t}
		current := k == len(times)-1
		for _, x := range r.Perm(len(planGoals))[:between(r, 1, 3)] {
			rev.goals = append(rev.goals, planGoals[x])
		}
		if k > 0 {
			rev.note = pick(r, []string{"根据求职进展调整帮扶措施", "学生意向变化，更新计划", "补充技能培训措施"})
		}
		for _, x := range r.Perm(len(measureKinds))[:between(r, 3, 5)] {
			kind := measureKinds[x]
			m := measure{kind: kind, description: pick(r, measureTexts[kind])}
			switch y := r.Float64(); {
			case y < 0.6:
				m.owner = g.users[s.counselor].name
			case y < 0.9:
				m.owner = g.identity(i).name
			default:
				m.owner = "学校就业指导中心"
			}
			if chance(r, 0.85) {
				d := dateOf(t).AddDays(between(r, 7, 120))
				m.due = &d
			}
			switch {
			case !current || s.statusName() == statusPlaced:
				m.status = pickWeighted(r, []weighted[string]{{"done", 70}, {"dropped", 20}, {"in_progress", 10}})
			case m.due != nil && m.due.Before(today):
				m.status = pickWeighted(r, []weighted[string]{{"done", 82}, {"dropped", 8}, {"in_progress", 7}, {"planned", 3}})
			default:
				m.status = pickWeighted(r, []weighted[string]{{"planned", 55}, {"in_progress", 40}, {"done", 5}})
			}
			rev.measures = append(rev.measures, m)
		}
		out[k] = rev
	}
	return out
}

var measureKinds = []string{"career_guidance", "job_referral", "skills_training", "hongzhi_training", "psychological_support",
	"job_seeking_subsidy", "internship", "grassroots_project", "enlistment", "further_study"}

type destinationRecord struct {
	code, employer, credit, position, region, proofKind, proofRef, note, status string
	enteredBy                                                                   int
	role                                                                        string
	entered, verifiedAt, superseded                                             int64
	verifiedBy                                                                  int
}

// destinations returns a graduate's destination records, the superseded
// one (if any) first, the current one last.
func (g *gen) destinations(i int) []destinationRecord {
	s := &g.students[i]
	if s.code < 0 {
		return nil
	}
	r := newRand(g.opts.Seed, streamDestination, i)
	var out []destinationRecord
	if s.prevCode >= 0 {
		d := g.destination(r, i, codes[s.prevCode], s.prevAt)
		d.superseded = s.entered
		out = append(out, d)
	}
	return append(out, g.destination(r, i, codes[s.code], s.entered))
}

func (g *gen) destination(r *rand.Rand, i int, code string, entered int64) destinationRecord {
	s := &g.students[i]
	sc := &g.schools[s.school]
	d := destinationRecord{code: code, entered: entered, verifiedBy: -1, status: "recorded", enteredBy: sc.supervisors[0], role: "supervisor"}
	// After 31 August only a supervisor may record a destination.
	deadline := micros(bangfu.NewDate(g.year, time.August, 31).AddDays(1).At(0, 0))
	if s.counselor >= 0 && entered < deadline && chance(r, 0.85) {
		d.enteredBy, d.role = int(s.counselor), "counselor"
	}
	ref := func(prefix string) string {
		return fmt.Sprintf("%s%d%s%06d", prefix, g.year, sc.city.code, r.IntN(1_000_000))
	}
	e := g.employer(r, int(s.school))
	switch code {
	case "10", "11":
		d.employer, d.credit, d.position, d.region = e.name, e.credit, pick(r, positions), e.city+"市"
		if code == "10" {
			d.proofKind, d.proofRef = "employment_agreement", ref("JYXY")
		} else {
			d.proofKind, d.proofRef = "labor_contract", ref("LDHT")
		}
	case "12":
		d.employer, d.position, d.region = e.name, pick(r, positions), e.city+"市"
		if chance(r, 0.8) {
			d.credit = e.credit
		}
		d.proofKind, d.proofRef = "signed_statement", ref("LYZM")
	case "27":
		d.employer, d.region = g.university(r)
		d.position = "科研助理"
		d.proofKind, d.proofRef = pick(r, []string{"employment_agreement", "labor_contract", "employment_certificate"}), ref("KYZL")
	case "46":
		d.employer, d.position = "中国人民解放军", "义务兵"
		d.proofKind, d.proofRef = "enlistment_notice", fmt.Sprintf("粤%s征字第%05d号", sc.city.name, r.IntN(100_000))
	case "50":
		d.employer = pick(r, []string{"三支一扶计划", "大学生志愿服务西部计划", "农村义务教育阶段学校教师特设岗位计划"})
		d.position, d.region = pick(r, []string{"支农", "支教", "支医", "乡村振兴协理员"}), pick(r, cities).name+"市"
		d.proofKind, d.proofRef = "project_appointment", ref("JCXM")
	case "51":
		d.employer = pick(r, []string{"广东省大学生志愿服务山区计划", "广东省高校毕业生到乡村振兴一线服务计划", sc.city.name + "市社区专职工作者招聘项目"})
		d.position, d.region = pick(r, []string{"乡村振兴助理", "社区专职工作者", "基层服务岗"}), sc.city.name+"市"
		d.proofKind, d.proofRef = "project_appointment", ref("DFXM")
	case "75":
		d.employer = sc.city.name + "市" + pick(r, employerWords) + pick(r, employerWords) + pick(r, []string{"电子商务工作室", "文化传播工作室", "餐饮店", "设计工作室"})
		if chance(r, 0.6) {
			d.credit = creditCode(r, countyOf(r, sc.city))
		}
		d.position, d.region = "负责人", sc.city.name+"市"
		d.proofKind, d.proofRef = "signed_statement", ref("ZZCY")
	case "76":
		d.position, d.region = pick(r, []string{"新媒体运营（自由职业）", "平面设计（自由职业）", "家教", "电商主播", "短视频创作者"}), sc.city.name+"市"
		d.proofKind, d.proofRef = "signed_statement", ref("ZYZY")
	case "80":
		d.employer, d.region = g.university(r)
		switch levels[s.level] {
		case "zhuanke":
			d.position = "专升本"
		case "shuoshi":
			d.position = "博士研究生"
		default:
			d.position = "硕士研究生"
		}
		d.proofKind, d.proofRef = "admission_notice", ref("LQTZ")
	case "85":
		abroad := pick(r, []struct{ school, region string }{
			{"香港理工大学", "香港"}, {"澳门科技大学", "澳门"}, {"新加坡管理学院", "新加坡"}, {"英国利兹大学", "英国"},
			{"澳大利亚悉尼大学", "澳大利亚"}, {"马来西亚博特拉大学", "马来西亚"},
		})
		d.employer, d.position, d.region = abroad.school, "留学", abroad.region
		d.proofKind = pickWeighted(r, []weighted[string]{{"admission_notice", 70}, {"employment_certificate", 20}, {"other", 10}})
		d.proofRef = ref("CGLX")
	case "70":
		d.note = pick(r, []string{"求职中，已参加多场招聘会", "正在准备公务员、事业单位考试", "有意向单位，待签约", "暂未找到合适岗位"})
	case "71":
		d.note = pick(r, []string{"备考专升本", "备考研究生", "准备出国留学"})
	case "72":
		d.note = pick(r, []string{"暂不就业：照顾家人", "身体原因暂缓就业", "暂不就业：准备创业"})
	}
	if chance(r, 0.45) {
		at := entered + hour + r.Int64N(20*day)
		if at < g.now {
			d.status, d.verifiedBy, d.verifiedAt = "verified", sc.supervisors[0], at
		}
	}
	return d
}

// university names an institution a graduate may go on to, one of the
// province's universities or colleges, and its city.
func (g *gen) university(r *rand.Rand) (string, string) {
	if len(g.universities) == 0 {
		return "广东第二师范学院", "广州市"
	}
	sc := &g.schools[pick(r, g.universities)]
	return sc.name, sc.city.name + "市"
}
