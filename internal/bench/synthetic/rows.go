package synthetic

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/cnid"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/graduate"
)

func (l *loader) copySchools(ctx context.Context) error {
	g := l.g
	phase := l.phase("schools and departments")
	created := at(g.termStart - 30*day)
	var schools, depts [][]any
	for _, sc := range g.schools {
		schools = append(schools, []any{sc.id, sc.code, sc.name, sc.city.name, created})
		for _, d := range sc.depts {
			depts = append(depts, []any{d.id, sc.id, d.name, created})
		}
	}
	if err := l.copyRows(ctx, "schools", []string{"id", "code", "name", "region", "created_at"}, len(schools),
		func(k int) []any { return schools[k] }); err != nil {
		return err
	}
	if err := l.copyRows(ctx, "departments", []string{"id", "school_id", "name", "created_at"}, len(depts),
		func(k int) []any { return depts[k] }); err != nil {
		return err
	}
	phase.done(int64(len(schools) + len(depts)))
	return nil
}

func (l *loader) copyUsers(ctx context.Context) error {
	g := l.g
	phase := l.phase("users")
	created := at(g.termStart - 20*day)
	var rows [][]any
	for _, u := range g.users {
		var school, dept any
		if u.school >= 0 {
			school = g.schools[u.school].id
		}
		if u.dept != 0 {
			dept = u.dept
		}
		rows = append(rows, []any{u.id, u.username, u.name, u.role, school, dept, g.passwordHash, created, created})
	}
	err := l.copyRows(ctx, "users", []string{"id", "username", "display_name", "role", "school_id", "department_id",
		"password_hash", "created_at", "updated_at"}, len(rows), func(k int) []any { return rows[k] })
	if err == nil {
		phase.done(int64(len(rows)))
	}
	return err
}

func (l *loader) copyLedger(ctx context.Context) error {
	return l.copyChunks(ctx, "ledger_entries", ledgerColumns, func(c int, rows [][]any) [][]any {
		lo, hi := l.g.chunkRange(c)
		for i := lo; i < hi; i++ {
			rows = l.g.ledgerRows(i, rows)
		}
		return rows
	})
}

var studentColumns = []string{"id", "school_id", "department_id", "student_number", "name", "id_number_sealed", "id_number_hash",
	"id_number_masked", "major", "education_level", "graduation_year", "phone", "email", "intention_industry", "intention_region",
	"intention_job_type", "skills", "certificates", "accommodations_sealed", "counselor_id", "status", "activated_at", "consent",
	"consent_at", "version", "created_at", "updated_at", "ledger_seq", "ledger_head", "contacts_count", "referrals_count",
	"last_contact_at", "next_followup_on", "overdue", "plan_revision", "destination_id", "destination_code", "followup_scheduled_at",
	"destination_verified"}

