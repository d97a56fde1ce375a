package plan

import "slices"

// Changes of a line in a Diff.
const (
	Same    = ""
	Added   = "added"
	Removed = "removed"
	Changed = "changed"
)

// GoalChange is one goal of either revision.
type GoalChange struct {
	Text   string `json:"text"`
	Change string `json:"change"` // Same, Added or Removed
}

// MeasureChange is one measure of either revision. A measure is the same
// measure in both when its kind and description are; then Fields names
// what else changed (owner, due_on, status).
type MeasureChange struct {
	Change string   `json:"change"` // Same, Added, Removed or Changed
	From   *Measure `json:"from"`   // nil when added
	To     *Measure `json:"to"`     // nil when removed
	Fields []string `json:"fields"`
}

// Diff is what changed from revision From to revision To of one plan.
type Diff struct {
	From, To       int
	Goals          []GoalChange
	Measures       []MeasureChange
	CadenceChanged bool
	NoteChanged    bool
}

// Changed reports whether anything differs.
func (d Diff) Changed() bool {
	if d.CadenceChanged || d.NoteChanged {
		return true
	}
	for _, g := range d.Goals {
		if g.Change != Same {
			return true
		}
	}
	for _, m := range d.Measures {
		if m.Change != Same {
			return true
		}
	}
	return false
}

// Compare returns the differences from a to b: goals and measures in b's
// order, followed by those of a that b no longer has.
func Compare(a, b Revision) Diff {
	d := Diff{From: a.Revision, To: b.Revision, CadenceChanged: a.CadenceDays != b.CadenceDays, NoteChanged: a.Note != b.Note}
	for _, g := range b.Goals {
		ch := Same
		if !slices.Contains(a.Goals, g) {
			ch = Added
		}
		d.Goals = append(d.Goals, GoalChange{Text: g, Change: ch})
	}
	for _, g := range a.Goals {
		if !slices.Contains(b.Goals, g) {
			d.Goals = append(d.Goals, GoalChange{Text: g, Change: Removed})
		}
	}
	used := make([]bool, len(a.Measures))
	for i := range b.Measures {
		to := &b.Measures[i]
		j := slices.IndexFunc(a.Measures, func(m Measure) bool { return m.Kind == to.Kind && m.Description == to.Description })
		for j >= 0 && used[j] {
			k := slices.IndexFunc(a.Measures[j+1:], func(m Measure) bool { return m.Kind == to.Kind && m.Description == to.Description })
			if k < 0 {
				j = -1
			} else {
				j += 1 + k
			}
		}
		if j < 0 {
			d.Measures = append(d.Measures, MeasureChange{Change: Added, To: to})
			continue
		}
		used[j] = true
		from := &a.Measures[j]
		var fields []string
		if from.Owner != to.Owner {
			fields = append(fields, "owner")
		}
		if !sameDay(from, to) {
			fields = append(fields, "due_on")
		}
		if from.Status != to.Status {
			fields = append(fields, "status")
		}
		ch := Same
		if len(fields) > 0 {
			ch = Changed
		}
		d.Measures = append(d.Measures, MeasureChange{Change: ch, From: from, To: to, Fields: fields})
	}
	for j := range a.Measures {
		if !used[j] {
			d.Measures = append(d.Measures, MeasureChange{Change: Removed, From: &a.Measures[j]})
		}
	}
	return d
}

func sameDay(a, b *Measure) bool {
	if a.DueOn == nil || b.DueOn == nil {
		return a.DueOn == nil && b.DueOn == nil
	}
	return *a.DueOn == *b.DueOn
}
