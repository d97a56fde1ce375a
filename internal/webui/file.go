package webui

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/escalation"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/handover"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/plan"
	"github.com/bangfu/bangfu/internal/policy"
	"github.com/bangfu/bangfu/internal/roster"
)

// formBase is what every form about one graduate needs: the graduate, and
// the defaults of the add-entry form (now, today).
type formBase struct {
	Student graduate.Student
	// Now is the default "when" of a new entry; Today the earliest next
	// follow-up day.
	Now, Today string
	// Channels, Kinds, Visibilities… are the choices of the forms.
	Kinds, Channels, Categories []string
	Codes                       []destCodeGroup
	ProofKinds                  []string
	// DestLocked: after 31 August of the graduation year only a supervisor
	// may change the destination (destination.Service.Put decides; the
	// form says so beforehand).
	DestLocked bool
	// Names are the display names of the users the page mentions.
	Names map[int64]string
	// SharedFields are the graduate's data a hand-over may pass on.
	SharedFields []string
	// OwnPage: the page is the forms' own (not the file), so that they
	// start open.
	OwnPage bool
}

// HandoverOpen reports whether the graduate may be handed over now: their
// case is in the caseload and they have left school (handover.Service
// decides; the file offers the form only then).
func (f formBase) HandoverOpen() bool {
	return graduate.Followed(f.Student.Status) && f.Student.Phase != nil && *f.Student.Phase == graduate.PhaseAfterGraduation
}

// Author returns the name of user id, or "" when unknown.
func (f formBase) Author(id int64) string { return f.Names[id] }

// destCodeGroup is a group of destination codes, as the form lists them.
type destCodeGroup struct {
	Label string // catalogue key
	Codes []string
}

var destCodeGroups = []destCodeGroup{
	{"file.dest.group.employed", []string{"10", "11", "12", "27", "46", "50", "51", "75", "76"}},
	{"file.dest.group.study", []string{"80", "85"}},
	{"file.dest.group.unplaced", []string{"70", "71", "72"}},
}

// timelineItem is one ledger entry of the timeline with the entries that
// correct it, shown beside it.
type timelineItem struct {
	ledger.Entry
	Corrections []ledger.Entry
}

// fileData is the graduate file page.
type fileData struct {
	formBase
	Department   string
	Plan         *plan.Plan
	Timeline     []timelineItem
	Verification ledger.Verification
	Destination  destination.History
	Escalations  []escalation.Escalation
	Account      *graduate.Account
	// Clear is a sensitive value the user just unmasked, shown once.
	Clear *clearValue
	// Training is the graduate's 宏志助航 places and the cohorts open to
	// them; FailedPlace the place whose withdraw form came back.
	Training    trainingView
	FailedPlace int64
	// Handovers are the graduate's hand-overs, newest first.
	Handovers []handover.Handover
	// StaleDest holds the record a supervisor verified and the one that
	// replaced it meanwhile, when the verification came too late.
	StaleDest *staleDestination
}

// trainingView is a graduate's training state as the file shows it.
type trainingView struct {
	Places []placeView
	Open   []roster.Eligibility
}

type staleDestination struct{ Theirs, Yours *destination.Destination }

type clearValue struct{ Field, Value string }

// BadSeq is the first entry whose check failed (0 when the ledger is intact).
func (d *fileData) BadSeq() int {
	if d.Verification.FirstBadSeq == nil {
		return 0
	}
	return *d.Verification.FirstBadSeq
}

// newFormBase reads graduate id for a form page (an audited read of the
// file, scoped like every read).
func (ui *UI) newFormBase(c echo.Context, p *Page, id int64) (formBase, error) {
	st, err := ui.Graduates.Get(request.Context(c), p.Actor, id)
	if err != nil {
		return formBase{}, err
	}
	now := ui.Clock.Now()
	today := bangfu.Today(ui.Clock)
	return formBase{
		Student: st, Now: LocalTime(now), Today: today.String(),
		Kinds: ledger.Kinds, Channels: ledger.Channels, Categories: graduate.Categories,
		Codes: destCodeGroups, ProofKinds: destination.ProofKinds,
		DestLocked: today.After(destination.ChangeDeadline(st.GraduationYear)) && p.Actor.Role != bangfu.RoleSupervisor,
		Names:      map[int64]string{}, SharedFields: handover.SharedFields,
	}, nil
}

// names fills f.Names with the display names of ids, in one query.
func (ui *UI) names(c echo.Context, f *formBase, ids []int64) error {
	slices.Sort(ids)
	names, err := ui.Directory.Names(request.Context(c), slices.Compact(ids))
	if err != nil {
		return err
	}
	f.Names = names
	return nil
}

