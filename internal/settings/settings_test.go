package settings_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/settings"
)

func TestDefaultsUntilChanged(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	s := env.App.Settings
	r, err := s.Get(t.Context(), env.App.DB.Pool)
	require.NoError(t, err)
	require.Equal(t, settings.Defaults, r.Settings)
	require.Equal(t, 1, r.Version)
	require.Equal(t, apptest.Start.Add(30*time.Minute), s.SweepSchedule().Next(apptest.Start), "the sweep runs every 30 minutes by default")
	require.Equal(t, 30, r.AfterGraduationCadenceDays, "monthly follow-ups after graduation")
	require.Equal(t, [3]int{30, 45, 75}, r.AfterGraduationStallDays(), "the thresholds stretch like the cadence (30/14)")

	admin := env.MustUser(t, bangfu.RoleAdmin, nil)
	next := settings.Defaults
	next.StallDays = [3]int{7, 14, 28}
	next.SweepIntervalMinutes = 10
	r, err = s.Put(t.Context(), admin.Actor(), 1, next)
	require.NoError(t, err)
	require.Equal(t, next, r.Settings)
	require.Equal(t, 2, r.Version)
	require.Equal(t, &admin.ID, r.UpdatedBy)
	require.Equal(t, apptest.Start.Add(10*time.Minute), s.SweepSchedule().Next(apptest.Start), "the schedule follows the last read")

	_, err = s.Put(t.Context(), admin.Actor(), 1, next)
	require.Equal(t, bangfu.EPRECONDITIONFAILED, bangfu.ErrorCode(err), "a stale version is refused")
}

// TestZeroIsKept: a rule whose zero means something (no referrals
// expected) keeps 0; zero never silently becomes the default.
func TestZeroIsKept(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	admin := env.MustUser(t, bangfu.RoleAdmin, nil)
	next := settings.Defaults
	next.ReferralMinimum = 0
	r, err := env.App.Settings.Put(t.Context(), admin.Actor(), 1, next)
	require.NoError(t, err)
	require.Zero(t, r.ReferralMinimum, "the answer keeps 0")
	r, err = env.App.Settings.Get(t.Context(), env.App.DB.Pool)
	require.NoError(t, err)
	require.Zero(t, r.ReferralMinimum, "the stored settings keep 0")

	// A zero where zero means nothing is refused, naming the field.
	next.SweepIntervalMinutes = 0
	_, err = env.App.Settings.Put(t.Context(), admin.Actor(), r.Version, next)
	require.Equal(t, map[string]string{"sweep_interval_minutes": "must be from 1 to 1440"}, bangfu.FieldsOf(err))
}