// copyStudents writes the graduates' files, after the ledger pass has
// recorded each chain's head and counts.
func (l *loader) copyStudents(ctx context.Context) error {
	g := l.g
	return l.copyChunks(ctx, "students", studentColumns, func(c int, rows [][]any) [][]any {
		lo, hi := g.chunkRange(c)
		destID := g.destinationBase[c]
		for i := lo; i < hi; i++ {
			s := &g.students[i]
			sc := &g.schools[s.school]
			d := &sc.depts[s.dept]
			id := g.identity(i)
			r := newRand(g.opts.Seed, streamIdentity, 1<<32+i)
			entry := g.year - 3
			if lv := levels[s.level]; lv == "benke" || lv == "boshi" {
				entry = g.year - 4
			}
			number := fmt.Sprintf("%d%02d%05d", entry, s.dept+1, i-sc.first+1)
			var intention [3]string
			var sk, certs []string
			var acc []byte
			ci := (*caseInfo)(nil)
			if s.caseIdx >= 0 {
				ci = g.cases[s.caseIdx]
			}
			if ci != nil || chance(r, 0.6) {
				intention = [3]string{pick(r, industries), pick(r, intentionRegions), pick(r, jobTypes)}
			}
			sk, certs = []string{}, []string{}
			for _, k := range r.Perm(len(skills))[:between(r, 0, 3)] {
				sk = append(sk, skills[k])
			}
			for _, k := range r.Perm(len(certificates))[:between(r, 0, 2)] {
				certs = append(certs, certificates[k])
			}
			consent := chance(r, 0.9)
			var consentAt any
			if ci != nil {
				consent = chance(r, 0.97)
				for _, h := range g.hardships(i) {
					if h.kind.category == "disabled" && chance(r, 0.6) {
						acc = g.box.Seal(graduate.FieldAccommodations, pick(r, accommodations))
					}
				}
			}
			if consent {
				consentAt = at(g.clampPast(s.created + r.Int64N(10*day)))
			}
			var counselor, destination, code, next, scheduled any
			verified := false
			version, updated := 1, s.created
			if s.counselor >= 0 {
				counselor = g.users[s.counselor].id
			}
			if s.prevCode >= 0 {
				destID++
				version++
			}
			if s.code >= 0 {
				destination, code = destID, codes[s.code]
				recs := g.destinations(i)
				verified = recs[len(recs)-1].status == "verified"
				destID++
				version++
				updated = max(updated, s.entered)
			}
			revisions := 0
			overdue := false
			if ci != nil {
				if s.activated != 0 {
					version++
					updated = max(updated, s.activated)
				}
				plan := g.plan(i)
				revisions = len(plan)
				updated = max(updated, plan[len(plan)-1].created)
				if !ci.nextFollowup.IsZero() {
					next = ci.nextFollowup.Time()
				}
				if ci.followScheduled != 0 {
					scheduled = at(ci.followScheduled)
				}
				overdue = ci.overdue
			}
			rows = append(rows, []any{
				g.ids.students + int64(i), sc.id, d.id, number, id.name,
				g.box.Seal(graduate.FieldIDNumber, id.idNumber), g.box.Hash(graduate.FieldIDNumber, id.idNumber), cnid.MaskResidentID(id.idNumber),
				pick(r, d.majors), levels[s.level], g.year, id.phone, id.email, intention[0], intention[1], intention[2],
				sk, certs, acc, counselor, s.statusName(), atPtr(s.activated), consent, consentAt, version,
				at(s.created), at(updated), s.seq, s.head[:s.headLen()], s.contacts, s.referrals, atPtr(s.lastContact), next, overdue,
				revisions, destination, code, scheduled, verified,
			})
		}
		return rows
	})
}

func (s *student) headLen() int {
	if s.seq == 0 {
		return 0
	}
	return len(s.head)
}

func (l *loader) copyHardships(ctx context.Context) error {
	g := l.g
	cols := []string{"id", "student_id", "category", "evidence_type", "issuing_authority", "certificate_no_sealed", "valid_until",
		"status", "verified_by", "verified_at", "verification_note", "created_by", "created_at"}
	return l.copyChunks(ctx, "hardships", cols, func(c int, rows [][]any) [][]any {
		lo, hi := g.chunkRange(c)
		id := g.hardshipBase[c]
		for i := lo; i < hi; i++ {
			if g.students[i].caseIdx < 0 {
				continue
			}
			for _, h := range g.hardships(i) {
				var cert, until, by any
				if h.certNo != "" {
					cert = g.box.Seal(graduate.FieldCertificateNo, h.certNo)
				}
				if h.validUntil != nil {
					until = h.validUntil.Time()
				}
				if h.verifiedBy >= 0 {
					by = g.users[h.verifiedBy].id
				}
				rows = append(rows, []any{id, g.ids.students + int64(i), h.kind.category, h.kind.evidence, h.authority, cert, until,
					h.status, by, atPtr(h.verifiedAt), h.note, g.users[h.createdBy].id, at(h.createdAt)})
				id++
			}
		}
		return rows
	})
}

