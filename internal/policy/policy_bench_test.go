package policy_test

import (
	"testing"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/policy"
)

// BenchmarkAuthorize is the per-request authorization: the role check of
// the route and the record rule for one graduate.
func BenchmarkAuthorize(b *testing.B) {
	school, dept, counselor := int64(7), int64(3), int64(42)
	a := bangfu.Actor{UserID: 99, Role: bangfu.RoleSupervisor, SchoolID: &school, DepartmentID: &dept}
	r := policy.Record{StudentID: 1, SchoolID: school, DepartmentID: &dept, CounselorID: &counselor}
	b.ReportAllocs()
	for b.Loop() {
		if !policy.Allowed(a.Role, policy.LedgerAppend) || !policy.Sees(a, r) {
			b.Fatal("denied")
		}
	}
}
