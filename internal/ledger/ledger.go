// Package ledger keeps the assistance ledger (帮扶台账): every contact,
// referral and outcome for a graduate, as append-only entries chained by
// SHA-256 so that any later rewrite is detectable. Mistakes are corrected
// by new entries that point at the old ones; nothing is updated or deleted
// (the database refuses it too).
package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/cnid"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/mask"
	"github.com/bangfu/bangfu/internal/policy"
	"github.com/bangfu/bangfu/internal/postgres"
)

// Kinds of entries. Corrections are made only through Correct.
var (
	Kinds    = []string{"contact", "referral", "note", "outcome"}
	Channels = []string{"phone", "wechat", "sms", "email", "meeting", "home_visit", "job_fair", "briefing", "other"}
)

// Referral is a job referral's details.
type Referral struct {
	Employer   string `json:"employer"`
	CreditCode string `json:"credit_code"`
	Position   string `json:"position"`
	Outcome    string `json:"outcome"`
}

// Entry is one ledger entry.
type Entry struct {
	StudentID        int64        `json:"student_id"`
	Seq              int          `json:"seq"`
	Kind             string       `json:"kind"`
	Channel          string       `json:"channel"`
	OccurredAt       time.Time    `json:"occurred_at"`
	Summary          string       `json:"summary"`
	NextStep         string       `json:"next_step"`
	NextFollowupOn   *bangfu.Date `json:"next_followup_on"`
	Visibility       string       `json:"visibility"`
	Referral         *Referral    `json:"referral"`
	CorrectsSeq      *int         `json:"corrects_seq"`
	CorrectionReason string       `json:"correction_reason"`
	GroupID          *uuid.UUID   `json:"group_id"`
	AuthorID         int64        `json:"author_id"`
	AuthorRole       string       `json:"author_role"` // not part of the hashed content
	RecordedAt       time.Time    `json:"recorded_at"`
	PrevHash         string       `json:"prev_hash"`
	Hash             string       `json:"hash"`
	// CorrectedBy lists the entries that correct this one.
	CorrectedBy []int `json:"corrected_by"`
}

// maskFor leaves province staff (policy.Masked) the entry's metadata —
// kind, channel, times, author and role, referral employer and post — and
// hides its free text, which may hold names, and its hashes, with which a
// guess of a short text could be confirmed.
func (e *Entry) maskFor(a bangfu.Actor) {
	if !policy.Masked(a) {
		return
	}
	e.Summary, e.NextStep, e.CorrectionReason = mask.Text(e.Summary), mask.Text(e.NextStep), mask.Text(e.CorrectionReason)
	if e.Referral != nil {
		r := *e.Referral
		r.Outcome = mask.Text(r.Outcome)
		e.Referral = &r
	}
	e.Hash, e.PrevHash = "", ""
}

// canonical is the content an entry's hash covers, in a fixed field order.
// Changing it breaks every existing chain: add a new version instead.
type canonical struct {
	V                int        `json:"v"`
	StudentID        int64      `json:"student_id"`
	Seq              int        `json:"seq"`
	Kind             string     `json:"kind"`
	Channel          string     `json:"channel"`
	OccurredAt       string     `json:"occurred_at"`
	Summary          string     `json:"summary"`
	NextStep         string     `json:"next_step"`
	NextFollowupOn   string     `json:"next_followup_on"`
	Visibility       string     `json:"visibility"`
	Referral         *Referral  `json:"referral"`
	CorrectsSeq      *int       `json:"corrects_seq"`
	CorrectionReason string     `json:"correction_reason"`
	GroupID          *uuid.UUID `json:"group_id"`
	AuthorID         int64      `json:"author_id"`
	RecordedAt       string     `json:"recorded_at"`
	PrevHash         string     `json:"prev_hash"`
}