func (l *loader) copyPlans(ctx context.Context) error {
	g := l.g
	err := l.copyChunks(ctx, "plan_revisions", []string{"student_id", "revision", "goals", "cadence_days", "note", "author_id", "created_at"},
		func(c int, rows [][]any) [][]any {
			lo, hi := g.chunkRange(c)
			for i := lo; i < hi; i++ {
				s := &g.students[i]
				if s.caseIdx < 0 {
					continue
				}
				for _, rev := range g.plan(i) {
					rows = append(rows, []any{g.ids.students + int64(i), int32(rev.n), rev.goals, int32(g.cases[s.caseIdx].cadence),
						rev.note, g.users[rev.author].id, at(rev.created)})
				}
			}
			return rows
		})
	if err != nil {
		return err
	}
	return l.copyChunks(ctx, "plan_measures", []string{"student_id", "revision", "position", "kind", "description", "owner", "due_on", "status"},
		func(c int, rows [][]any) [][]any {
			lo, hi := g.chunkRange(c)
			for i := lo; i < hi; i++ {
				if g.students[i].caseIdx < 0 {
					continue
				}
				for _, rev := range g.plan(i) {
					for k, m := range rev.measures {
						var due any
						if m.due != nil {
							due = m.due.Time()
						}
						rows = append(rows, []any{g.ids.students + int64(i), int32(rev.n), int32(k), m.kind, m.description, m.owner, due, m.status})
					}
				}
			}
			return rows
		})
}

func (l *loader) copyDestinations(ctx context.Context) error {
	g := l.g
	cols := []string{"id", "student_id", "code", "employer", "credit_code", "position", "region", "proof_kind", "proof_ref", "note",
		"status", "entered_by", "entered_role", "entered_at", "verified_by", "verified_at", "superseded_at"}
	return l.copyChunks(ctx, "destinations", cols, func(c int, rows [][]any) [][]any {
		lo, hi := g.chunkRange(c)
		id := g.destinationBase[c]
		for i := lo; i < hi; i++ {
			for _, d := range g.destinations(i) {
				var by any
				if d.verifiedBy >= 0 {
					by = g.users[d.verifiedBy].id
				}
				rows = append(rows, []any{id, g.ids.students + int64(i), d.code, d.employer, d.credit, d.position, d.region, d.proofKind,
					d.proofRef, d.note, d.status, g.users[d.enteredBy].id, d.role, at(d.entered), by, atPtr(d.verifiedAt), atPtr(d.superseded)})
				id++
			}
		}
		return rows
	})
}

// escalation is one raised flag.
type escalation struct {
	id              int64
	student         int
	kind            string
	level           int8
	episode, reason string
	raised          int64
	status          string
	ackBy           int // user index; -1: none
	ackAt           int64
	ackNote         string
	resBy           int // user index; -1: none (the system)
	resAt           int64
	resNote         string
}

var kindOrder = map[string]int{"no_contact": 0, "measure_overdue": 1, "referrals_short": 2, "unplaced_after_july": 3}

