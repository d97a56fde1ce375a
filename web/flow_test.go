package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/graduate"
)

// TestContactReachesStudentAndSupervisor walks one contact through the
// three people it concerns, each in their own browser: the counselor logs
// a shared and an internal entry on a 360-px phone; the graduate's portal
// shows the shared one and nothing of the internal one; the supervisor's
// ledger review shows both, marked apart.
func TestContactReachesStudentAndSupervisor(t *testing.T) {
	t.Parallel()
	ce := newCounselorEnv(t, "李明")
	env, st := ce.env, ce.grads[0]
	_, err := env.App.Graduates.CreateAccount(t.Context(), env.App.Directory, ce.counselor.Actor(), st.ID,
		graduate.AccountInput{Username: "li.ming", Password: apptest.Password})
	require.NoError(t, err)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &ce.school.ID)
	const shared, internal = "电话联系：周五参加校园招聘会", "家庭经济压力大，建议安排心理老师谈话"

	ph := tab(t, phone)
	loginAs(t, ph, env, ce.counselor)
	logContact(t, ph, env, st.ID, shared, true)
	logContact(t, ph, env, st.ID, internal, false)
	require.Equal(t, 2, count(t, ph, "#timeline > li"))

	student := tab(t, phone)
	login(t, student, env.URL, "li.ming", apptest.Password)
	require.NoError(t, chromedp.Do(student, chromedp.WaitVisible("#shared-entries")))
	require.Contains(t, text(t, student, "#shared-entries"), shared, "the graduate sees the shared entry")
	html, err := chromedp.Run(student, chromedp.OuterHTML("html"))
	require.NoError(t, err)
	require.NotContains(t, html, internal, "and nothing of the internal one, not even in the page's HTML")
	accessible(t, student)

	sup := tab(t, desktop)
	loginAs(t, sup, env, supervisor)
	open(t, sup, env, "/review")
	require.Equal(t, 2, count(t, sup, fmt.Sprintf(`#review-table tr.entry[data-student="%d"]`, st.ID)))
	require.Contains(t, text(t, sup, "#review-table tr.entry.shared"), shared)
	require.Contains(t, text(t, sup, "#review-table tr.entry.internal"), internal, "the supervisor sees both, marked apart")
	accessible(t, sup)
}
