package synthetic

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
)

// draft is a ledger entry before it has a place in the chain.
type draft struct {
	kind, channel, summary, nextStep, visibility string
	occurred, recorded                           int64
	next                                         *bangfu.Date
	referral                                     *ledger.Referral
	group                                        *uuid.UUID
	author                                       int
	corrects                                     int // 1 + the index of the corrected draft; 0: none
	reason                                       string
	id                                           int
}

var ledgerColumns = []string{"student_id", "seq", "kind", "channel", "occurred_at", "summary", "next_step", "next_followup_on",
	"visibility", "referral", "corrects_seq", "correction_reason", "group_id", "author_id", "recorded_at", "prev_hash", "hash", "school_id",
	"department_id"}

// ledgerRows writes graduate i's ledger as COPY rows, chained exactly as
// ledger.Service appends them, and records the chain's head and counts
// (and, for a case, its follow-up and quiet spells) on the graduate.
func (g *gen) ledgerRows(i int, rows [][]any) [][]any {
	r := newRand(g.opts.Seed, streamLedger, i)
	s := &g.students[i]
	var c *caseInfo
	if s.caseIdx >= 0 {
		c = g.cases[s.caseIdx]
	}
	var drafts []draft
	if c != nil {
		drafts = g.caseDrafts(r, s, c)
	}
	drafts = g.groupDrafts(r, s, c, drafts)
	for k := range drafts {
		drafts[k].id = k
	}
	slices.SortStableFunc(drafts, func(a, b draft) int {
		return cmp.Or(cmp.Compare(a.recorded, b.recorded), cmp.Compare(a.occurred, b.occurred))
	})
	seqOf := make([]int, len(drafts)) // by draft id
	for k, d := range drafts {
		seqOf[d.id] = k + 1
	}

	sid := g.ids.students + int64(i)
	schoolID := g.schools[s.school].id
	deptID := g.schools[s.school].depts[s.dept].id
	prev := []byte{}
	for k := range drafts {
		d := &drafts[k]
		e := ledger.Entry{
			StudentID: sid, Seq: k + 1, Kind: d.kind, Channel: d.channel, OccurredAt: at(d.occurred), Summary: d.summary,
			NextStep: d.nextStep, NextFollowupOn: d.next, Visibility: d.visibility, Referral: d.referral,
			CorrectionReason: d.reason, GroupID: d.group, AuthorID: g.users[d.author].id, RecordedAt: at(d.recorded),
		}
		var corrects any
		if d.corrects > 0 {
			n := seqOf[d.corrects-1]
			e.CorrectsSeq = &n
			corrects = int32(n)
		}
		hash := ledger.ComputeHash(&e, prev)
		var referral, group, next any
		if d.referral != nil {
			b, _ := json.Marshal(d.referral)
			referral = b
		}
		if d.group != nil {
			group = *d.group
		}
		if d.next != nil {
			next = d.next.Time()
		}
		rows = append(rows, []any{sid, int32(k + 1), d.kind, d.channel, e.OccurredAt, d.summary, d.nextStep, next,
			d.visibility, referral, corrects, d.reason, group, e.AuthorID, e.RecordedAt, prev, hash, schoolID, deptID})
		prev = hash
		switch d.kind {
		case "contact":
			s.contacts++
			s.lastContact = max(s.lastContact, d.occurred)
		case "referral":
			if c != nil && int(s.referrals) < g.rules.ReferralMinimum {
				c.referralTimes = append(c.referralTimes, d.recorded)
			}
			s.referrals++
		}
	}
	s.seq = int32(len(drafts))
	copy(s.head[:], prev)
	if c != nil {
		g.followups(r, s, c, drafts)
	}
	return rows
}

