package ledger

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/graduate"
)

// AppendLocked appends an entry, checked like Append's input, to the
// ledger of h's graduate on tx, which must hold the graduate's row lock (h
// was read with graduate.Access forUpdate or graduate.Lock on tx, so its
// head is current). It is for packages that write the ledger as part of a
// change of their own (the 宏志助航 roster records a completed training),
// so that both commit together. The entry is audited and AfterAppend runs,
// as for Append.
func (s *Service) AppendLocked(ctx context.Context, tx pgx.Tx, a bangfu.Actor, h graduate.Header, in Input) (Entry, error) {
	e, err := s.check(in)
	if err != nil {
		return Entry{}, err
	}
	if err := s.append(ctx, tx, a, h, &e, audit.LedgerAppend); err != nil {
		return Entry{}, err
	}
	return e, nil
}