// ComputeHash returns the SHA-256 of e's canonical content chained to
// prevHash. Times count to the microsecond, as PostgreSQL stores them.
func ComputeHash(e *Entry, prevHash []byte) []byte {
	c := canonical{
		V: 1, StudentID: e.StudentID, Seq: e.Seq, Kind: e.Kind, Channel: e.Channel,
		OccurredAt: e.OccurredAt.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano),
		Summary:    e.Summary, NextStep: e.NextStep, Visibility: e.Visibility, Referral: e.Referral,
		CorrectsSeq: e.CorrectsSeq, CorrectionReason: e.CorrectionReason, GroupID: e.GroupID, AuthorID: e.AuthorID,
		RecordedAt: e.RecordedAt.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano),
		PrevHash:   fmt.Sprintf("%x", prevHash),
	}
	if e.NextFollowupOn != nil {
		c.NextFollowupOn = e.NextFollowupOn.String()
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic("ledger: canonical form does not encode: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return sum[:]
}

// Service keeps ledgers.
type Service struct {
	DB    *postgres.DB
	Clock bangfu.Clock
	// Reads records the audit entries of reads.
	Reads *audit.Reads
	// AfterAppend runs in the transaction of each new entry, before the
	// entry is sent (the follow-up scheduler and the escalations use it):
	// it adds its own writes to the entry's batch (Pending).
	AfterAppend func(ctx context.Context, tx pgx.Tx, a bangfu.Actor, h graduate.Header, e Entry, p *Pending) error
}

// Pending is an entry's batch on its way to the database: the entry, the
// statements the hooks queue on Batch, then the graduate's new head, counts
// and follow-up (one statement on the narrow case_activity row) and the
// audit row, sent in one round trip. A hook that schedules a follow-up
// sets Followup; one that needs to act on what its statements returned
// registers Then, which runs after the batch, on the same transaction.
type Pending struct {
	Batch    *pgx.Batch
	Followup *graduate.FollowupChange
	then     []func(ctx context.Context, tx pgx.Tx) error
}

// Then registers f to run after the batch was sent.
func (p *Pending) Then(f func(ctx context.Context, tx pgx.Tx) error) { p.then = append(p.then, f) }

// Input is a new entry as submitted.
type Input struct {
	Kind           string    `json:"kind"`
	Channel        string    `json:"channel"`
	OccurredAt     time.Time `json:"occurred_at"`
	Summary        string    `json:"summary"`
	NextStep       string    `json:"next_step"`
	NextFollowupOn string    `json:"next_followup_on"`
	Visibility     string    `json:"visibility"`
	Referral       *Referral `json:"referral"`
}

func (s *Service) check(in Input) (Entry, error) {
	var p bangfu.Problems
	now := s.Clock.Now()
	e := Entry{
		Kind: in.Kind, Channel: in.Channel, OccurredAt: in.OccurredAt.Truncate(time.Microsecond),
		Summary: strings.TrimSpace(in.Summary), NextStep: strings.TrimSpace(in.NextStep), Visibility: in.Visibility,
	}
	if e.Visibility == "" {
		e.Visibility = "internal"
	}
	if !slices.Contains(Kinds, e.Kind) {
		p.Add("kind", "must be one of "+strings.Join(Kinds, ", "))
	}
	switch {
	case e.Channel == "" && e.Kind == "contact":
		p.Add("channel", "is required for a contact: "+strings.Join(Channels, ", "))
	case e.Channel != "" && !slices.Contains(Channels, e.Channel):
		p.Add("channel", "must be one of "+strings.Join(Channels, ", "))
	}
	switch {
	case in.OccurredAt.IsZero():
		p.Add("occurred_at", "is required")
	case in.OccurredAt.After(now.Add(5 * time.Minute)):
		p.Add("occurred_at", "cannot be in the future")
	case in.OccurredAt.Before(now.AddDate(-1, 0, 0)):
		p.Add("occurred_at", "is more than a year ago")
	}
	p.Text("summary", e.Summary, 2000, true)
	p.Text("next_step", e.NextStep, 1000, false)
	e.NextFollowupOn = bangfu.ParseDate(&p, "next_followup_on", in.NextFollowupOn)
	if d := e.NextFollowupOn; d != nil {
		today := bangfu.Today(s.Clock)
		if d.Before(today) {
			p.Add("next_followup_on", "is in the past")
		} else if d.After(today.AddDays(366)) {
			p.Add("next_followup_on", "is more than a year ahead")
		}
	}
	if e.Visibility != "internal" && e.Visibility != "shared" {
		p.Add("visibility", "must be internal or shared")
	}
	if in.Referral != nil {
		r := *in.Referral
		r.Employer, r.Position, r.Outcome = strings.TrimSpace(r.Employer), strings.TrimSpace(r.Position), strings.TrimSpace(r.Outcome)
		r.CreditCode = strings.ToUpper(strings.TrimSpace(r.CreditCode))
		p.Text("referral.employer", r.Employer, 200, true)
		p.Text("referral.position", r.Position, 200, true)
		p.Text("referral.outcome", r.Outcome, 500, false)
		if r.CreditCode != "" {
			if msg := cnid.CreditCodeProblem(r.CreditCode); msg != "" {
				p.Add("referral.credit_code", msg)
			}
		}
		e.Referral = &r
	} else if e.Kind == "referral" {
		p.Add("referral", "is required for a referral: employer and position")
	}
	return e, p.Err()
}

// Append adds an entry to a graduate's ledger. Appends to one ledger take
// turns on the graduate's row, so seq is contiguous and each entry chains
// to the one before it.
func (s *Service) Append(ctx context.Context, a bangfu.Actor, studentID int64, in Input) (Entry, error) {
	e, verr := s.check(in)
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		h, err := graduate.Access(ctx, tx, a, studentID, true)
		if err != nil {
			return err
		}
		if verr != nil {
			return verr
		}
		return s.append(ctx, tx, a, h, &e, audit.LedgerAppend)
	})
	return e, err
}

