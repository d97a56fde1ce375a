package roster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/postgres"
)

// Place is a graduate's place in a cohort as the caller may see it. Each
// role sees the least it needs: the base the name, school, major and
// contacts of a graduate who consented (never a student number, a hardship
// or an ID number — no roster view carries those); admins the name,
// school and status; school staff what the file shows them; the graduate
// their own. Hidden fields are empty.
type Place struct {
	ID         int64  `json:"id"`
	CohortID   int64  `json:"cohort_id"`
	CohortName string `json:"cohort_name"`
	// BaseName, Mode, StartsOn, EndsOn and NominationDeadline describe
	// the cohort, for whoever sees the place (a graduate sees no cohort
	// otherwise).
	BaseName           string      `json:"base_name"`
	Mode               string      `json:"mode"`
	StartsOn           bangfu.Date `json:"starts_on"`
	EndsOn             bangfu.Date `json:"ends_on"`
	NominationDeadline bangfu.Date `json:"nomination_deadline"`
	StudentID          *int64      `json:"student_id"`
	Name               string      `json:"name"`
	StudentNumber      string      `json:"student_number"`
	SchoolID           int64       `json:"school_id"`
	SchoolName         string      `json:"school_name"`
	Department         string      `json:"department"`
	Major              string      `json:"major"`
	Phone              string      `json:"phone"`
	Email              string      `json:"email"`
	Status             string      `json:"status"`
	EligibleSince      time.Time   `json:"eligible_since"`
	// WaitlistPosition is, for a waitlisted place, its position among the
	// waitlisted graduates of the same school (they are promoted first).
	WaitlistPosition *int `json:"waitlist_position"`
	// Reason and ChangedBy (a user id; null for the system) say why and by
	// whom the place last changed.
	Reason    string    `json:"reason"`
	ChangedBy *int64    `json:"changed_by"`
	ChangedAt time.Time `json:"changed_at"`
	Version   int       `json:"version"`
	// Actions are what the caller may do to the place now: confirm,
	// decline, withdraw, attend, complete.
	Actions []string `json:"actions"`
	// History is every change of the place, oldest first (single reads,
	// not for base staff).
	History []Event `json:"history,omitempty"`
}

// ETagVersion is the place's version.
func (p Place) ETagVersion() int { return p.Version }

// Event is one change of a place.
type Event struct {
	ID        int64     `json:"id"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	ActorID   *int64    `json:"actor_id"`
	ActorRole string    `json:"actor_role"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
}

// placeSQL reads places with what the views need; conditions follow.
const placeSQL = `SELECT p.id, p.cohort_id, c.name, c.base_id, b.name, c.mode, c.state, c.starts_on, c.ends_on, c.nomination_deadline,
		p.student_id, s.name, s.student_number, p.school_id, sc.name, coalesce(d.name, ''), s.major, s.phone, s.email, s.consent,
		p.status, p.eligible_since, p.reason, p.changed_by, p.changed_at, p.version,
		CASE WHEN p.status = 'waitlisted' THEN 1 + (SELECT count(*) FROM roster_places w
			WHERE w.cohort_id = p.cohort_id AND w.school_id = p.school_id AND w.status = 'waitlisted'
			  AND (w.eligible_since, w.id) < (p.eligible_since, p.id)) END
	FROM roster_places p
	JOIN cohorts c ON c.id = p.cohort_id
	JOIN training_bases b ON b.id = c.base_id
	JOIN students s ON s.id = p.student_id
	JOIN schools sc ON sc.id = p.school_id
	LEFT JOIN departments d ON d.id = s.department_id`

// statusOrder ranks statuses in lists: held places first, in the order a
// place moves, then the waitlist, then those out.
const statusOrder = `array_position(ARRAY['nominated', 'confirmed', 'attending', 'completed', 'waitlisted', 'declined', 'withdrawn'], p.status)`

// placeData is a row of placeSQL.
type placeData struct {
	Place
	baseID          int64
	cohortState     string
	studentID       int64
	consent         bool
	changedByPerson *int64
}

func scanPlace(row pgx.CollectableRow) (placeData, error) {
	var d placeData
	var pos *int64
	var starts, ends, deadline time.Time
	err := row.Scan(&d.ID, &d.CohortID, &d.CohortName, &d.baseID, &d.BaseName, &d.Mode, &d.cohortState, &starts, &ends, &deadline,
		&d.studentID, &d.Name, &d.StudentNumber, &d.SchoolID, &d.SchoolName, &d.Department, &d.Major, &d.Phone, &d.Email, &d.consent,
		&d.Status, &d.EligibleSince, &d.Reason, &d.changedByPerson, &d.ChangedAt, &d.Version, &pos)
	d.StartsOn, d.EndsOn, d.NominationDeadline = bangfu.DateFromDB(starts), bangfu.DateFromDB(ends), bangfu.DateFromDB(deadline)
	if pos != nil {
		n := int(*pos)
		d.WaitlistPosition = &n
	}
	return d, err
}

