package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/graduate"
)

// TestDatabaseErrorsAreNotNotFound: when the database fails a read that
// checks the actor's scope, the failure is reported as a failure — not as
// "not found" or "not a graduate you can see", which would tell the user a
// lie and hide the fault from operators. The fault is injected by taking
// privileges away from the service's own role in the test's database.
func TestDatabaseErrorsAreNotNotFound(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	c := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	st := env.MustStudent(t, c)
	active := "active"
	_, err := env.App.Graduates.Update(ctx, c.Actor(), st.ID, st.Version, graduate.Patch{Status: &active})
	require.NoError(t, err)
	quiet(t, env, 14)
	token := env.Token(t, c)
	var escID int64
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT id FROM escalations WHERE student_id = $1`, st.ID).Scan(&escID))

	// Locking a graduate for a group contact needs UPDATE on students.
	_, err = env.App.DB.Pool.Exec(ctx, `REVOKE UPDATE ON students FROM CURRENT_USER`)
	require.NoError(t, err)
	r := env.Do(t, apptest.Call{Method: http.MethodPost, Path: "/api/v1/ledger/group", Token: token, Unchecked: true,
		Body: map[string]any{"student_ids": []int64{st.ID}, "entry": contact("招聘会", "internal", env.Clock.Now())}})
	code, fields := r.Error(t)
	require.Equal(t, http.StatusInternalServerError, r.Status, "%s", r.Body)
	require.Equal(t, bangfu.EINTERNAL, code)
	require.Empty(t, fields)

	// The scope check of an escalation reads the graduate's header.
	_, err = env.App.DB.Pool.Exec(ctx, `REVOKE SELECT ON students FROM CURRENT_USER;
		GRANT SELECT (id, name, school_id, department_id, counselor_id) ON students TO CURRENT_USER`)
	require.NoError(t, err)
	r = env.Do(t, apptest.Call{Method: http.MethodPost, Path: fmt.Sprintf("/api/v1/escalations/%d/acknowledge", escID), Token: token,
		Body: map[string]any{"note": "在跟进"}, Unchecked: true})
	code, _ = r.Error(t)
	require.Equal(t, http.StatusInternalServerError, r.Status, "%s", r.Body)
	require.Equal(t, bangfu.EINTERNAL, code)
}

// quiet moves the clock days past the start and runs the stall sweep.
func quiet(t *testing.T, env *apptest.Env, days int) {
	t.Helper()
	env.Clock.Set(apptest.Start.AddDate(0, 0, days).Add(time.Hour))
	require.NoError(t, env.App.DB.InTx(t.Context(), func(tx pgx.Tx) error {
		_, err := env.App.SweepWorker().Sweep(t.Context(), tx)
		return err
	}))
}
