package graduate

import (
	"context"

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
