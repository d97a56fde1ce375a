package httpapi_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/cnid"
)

type entryJSON struct {
	Seq         int    `json:"seq"`
	Kind        string `json:"kind"`
	Summary     string `json:"summary"`
	Visibility  string `json:"visibility"`
	Hash        string `json:"hash"`
	PrevHash    string `json:"prev_hash"`
	CorrectsSeq *int   `json:"corrects_seq"`
	CorrectedBy []int  `json:"corrected_by"`
}

func contact(summary, visibility string, at time.Time) map[string]any {
	return map[string]any{"kind": "contact", "channel": "phone", "occurred_at": at.Format(time.RFC3339),
		"summary": summary, "visibility": visibility}
}

func listLedger(t *testing.T, env *apptest.Env, path, token string) []entryJSON {
	t.Helper()
	r := env.Get(t, path, token)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var l struct{ Items []entryJSON }
	r.JSON(t, &l)
	return l.Items
}

func TestLedgerAppendAndRead(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	st := env.MustStudent(t, cl.counselor)
	tok := cl.tok(t, cl.counselor)
	now := env.Clock.Now()

	r := env.Post(t, studentPath(st.ID, "/ledger"), tok, contact("电话沟通求职意向", "shared", now.Add(-time.Hour)))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var first entryJSON
	r.JSON(t, &first)
	require.Equal(t, 1, first.Seq)
	require.Empty(t, first.PrevHash)
	require.Len(t, first.Hash, 64)

	first17 := "91440101MA5CXXXX0"
	code := first17 + string(cnid.CreditCodeCheck(first17))
	r = env.Post(t, studentPath(st.ID, "/ledger"), tok, map[string]any{
		"kind": "referral", "occurred_at": now.Format(time.RFC3339), "summary": "推荐运维岗位",
		"referral":         map[string]string{"employer": "广州某科技有限公司", "credit_code": code, "position": "运维工程师"},
		"next_followup_on": "2026-06-08",
	})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var second entryJSON
	r.JSON(t, &second)
	require.Equal(t, 2, second.Seq)
	require.Equal(t, first.Hash, second.PrevHash, "each entry chains to the one before")

	// Counts for lists come without reading the ledger.
	file := env.Get(t, studentPath(st.ID), tok).Map(t)
	require.Equal(t, float64(1), file["contacts_count"])
	require.Equal(t, float64(1), file["referrals_count"])
	require.NotNil(t, file["last_contact_at"])

	// The student sees only what was shared with them.
	account := env.Post(t, studentPath(st.ID, "/account"), tok, map[string]string{"username": "li.ming", "password": "student password"})
	require.Equal(t, http.StatusCreated, account.Status, "%s", account.Body)
	stu := mustLoginAs(t, env, "li.ming", "student password")
	mine := listLedger(t, env, "/api/v1/me/ledger", stu.AccessToken)
	require.Len(t, mine, 1)
	require.Equal(t, "电话沟通求职意向", mine[0].Summary)
	require.Len(t, listLedger(t, env, studentPath(st.ID, "/ledger"), stu.AccessToken), 1)
	require.Len(t, listLedger(t, env, studentPath(st.ID, "/ledger"), tok), 2)
	require.Len(t, listLedger(t, env, studentPath(st.ID, "/ledger"), cl.tok(t, cl.province)), 2)

	other := env.MustStudent(t, cl.counselor)
	require.Equal(t, http.StatusNotFound, env.Get(t, studentPath(other.ID, "/ledger"), stu.AccessToken).Status, "a student reads only their own ledger")

	r = env.Post(t, studentPath(st.ID, "/ledger"), tok, map[string]any{"kind": "visit", "occurred_at": now.Add(time.Hour).Format(time.RFC3339),
		"next_followup_on": "2020-01-01", "visibility": "public", "referral": map[string]string{"credit_code": "123"}})
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Equal(t, map[string]string{
		"kind":                 "must be one of contact, referral, note, outcome",
		"occurred_at":          "cannot be in the future",
		"summary":              "is required",
		"next_followup_on":     "is in the past",
		"visibility":           "must be internal or shared",
		"referral.employer":    "is required",
		"referral.position":    "is required",
		"referral.credit_code": "must be 18 characters",
	}, fields)
	require.Len(t, listLedger(t, env, studentPath(st.ID, "/ledger"), tok), 2, "nothing half-written")
}

