package synthetic

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/bangfu/bangfu"
)

// Case statuses, as stored.
const (
	statusOpen   = "open"
	statusActive = "active"
	statusPlaced = "placed"
	statusClosed = "closed"
)

// student.status indexes statusNames.
const (
	isOpen uint8 = iota
	isActive
	isPlaced
	isClosed
)

var statusNames = []string{statusOpen, statusActive, statusPlaced, statusClosed}

// codes are the destination codes, indexed by student.code.
var codes = []string{"10", "11", "12", "27", "46", "50", "51", "75", "76", "80", "85", "70", "71", "72"}

func codeIndex(c string) int8 { return int8(slices.Index(codes, c)) }

var levels = []string{"zhongzhi", "zhuanke", "benke", "shuoshi", "boshi"}

type school struct {
	id         int64
	code, name string
	city       city
	kind       schoolKind
	depts      []dept
	first, n   int     // the school's graduates are [first, first+n)
	rate       float64 // share of disadvantaged graduates
	// supervisors[0] sees the whole school; a second one, when there is
	// one, only departments[0].
	supervisors []int
	counselors  []int
	events      []event
	employers   []int // employers in the school's city
}

type dept struct {
	id     int64
	name   string
	majors []string
	weight float64
}

type user struct {
	id       int64
	username string
	name     string
	role     string
	school   int   // -1 for province and admin
	dept     int64 // 0: none
}

type employer struct {
	name, credit, city, county string
}

// event is a job fair or briefing logged for many graduates of a school
// at once (a group append).
type event struct {
	occurred, recorded int64
	channel, summary   string
	group              uuid.UUID
	author             int
}

// student is what every table needs to know about one graduate: drawn
// once, before any row is written, and completed by the ledger pass.
type student struct {
	school    int32
	dept      int16
	level     uint8
	status    uint8 // index into statusNames
	code      int8  // current destination, index into codes; -1: none
	prevCode  int8  // a superseded earlier destination; -1: none
	counselor int32 // index into gen.users; -1: none
	caseIdx   int32 // index into gen.cases; -1: not disadvantaged
	created   int64
	activated int64 // 0: never
	entered   int64 // when the current destination was recorded
	prevAt    int64 // when the superseded one was

	// Filled by the ledger pass.
	seq, contacts, referrals int32
	lastContact              int64
	head                     [32]byte
}

func (s *student) statusName() string { return statusNames[s.status] }

// caseInfo is the case work of a disadvantaged graduate.
type caseInfo struct {
	student   int
	intake    int64 // first contact
	end       int64 // the last contact (open and active cases)
	quiet     bool
	pastGap   bool // had a quiet spell recently, since resolved
	hardships int8
	cadence   int16

	// Filled by the ledger pass.
	nextFollowup    bangfu.Date
	followScheduled int64
	overdue         bool
	referralTimes   []int64 // when the first referrals (up to the minimum) were recorded
	noContact       []escalation
	reminders       []reminder
}

// reminder is a follow-up that came due with no contact since: the job
// that fired marked the case overdue and reminded the counselor.
type reminder struct {
	due  bangfu.Date
	fire int64 // when the job ran
	seq  int   // the contact that scheduled it
}

