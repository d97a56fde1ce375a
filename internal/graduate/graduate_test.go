package graduate_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/graduate"
)

// connect opens a connection of the test's own, outside the app's pools.
func connect(t *testing.T, env *apptest.Env) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), env.DatabaseURL)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// waitForLockWait returns once some session waits for a lock while running
// a statement that starts with prefix.
func waitForLockWait(t *testing.T, conn *pgx.Conn, prefix string) {
	t.Helper()
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND ltrim(query) LIKE $1 || '%'`, prefix).Scan(&n))
		return n > 0
	}, 10*time.Second, 5*time.Millisecond, "no session waits in %q", prefix)
}

// TestUpdateAnswersWhatItWrote: an update answers the file as its own write
// left it — its own version, its own values — even when another writer
// changes the file the moment it commits.
func TestUpdateAnswersWhatItWrote(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	st := env.MustActiveCase(t, counselor)

	// The update is held at its last statement (its audit row) until the
	// test lets it commit; by then a lock request on hardships is queued,
	// so that any read of the file after the update's commit waits until
	// another writer has changed the file.
	holdAudit, holdHardships, other := connect(t, env), connect(t, env), connect(t, env)
	auditTx, err := holdAudit.Begin(ctx)
	require.NoError(t, err)
	_, err = auditTx.Exec(ctx, `LOCK TABLE audit_log IN SHARE MODE`)
	require.NoError(t, err)

	major := "软件技术（更新）"
	type result struct {
		st  graduate.Student
		err error
	}
	done := make(chan result, 1)
	go func() {
		got, err := env.App.Graduates.Update(context.Background(), counselor.Actor(), st.ID, st.Version, graduate.Patch{Major: &major})
		done <- result{got, err}
	}()
	waitForLockWait(t, other, "INSERT INTO audit_log")

	hardshipsTx, err := holdHardships.Begin(ctx)
	require.NoError(t, err)
	locked := make(chan error, 1)
	go func() {
		_, err := hardshipsTx.Exec(context.Background(), `LOCK TABLE hardships IN ACCESS EXCLUSIVE MODE`)
		locked <- err
	}()
	waitForLockWait(t, other, "LOCK TABLE hardships")
	require.NoError(t, auditTx.Commit(ctx)) // the update commits
	require.NoError(t, <-locked)

	_, err = other.Exec(ctx, `UPDATE students SET major = '另一位写入者', version = version + 1 WHERE id = $1`, st.ID)
	require.NoError(t, err)
	require.NoError(t, hardshipsTx.Commit(ctx))

	res := <-done
	require.NoError(t, res.err)
	require.Equal(t, major, res.st.Major, "the update's own value")
	require.Equal(t, st.Version+1, res.st.Version, "the version the update produced")
}

// TestUpdateChecksOnlyWhatChanges: a change is checked, not the fields it
// leaves alone, so that the file of an old cohort (whose graduation year
// is now outside the years a new file may have) can still be closed.
func TestUpdateChecksOnlyWhatChanges(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	old := env.MustActiveCase(t, counselor, graduate.Input{GraduationYear: 2021})

	env.Clock.Set(time.Date(2028, 1, 10, 9, 0, 0, 0, bangfu.Shanghai))
	closed := "closed"
	got, err := env.App.Graduates.Update(ctx, counselor.Actor(), old.ID, old.Version, graduate.Patch{Status: &closed})
	require.NoError(t, err, "closing touches only the status")
	require.Equal(t, "closed", got.Status)

	year := 2021
	_, err = env.App.Graduates.Update(ctx, counselor.Actor(), old.ID, got.Version, graduate.Patch{GraduationYear: &year})
	require.Equal(t, map[string]string{"graduation_year": "must be a year from 2023 to 2033"}, bangfu.FieldsOf(err),
		"a field the change sets is checked")
}

// TestProvinceCannotWrite: province staff read every school, masked; the
// service itself refuses their writes, whatever route calls it.
func TestProvinceCannotWrite(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school := env.MustSchool(t)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	province := env.MustUser(t, bangfu.RoleProvince, nil)
	st := env.MustActiveCase(t, counselor)
	major := "改写"
	_, err := env.App.Graduates.Update(t.Context(), province.Actor(), st.ID, st.Version, graduate.Patch{Major: &major})
	require.Equal(t, bangfu.EFORBIDDEN, bangfu.ErrorCode(err))
	got, err := env.App.Graduates.Get(t.Context(), counselor.Actor(), st.ID)
	require.NoError(t, err)
	require.Equal(t, st.Name, got.Name)
	require.Equal(t, st.Version, got.Version, "nothing written")
}