// NoConsent stands for the name of a graduate who withdrew consent, in
// the base's view.
const NoConsent = "（未授权）"

// shape hides from d what a may not see and fills in a's actions.
func (s *Service) shape(a bangfu.Actor, d placeData) Place {
	p := d.Place
	p.Actions = []string{}
	today := s.today()
	started := !today.Before(d.StartsOn)
	live := d.cohortState == Open || d.cohortState == Closed
	nominating := d.cohortState == Open && !today.After(d.NominationDeadline)
	id := d.studentID
	p.StudentID, p.ChangedBy = &id, d.changedByPerson
	switch a.Role {
	case bangfu.RoleStudent:
		p.Reason = d.Reason
		if p.Status == Nominated && nominating {
			p.Actions = append(p.Actions, "confirm", "decline")
		}
	case bangfu.RoleCounselor, bangfu.RoleSupervisor:
		p.Phone, p.Email = "", ""
		if live && (held(p.Status) && p.Status != Completed || p.Status == Waitlisted) {
			p.Actions = append(p.Actions, "withdraw")
		}
	case bangfu.RoleAdmin:
		p.StudentNumber, p.Department, p.Major, p.Phone, p.Email = "", "", "", "", ""
	case bangfu.RoleBase:
		p.StudentID, p.StudentNumber, p.Department, p.Reason, p.ChangedBy = nil, "", "", "", nil
		if !d.consent {
			p.Name, p.Major, p.Phone, p.Email = NoConsent, "", "", ""
		}
		if live && started && p.Status == Confirmed {
			p.Actions = append(p.Actions, "attend")
		}
		if live && started && p.Status == Attending {
			p.Actions = append(p.Actions, "complete")
		}
	default:
		p.Name, p.StudentNumber, p.Phone, p.Email = "", "", "", ""
	}
	return p
}

// Place returns place id as a may see it, with its history (except for
// base staff). A place a may not see is not_found.
func (s *Service) Place(ctx context.Context, a bangfu.Actor, id int64) (Place, error) {
	rows, _ := s.DB.Pool.Query(ctx, placeSQL+` WHERE p.id = $1`, id)
	d, err := pgx.CollectExactlyOneRow(rows, scanPlace)
	if err != nil {
		return Place{}, postgres.FormatError(err, "place")
	}
	c := Cohort{ID: d.CohortID, BaseID: d.baseID, State: d.cohortState}
	if err := s.sees(ctx, s.DB.Pool, a, c, placeRow{id: d.ID, studentID: d.studentID, schoolID: d.SchoolID, status: d.Status}); err != nil {
		return Place{}, err
	}
	p := s.shape(a, d)
	if a.Role != bangfu.RoleBase {
		if p.History, err = s.history(ctx, id); err != nil {
			return Place{}, err
		}
	}
	if a.Role != bangfu.RoleStudent {
		if err := s.Reads.Record(ctx, a, s.Clock.Now(), audit.Event{Action: AuditRead, StudentID: d.studentID, SchoolID: d.SchoolID,
			Detail: map[string]any{"place_id": id}}); err != nil {
			return Place{}, err
		}
	}
	return p, nil
}

func (s *Service) history(ctx context.Context, placeID int64) ([]Event, error) {
	rows, err := s.DB.Pool.Query(ctx, `SELECT id, from_status, to_status, actor_id, actor_role, reason, at
		FROM roster_events WHERE place_id = $1 ORDER BY id`, placeID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Event])
}

// RosterFilter narrows a roster.
type RosterFilter struct {
	Status   string
	SchoolID *int64
}

func (f RosterFilter) check() error {
	if f.Status != "" && !oneOf(f.Status, Statuses) {
		return (bangfu.Problems{"status": "must be one of " + strings.Join(Statuses, ", ")}).Err()
	}
	return nil
}

// rosterWhere returns the conditions of a's part of cohort c's roster.
func rosterWhere(a bangfu.Actor, c Cohort, f RosterFilter) *postgres.Where {
	w := &postgres.Where{}
	w.Add("p.cohort_id = ?", c.ID)
	switch a.Role {
	case bangfu.RoleAdmin:
	case bangfu.RoleBase:
		w.Add("p.status IN ('confirmed', 'attending', 'completed')")
	case bangfu.RoleCounselor, bangfu.RoleSupervisor:
		graduate.AddScope(w, a)
	default:
		w.Add("false")
	}
	if f.Status != "" {
		w.Add("p.status = ?", f.Status)
	}
	if f.SchoolID != nil {
		w.Add("p.school_id = ?", *f.SchoolID)
	}
	return w
}