// province draws the schools, their departments and sizes, and the
// employers of the province.
func (g *gen) province() error {
	r := newRand(g.opts.Seed, streamProvince, 0)
	var cityWeights []weighted[int]
	for i, c := range cities {
		cityWeights = append(cityWeights, weighted[int]{i, c.weight})
	}
	var kindWeights []weighted[int]
	for i, k := range schoolKinds {
		kindWeights = append(kindWeights, weighted[int]{i, k.weight})
	}
	names := map[string]bool{}
	weights := make([]float64, g.opts.Schools)
	var total float64
	for i := range g.opts.Schools {
		var sc school
		for attempt := 0; ; attempt++ {
			sc.city = cities[pickWeighted(r, cityWeights)]
			sc.kind = schoolKinds[pickWeighted(r, kindWeights)]
			sc.name = sc.city.name + pick(r, sc.kind.themes) + sc.kind.suffix
			if attempt > 50 {
				sc.name = fmt.Sprintf("%s第%d%s", sc.city.name, i+1, sc.kind.suffix)
			}
			if !names[sc.name] {
				break
			}
		}
		names[sc.name] = true
		sc.code = fmt.Sprintf("41440%05d", 10_000+i*53+r.IntN(50))
		catalog := universityDepartments
		if sc.kind.vocational {
			catalog = vocationalDepartments
		}
		perm := r.Perm(len(catalog))
		for _, k := range perm[:between(r, 6, 10)] {
			d := catalog[k]
			sc.depts = append(sc.depts, dept{name: d.name, majors: d.majors, weight: 0.5 + r.Float64()})
		}
		sc.rate = 0.07 + 0.06*r.Float64()
		weights[i] = math.Exp(0.45 * r.NormFloat64())
		if !sc.kind.vocational {
			weights[i] *= 1.2
		}
		total += weights[i]
		g.schools = append(g.schools, sc)
	}
	// Sizes by largest remainder, so that they add up to Students.
	type rem struct {
		i    int
		frac float64
	}
	rems := make([]rem, len(g.schools))
	left := g.opts.Students
	for i := range g.schools {
		exact := float64(g.opts.Students) * weights[i] / total
		g.schools[i].n = int(exact)
		left -= g.schools[i].n
		rems[i] = rem{i, exact - float64(g.schools[i].n)}
	}
	slices.SortStableFunc(rems, func(a, b rem) int { return cmp.Compare(b.frac, a.frac) })
	for k := 0; k < left; k++ {
		g.schools[rems[k%len(rems)].i].n++
	}
	first := 0
	for i := range g.schools {
		g.schools[i].first = first
		first += g.schools[i].n
	}

	// Employers, most of them near a school.
	n := min(max(g.opts.Students/100, 300), 6000)
	taken := map[string]bool{}
	for len(g.employers) < n {
		c := cities[pickWeighted(r, cityWeights)]
		county := countyOf(r, c)
		suffix := "有限公司"
		if chance(r, 0.1) {
			suffix = "股份有限公司"
		}
		name := c.name + "市" + pick(r, employerWords) + pick(r, employerWords) + pick(r, employerTrades) + suffix
		if taken[name] {
			continue
		}
		taken[name] = true
		g.employers = append(g.employers, employer{name: name, credit: creditCode(r, county), city: c.name, county: county})
	}
	for i := range g.schools {
		for k, e := range g.employers {
			if e.city == g.schools[i].city.name {
				g.schools[i].employers = append(g.schools[i].employers, k)
			}
		}
	}
	return nil
}

// countyOf picks a county of c for addresses and codes.
func countyOf(r *rand.Rand, c city) string {
	var in []string
	for _, code := range residentRegions {
		if strings.HasPrefix(code, c.code) {
			in = append(in, code)
		}
	}
	if len(in) == 0 {
		return c.code + "00"
	}
	return pick(r, in)
}

// graduates draws every graduate's place and course: school, department,
// level, whether disadvantaged, status, destination and the shape of the
// case work. Names, ID numbers and the records themselves come later,
// from each graduate's own streams.
func (g *gen) graduates() {
	g.students = make([]student, g.opts.Students)
	for si := range g.schools {
		sc := &g.schools[si]
		var deptWeights []weighted[int]
		for k, d := range sc.depts {
			deptWeights = append(deptWeights, weighted[int]{k, d.weight})
		}
		for i := sc.first; i < sc.first+sc.n; i++ {
			g.graduate(i, si, deptWeights)
		}
	}
}