// copyEscalations writes what the sweep raised up to its last run —
// quiet spells (drawn by the ledger pass), overdue measures, short
// referral counts and graduates still unplaced after 31 July — and the
// notifications the sweep, the follow-up jobs and the evidence-expiry job
// sent.
func (l *loader) copyEscalations(ctx context.Context) error {
	g := l.g
	phase := l.phase("escalations")
	var all []escalation
	for _, c := range g.cases {
		all = append(all, c.noContact...)
		all = append(all, g.caseEscalations(c)...)
	}
	slices.SortFunc(all, func(a, b escalation) int {
		return cmp.Or(cmp.Compare(a.raised, b.raised), cmp.Compare(kindOrder[a.kind], kindOrder[b.kind]),
			cmp.Compare(a.student, b.student), cmp.Compare(a.level, b.level), cmp.Compare(a.episode, b.episode))
	})
	for k := range all {
		all[k].id = g.ids.escalations + int64(k)
	}
	userID := func(k int) any {
		if k < 0 {
			return nil
		}
		return g.users[k].id
	}
	// The graduate's department given, so that the insert trigger of
	// migration 0025 need not look it up.
	if err := l.copyRows(ctx, "escalations", []string{"id", "student_id", "school_id", "department_id", "kind", "level", "episode", "reason", "status",
		"raised_at", "acknowledged_by", "acknowledged_at", "acknowledge_note", "resolved_by", "resolved_at", "resolve_note"}, len(all),
		func(k int) []any {
			e := &all[k]
			st := g.students[e.student]
			sc := g.schools[st.school]
			return []any{e.id, g.ids.students + int64(e.student), sc.id, sc.depts[st.dept].id, e.kind, int32(e.level),
				e.episode, e.reason, e.status, at(e.raised), userID(e.ackBy), atPtr(e.ackAt), e.ackNote, userID(e.resBy), atPtr(e.resAt), e.resNote}
		}); err != nil {
		return err
	}
	phase.done(int64(len(all)))

	phase = l.phase("notifications")
	notes := g.notifications(all)
	if err := l.copyRows(ctx, "notifications", []string{"id", "user_id", "kind", "title", "body", "student_id", "dedupe_key",
		"created_at", "read_at"}, len(notes), func(k int) []any {
		n := &notes[k]
		var student any
		if n.student >= 0 {
			student = g.ids.students + int64(n.student)
		}
		return []any{g.ids.notifications + int64(k), g.users[n.user].id, n.kind, n.title, n.body, student, n.key, at(n.created), atPtr(n.read)}
	}); err != nil {
		return err
	}
	phase.done(int64(len(notes)))
	return nil
}

// caseEscalations are a case's flags other than quiet spells.
func (g *gen) caseEscalations(c *caseInfo) []escalation {
	i := c.student
	s := &g.students[i]
	r := newRand(g.opts.Seed, streamEscalation, i)
	status := s.statusName()
	statusEnd := int64(1<<63 - 1)
	if status == statusPlaced {
		statusEnd = s.entered
	}
	var out []escalation
	raise := func(kind, episode, reason string, t, resolved int64) {
		if t > g.lastSweep {
			return
		}
		e := escalation{student: i, kind: kind, level: 1, episode: episode, reason: reason, raised: t, ackBy: -1, resBy: -1}
		if resolved != 0 && resolved > g.lastSweep {
			resolved = 0
		}
		g.acknowledge(r, s, &e, resolved)
		if resolved != 0 {
			e.status, e.resAt, e.resNote = "resolved", resolved, "条件已消除（系统巡查）"
		}
		out = append(out, e)
	}

	// Measures of the current plan past their due date.
	if status == statusOpen || status == statusActive {
		plan := g.plan(i)
		cur := plan[len(plan)-1]
		for k, m := range cur.measures {
			if m.due == nil || (m.status != "planned" && m.status != "in_progress") {
				continue
			}
			t := g.sweepRun(max(micros(m.due.AddDays(1).At(0, 0)), g.featureStart, cur.created))
			desc := []rune(m.description)
			if len(desc) > 100 {
				desc = desc[:100]
			}
			raise("measure_overdue", fmt.Sprintf("%d:%d", cur.n, k), fmt.Sprintf("帮扶措施已过截止日期（%s）：%s", m.due, string(desc)), t, 0)
		}
	}

	// Fewer referrals than the minimum a window after activation.
	if s.activated != 0 {
		minimum, window := g.rules.ReferralMinimum, g.rules.ReferralWindowDays
		t := g.sweepRun(max(s.activated+int64(window)*day, g.featureStart))
		n := 0
		for _, rt := range c.referralTimes {
			if rt <= t {
				n++
			}
		}
		if n < minimum && t < statusEnd {
			var resolved int64
			if len(c.referralTimes) == minimum {
				resolved = g.sweepRun(c.referralTimes[minimum-1])
			}
			if statusEnd != 1<<63-1 && (resolved == 0 || g.sweepRun(statusEnd) < resolved) {
				resolved = g.sweepRun(statusEnd)
			}
			raise("referrals_short", epochText(s.activated), fmt.Sprintf("帮扶 %d 天内仅推荐 %d 个岗位（应不少于 %d 个）", window, n, minimum), t, resolved)
		}
	}

	// Without a placing destination (none, or 70, 71, 72) after 31 July
	// of the graduation year, while in the caseload.
	july := micros(bangfu.NewDate(g.year, time.August, 1).At(0, 0))
	unplaced := func(code int8) bool { return code < 0 || slices.Contains(destination.Unplaced, codes[code]) }
	reason := fmt.Sprintf("%d 届毕业生 7 月 31 日后仍未落实毕业去向", g.year)
	switch {
	case unplaced(s.code) && (status == statusOpen || status == statusActive):
		raise("unplaced_after_july", fmt.Sprint(g.year), reason, g.sweepRun(max(july, g.featureStart, s.entered)), 0)
	case s.prevCode >= 0 && unplaced(s.prevCode) && !unplaced(s.code):
		t := g.sweepRun(max(july, g.featureStart, s.prevAt))
		if t < s.entered {
			raise("unplaced_after_july", fmt.Sprint(g.year), reason, t, g.sweepRun(s.entered))
		}
	}
	return out
}

