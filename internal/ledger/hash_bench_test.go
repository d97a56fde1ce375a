package ledger_test

import (
	"testing"
	"time"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/ledger"
)

// BenchmarkComputeHash is the chain hash of one entry: canonical JSON and
// SHA-256, done on every append and for every entry a verification reads.
func BenchmarkComputeHash(b *testing.B) {
	due := bangfu.NewDate(2026, time.July, 1)
	e := &ledger.Entry{StudentID: 123456, Seq: 17, Kind: "referral", Channel: "phone",
		OccurredAt: time.Now(), Summary: "推荐广州某科技有限公司运维岗位，学生表示愿意面试，约定下周三前反馈面试结果。",
		NextStep: "跟进面试结果", NextFollowupOn: &due, Visibility: "internal",
		Referral: &ledger.Referral{Employer: "广州某科技有限公司", CreditCode: "9144030071526726XG", Position: "运维工程师"},
		AuthorID: 42, RecordedAt: time.Now()}
	prev := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		prev = ledger.ComputeHash(e, prev)
	}
}
