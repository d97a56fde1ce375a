// Package roster keeps the 宏志助航 training roster: the national training
// bases, their cohorts, and one place per graduate and cohort. Places are
// filled from the graduates' plans by the roster_build job — quotas per
// school by largest remainder, a FIFO waitlist, never over capacity — and
// every change a base needs is POSTed, signed, to its webhook by
// roster_deliver. When a base marks a place completed, the graduate's
// ledger and plan record it in the same transaction.
//
// Every change of a place locks its cohort's row first (FOR NO KEY
// UPDATE), so changes to one cohort take turns and capacity is checked
// against the committed state. The rules are in docs/domain.md ("The
// training roster") and the mechanics in docs/architecture.md.
package roster

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/plan"
	"github.com/bangfu/bangfu/internal/postgres"
	"github.com/bangfu/bangfu/internal/sealed"
)

// Statuses of a place. Held places count against capacity.
const (
	Nominated  = "nominated"
	Confirmed  = "confirmed"
	Attending  = "attending"
	Completed  = "completed"
	Waitlisted = "waitlisted"
	Declined   = "declined"
	Withdrawn  = "withdrawn"
)

// Statuses lists every status of a place.
var Statuses = []string{Nominated, Confirmed, Attending, Completed, Waitlisted, Declined, Withdrawn}

// held reports whether a place of this status takes one of the cohort's
// places.
func held(status string) bool {
	return status == Nominated || status == Confirmed || status == Attending || status == Completed
}

// atBase reports whether a place of this status is the base's to see:
// confirmed, and on from there.
func atBase(status string) bool {
	return status == Confirmed || status == Attending || status == Completed
}

// Cohort states.
const (
	Draft    = "draft"
	Open     = "open"
	Closed   = "closed"
	Finished = "finished"
)

// CohortStates lists the states of a cohort, in order.
var CohortStates = []string{Draft, Open, Closed, Finished}

// Modes of a cohort.
var Modes = []string{"online", "offline"}

// MeasureKind is the plan measure that puts a graduate forward.
const MeasureKind = "hongzhi_training"

// Audit actions recorded by this package.
const (
	AuditBaseCreate   = "roster.base.create"
	AuditBaseUpdate   = "roster.base.update"
	AuditCohortCreate = "roster.cohort.create"
	AuditCohortUpdate = "roster.cohort.update"
	AuditPlace        = "roster.place"
	AuditSystem       = "roster.build"
	AuditRead         = "roster.read"
	AuditExport       = "roster.export"
)

// Sealed field names (also the AES-GCM associated data).
const (
	fieldWebhookURL    = "webhook_url"
	fieldWebhookSecret = "webhook_secret"
)

// Jobs is what the roster needs of the River client.
type Jobs interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// Service keeps the roster.
type Service struct {
	DB    *postgres.DB
	Box   *sealed.Box
	Clock bangfu.Clock
	River Jobs
	// Reads records the audit entries of reads.
	Reads *audit.Reads
	// Ledger and Plans record a completed training on the graduate's file.
	Ledger *ledger.Service
	Plans  *plan.Service
	// InsecureWebhooks accepts http:// webhook URLs (development only;
	// production bases must use https).
	InsecureWebhooks bool
}

func (s *Service) now() time.Time { return s.Clock.Now().Truncate(time.Microsecond) }

func (s *Service) today() bangfu.Date { return bangfu.Today(s.Clock) }

func oneOf(v string, allowed []string) bool { return slices.Contains(allowed, v) }

func init() {
	postgres.RegisterConstraint("training_bases_name_key", "name", "is already used by another training base")
	postgres.RegisterConstraint("training_bases_name_length", "name", "must be 1-100 characters")
	postgres.RegisterConstraint("cohorts_base_name_key", "name", "is already used by another cohort of this base")
	postgres.RegisterConstraint("cohorts_base_id_fkey", "base_id", "is not a known training base")
	postgres.RegisterConstraint("cohorts_dates_check", "starts_on", "must not be after ends_on, and the nomination deadline not after starts_on")
	postgres.RegisterConstraint("roster_places_cohort_student_key", "student_id", "already has a place in this cohort")
}