// AppendTx adds an entry, checked like Append's input, to the ledger of h's
// graduate on tx, which holds the graduate's row lock (h was read by
// graduate.Access with forUpdate, or graduate.Lock, on tx, so its head is
// current): another package's write records itself in the ledger in its
// own transaction (a hand-over does; the 宏志助航 roster records a completed
// training). The entry is audited and AfterAppend runs, as for Append.
func (s *Service) AppendTx(ctx context.Context, tx pgx.Tx, a bangfu.Actor, h graduate.Header, in Input) (Entry, error) {
	e, err := s.check(in)
	if err != nil {
		return Entry{}, err
	}
	return e, s.append(ctx, tx, a, h, &e, audit.LedgerAppend)
}

// GroupInput logs one contact (a job fair, a briefing) for many graduates.
type GroupInput struct {
	StudentIDs []int64 `json:"student_ids"`
	Entry      Input   `json:"entry"`
}

// AppendGroup appends the same entry, with a shared group id, to each
// graduate's ledger, all or none. Graduates the actor may not see are
// reported as invalid, by position; any other error (a timeout, a lost
// connection) is returned as it is.
func (s *Service) AppendGroup(ctx context.Context, a bangfu.Actor, in GroupInput) ([]Entry, error) {
	e, verr := s.check(in.Entry)
	var p bangfu.Problems
	var ve *bangfu.Error
	if errors.As(verr, &ve) {
		for k, v := range ve.Fields {
			p.Add("entry."+k, v)
		}
	}
	ids := slices.Clone(in.StudentIDs)
	slices.Sort(ids)
	switch {
	case len(ids) == 0:
		p.Add("student_ids", "needs at least one graduate")
	case len(ids) > 500:
		p.Add("student_ids", "may hold at most 500 graduates")
	case len(slices.Compact(slices.Clone(ids))) != len(ids):
		p.Add("student_ids", "lists a graduate twice")
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	group := uuid.New()
	var out []Entry
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		// Lock in id order so that concurrent group appends cannot deadlock.
		headers := make([]graduate.Header, 0, len(ids))
		for _, id := range ids {
			h, err := graduate.Access(ctx, tx, a, id, true)
			if bangfu.ErrorCode(err) == bangfu.ENOTFOUND {
				p.Add(fmt.Sprintf("student_ids.%d", slices.Index(in.StudentIDs, id)), "is not a graduate you can see")
				continue
			} else if err != nil {
				return err
			}
			headers = append(headers, h)
		}
		if err := p.Err(); err != nil {
			return err
		}
		for _, h := range headers {
			ge := e
			ge.GroupID = &group
			if err := s.append(ctx, tx, a, h, &ge, audit.LedgerAppend); err != nil {
				return err
			}
			out = append(out, ge)
		}
		return nil
	})
	return out, err
}