type notification struct {
	user          int
	kind          string
	title, body   string
	student       int // -1: none
	key           string
	created, read int64
}

// notifications are what the sweep sent for the escalations, and what
// the follow-up and evidence-expiry jobs sent, oldest first.
func (g *gen) notifications(all []escalation) []notification {
	var out []notification
	r := newRand(g.opts.Seed, streamNotification, 0)
	read := func(n notification) notification {
		p := 0.2
		if n.created < g.now-2*day {
			p = 0.75
		}
		if chance(r, p) {
			n.read = min(n.created+10*minute+r.Int64N(3*day), g.now-minute)
		}
		return n
	}
	names := map[int]string{}
	name := func(i int) string {
		if n, ok := names[i]; ok {
			return n
		}
		names[i] = g.identity(i).name
		return names[i]
	}
	// Per sweep run: levels 1 and 2 to the counselor and the supervisors
	// in scope, one digest of new level-3 cases to province staff.
	for k := 0; k < len(all); {
		run := all[k].raised
		first := all[k].id
		level3 := 0
		for ; k < len(all) && all[k].raised == run; k++ {
			e := &all[k]
			s := &g.students[e.student]
			sc := &g.schools[s.school]
			n := notification{kind: "escalation", body: e.reason, student: e.student, key: fmt.Sprintf("escalation:%d", e.id), created: run}
			switch e.level {
			case 1:
				if s.counselor >= 0 {
					n.user, n.title = int(s.counselor), "一级升级："+name(e.student)
					out = append(out, read(n))
				}
			case 2:
				n.title = "二级升级：" + name(e.student)
				for _, u := range sc.supervisors {
					if d := g.users[u].dept; d == 0 || d == sc.depts[s.dept].id {
						n.user = u
						out = append(out, read(n))
					}
				}
			default:
				level3++
			}
		}
		if level3 > 0 {
			for u := 1; u <= 3; u++ {
				out = append(out, read(notification{user: u, kind: "escalation", student: -1, created: run,
					title: fmt.Sprintf("省级升级：本次巡查新增 %d 个长期未联系个案", level3),
					body:  "请在“升级事项”中查看三级升级个案并督办。", key: fmt.Sprintf("sweep-province:%d", first)}))
			}
		}
	}
	for _, c := range g.cases {
		i := c.student
		s := &g.students[i]
		if s.counselor < 0 {
			continue
		}
		sid := g.ids.students + int64(i)
		for _, rm := range c.reminders {
			out = append(out, read(notification{user: int(s.counselor), kind: "followup_due", student: i, created: rm.fire,
				title: fmt.Sprintf("跟进提醒：%s 今天（%s）需要跟进", name(i), rm.due),
				body:  "该毕业生的跟进日期已到，且此后尚未记录联系。请尽快联系并在帮扶台账中记录。",
				key:   fmt.Sprintf("followup:s%d.%d", sid, rm.seq)}))
		}
		hid := g.hardshipID(i)
		for k, h := range g.hardships(i) {
			if h.validUntil == nil || h.verifiedBy < 0 || (h.status != "verified" && h.expiredAt == 0) {
				continue
			}
			// The daily job (06:00) warns once, some days ahead.
			warn := micros(h.validUntil.AddDays(-g.rules.EvidenceWarningDays).At(6, 0))
			for warn < g.featureStart || warn < h.verifiedAt {
				warn += day
			}
			if warn > g.now || warn > micros(h.validUntil.At(6, 0)) {
				continue
			}
			out = append(out, read(notification{user: int(s.counselor), kind: "evidence_expiring", student: i, created: warn,
				title: "困难认定材料即将到期：" + name(i),
				body:  fmt.Sprintf("%s 的困难认定证明（%s）将于 %s 到期，请提醒其重新提交并复核。", name(i), h.kind.evidence, h.validUntil),
				key:   fmt.Sprintf("evidence-expiring:%d:%s", hid+int64(k), h.validUntil)}))
		}
	}
	slices.SortStableFunc(out, func(a, b notification) int { return cmp.Compare(a.created, b.created) })
	return out
}