func mustLoginAs(t *testing.T, env *apptest.Env, username, password string) loginResult {
	t.Helper()
	r := login(t, env, username, password)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var lr loginResult
	r.JSON(t, &lr)
	return lr
}

func TestLedgerCorrections(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	st := env.MustStudent(t, cl.counselor)
	tok := cl.tok(t, cl.counselor)
	require.Equal(t, http.StatusCreated, env.Post(t, studentPath(st.ID, "/ledger"), tok, contact("约定周三面谈", "shared", env.Clock.Now())).Status)

	r := env.Post(t, studentPath(st.ID, "/ledger/1/corrections"), tok, map[string]string{"summary": "约定周四面谈", "reason": "日期记错"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var corr entryJSON
	r.JSON(t, &corr)
	require.Equal(t, "correction", corr.Kind)
	require.Equal(t, 1, *corr.CorrectsSeq)
	require.Equal(t, "shared", corr.Visibility, "a correction is seen by whoever saw the entry")

	entries := listLedger(t, env, studentPath(st.ID, "/ledger"), tok)
	require.Len(t, entries, 2, "both the entry and its correction are kept")
	require.Equal(t, "约定周三面谈", entries[0].Summary)
	require.Equal(t, []int{2}, entries[0].CorrectedBy)

	require.Equal(t, http.StatusNotFound, env.Post(t, studentPath(st.ID, "/ledger/9/corrections"), tok, map[string]string{"summary": "x", "reason": "y"}).Status)
	r = env.Post(t, studentPath(st.ID, "/ledger/1/corrections"), tok, map[string]string{})
	_, fields := r.Error(t)
	require.Equal(t, map[string]string{"summary": "is required", "reason": "is required"}, fields)

	_, err := env.App.DB.Pool.Exec(t.Context(), `UPDATE ledger_entries SET summary = 'rewritten' WHERE student_id = $1`, st.ID)
	require.ErrorContains(t, err, "ledger_entries is append-only: UPDATE refused")
	_, err = env.App.DB.Pool.Exec(t.Context(), `DELETE FROM ledger_entries WHERE student_id = $1`, st.ID)
	require.ErrorContains(t, err, "ledger_entries is append-only: DELETE refused")
}

func TestConcurrentAppendsKeepTheChain(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	st := env.MustStudent(t, cl.counselor)
	tokens := []string{cl.tok(t, cl.counselor), cl.tok(t, cl.supervisor)}
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = env.Post(t, studentPath(st.ID, "/ledger"), tokens[i%2], contact(fmt.Sprintf("第%d次联系", i), "internal", env.Clock.Now())).Status
		}()
	}
	wg.Wait()
	for _, s := range statuses {
		require.Equal(t, http.StatusCreated, s)
	}
	entries := listLedger(t, env, studentPath(st.ID, "/ledger?limit=200"), tokens[0])
	require.Len(t, entries, 20)
	for i, e := range entries {
		require.Equal(t, i+1, e.Seq, "seq is contiguous")
		if i > 0 {
			require.Equal(t, entries[i-1].Hash, e.PrevHash)
		}
	}
	r := env.Get(t, studentPath(st.ID, "/ledger/verify"), tokens[1])
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, map[string]any{"intact": true, "entries": float64(20)}, r.Map(t))
}