// Roster returns one page of a's part of cohort id's roster (see
// rosterWhere: admins the whole of it, school staff the graduates in their
// scope, base staff the places confirmed and on), held places first, then
// the waitlist in order, then those out. The first page's read is
// audited. A cohort a may not see is not_found.
func (s *Service) Roster(ctx context.Context, a bangfu.Actor, id int64, f RosterFilter, pg bangfu.Page) (bangfu.List[Place], error) {
	if err := f.check(); err != nil {
		return bangfu.List[Place]{}, err
	}
	c, err := s.Cohort(ctx, a, id)
	if err != nil {
		return bangfu.List[Place]{}, err
	}
	w := rosterWhere(a, c, f)
	if pg.After > 0 {
		w.Add(`(`+statusOrder+`, p.eligible_since, p.id) > (SELECT `+strings.ReplaceAll(statusOrder, "p.status", "x.status")+
			`, x.eligible_since, x.id FROM roster_places x WHERE x.id = ? AND x.cohort_id = p.cohort_id)`, pg.After)
	}
	w.Args = append(w.Args, pg.Limit+1)
	rows, err := s.DB.Pool.Query(ctx, placeSQL+` WHERE `+w.String()+` ORDER BY `+statusOrder+`, p.eligible_since, p.id`+
		fmt.Sprintf(` LIMIT $%d`, len(w.Args)), w.Args...)
	if err != nil {
		return bangfu.List[Place]{}, err
	}
	data, err := pgx.CollectRows(rows, scanPlace)
	if err != nil {
		return bangfu.List[Place]{}, err
	}
	items := make([]Place, len(data))
	for i, d := range data {
		items[i] = s.shape(a, d)
	}
	if pg.After == 0 {
		if err := s.Reads.Record(ctx, a, s.Clock.Now(), audit.Event{Action: AuditRead, SchoolID: scopeSchool(a),
			Detail: map[string]any{"cohort_id": id, "status": f.Status}}); err != nil {
			return bangfu.List[Place]{}, err
		}
	}
	return bangfu.NewList(items, pg.Limit, func(p Place) int64 { return p.ID }), nil
}

func scopeSchool(a bangfu.Actor) int64 {
	if a.SchoolID != nil {
		return *a.SchoolID
	}
	return 0
}

// MyPlaces returns the places of the graduate a (a student) in every
// cohort, newest first.
func (s *Service) MyPlaces(ctx context.Context, a bangfu.Actor) (bangfu.List[Place], error) {
	if a.Role != bangfu.RoleStudent || a.StudentID == nil {
		return bangfu.List[Place]{}, bangfu.NotFound("graduate file")
	}
	rows, err := s.DB.Pool.Query(ctx, placeSQL+` WHERE p.student_id = $1 ORDER BY p.id DESC`, *a.StudentID)
	if err != nil {
		return bangfu.List[Place]{}, err
	}
	data, err := pgx.CollectRows(rows, scanPlace)
	if err != nil {
		return bangfu.List[Place]{}, err
	}
	items := make([]Place, len(data))
	for i, d := range data {
		items[i] = s.shape(a, d)
	}
	return bangfu.NewList(items, len(items)+1, func(p Place) int64 { return p.ID }), nil
}

// Eligibility is a graduate's standing for one cohort taking nominations.
type Eligibility struct {
	CohortID           int64       `json:"cohort_id"`
	CohortName         string      `json:"cohort_name"`
	BaseName           string      `json:"base_name"`
	StartsOn           bangfu.Date `json:"starts_on"`
	NominationDeadline bangfu.Date `json:"nomination_deadline"`
	Eligible           bool        `json:"eligible"`
	// Unmet names the criteria the graduate fails: graduation_year,
	// consent, hardship, plan_measure, completed_a_cohort, declined,
	// withdrawn.
	Unmet []string `json:"unmet"`
}

// Training is a graduate's 宏志助航 training state, for their file.
type Training struct {
	StudentID int64 `json:"student_id"`
	// Places are the graduate's places in every cohort, newest first.
	Places []Place `json:"places"`
	// Open are the cohorts taking nominations for the graduate's
	// graduation year, and whether the graduate is eligible for each.
	Open []Eligibility `json:"open"`
}

