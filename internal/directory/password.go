package directory

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/password"
	"github.com/bangfu/bangfu/internal/postgres"
)

// SetPasswordTx sets user id's password on tx, the caller's transaction,
// and revokes the user's refresh tokens there (OnUserChanged), so that the
// old password's sessions end with the change. A weak password is
// invalid, naming "password"; an unknown user is not_found.
func (s *Service) SetPasswordTx(ctx context.Context, tx pgx.Tx, id int64, pw string) error {
	if msg := password.CheckStrength(pw); msg != "" {
		return (bangfu.Problems{"password": msg}).Err()
	}
	hash, err := password.Hash(pw, s.PasswordParams)
	if err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, updated_at = now(), version = version + 1 WHERE id = $1`, id, hash)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return bangfu.NotFound("user")
	}
	if s.OnUserChanged != nil {
		return s.OnUserChanged(ctx, tx, id)
	}
	return nil
}

// Names returns the display names of the users ids, in one query; ids
// that name no user are left out.
func (s *Service) Names(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT id, display_name FROM users WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, err
	}
	var id int64
	var name string
	_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error {
		out[id] = name
		return nil
	})
	return out, postgres.FormatError(err, "user")
}
