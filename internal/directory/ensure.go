package directory

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/password"
	"github.com/bangfu/bangfu/internal/postgres"
)

// The Ensure functions make a record exist as given, creating it or
// bringing it back to the given state, so that loading seed data (the demo)
// twice changes nothing the second time.

// EnsureSchool makes the school with in.Code exist with in's name and region.
func (s *Service) EnsureSchool(ctx context.Context, in SchoolInput) (School, error) {
	var sc School
	err := s.DB.Pool.QueryRow(ctx, `INSERT INTO schools (code, name, region) VALUES ($1, $2, $3)
		ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, region = EXCLUDED.region
		RETURNING id, code, name, region, created_at`, in.Code, in.Name, in.Region).
		Scan(&sc.ID, &sc.Code, &sc.Name, &sc.Region, &sc.CreatedAt)
	return sc, postgres.FormatError(err, "school")
}

// EnsureDepartment makes the department name of school exist.
func (s *Service) EnsureDepartment(ctx context.Context, schoolID int64, name string) (Department, error) {
	var d Department
	err := s.DB.Pool.QueryRow(ctx, `INSERT INTO departments (school_id, name) VALUES ($1, $2)
		ON CONFLICT (school_id, name) DO UPDATE SET name = EXCLUDED.name
		RETURNING id, school_id, name, created_at`, schoolID, strings.TrimSpace(name)).
		Scan(&d.ID, &d.SchoolID, &d.Name, &d.CreatedAt)
	return d, postgres.FormatError(err, "department")
}

// EnsureUser makes the user in.Username exist, enabled, with in's name,
// role, school, department and password. A student account keeps the
// graduate file it is linked to.
func (s *Service) EnsureUser(ctx context.Context, in UserInput) (User, error) {
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	var p bangfu.Problems
	checkPlacement(&p, in.Role, in.SchoolID, in.DepartmentID, in.BaseID)
	if msg := password.CheckStrength(in.Password); msg != "" {
		p.Add("password", msg)
	}
	if err := p.Err(); err != nil {
		return User{}, err
	}
	hash, err := password.Hash(in.Password, s.PasswordParams)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.DB.InTx(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `INSERT INTO users (username, display_name, role, school_id, department_id, email, password_hash, base_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (username) DO UPDATE SET display_name = EXCLUDED.display_name, role = EXCLUDED.role,
				school_id = EXCLUDED.school_id, department_id = EXCLUDED.department_id, email = EXCLUDED.email,
				password_hash = EXCLUDED.password_hash, base_id = EXCLUDED.base_id, disabled = false, updated_at = now(), version = users.version + 1
			RETURNING `+userColumns,
			in.Username, in.DisplayName, in.Role, in.SchoolID, in.DepartmentID, in.Email, hash, in.BaseID)
		if u, err = pgx.CollectExactlyOneRow(rows, scanUser); err != nil {
			return postgres.FormatError(err, "user")
		}
		if s.OnUserChanged != nil {
			return s.OnUserChanged(ctx, tx, u.ID)
		}
		return nil
	})
	return u, err
}