// Training returns graduate studentID's training state if a may see the
// graduate's file (graduate.Access: not_found otherwise), audited as a
// read.
func (s *Service) Training(ctx context.Context, a bangfu.Actor, studentID int64) (Training, error) {
	h, err := graduate.Access(ctx, s.DB.Pool, a, studentID, false)
	if err != nil {
		return Training{}, err
	}
	out := Training{StudentID: studentID, Places: []Place{}, Open: []Eligibility{}}
	rows, err := s.DB.Pool.Query(ctx, placeSQL+` WHERE p.student_id = $1 ORDER BY p.id DESC`, studentID)
	if err != nil {
		return Training{}, err
	}
	data, err := pgx.CollectRows(rows, scanPlace)
	if err != nil {
		return Training{}, err
	}
	for _, d := range data {
		out.Places = append(out.Places, s.shape(a, d))
	}
	rows, _ = s.DB.Pool.Query(ctx, `SELECT `+cohortColumns+cohortFrom+`
		WHERE c.state = 'open' AND c.nomination_deadline >= $1 AND c.target_year = $2 ORDER BY c.starts_on, c.id`,
		s.today().Time(), h.GraduationYear)
	cohorts, err := pgx.CollectRows(rows, scanCohort)
	if err != nil {
		return Training{}, err
	}
	for _, c := range cohorts {
		unmet, err := explain(ctx, s.DB.Pool, c, []int64{studentID})
		if err != nil {
			return Training{}, err
		}
		u := unmet[studentID]
		if u == nil {
			u = []string{}
		}
		out.Open = append(out.Open, Eligibility{CohortID: c.ID, CohortName: c.Name, BaseName: c.BaseName, StartsOn: c.StartsOn,
			NominationDeadline: c.NominationDeadline, Eligible: len(u) == 0, Unmet: u})
	}
	return out, s.Reads.Record(ctx, a, s.Clock.Now(), audit.Event{Action: AuditRead, StudentID: studentID, SchoolID: h.SchoolID,
		Detail: map[string]any{"training": true}})
}

// SchoolQuota is one school's part of a cohort.
type SchoolQuota struct {
	SchoolID   int64  `json:"school_id"`
	SchoolName string `json:"school_name"`
	// InRunning are the school's graduates counted for its quota: holding
	// or waiting for a place, or out of it by their own choice.
	InRunning int `json:"in_running"`
	Quota     int `json:"quota"`
	Held      int `json:"held"`
	Waiting   int `json:"waiting"`
}

// Summary is a cohort's figures.
type Summary struct {
	CohortID int64          `json:"cohort_id"`
	Capacity int            `json:"capacity"`
	Counts   map[string]int `json:"counts"`
	// Schools are the quotas the build applies now: every school for
	// admins, the caller's own school for school staff, none for bases.
	Schools []SchoolQuota `json:"schools"`
}

// Summary returns cohort id's counts and quotas as a may see them.
func (s *Service) Summary(ctx context.Context, a bangfu.Actor, id int64) (Summary, error) {
	c, err := s.Cohort(ctx, a, id)
	if err != nil {
		return Summary{}, err
	}
	out := Summary{CohortID: id, Capacity: c.Capacity, Counts: c.Counts, Schools: []SchoolQuota{}}
	if a.Role == bangfu.RoleBase {
		return out, nil
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT p.school_id, sc.name,
			count(*) FILTER (WHERE p.status <> 'withdrawn' OR p.changed_by IS NOT NULL),
			count(*) FILTER (WHERE p.status IN ('nominated', 'confirmed', 'attending', 'completed')),
			count(*) FILTER (WHERE p.status = 'waitlisted')
		FROM roster_places p JOIN schools sc ON sc.id = p.school_id
		WHERE p.cohort_id = $1 GROUP BY 1, 2 ORDER BY 1`, id)
	if err != nil {
		return Summary{}, err
	}
	all, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SchoolQuota, error) {
		var q SchoolQuota
		err := row.Scan(&q.SchoolID, &q.SchoolName, &q.InRunning, &q.Held, &q.Waiting)
		return q, err
	})
	if err != nil {
		return Summary{}, err
	}
	all = slices.DeleteFunc(all, func(q SchoolQuota) bool { return q.InRunning == 0 })
	demands := make([]Demand, len(all))
	for i, q := range all {
		demands[i] = Demand{SchoolID: q.SchoolID, Weight: q.InRunning, Held: q.Held}
	}
	for i, q := range Apportion(c.Capacity, demands) {
		all[i].Quota = q
	}
	for _, q := range all {
		if a.Role == bangfu.RoleAdmin || a.InSchool(q.SchoolID) {
			out.Schools = append(out.Schools, q)
		}
	}
	return out, nil
}