// InsertSQL inserts an entry; exported so that benchmarks can issue the
// same SQL directly. The graduate's head is advanced by
// graduate.QueueLedgerAdvance in the same batch.
const InsertSQL = `INSERT INTO ledger_entries (student_id, seq, kind, channel, occurred_at, summary, next_step,
		next_followup_on, visibility, referral, corrects_seq, correction_reason, group_id, author_id, recorded_at, prev_hash, hash, school_id,
		department_id)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`

// MoveDepartment files the graduate's entries under their new department
// (nil: none), so that a department's review finds them; it is the
// graduate's hook for a change of department (graduate.Service.AfterMove),
// run on the transaction of the change. The department is not part of an
// entry's hashed content: the chain is unchanged.
func MoveDepartment(ctx context.Context, tx pgx.Tx, studentID int64, departmentID *int64) error {
	_, err := tx.Exec(ctx, `UPDATE ledger_entries SET department_id = $2 WHERE student_id = $1 AND department_id IS DISTINCT FROM $2`,
		studentID, departmentID)
	return err
}

// append writes e as the next entry of h's ledger, on tx, which must hold
// the graduate's row lock (h was read with it, so its head is current).
// The entry, what the hooks queue (resolving escalations), the graduate's
// new head, counts and follow-up, and the audit row go to the database in
// one round trip; only the follow-up's River job (cancel and insert) goes
// before it.
func (s *Service) append(ctx context.Context, tx pgx.Tx, a bangfu.Actor, h graduate.Header, e *Entry, action string) error {
	seq, prev := h.LedgerSeq, h.LedgerHead
	now := s.Clock.Now().Truncate(time.Microsecond)
	e.StudentID, e.Seq, e.AuthorID, e.AuthorRole, e.RecordedAt = h.StudentID, seq+1, a.UserID, string(a.Role), now
	hash := ComputeHash(e, prev)
	e.PrevHash, e.Hash = fmt.Sprintf("%x", prev), fmt.Sprintf("%x", hash)
	e.CorrectedBy = []int{}
	var referral []byte
	if e.Referral != nil {
		referral, _ = json.Marshal(e.Referral)
	}
	contact := e.Kind == "contact"
	p := &Pending{Batch: &pgx.Batch{}}
	p.Batch.Queue(InsertSQL, e.StudentID, e.Seq, e.Kind, e.Channel, e.OccurredAt, e.Summary, e.NextStep, e.NextFollowupOn.TimePtr(), e.Visibility,
		referral, e.CorrectsSeq, e.CorrectionReason, e.GroupID, e.AuthorID, e.RecordedAt, prev, hash, h.SchoolID, h.DepartmentID)
	if s.AfterAppend != nil {
		if err := s.AfterAppend(ctx, tx, a, h, *e, p); err != nil {
			return err
		}
	}
	graduate.QueueLedgerAdvance(p.Batch, graduate.LedgerAdvance{StudentID: h.StudentID, Seq: e.Seq, Head: hash,
		Contact: contact, Referral: e.Kind == "referral", OccurredAt: e.OccurredAt, Followup: p.Followup})
	p.Batch.Queue(audit.InsertSQL, audit.Args(a, now, audit.Event{Action: action, StudentID: h.StudentID, SchoolID: h.SchoolID,
		Detail: map[string]any{"seq": e.Seq, "kind": e.Kind}})...)
	if err := tx.SendBatch(ctx, p.Batch).Close(); err != nil {
		return postgres.FormatError(err, "ledger entry")
	}
	for _, f := range p.then {
		if err := f(ctx, tx); err != nil {
			return err
		}
	}
	return nil
}

// CorrectionInput corrects an entry.
type CorrectionInput struct {
	Summary string `json:"summary"`
	Reason  string `json:"reason"`
}

