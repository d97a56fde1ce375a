package graduate

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/postgres"
)

// AccountInput creates a graduate's own login.
type AccountInput struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// CreateAccount gives the graduate a student login linked to their file,
// in their school and department. A file has at most one account.
func (s *Service) CreateAccount(ctx context.Context, dir *directory.Service, a bangfu.Actor, studentID int64, in AccountInput) (directory.User, error) {
	var u directory.User
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		h, err := Access(ctx, tx, a, studentID, true)
		if err != nil {
			return err
		}
		var name string
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT name, EXISTS (SELECT 1 FROM users WHERE student_id = $1) FROM students WHERE id = $1`, studentID).
			Scan(&name, &taken); err != nil {
			return err
		}
		if taken {
			return bangfu.Errorf(bangfu.ECONFLICT, "This graduate already has an account.")
		}
		u, err = dir.CreateUserTx(ctx, tx, directory.UserInput{
			Username: in.Username, DisplayName: name, Role: bangfu.RoleStudent,
			SchoolID: &h.SchoolID, DepartmentID: h.DepartmentID, Password: in.Password,
		}, &studentID)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, s.Clock.Now(), audit.Event{Action: audit.StudentAccount, StudentID: studentID, SchoolID: h.SchoolID,
			Detail: map[string]any{"user_id": u.ID}})
	})
	return u, postgres.FormatError(err, "account")
}

// Account is a graduate's own login as their counselor sees it.
type Account struct {
	UserID    int64     `json:"user_id"`
	Username  string    `json:"username"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// AccountOf returns the graduate's own login, or nil when they have none,
// if a may see the graduate (not_found otherwise).
func (s *Service) AccountOf(ctx context.Context, a bangfu.Actor, studentID int64) (*Account, error) {
	if _, err := Access(ctx, s.DB.Pool, a, studentID, false); err != nil {
		return nil, err
	}
	var acc Account
	err := s.DB.Pool.QueryRow(ctx, `SELECT id, username, disabled, created_at FROM users WHERE student_id = $1`, studentID).
		Scan(&acc.UserID, &acc.Username, &acc.Disabled, &acc.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &acc, nil
}

// PasswordInput is a new password for a graduate's own login.
type PasswordInput struct {
	Password string `json:"password"`
}

// ResetAccountPassword sets a new password on the graduate's own login, for
// their assigned counselor or a supervisor whose scope holds them (others:
// not_found, like a graduate they cannot see). The graduate's sessions end
// (their refresh tokens are revoked in the same transaction) and the reset
// is audited. A graduate without a login is not_found ("account"); a weak
// password is invalid.
func (s *Service) ResetAccountPassword(ctx context.Context, dir *directory.Service, a bangfu.Actor, studentID int64, in PasswordInput) error {
	if a.Role != bangfu.RoleCounselor && a.Role != bangfu.RoleSupervisor {
		return bangfu.NotFound("graduate")
	}
	return s.DB.InTx(ctx, func(tx pgx.Tx) error {
		h, err := Access(ctx, tx, a, studentID, true)
		if err != nil {
			return err
		}
		var userID int64
		err = tx.QueryRow(ctx, `SELECT id FROM users WHERE student_id = $1 FOR UPDATE`, studentID).Scan(&userID)
		if errors.Is(err, pgx.ErrNoRows) {
			return bangfu.NotFound("account")
		}
		if err != nil {
			return err
		}
		if err := dir.SetPasswordTx(ctx, tx, userID, in.Password); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, s.Clock.Now(), audit.Event{Action: audit.StudentAccount, StudentID: studentID, SchoolID: h.SchoolID,
			Fields: []string{"password"}, Detail: map[string]any{"user_id": userID, "reset": true}})
	})
}
