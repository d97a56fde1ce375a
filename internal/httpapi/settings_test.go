package httpapi_test

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
)

// TestSettingsConcurrentAdmins: six admins PUT the settings at once, each
// retrying on the version it last read. Exactly one write succeeds per
// version; every other write based on that version is refused (412), and
// the audit log holds exactly one change per version.
func TestSettingsConcurrentAdmins(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	const admins, rounds = 6, 15
	tokens := make([]string, admins)
	for i := range tokens {
		tokens[i] = env.Token(t, env.MustUser(t, bangfu.RoleAdmin, nil))
	}
	var (
		mu       sync.Mutex
		accepted = map[int][]int{} // version written on -> admins
		refused  int
		wg       sync.WaitGroup
	)
	for i := range admins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range rounds {
				r := env.Get(t, "/api/v1/settings", tokens[i])
				if r.Status != http.StatusOK {
					t.Errorf("read: %d %s", r.Status, r.Body)
					return
				}
				base := r.ETagVersion(t)
				body := fmt.Sprintf(`{"stall_days":[14,21,35],"default_cadence_days":%d}`, 1+(i*rounds+round)%90)
				w := env.Do(t, apptest.Call{Method: http.MethodPut, Path: "/api/v1/settings", Token: tokens[i], Body: body,
					Header: map[string]string{"If-Match": strconv.Quote(strconv.Itoa(base))}})
				mu.Lock()
				switch w.Status {
				case http.StatusOK:
					accepted[base] = append(accepted[base], i)
					if got := w.ETagVersion(t); got != base+1 {
						t.Errorf("a write on version %d made version %d", base, got)
					}
				case http.StatusPreconditionFailed:
					refused++
				default:
					t.Errorf("write: %d %s", w.Status, w.Body)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for v, who := range accepted {
		require.Len(t, who, 1, "version %d was written by admins %v: a lost update", v, who)
	}
	final := env.Get(t, "/api/v1/settings", tokens[0]).ETagVersion(t)
	require.Equal(t, 1+len(accepted), final, "one version per accepted write")
	var audited int
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = 'settings.change'`).Scan(&audited))
	require.Equal(t, len(accepted), audited)
	require.Equal(t, admins*rounds, len(accepted)+refused)
	require.Positive(t, refused, "the admins did collide")
	t.Logf("%d writes accepted, %d refused with 412", len(accepted), refused)
}