// caseDrafts is a case's own entries: regular contacts from the intake on
// (closer together in the last weeks), referrals, notes, outcomes and the
// odd correction; for a placed graduate, the outcome and a last call.
func (g *gen) caseDrafts(r *rand.Rand, s *student, c *caseInfo) []draft {
	sc := &g.schools[s.school]
	counselor := int(s.counselor)
	author := func() int {
		if chance(r, 0.05) {
			return sc.supervisors[0]
		}
		return counselor
	}
	placed := s.statusName() == statusPlaced
	stop := c.end
	if placed {
		stop = s.entered
	}
	var out []draft
	add := func(d draft) {
		d.recorded = min(d.recorded, g.now-minute)
		if d.occurred > d.recorded {
			d.occurred = d.recorded - minute
		}
		out = append(out, d)
	}
	contact := func(t int64, summary string) {
		d := draft{kind: "contact", occurred: t, author: author(), visibility: "internal"}
		d.channel = pickWeighted(r, individualChannels)
		if summary == "" {
			summary = channelPrefix[d.channel] + g.phrase(r, pick(r, contactPhrases), s)
		}
		d.summary = summary
		d.recorded = t + delay(r)
		if chance(r, 0.5) {
			d.nextStep = pick(r, nextSteps)
		}
		if chance(r, 0.35) {
			n := dateOf(t).AddDays(between(r, 3, 14))
			d.next = &n
		}
		if chance(r, 0.45) {
			d.visibility = "shared"
		}
		add(d)
	}

	contact(c.intake, "面谈：初次建档面谈，了解家庭情况、身体状况和求职意向")
	out[0].channel = "meeting"
	recentFrom := g.now - 45*day
	gapUsed := false
	for t := c.intake; ; {
		var gap int64
		switch {
		case t >= recentFrom && c.pastGap && !gapUsed && t < g.now-25*day:
			gap, gapUsed = int64(between(r, 15, 28))*day, true
		case t >= recentFrom:
			gap = int64(between(r, 4, 13)) * day
		default:
			gap = int64(between(r, 8, 24)) * day
		}
		next := workTime(r, t+gap)
		if next <= t {
			next = t + gap
		}
		if next >= stop-2*day {
			break
		}
		t = next
		contact(t, "")
	}
	if !placed && stop > out[len(out)-1].occurred {
		contact(stop, "")
	}

	// Everything else falls between the intake and the last contact (or,
	// for a case still in touch, now).
	lo, hi := c.intake+hour, stop
	if !placed && !c.quiet {
		hi = g.now - hour
	}
	scale := math.Min(1, math.Max(0.3, float64(hi-lo)/float64(240*day)))
	count := func(a, b int) int { return int(math.Round(float64(between(r, a, b)) * scale)) }
	entry := func(kind string) draft {
		t := workTime(r, uniform(r, lo, hi))
		if t > hi || t < lo {
			t = uniform(r, lo, hi)
		}
		return draft{kind: kind, occurred: t, recorded: t + delay(r), author: author(), visibility: "internal"}
	}
	referrals := max(count(3, 8), 3)
	if chance(r, 0.06) {
		referrals = between(r, 0, 2)
	}
	for range referrals {
		d := entry("referral")
		e := g.employer(r, int(s.school))
		ref := &ledger.Referral{Employer: e.name, CreditCode: e.credit, Position: pick(r, positions), Outcome: pick(r, referralOutcomes)}
		if chance(r, 0.15) {
			ref.CreditCode = ""
		}
		d.referral = ref
		d.summary = fmt.Sprintf("推荐%s%s岗位", e.name, ref.Position)
		if chance(r, 0.5) {
			d.channel = pick(r, []string{"wechat", "email", "phone"})
		}
		if chance(r, 0.8) {
			d.visibility = "shared"
		}
		add(d)
	}
	for range count(1, 4) {
		d := entry("note")
		d.summary = g.phrase(r, pick(r, notePhrases), s)
		if chance(r, 0.1) {
			d.visibility = "shared"
		}
		add(d)
	}
	for range count(0, 2) {
		d := entry("outcome")
		d.summary = g.phrase(r, pick(r, outcomePhrases), s)
		if chance(r, 0.6) {
			d.visibility = "shared"
		}
		add(d)
	}
	if placed {
		code := codes[s.code]
		d := draft{kind: "outcome", occurred: s.entered + 5*minute + r.Int64N(2*hour), author: author(), visibility: "shared",
			summary: fmt.Sprintf("已落实毕业去向：%s（%s）", destination.Codes[code], code)}
		d.recorded = d.occurred + r.Int64N(10*minute)
		add(d)
		last := out[len(out)-1].recorded
		contact(max(last+minute, s.entered+3*hour+r.Int64N(45*hour)), "电话联系：确认已落实毕业去向，帮扶转为跟踪回访")
		out[len(out)-1].channel = "phone"
	}
	if chance(r, 0.25) && len(out) > 2 {
		k := r.IntN(len(out) - 1)
		t := out[k]
		d := draft{kind: "correction", summary: "更正：" + strings.TrimPrefix(t.summary, "更正："), visibility: t.visibility,
			author: t.author, reason: pick(r, correctionReasons), corrects: k + 1}
		d.recorded = t.recorded + 10*minute + r.Int64N(48*hour)
		if c.quiet {
			d.recorded = min(d.recorded, c.end+3*day)
		}
		d.recorded = min(d.recorded, g.now-minute)
		if d.recorded <= t.recorded {
			d.recorded = t.recorded + 1
		}
		d.occurred = d.recorded
		out = append(out, d)
	}
	return out
}