func (g *gen) graduate(i, si int, deptWeights []weighted[int]) {
	r := newRand(g.opts.Seed, streamStudent, i)
	sc := &g.schools[si]
	s := &g.students[i]
	s.school, s.counselor, s.caseIdx, s.code, s.prevCode = int32(si), -1, -1, -1, -1
	s.dept = int16(pickWeighted(r, deptWeights))
	switch x := r.Float64(); {
	case sc.kind.vocational && x < 0.97:
		s.level = 1
	case sc.kind.vocational:
		s.level = 2
	case sc.kind.suffix == "大学" && x < 0.10:
		s.level = 3
	case sc.kind.suffix == "大学" && x < 0.115:
		s.level = 4
	case x < 0.96:
		s.level = 2
	default:
		s.level = 1
	}
	s.created = g.clampPast(workTime(r, uniform(r, g.termStart, g.termStart+20*day)))

	if !chance(r, sc.rate) {
		// No case work: a destination, the status it implies.
		switch {
		case chance(r, 0.03):
			s.status = isClosed
		case chance(r, 0.845):
			s.code = codeIndex(pickWeighted(r, placedCodes))
			s.status = isPlaced
		default:
			s.code = codeIndex(pickWeighted(r, unplacedCodes))
			s.status = isClosed
		}
		if s.code >= 0 {
			from := max(s.created+day, g.destFrom)
			s.entered = g.clampPast(workTime(r, uniform(r, from, g.now-day)))
			if s.status == isPlaced && chance(r, 0.06) && s.entered-from > 2*day {
				s.prevCode = codeIndex("70")
				s.prevAt = workTime(r, uniform(r, from, s.entered-day))
			}
		}
		return
	}

	c := caseInfo{student: i, cadence: int16(pickWeighted(r, []weighted[int]{{7, 40}, {14, 40}, {10, 15}, {21, 5}}))}
	c.hardships = 1
	if chance(r, 0.3) {
		c.hardships = 2
	}
	x := r.Float64()
	switch {
	case x < 0.27:
		s.status = isPlaced
	case x < 0.35:
		s.status = isOpen
		s.created = g.clampPast(workTime(r, uniform(r, max(g.termStart, g.now-100*day), g.now-10*day)))
	default:
		s.status = isActive
	}
	c.intake = g.clampPast(workTime(r, s.created+int64(between(r, 1, 5))*day))
	if s.status != isOpen {
		s.activated = g.clampPast(s.created + int64(between(r, 2, 40))*day + r.Int64N(8*hour))
	}
	from := max(c.intake, s.activated)
	if s.status == isPlaced {
		s.code = codeIndex(pickWeighted(r, placedCodesDisadvantaged))
		s.entered = g.clampPast(workTime(r, uniform(r, from+25*day, g.now-day)))
		if s.entered <= from {
			s.entered = from + hour
		}
		if chance(r, 0.2) && s.entered-from > 4*day {
			s.prevCode = codeIndex("70")
			s.prevAt = workTime(r, uniform(r, max(from+day, s.entered-60*day), s.entered-2*day))
		}
	} else {
		switch y := r.Float64(); {
		case y < 0.45:
			s.code = codeIndex("70")
		case y < 0.70:
			s.code = codeIndex("71")
		case y < 0.80:
			s.code = codeIndex("72")
		}
		if s.code >= 0 {
			s.entered = g.clampPast(workTime(r, uniform(r, max(from+day, g.destFrom), g.now-day)))
		}
		// The last contact: within the fortnight, or long ago for the
		// quiet cases the stall sweep is for.
		recent := micros(dateOf(g.now).AddDays(-14).At(0, 0))
		if chance(r, 0.12) && c.intake < recent-3*day {
			c.quiet = true
			lo := max(g.now-60*day, c.intake+2*day)
			c.end = workTime(r, uniform(r, lo, recent-day))
		} else {
			c.end = g.clampPast(workTime(r, uniform(r, max(c.intake, g.now-10*day), g.now)))
			c.pastGap = s.status == isActive && chance(r, 0.06)
		}
		if c.end < c.intake {
			c.end = c.intake
		}
	}
	s.caseIdx = int32(len(g.cases))
	g.cases = append(g.cases, &c)
}

// clampPast keeps t a little before now, for reference dates early in an
// academic year.
func (g *gen) clampPast(t int64) int64 { return min(t, g.now-10*minute) }