// Correct appends an entry that corrects entry seq; both stay readable.
// The correction keeps the visibility of the entry it corrects.
func (s *Service) Correct(ctx context.Context, a bangfu.Actor, studentID int64, seq int, in CorrectionInput) (Entry, error) {
	var p bangfu.Problems
	in.Summary, in.Reason = strings.TrimSpace(in.Summary), strings.TrimSpace(in.Reason)
	p.Text("summary", in.Summary, 2000, true)
	p.Text("reason", in.Reason, 500, true)
	var e Entry
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		h, err := graduate.Access(ctx, tx, a, studentID, true)
		if err != nil {
			return err
		}
		var visibility string
		if err := tx.QueryRow(ctx, `SELECT visibility FROM ledger_entries WHERE student_id = $1 AND seq = $2`, studentID, seq).
			Scan(&visibility); err != nil {
			return postgres.FormatError(err, "ledger entry")
		}
		if err := p.Err(); err != nil {
			return err
		}
		e = Entry{Kind: "correction", OccurredAt: s.Clock.Now().Truncate(time.Microsecond), Summary: in.Summary, Visibility: visibility,
			CorrectsSeq: &seq, CorrectionReason: in.Reason}
		return s.append(ctx, tx, a, h, &e, audit.LedgerCorrect)
	})
	return e, err
}

// ListSQL is one page of a graduate's ledger ($1 graduate, $2 after seq,
// $3 shared only, $4 limit+1), exported for benchmarks.
// Each row carries the seqs of the entries that correct it (visible to the
// same reader), found through the small corrections index, and its
// author's role.
const ListSQL = `SELECT ` + entryColumns + `,
		ARRAY(SELECT c.seq FROM ledger_entries c WHERE c.student_id = l.student_id AND c.corrects_seq = l.seq
		      AND (NOT $3 OR c.visibility = 'shared') ORDER BY c.seq),
		` + authorRole + `
	FROM ledger_entries l
	WHERE l.student_id = $1 AND l.seq > $2 AND (NOT $3 OR l.visibility = 'shared') ORDER BY l.seq LIMIT $4`

const entryColumns = `student_id, seq, kind, channel, occurred_at, summary, next_step, next_followup_on, visibility,
	referral, corrects_seq, correction_reason, group_id, author_id, recorded_at, prev_hash, hash`

// authorRole reads the role of the author of entry l.
const authorRole = `(SELECT u.role FROM users u WHERE u.id = l.author_id)`

func scanEntry(row pgx.CollectableRow) (Entry, error) {
	var e Entry
	var due *time.Time
	var referral []byte
	var prev, hash []byte
	err := row.Scan(&e.StudentID, &e.Seq, &e.Kind, &e.Channel, &e.OccurredAt, &e.Summary, &e.NextStep, &due, &e.Visibility,
		&referral, &e.CorrectsSeq, &e.CorrectionReason, &e.GroupID, &e.AuthorID, &e.RecordedAt, &prev, &hash)
	if err != nil {
		return e, err
	}
	e.NextFollowupOn = bangfu.DatePtr(due)
	if referral != nil {
		e.Referral = &Referral{}
		if err := json.Unmarshal(referral, e.Referral); err != nil {
			return e, err
		}
	}
	e.PrevHash, e.Hash = fmt.Sprintf("%x", prev), fmt.Sprintf("%x", hash)
	e.CorrectedBy = []int{}
	return e, nil
}