// hardshipID is the id of graduate i's first hardship.
func (g *gen) hardshipID(i int) int64 {
	c := i / chunk
	id := g.hardshipBase[c]
	for j := c * chunk; j < i; j++ {
		if k := g.students[j].caseIdx; k >= 0 {
			id += int64(g.cases[k].hardships)
		}
	}
	return id
}

type auditEvent struct {
	at      int64
	actor   int // user index; -1: the system
	action  string
	student int
	fields  []string
	detail  []byte // JSON
}

func detail(m map[string]any) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// copyAudit writes the audit trail of the case work: evidence verified
// and expired, plans revised, destinations recorded and verified.
func (l *loader) copyAudit(ctx context.Context) error {
	g := l.g
	phase := l.phase("audit_log")
	var evs []auditEvent
	for _, c := range g.cases {
		i := c.student
		hid := g.hardshipID(i)
		for k, h := range g.hardships(i) {
			if h.verifiedBy >= 0 {
				decision := "verified"
				if h.status == "rejected" {
					decision = "rejected"
				}
				evs = append(evs, auditEvent{at: h.verifiedAt, actor: h.verifiedBy, action: audit.HardshipVerify, student: i,
					detail: detail(map[string]any{"hardship_id": hid + int64(k), "decision": decision})})
			}
			if h.expiredAt != 0 {
				evs = append(evs, auditEvent{at: h.expiredAt, actor: -1, action: audit.HardshipExpire, student: i,
					detail: detail(map[string]any{"hardship_id": hid + int64(k)})})
			}
		}
		for _, rev := range g.plan(i) {
			evs = append(evs, auditEvent{at: rev.created, actor: rev.author, action: audit.PlanRevise, student: i,
				detail: detail(map[string]any{"revision": rev.n})})
		}
		did := g.destinationID(i)
		for k, d := range g.destinations(i) {
			evs = append(evs, auditEvent{at: d.entered, actor: d.enteredBy, action: audit.DestinationSet, student: i, fields: []string{"code"},
				detail: detail(map[string]any{"destination_id": did + int64(k), "code": d.code, "status": "recorded"})})
			if d.verifiedBy >= 0 {
				evs = append(evs, auditEvent{at: d.verifiedAt, actor: d.verifiedBy, action: audit.DestinationVerify, student: i,
					detail: detail(map[string]any{"destination_id": did + int64(k)})})
			}
		}
	}
	slices.SortStableFunc(evs, func(a, b auditEvent) int { return cmp.Compare(a.at, b.at) })
	if err := l.copyRows(ctx, "audit_log", []string{"id", "at", "actor_id", "actor_role", "action", "student_id", "school_id",
		"fields", "reason", "ip", "detail"}, len(evs), func(k int) []any {
		e := &evs[k]
		var actor any
		role := "system"
		if e.actor >= 0 {
			actor, role = g.users[e.actor].id, g.users[e.actor].role
		}
		fields := e.fields
		if fields == nil {
			fields = []string{}
		}
		return []any{g.ids.audit + int64(k), at(e.at), actor, role, e.action, g.ids.students + int64(e.student),
			g.schools[g.students[e.student].school].id, fields, "", "", e.detail}
	}); err != nil {
		return err
	}
	phase.done(int64(len(evs)))
	return nil
}