// loadFile reads everything the file page shows, through the services
// (each checks the actor's scope and audits its read).
func (ui *UI) loadFile(c echo.Context, p *Page, id int64) (*fileData, error) {
	ctx := request.Context(c)
	base, err := ui.newFormBase(c, p, id)
	if err != nil {
		return nil, err
	}
	d := &fileData{formBase: base}
	st := d.Student
	if st.DepartmentID != nil {
		depts, err := ui.Directory.ListDepartments(ctx, p.Actor, st.SchoolID, bangfu.Page{Limit: bangfu.MaxPageLimit})
		if err != nil {
			return nil, err
		}
		for _, dp := range depts.Items {
			if dp.ID == *st.DepartmentID {
				d.Department = dp.Name
			}
		}
	}
	var authors []int64
	if pl, err := ui.Plans.Get(ctx, p.Actor, id); err == nil {
		d.Plan = &pl
		for _, r := range pl.Revisions {
			authors = append(authors, r.AuthorID)
		}
	} else if bangfu.ErrorCode(err) != bangfu.ENOTFOUND {
		return nil, err
	}
	entries, err := ui.allEntries(c, p.Actor, id)
	if err != nil {
		return nil, err
	}
	d.Timeline = timeline(entries)
	for _, e := range entries {
		authors = append(authors, e.AuthorID)
	}
	if d.Verification, err = ui.Ledger.Verify(ctx, p.Actor, id); err != nil {
		return nil, err
	}
	if d.Destination, err = ui.Destinations.Get(ctx, p.Actor, id); err != nil {
		return nil, err
	}
	if d.Destination.Current != nil {
		authors = append(authors, d.Destination.Current.EnteredBy)
	}
	for _, h := range d.Destination.History {
		authors = append(authors, h.EnteredBy)
	}
	if d.Escalations, err = ui.Escalations.OfStudent(ctx, p.Actor, id); err != nil {
		return nil, err
	}
	tr, err := ui.Roster.Training(ctx, p.Actor, id)
	if err != nil {
		return nil, err
	}
	d.Training = trainingView{Places: placeViews(tr.Places), Open: tr.Open}
	for _, pl := range tr.Places {
		if pl.ChangedBy != nil {
			authors = append(authors, *pl.ChangedBy)
		}
	}
	if d.Handovers, err = ui.Handovers.List(ctx, p.Actor, id); err != nil {
		return nil, err
	}
	for _, h := range d.Handovers {
		authors = append(authors, h.HandedOverBy)
		if h.Acknowledgement != nil {
			authors = append(authors, h.Acknowledgement.RecordedBy)
		}
	}
	if policy.Allowed(p.Actor.Role, policy.AccountsCreate) {
		if d.Account, err = ui.Graduates.AccountOf(ctx, p.Actor, id); err != nil {
			return nil, err
		}
	}
	if err := ui.names(c, &d.formBase, authors); err != nil {
		return nil, err
	}
	return d, nil
}

// maxTimeline bounds how many ledger entries the file page reads.
const maxTimeline = 5 * bangfu.MaxPageLimit

// allEntries reads a graduate's ledger (up to maxTimeline entries) in seq
// order, a page at a time.
func (ui *UI) allEntries(c echo.Context, a bangfu.Actor, id int64) ([]ledger.Entry, error) {
	var out []ledger.Entry
	pg := bangfu.Page{Limit: bangfu.MaxPageLimit}
	for len(out) < maxTimeline {
		l, err := ui.Ledger.List(request.Context(c), a, id, pg)
		if err != nil {
			return nil, err
		}
		out = append(out, l.Items...)
		if l.NextCursor == "" {
			break
		}
		pg.After = int64(out[len(out)-1].Seq)
	}
	return out, nil
}

// timeline orders entries newest first, each correction beside the entry
// it corrects rather than on its own.
func timeline(entries []ledger.Entry) []timelineItem {
	bySeq := map[int]int{}
	var items []timelineItem
	for _, e := range entries {
		if e.CorrectsSeq != nil {
			if i, ok := bySeq[*e.CorrectsSeq]; ok {
				items[i].Corrections = append(items[i].Corrections, e)
				continue
			}
		}
		bySeq[e.Seq] = len(items)
		items = append(items, timelineItem{Entry: e})
	}
	slices.Reverse(items)
	return items
}

// file is the graduate file page (/students/:id).
func (ui *UI) file(c echo.Context) error {
	id, p, err := ui.recordPage(c)
	if err != nil {
		return err
	}
	d, err := ui.loadFile(c, p, id)
	if err != nil {
		return err
	}
	p.Title = d.Student.Name
	p.Data = d
	return ui.render(c, http.StatusOK, "file", p)
}

// unmask shows one sensitive field in clear, once, on the file page; the
// service checks who may and records the reason.
func (ui *UI) unmask(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	field := c.FormValue("field")
	value, uerr := ui.Graduates.Unmask(request.Context(c), p.Actor, id, field, c.FormValue("reason"))
	if uerr != nil && !FormProblem(uerr) {
		return uerr
	}
	d, err := ui.loadFile(c, p, id)
	if err != nil {
		return err
	}
	p.Title = d.Student.Name
	p.Data = d
	if uerr != nil {
		status := ui.formFailed(c, p, uerr)
		return ui.render(c, status, "file", p)
	}
	d.Clear = &clearValue{Field: field, Value: value}
	return ui.render(c, http.StatusOK, "file", p)
}
