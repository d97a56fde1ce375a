// Package settings holds the rule settings admins tune: the stall
// thresholds, the sweep interval, the follow-up cadences (in school and
// after graduation), the referral minimum and the placement targets.
package settings

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/postgres"
)

// Settings are the rules' numbers. A field absent from the stored settings
// takes its default (Defaults), so new settings need no migration; a zero
// that is stored stays zero.
type Settings struct {
	// StallDays are the days without contact after which a case escalates
	// to level 1 (counselor), 2 (school supervisors) and 3 (province).
	StallDays [3]int `json:"stall_days"`
	// SweepIntervalMinutes is how often the stall sweep runs.
	SweepIntervalMinutes int `json:"sweep_interval_minutes"`
	// DefaultCadenceDays schedules the next follow-up after a contact when
	// neither the contact nor the plan says when.
	DefaultCadenceDays int `json:"default_cadence_days"`
	// AfterGraduationCadenceDays schedules follow-ups once a graduate has
	// left school unplaced (the after-graduation phase): monthly by default.
	AfterGraduationCadenceDays int `json:"after_graduation_cadence_days"`
	// ReferralMinimum job referrals are expected within ReferralWindowDays
	// of a case becoming active.
	ReferralMinimum    int `json:"referral_minimum"`
	ReferralWindowDays int `json:"referral_window_days"`
	// EvidenceWarningDays before hardship evidence expires, the counselor
	// is warned.
	EvidenceWarningDays int `json:"evidence_warning_days"`
	// Targets for 去向落实率: by 31 July and by 31 December.
	TargetJuly     float64 `json:"target_july"`
	TargetDecember float64 `json:"target_december"`
}

// Defaults are the product's numbers (docs/domain.md).
var Defaults = Settings{
	StallDays: [3]int{14, 21, 35}, SweepIntervalMinutes: 30, DefaultCadenceDays: 14, AfterGraduationCadenceDays: 30,
	ReferralMinimum: 3, ReferralWindowDays: 30, EvidenceWarningDays: 30,
	TargetJuly: 0.70, TargetDecember: 0.90,
}

// Check returns the settings' problems.
func (s Settings) Check() error {
	var p bangfu.Problems
	a, b, c := s.StallDays[0], s.StallDays[1], s.StallDays[2]
	if a < 1 || !(a < b && b < c) || c > 365 {
		p.Add("stall_days", "must be three increasing numbers of days, from 1 to 365")
	}
	rng := func(field string, v, lo, hi int) {
		if v < lo || v > hi {
			p.Add(field, fmt.Sprintf("must be from %d to %d", lo, hi))
		}
	}
	rng("sweep_interval_minutes", s.SweepIntervalMinutes, 1, 1440)
	rng("default_cadence_days", s.DefaultCadenceDays, 1, 90)
	rng("after_graduation_cadence_days", s.AfterGraduationCadenceDays, 1, 90)
	rng("referral_minimum", s.ReferralMinimum, 0, 50)
	rng("referral_window_days", s.ReferralWindowDays, 1, 365)
	rng("evidence_warning_days", s.EvidenceWarningDays, 1, 365)
	if s.TargetJuly <= 0 || s.TargetJuly > 1 {
		p.Add("target_july", "must be a fraction above 0 and at most 1, like 0.7")
	}
	if s.TargetDecember <= 0 || s.TargetDecember > 1 || s.TargetDecember < s.TargetJuly {
		p.Add("target_december", "must be a fraction at most 1 and not below target_july, like 0.9")
	}
	return p.Err()
}

// AfterGraduationStallDays are the stall thresholds of the after-graduation
// phase: StallDays stretched by the factor by which the cadence stretches
// (AfterGraduationCadenceDays / DefaultCadenceDays), rounded up — 30, 45
// and 75 days by default.
func (s Settings) AfterGraduationStallDays() [3]int {
	var out [3]int
	for i, d := range s.StallDays {
		out[i] = (d*s.AfterGraduationCadenceDays + s.DefaultCadenceDays - 1) / s.DefaultCadenceDays
	}
	return out
}

// Record is the stored settings with their version.
type Record struct {
	Settings
	Version   int       `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy *int64    `json:"updated_by"`
}

// Store reads and writes the settings. It keeps the sweep interval of the
// last read in memory for the periodic schedule.
type Store struct {
	DB    *postgres.DB
	Clock bangfu.Clock

	interval atomic.Int64 // minutes
}

// Get returns the current settings, with defaults filled in.
func (s *Store) Get(ctx context.Context, q postgres.Querier) (Record, error) {
	var r Record
	var data []byte
	if err := q.QueryRow(ctx, `SELECT data, version, updated_at, updated_by FROM settings WHERE id = 1`).
		Scan(&data, &r.Version, &r.UpdatedAt, &r.UpdatedBy); err != nil {
		return Record{}, err
	}
	// Decoding over the defaults leaves the absent fields at their default.
	r.Settings = Defaults
	if err := json.Unmarshal(data, &r.Settings); err != nil {
		return Record{}, err
	}
	s.interval.Store(int64(r.SweepIntervalMinutes))
	return r, nil
}

// Put replaces the settings with next, every field as given, if they are
// still at version, and audits the change. A caller that lets fields be
// left out starts next from Defaults. Of concurrent writes based on one
// version exactly one succeeds; the others are precondition_failed.
func (s *Store) Put(ctx context.Context, a bangfu.Actor, version int, next Settings) (Record, error) {
	if err := next.Check(); err != nil {
		return Record{}, err
	}
	var out Record
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		cur, err := s.Get(ctx, tx)
		if err != nil {
			return err
		}
		if cur.Version != version {
			return bangfu.Errorf(bangfu.EPRECONDITIONFAILED, "The settings were changed since version %d (now %d); reload them.", version, cur.Version)
		}
		data, err := json.Marshal(next)
		if err != nil {
			return err
		}
		now := s.Clock.Now()
		// The version is checked by the write itself: of writers that read
		// the same version, the row lock lets one through and the rest find
		// the version moved on.
		tag, err := tx.Exec(ctx, `UPDATE settings SET data = $1, version = version + 1, updated_at = $2, updated_by = $3
			WHERE id = 1 AND version = $4`, data, now, a.UserID, version)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return bangfu.Errorf(bangfu.EPRECONDITIONFAILED, "The settings were changed since version %d; reload them.", version)
		}
		if err := audit.Record(ctx, tx, a, now, audit.Event{Action: audit.SettingsChange,
			Detail: map[string]any{"before": cur.Settings, "after": next}}); err != nil {
			return err
		}
		out, err = s.Get(ctx, tx)
		return err
	})
	return out, err
}

// SweepSchedule is the stall sweep's River schedule: every
// SweepIntervalMinutes as last read from the settings (each sweep reads
// them, so a change takes effect after the next run).
func (s *Store) SweepSchedule() Schedule { return Schedule{s} }

// Schedule implements river.PeriodicSchedule from the stored interval.
type Schedule struct{ s *Store }

// Next returns current plus the interval.
func (sc Schedule) Next(current time.Time) time.Time {
	m := sc.s.interval.Load()
	if m <= 0 {
		m = int64(Defaults.SweepIntervalMinutes)
	}
	return current.Add(time.Duration(m) * time.Minute)
}