// destinationID is the id of graduate i's first destination record.
func (g *gen) destinationID(i int) int64 {
	c := i / chunk
	id := g.destinationBase[c]
	for j := c * chunk; j < i; j++ {
		s := &g.students[j]
		if s.code >= 0 {
			id++
		}
		if s.prevCode >= 0 {
			id++
		}
	}
	return id
}

// sampleLogins names one user of each kind, for benchmarks.
func (g *gen) sampleLogins() []Login {
	out := []Login{{"admin", "admin-1", ""}, {"province", "province-1", "province-1 … province-3"}}
	sc := &g.schools[0]
	out = append(out, Login{"supervisor", g.users[sc.supervisors[0]].username, fmt.Sprintf("whole school 1 (%s)", sc.name)})
	for si := range g.schools {
		if len(g.schools[si].supervisors) > 1 {
			u := g.users[g.schools[si].supervisors[1]]
			out = append(out, Login{"supervisor", u.username, fmt.Sprintf("department %q of school %d only", g.schools[si].depts[0].name, si+1)})
			break
		}
	}
	n := 0
	for _, c := range g.cases {
		if g.students[c.student].counselor == int32(sc.counselors[0]) {
			n++
		}
	}
	out = append(out, Login{"counselor", g.users[sc.counselors[0]].username,
		fmt.Sprintf("%d cases; counselor-<school>-<n>, school 1…%d, n from 1", n, len(g.schools))})
	return out
}

// fillCaseActivity derives each graduate's narrow case_activity row
// (migrations 0014, 0017, 0018, 0021, 0024) from the file, escalations and
// hardships just loaded, as those migrations' backfills do.
func (l *loader) fillCaseActivity(ctx context.Context) error {
	t := time.Now()
	tag, err := l.tx.Exec(ctx, `INSERT INTO case_activity (student_id, ledger_seq, ledger_head, contacts_count, referrals_count,
			last_contact_at, followup_job_id, followup_scheduled_at, next_followup_on, overdue, followed, quiet_since,
			school_id, graduation_year, unplaced, plan_revision, activated_at, escalation_level, categories, categories_valid_until,
			counselor_id)
		SELECT s.id, s.ledger_seq, s.ledger_head, s.contacts_count, s.referrals_count, s.last_contact_at, s.followup_job_id,
			s.followup_scheduled_at, s.next_followup_on, s.overdue, s.status IN ('open', 'active'),
			coalesce(s.last_contact_at, s.activated_at, s.created_at), s.school_id, s.graduation_year,
			s.destination_code IS NULL OR s.destination_code IN ('70', '71', '72'), s.plan_revision, s.activated_at,
			coalesce(e.level, 0), coalesce(h.categories, '{}'), coalesce(h.valid_until, '{}'), s.counselor_id
		FROM students s
		LEFT JOIN (SELECT student_id, max(level) AS level FROM escalations WHERE status <> 'resolved' GROUP BY 1) e
			ON e.student_id = s.id
		LEFT JOIN (SELECT student_id, array_agg(category ORDER BY category, valid_until) AS categories,
				array_agg(valid_until ORDER BY category, valid_until) AS valid_until
			FROM hardships WHERE status = 'verified' GROUP BY 1) h ON h.student_id = s.id`)
	if err != nil {
		return err
	}
	l.logf("case_activity: %d rows in %.1fs", tag.RowsAffected(), time.Since(t).Seconds())
	return nil
}