// List returns a page of a graduate's ledger in seq order (Page.After is a
// seq). Students see only entries shared with them; province staff the
// entries' metadata, not their text (see Entry.maskFor).
func (s *Service) List(ctx context.Context, a bangfu.Actor, studentID int64, pg bangfu.Page) (bangfu.List[Entry], error) {
	if pg.After > math.MaxInt32 {
		// A seq is a 32-bit number: no cursor of this list goes past one.
		if _, err := graduate.Access(ctx, s.DB.Pool, a, studentID, false); err != nil {
			return bangfu.List[Entry]{}, err
		}
		return bangfu.List[Entry]{}, (bangfu.Problems{"cursor": "is not a cursor returned by this list"}).Err()
	}
	// The record rule's read and the page go in one round trip; the page
	// is discarded when the rule refuses.
	var h graduate.Header
	var items []Entry
	b := &pgx.Batch{}
	graduate.QueueAccess(b, a, studentID, &h)
	sharedOnly := a.Role == bangfu.RoleStudent
	b.Queue(ListSQL, studentID, pg.After, sharedOnly, pg.Limit+1).Query(func(rows pgx.Rows) error {
		var err error
		items, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Entry, error) {
			var corrected []int
			var role string
			e, err := scanEntry(extraRow{row, []any{&corrected, &role}})
			if corrected != nil {
				e.CorrectedBy = corrected
			}
			e.AuthorRole = role
			e.maskFor(a)
			return e, err
		})
		return err
	})
	if err := s.DB.Pool.SendBatch(ctx, b).Close(); err != nil {
		return bangfu.List[Entry]{}, err
	}
	l := bangfu.NewList(items, pg.Limit, func(e Entry) int64 { return int64(e.Seq) })
	if a.Role != bangfu.RoleStudent && pg.After == 0 {
		if err := s.Reads.Record(ctx, a, s.Clock.Now(), audit.Event{Action: audit.LedgerRead, StudentID: studentID, SchoolID: h.SchoolID}); err != nil {
			return bangfu.List[Entry]{}, err
		}
	}
	return l, nil
}

// Verification is the result of checking a ledger's chain.
type Verification struct {
	Intact      bool `json:"intact"`
	Entries     int  `json:"entries"`
	FirstBadSeq *int `json:"first_bad_seq,omitempty"`
}

// Verify recomputes every entry's hash from its content and the previous
// hash, and checks that seq has no gap and that the graduate's recorded
// head matches the last entry. It reports the first entry that fails.
//
// The head and the entries are read in one REPEATABLE READ snapshot, so an
// append committing meanwhile is either wholly seen or not at all: only a
// real break of the chain reports intact false (and is audited so).
func (s *Service) Verify(ctx context.Context, a bangfu.Actor, studentID int64) (Verification, error) {
	var (
		h graduate.Header
		v Verification
	)
	err := pgx.BeginTxFunc(ctx, s.DB.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		if h, err = graduate.Access(ctx, tx, a, studentID, false); err != nil {
			return err
		}
		v, err = VerifyChain(ctx, tx, studentID)
		return err
	})
	if err != nil {
		return Verification{}, err
	}
	return v, s.Reads.Record(ctx, a, s.Clock.Now(), audit.Event{Action: audit.LedgerVerify, StudentID: studentID, SchoolID: h.SchoolID,
		Detail: map[string]any{"intact": v.Intact}})
}

// VerifyChain checks one graduate's chain; see Verify. q must read one
// snapshot (a REPEATABLE READ transaction) while others may append.
func VerifyChain(ctx context.Context, q postgres.Querier, studentID int64) (Verification, error) {
	var headSeq int
	var head []byte
	if err := q.QueryRow(ctx, `SELECT ledger_seq, ledger_head FROM case_activity WHERE student_id = $1`, studentID).Scan(&headSeq, &head); err != nil {
		return Verification{}, postgres.FormatError(err, "graduate")
	}
	rows, err := q.Query(ctx, `SELECT `+entryColumns+` FROM ledger_entries WHERE student_id = $1 ORDER BY seq`, studentID)
	if err != nil {
		return Verification{}, err
	}
	entries, err := pgx.CollectRows(rows, scanEntry)
	if err != nil {
		return Verification{}, err
	}
	prev := []byte{}
	bad := func(seq int) (Verification, error) {
		return Verification{Intact: false, Entries: len(entries), FirstBadSeq: &seq}, nil
	}
	for i, e := range entries {
		if e.Seq != i+1 || e.PrevHash != fmt.Sprintf("%x", prev) {
			return bad(i + 1)
		}
		want := ComputeHash(&e, prev)
		if e.Hash != fmt.Sprintf("%x", want) {
			return bad(e.Seq)
		}
		prev = want
	}
	if headSeq != len(entries) || !bytes.Equal(head, prev) {
		// Entries were removed from the end, or the head was forged.
		return bad(len(entries) + 1)
	}
	return Verification{Intact: true, Entries: len(entries)}, nil
}