// delay is how long after a contact it was logged.
func delay(r *rand.Rand) int64 {
	switch x := r.Float64(); {
	case x < 0.7:
		return minute + r.Int64N(3*hour)
	case x < 0.95:
		return 3*hour + r.Int64N(27*hour)
	default:
		return 30*hour + r.Int64N(42*hour)
	}
}

// phrase fills a phrase's one verb, if any.
func (g *gen) phrase(r *rand.Rand, p string, s *student) string {
	switch {
	case strings.Contains(p, "%d"):
		return fmt.Sprintf(p, between(r, 1, 8))
	case strings.Contains(p, "%s") && strings.Contains(p, "意向"):
		return fmt.Sprintf(p, pick(r, jobTypes))
	case strings.Contains(p, "%s") && strings.Contains(p, "方向"):
		return fmt.Sprintf(p, pick(r, industries))
	case strings.Contains(p, "%s"):
		return fmt.Sprintf(p, g.employer(r, int(s.school)).name)
	}
	return p
}

// groupDrafts adds the job fairs and briefings the graduate attended.
func (g *gen) groupDrafts(r *rand.Rand, s *student, c *caseInfo, out []draft) []draft {
	sc := &g.schools[s.school]
	var k int
	if c == nil {
		k = pickWeighted(r, []weighted[int]{{0, 15}, {1, 25}, {2, 25}, {3, 17}, {4, 10}, {5, 5}, {6, 3}})
	} else {
		k = pickWeighted(r, []weighted[int]{{0, 30}, {1, 40}, {2, 20}, {3, 10}})
	}
	if k == 0 || len(sc.events) == 0 {
		return out
	}
	limit := g.now
	if c != nil {
		switch {
		case s.statusName() == statusPlaced:
			limit = s.entered
		case c.quiet:
			limit = c.end
		}
	}
	for _, e := range r.Perm(len(sc.events)) {
		ev := &sc.events[e]
		if ev.occurred < s.created || ev.recorded > limit {
			continue
		}
		out = append(out, draft{kind: "contact", channel: ev.channel, summary: ev.summary, visibility: "shared",
			occurred: ev.occurred, recorded: ev.recorded, group: &ev.group, author: ev.author})
		if k--; k == 0 {
			break
		}
	}
	return out
}

// followups replays what the follow-up scheduler and the stall sweep did
// along the chain: which follow-ups came due without a contact (a
// reminder, and the overdue flag if it is the live one), and which quiet
// spells were raised, and how they ended.
func (g *gen) followups(r *rand.Rand, s *student, c *caseInfo, drafts []draft) {
	planFrom := c.intake + 2*hour // the first plan revision
	placedAt := int64(math.MaxInt64)
	if s.statusName() == statusPlaced {
		placedAt = s.entered
	}
	var since, fire, scheduled int64
	var due bangfu.Date
	var by int // the seq of the contact that scheduled the live follow-up
	seen := false
	for k, d := range drafts {
		if d.kind != "contact" {
			continue
		}
		if seen {
			g.quietSpell(r, s, c, since, d.recorded, k+1, d.author)
			if fire != 0 && fire < d.recorded && fire <= g.now && fire >= g.featureStart {
				c.reminders = append(c.reminders, reminder{due, fire, by})
			}
		}
		seen = true
		since = max(since, d.occurred)
		if d.recorded >= placedAt {
			// A contact after placement cancels the pending follow-up.
			fire, due = 0, bangfu.Date{}
			continue
		}
		by = k + 1
		if d.next != nil {
			due = *d.next
		} else {
			cadence := g.rules.DefaultCadenceDays
			if d.recorded >= planFrom {
				cadence = int(c.cadence)
			}
			today := dateOf(d.recorded)
			afterGraduation := today.After(graduate.GraduationDate(g.year))
			if afterGraduation {
				cadence = g.rules.AfterGraduationCadenceDays
			}
			due = dateOf(d.occurred).AddDays(cadence)
			if end := graduate.YearEnd(g.year); afterGraduation && !today.After(end) && due.After(end) {
				due = end
			}
			if due.Before(today) {
				due = today
			}
		}
		// A job scheduled in the past runs at once.
		fire, scheduled = max(micros(due.At(9, 0)), d.recorded), d.recorded
	}
	c.followScheduled = scheduled
	if placedAt != math.MaxInt64 {
		return
	}
	g.quietSpell(r, s, c, since, 0, 0, -1)
	c.nextFollowup = due
	if fire != 0 && fire <= g.now {
		c.overdue = true
		if fire >= g.featureStart {
			c.reminders = append(c.reminders, reminder{due, fire, by})
		}
	}
}