// staff creates the users: an admin, province staff, and for each school
// its supervisors and a counselor per hundred cases, the cases divided
// between them by department.
func (g *gen) staff() {
	add := func(u user) int {
		u.id = g.ids.users + int64(len(g.users))
		g.users = append(g.users, u)
		return len(g.users) - 1
	}
	r := newRand(g.opts.Seed, streamProvince, 1)
	add(user{username: "admin-1", name: "系统管理员", role: "admin", school: -1})
	for k := 1; k <= 3; k++ {
		add(user{username: fmt.Sprintf("province-%d", k), name: "省教育厅 " + personName(r, chance(r, 0.5)), role: "province", school: -1})
	}
	for si := range g.schools {
		sc := &g.schools[si]
		sr := newRand(g.opts.Seed, streamSchool, si)
		sc.supervisors = append(sc.supervisors, add(user{username: fmt.Sprintf("supervisor-%d-1", si+1),
			name: personName(sr, chance(sr, 0.5)), role: "supervisor", school: si}))
		if chance(sr, 0.5) {
			sc.supervisors = append(sc.supervisors, add(user{username: fmt.Sprintf("supervisor-%d-2", si+1),
				name: personName(sr, chance(sr, 0.5)), role: "supervisor", school: si, dept: sc.depts[0].id}))
		}
		var cases []int
		for i := sc.first; i < sc.first+sc.n; i++ {
			if g.students[i].caseIdx >= 0 {
				cases = append(cases, i)
			}
		}
		slices.SortStableFunc(cases, func(a, b int) int { return cmp.Compare(g.students[a].dept, g.students[b].dept) })
		nc := max(1, int(math.Round(float64(len(cases))/100)))
		for k := range nc {
			lo, hi := k*len(cases)/nc, (k+1)*len(cases)/nc
			var d int64
			if lo < hi {
				d = sc.depts[g.students[cases[lo]].dept].id
			}
			u := add(user{username: fmt.Sprintf("counselor-%d-%d", si+1, k+1), name: personName(sr, chance(sr, 0.4)),
				role: "counselor", school: si, dept: d})
			sc.counselors = append(sc.counselors, u)
			for _, i := range cases[lo:hi] {
				g.students[i].counselor = int32(u)
			}
		}
	}
}

// events draws each school's job fairs and briefings; about one graduate
// in three hundred of the school's attendances is at each.
func (g *gen) events() {
	for si := range g.schools {
		sc := &g.schools[si]
		r := newRand(g.opts.Seed, streamSchool, 1_000_000+si)
		n := max(2, (sc.n*22/10+299)/300)
		lo, hi := g.termStart+14*day, g.now-day
		if hi <= lo {
			lo = g.termStart
		}
		for range n {
			d := dateOf(uniform(r, lo, hi))
			occurred := micros(d.At(14, 30)) + r.Int64N(90*minute)
			recorded := min(occurred+hour+r.Int64N(25*hour), g.now-minute)
			if occurred > recorded {
				occurred = recorded - hour
			}
			e := event{occurred: occurred, recorded: recorded, group: newUUID(r), author: sc.supervisors[0]}
			season := "春季"
			if m := at(occurred).In(bangfu.Shanghai).Month(); m >= 9 || m <= 1 {
				season = "秋季"
			}
			switch r.IntN(8) {
			case 0, 1:
				e.channel, e.summary = "job_fair", fmt.Sprintf("参加%d届毕业生%s校园双选会", g.year, season)
			case 2:
				e.channel, e.summary = "job_fair", fmt.Sprintf("参加%s市人社局高校毕业生专场招聘会", sc.city.name)
			case 3:
				e.channel, e.summary = "job_fair", "参加“百日千万”网络招聘专项行动线上招聘会"
			case 4:
				e.channel, e.summary = "briefing", "参加就业创业政策宣讲会"
			case 5:
				e.channel, e.summary = "briefing", "参加基层项目（三支一扶、西部计划）宣讲会"
			case 6:
				e.channel, e.summary = "meeting", "参加简历制作与面试技巧讲座"
			default:
				e.channel, e.summary = "briefing", "参加应征入伍政策宣讲会"
			}
			sc.events = append(sc.events, e)
		}
		slices.SortFunc(sc.events, func(a, b event) int { return cmp.Compare(a.recorded, b.recorded) })
	}
}

// identity is a graduate's name, ID number and contacts.
type identity struct {
	name, idNumber, phone, email string
	male                         bool
}

func (g *gen) identity(i int) identity {
	r := newRand(g.opts.Seed, streamIdentity, i)
	var id identity
	id.idNumber, id.male = g.idSpace.number(i)
	id.name = personName(r, id.male)
	id.phone = phone(r)
	if chance(r, 0.35) {
		id.email = fmt.Sprintf("%d@qq.com", 100_000_000+r.IntN(3_000_000_000))
	}
	return id
}

// employer picks an employer, usually one near the school.
func (g *gen) employer(r *rand.Rand, si int) employer {
	sc := &g.schools[si]
	if len(sc.employers) > 0 && chance(r, 0.65) {
		return g.employers[pick(r, sc.employers)]
	}
	return g.employers[r.IntN(len(g.employers))]
}