func TestLedgerTamperingIsDetected(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	st := env.MustStudent(t, cl.counselor)
	tok := cl.tok(t, cl.counselor)
	for i := range 5 {
		require.Equal(t, http.StatusCreated, env.Post(t, studentPath(st.ID, "/ledger"), tok, contact(fmt.Sprintf("联系%d", i), "internal", env.Clock.Now())).Status)
	}
	verify := func() map[string]any {
		r := env.Get(t, studentPath(st.ID, "/ledger/verify"), cl.tok(t, cl.supervisor))
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		return r.Map(t)
	}
	require.Equal(t, true, verify()["intact"])

	// Someone with database access rewrites entry 3 behind the application's back.
	ctx := t.Context()
	conn, err := env.App.DB.Pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, `ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `UPDATE ledger_entries SET summary = '已推荐岗位并签约' WHERE student_id = $1 AND seq = 3`, st.ID)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"intact": false, "first_bad_seq": float64(3), "entries": float64(5)}, verify())

	// Deleting the last entry is found too.
	_, err = conn.Exec(ctx, `UPDATE ledger_entries l SET summary = o.summary FROM (VALUES ('联系2')) o(summary) WHERE l.student_id = $1 AND l.seq = 3`, st.ID)
	require.NoError(t, err)
	require.Equal(t, true, verify()["intact"])
	_, err = conn.Exec(ctx, `DELETE FROM ledger_entries WHERE student_id = $1 AND seq = 5`, st.ID)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"intact": false, "first_bad_seq": float64(5), "entries": float64(4)}, verify())
	_, err = conn.Exec(ctx, `ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only`)
	require.NoError(t, err)
}

func TestGroupContact(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	tok := cl.tok(t, cl.counselor)
	a, b := env.MustStudent(t, cl.counselor), env.MustStudent(t, cl.counselor)
	hidden := env.MustStudent(t, cl.colleague)
	entry := map[string]any{"kind": "contact", "channel": "job_fair", "occurred_at": env.Clock.Now().Format(time.RFC3339), "summary": "参加校园招聘会", "visibility": "shared"}

	r := env.Post(t, "/api/v1/ledger/group", tok, map[string]any{"student_ids": []int64{a.ID, hidden.ID, b.ID}, "entry": entry})
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Equal(t, map[string]string{"student_ids.1": "is not a graduate you can see"}, fields)
	require.Empty(t, listLedger(t, env, studentPath(a.ID, "/ledger"), tok), "all or nothing")

	r = env.Post(t, "/api/v1/ledger/group", tok, map[string]any{"student_ids": []int64{b.ID, a.ID}, "entry": entry})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	for _, st := range []int64{a.ID, b.ID} {
		es := listLedger(t, env, studentPath(st, "/ledger"), tok)
		require.Len(t, es, 1)
		require.Equal(t, "参加校园招聘会", es[0].Summary)
	}
	r = env.Post(t, "/api/v1/ledger/group", tok, map[string]any{"student_ids": []int64{a.ID, a.ID}, "entry": map[string]any{}})
	_, fields = r.Error(t)
	require.Equal(t, "lists a graduate twice", fields["student_ids"])
	require.Equal(t, "is required", fields["entry.summary"])
}

// TestVerifyDuringAppends: verifying a ledger while others append to it
// sees one consistent moment — the head and the entries it chains — so it
// never reports tampering that did not happen, and no false alarm reaches
// the audit log.
func TestVerifyDuringAppends(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school := env.MustSchool(t)
	c := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	token := env.Token(t, c)
	st := env.MustStudent(t, c)
	path := fmt.Sprintf("/api/v1/students/%d/ledger", st.ID)

	const writers, appends = 4, 40
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range appends {
				r := env.Post(t, path, token, contact(fmt.Sprintf("联系 %d-%d", w, i), "internal", env.Clock.Now()))
				if r.Status != http.StatusCreated {
					t.Errorf("append: %d %s", r.Status, r.Body)
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	var verifies int
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		r := env.Get(t, path+"/verify", token)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var v struct {
			Intact  bool `json:"intact"`
			Entries int  `json:"entries"`
		}
		r.JSON(t, &v)
		require.True(t, v.Intact, "verify %d during appends saw %d entries and reported tampering: %s", verifies, v.Entries, r.Body)
		verifies++
	}
	require.Greater(t, verifies, 1)
	env.App.AuditReads.Flush()
	var alarms, recorded int
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE detail->>'intact' = 'false'), count(*)
		FROM audit_log WHERE action = 'ledger.verify' AND student_id = $1`, st.ID).Scan(&alarms, &recorded))
	require.Zero(t, alarms, "false alarms in the audit log")
	require.Equal(t, verifies, recorded)
	t.Logf("%d verifications during %d appends, all intact", verifies, writers*appends)
}