// quietSpell raises the no_contact levels the sweep raised for the spell
// that began at since, up to the last sweep: one level per run, each once
// its threshold passed (after graduation, the stretched thresholds) and
// the level below had stood for the difference between their thresholds,
// while the case was open or active. A contact logged at resolvedAt (0:
// none yet) ended it, or placement did.
func (g *gen) quietSpell(r *rand.Rand, s *student, c *caseInfo, since, resolvedAt int64, seq, by int) {
	statusEnd := int64(math.MaxInt64)
	if s.statusName() == statusPlaced {
		statusEnd = s.entered
	}
	left := micros(graduate.GraduationDate(g.year).AddDays(1).At(0, 0))
	var prev int64
	var raised []escalation
	for level := 1; level <= 3; level++ {
		due := func(th [3]int) int64 {
			t := since + int64(th[level-1])*day
			if prev != 0 {
				t = max(t, prev+int64(th[level-1]-th[level-2])*day)
			}
			return g.sweepRun(max(t, g.featureStart))
		}
		t := due(g.rules.StallDays)
		if t >= left {
			t = max(due(g.rules.AfterGraduationStallDays()), g.sweepRun(left))
		}
		if t > g.lastSweep || (resolvedAt != 0 && t >= resolvedAt) || t >= statusEnd {
			break
		}
		raised = append(raised, escalation{student: c.student, kind: "no_contact", level: int8(level), episode: epochText(since),
			reason: fmt.Sprintf("已 %d 天未联系", (t-since)/day), raised: t, ackBy: -1, resBy: -1})
		prev = t
	}
	if len(raised) == 0 {
		return
	}
	var resAt int64
	resBy, resNote := -1, ""
	sweepEnd := int64(0)
	if statusEnd != math.MaxInt64 {
		sweepEnd = g.sweepRun(statusEnd)
	}
	switch {
	case resolvedAt != 0 && (sweepEnd == 0 || resolvedAt < sweepEnd):
		resAt, resBy, resNote = resolvedAt, by, fmt.Sprintf("已恢复联系：台账第 %d 条记录", seq)
	case sweepEnd != 0 && sweepEnd <= g.lastSweep:
		resAt, resNote = sweepEnd, "条件已消除（系统巡查）"
	}
	for _, e := range raised {
		g.acknowledge(r, s, &e, resAt)
		if resAt != 0 {
			e.status, e.resAt, e.resBy, e.resNote = "resolved", resAt, resBy, resNote
		}
		c.noContact = append(c.noContact, e)
	}
}

// acknowledge has some escalations acknowledged by their level's staff
// before they were resolved (or now).
func (g *gen) acknowledge(r *rand.Rand, s *student, e *escalation, until int64) {
	e.status = "open"
	if until == 0 {
		until = g.now
	}
	t := e.raised + hour + r.Int64N(3*day)
	if !chance(r, 0.3) || t >= until {
		return
	}
	sc := &g.schools[s.school]
	switch e.level {
	case 1:
		e.ackBy = int(s.counselor)
	case 2:
		e.ackBy = sc.supervisors[0]
	default:
		e.ackBy = 1 + r.IntN(3) // province-1..3
	}
	if e.ackBy < 0 {
		return
	}
	e.status, e.ackAt, e.ackNote = "acknowledged", t, pick(r, acknowledgeNotes)
}
