// Package directory keeps the schools, their departments and the people who
// log in. Admins manage it; everyone else reads the part of it they belong to.
package directory

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/password"
	"github.com/bangfu/bangfu/internal/postgres"
)

func init() {
	postgres.RegisterConstraint("schools_code_key", "code", "is already used by another school")
	postgres.RegisterConstraint("schools_name_key", "name", "is already used by another school")
	postgres.RegisterConstraint("departments_school_name_key", "name", "is already used by another department of this school")
	postgres.RegisterConstraint("users_username_key", "username", "is already taken")
	postgres.RegisterConstraint("users_department_fkey", "department_id", "is not a department of the user's school")
	postgres.RegisterConstraint("users_school_id_fkey", "school_id", "is not a known school")
	postgres.RegisterConstraint("departments_school_id_fkey", "school_id", "is not a known school")
	postgres.RegisterConstraint("users_base_id_fkey", "base_id", "is not a known training base")
}

// School is an institution whose graduates bangfu follows.
type School struct {
	ID        int64     `json:"id"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	Region    string    `json:"region"`
	CreatedAt time.Time `json:"created_at"`
}

// Department belongs to one school.
type Department struct {
	ID        int64     `json:"id"`
	SchoolID  int64     `json:"school_id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// User is someone who logs in.
type User struct {
	ID           int64       `json:"id"`
	Username     string      `json:"username"`
	DisplayName  string      `json:"display_name"`
	Role         bangfu.Role `json:"role"`
	SchoolID     *int64      `json:"school_id"`
	DepartmentID *int64      `json:"department_id"`
	StudentID    *int64      `json:"student_id"`
	BaseID       *int64      `json:"base_id"`
	Email        string      `json:"email"`
	Disabled     bool        `json:"disabled"`
	CreatedAt    time.Time   `json:"created_at"`
	UpdatedAt    time.Time   `json:"updated_at"`
	Version      int         `json:"version"`
	PasswordHash string      `json:"-"`
}

// ETagVersion is the version clients send back in If-Match.
func (u User) ETagVersion() int { return u.Version }

// Actor returns the actor that u acts as.
func (u User) Actor() bangfu.Actor {
	return bangfu.Actor{UserID: u.ID, Username: u.Username, Role: u.Role, SchoolID: u.SchoolID, DepartmentID: u.DepartmentID,
		StudentID: u.StudentID, BaseID: u.BaseID}
}

// Service reads and changes the directory. Every change made through
// CreateSchool, CreateDepartment, CreateUser and UpdateUser is recorded in
// the audit log, in the change's transaction, with the actor who made it (a
// zero actor is the system: the command line, seed data).
type Service struct {
	DB             *postgres.DB
	Clock          bangfu.Clock
	PasswordParams password.Params
	// OnUserChanged is called, inside the transaction, after a user is
	// disabled, re-roled or re-schooled, or their password reset; auth uses it
	// to revoke the user's refresh tokens.
	OnUserChanged func(ctx context.Context, tx pgx.Tx, userID int64) error
}

var schoolCodeRE = regexp.MustCompile(`^[0-9]{10}$`)

// SchoolInput creates a school.
type SchoolInput struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Region string `json:"region"`
}

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return time.Now()
	}
	return s.Clock.Now()
}

// CreateSchool adds a school. The code is the ten-digit 学校标识码.
func (s *Service) CreateSchool(ctx context.Context, a bangfu.Actor, in SchoolInput) (School, error) {
	in.Code, in.Name, in.Region = strings.TrimSpace(in.Code), strings.TrimSpace(in.Name), strings.TrimSpace(in.Region)
	var p bangfu.Problems
	if in.Code == "" {
		p.Add("code", "is required")
	} else if !schoolCodeRE.MatchString(in.Code) {
		p.Add("code", "must be the ten-digit 学校标识码")
	}
	p.Text("name", in.Name, 100, true)
	p.Text("region", in.Region, 100, false)
	if err := p.Err(); err != nil {
		return School{}, err
	}
	var sc School
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO schools (code, name, region) VALUES ($1, $2, $3)
			RETURNING id, code, name, region, created_at`, in.Code, in.Name, in.Region).
			Scan(&sc.ID, &sc.Code, &sc.Name, &sc.Region, &sc.CreatedAt)
		if err != nil {
			return postgres.FormatError(err, "school")
		}
		return audit.Record(ctx, tx, a, s.now(), audit.Event{Action: audit.SchoolCreate, SchoolID: sc.ID,
			Detail: map[string]any{"code": sc.Code, "name": sc.Name}})
	})
	return sc, err
}

// ListSchools returns the schools a may see: all of them for admin and
// province, their own for everyone else.
func (s *Service) ListSchools(ctx context.Context, a bangfu.Actor, pg bangfu.Page) (bangfu.List[School], error) {
	var only *int64
	if a.Role != bangfu.RoleAdmin && a.Role != bangfu.RoleProvince {
		only = a.SchoolID
		if only == nil {
			return bangfu.NewList[School](nil, pg.Limit, nil), nil
		}
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT id, code, name, region, created_at FROM schools
		WHERE id > $1 AND ($2::bigint IS NULL OR id = $2) ORDER BY id LIMIT $3`, pg.After, only, pg.Limit+1)
	if err != nil {
		return bangfu.List[School]{}, err
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[School])
	return bangfu.NewList(items, pg.Limit, func(s School) int64 { return s.ID }), err
}

// School returns one school.
func (s *Service) School(ctx context.Context, id int64) (School, error) {
	rows, _ := s.DB.Pool.Query(ctx, `SELECT id, code, name, region, created_at FROM schools WHERE id = $1`, id)
	sc, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[School])
	return sc, postgres.FormatError(err, "school")
}

// canSeeSchool hides other schools from school-bound roles as not found.
func canSeeSchool(a bangfu.Actor, schoolID int64) error {
	if a.Role == bangfu.RoleAdmin || a.Role == bangfu.RoleProvince || a.InSchool(schoolID) {
		return nil
	}
	return bangfu.NotFound("school")
}

// CreateDepartment adds a department to a school.
func (s *Service) CreateDepartment(ctx context.Context, a bangfu.Actor, schoolID int64, name string) (Department, error) {
	name = strings.TrimSpace(name)
	var p bangfu.Problems
	p.Text("name", name, 100, true)
	if err := p.Err(); err != nil {
		return Department{}, err
	}
	if _, err := s.School(ctx, schoolID); err != nil {
		return Department{}, err
	}
	var d Department
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO departments (school_id, name) VALUES ($1, $2)
			RETURNING id, school_id, name, created_at`, schoolID, name).Scan(&d.ID, &d.SchoolID, &d.Name, &d.CreatedAt)
		if err != nil {
			return postgres.FormatError(err, "department")
		}
		return audit.Record(ctx, tx, a, s.now(), audit.Event{Action: audit.DepartmentCreate, SchoolID: schoolID,
			Detail: map[string]any{"department_id": d.ID, "name": d.Name}})
	})
	return d, err
}

// ListDepartments lists a school's departments, if a may see the school.
func (s *Service) ListDepartments(ctx context.Context, a bangfu.Actor, schoolID int64, pg bangfu.Page) (bangfu.List[Department], error) {
	if err := canSeeSchool(a, schoolID); err != nil {
		return bangfu.List[Department]{}, err
	}
	if _, err := s.School(ctx, schoolID); err != nil {
		return bangfu.List[Department]{}, err
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT id, school_id, name, created_at FROM departments
		WHERE school_id = $1 AND id > $2 ORDER BY id LIMIT $3`, schoolID, pg.After, pg.Limit+1)
	if err != nil {
		return bangfu.List[Department]{}, err
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Department])
	return bangfu.NewList(items, pg.Limit, func(d Department) int64 { return d.ID }), err
}

// DepartmentsOf returns every department of the given schools a may see,
// by school, in id order: one statement for a directory page that shows
// them all (ListDepartments pages one school's).
func (s *Service) DepartmentsOf(ctx context.Context, a bangfu.Actor, schoolIDs []int64) (map[int64][]Department, error) {
	for _, id := range schoolIDs {
		if err := canSeeSchool(a, id); err != nil {
			return nil, err
		}
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT id, school_id, name, created_at FROM departments
		WHERE school_id = ANY($1) ORDER BY school_id, id`, schoolIDs)
	if err != nil {
		return nil, err
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Department])
	if err != nil {
		return nil, err
	}
	out := make(map[int64][]Department, len(schoolIDs))
	for _, d := range items {
		out[d.SchoolID] = append(out[d.SchoolID], d)
	}
	return out, nil
}

const userColumns = `id, username, display_name, role, school_id, department_id, student_id, base_id, email, disabled, created_at, updated_at, version, password_hash`

func scanUser(row pgx.CollectableRow) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Role, &u.SchoolID, &u.DepartmentID, &u.StudentID, &u.BaseID,
		&u.Email, &u.Disabled, &u.CreatedAt, &u.UpdatedAt, &u.Version, &u.PasswordHash)
	return u, err
}

// UserInput creates a user.
type UserInput struct {
	Username     string      `json:"username"`
	DisplayName  string      `json:"display_name"`
	Role         bangfu.Role `json:"role"`
	SchoolID     *int64      `json:"school_id"`
	DepartmentID *int64      `json:"department_id"`
	// BaseID is the training base of a base user (and of no other).
	BaseID   *int64 `json:"base_id"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)

// roleList names the roles in problems.
const roleList = "student, counselor, supervisor, province, admin, base"

func checkPlacement(p *bangfu.Problems, role bangfu.Role, schoolID, departmentID, baseID *int64) {
	switch {
	case !role.Valid():
		p.Add("role", "must be one of "+roleList)
	case role.NeedsBase() && baseID == nil:
		p.Add("base_id", "is required for role base: the training base the user works for")
	case !role.NeedsBase() && baseID != nil:
		p.Add("base_id", "must be empty for role "+string(role))
	case role.NeedsSchool() && schoolID == nil:
		p.Add("school_id", "is required for role "+string(role))
	case !role.NeedsSchool() && schoolID != nil:
		p.Add("school_id", "must be empty for role "+string(role))
	case departmentID != nil && schoolID == nil:
		p.Add("department_id", "needs a school_id")
	}
}

// CreateUser adds a user with a password, audited as a's doing.
func (s *Service) CreateUser(ctx context.Context, a bangfu.Actor, in UserInput) (User, error) {
	var u User
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		if u, err = s.CreateUserTx(ctx, tx, in, nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, s.now(), audit.Event{Action: audit.UserCreate, SchoolID: deref(u.SchoolID),
			Detail: map[string]any{"user_id": u.ID, "username": u.Username, "role": u.Role, "department_id": u.DepartmentID}})
	})
	return u, err
}

func deref(id *int64) int64 {
	if id == nil {
		return 0
	}
	return *id
}

// CreateUserTx adds a user on q; studentID links a student account to its
// graduate file. The caller records the audit row (a graduate's account is
// audited as student.account).
func (s *Service) CreateUserTx(ctx context.Context, q postgres.Querier, in UserInput, studentID *int64) (User, error) {
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	if in.DisplayName == "" {
		in.DisplayName = in.Username
	}
	in.Email = strings.TrimSpace(in.Email)
	var p bangfu.Problems
	if in.Username == "" {
		p.Add("username", "is required")
	} else if !usernameRE.MatchString(in.Username) {
		p.Add("username", "must be 3-64 lowercase letters, digits, '.', '_' or '-'")
	}
	if in.Username != "" {
		p.Text("display_name", in.DisplayName, 100, true)
	}
	if in.Role == "" {
		p.Add("role", "is required")
	}
	checkPlacement(&p, in.Role, in.SchoolID, in.DepartmentID, in.BaseID)
	p.Email("email", in.Email)
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
	rows, _ := q.Query(ctx, `INSERT INTO users (username, display_name, role, school_id, department_id, email, password_hash, student_id, base_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING `+userColumns,
		in.Username, in.DisplayName, in.Role, in.SchoolID, in.DepartmentID, in.Email, hash, studentID, in.BaseID)
	u, err := pgx.CollectExactlyOneRow(rows, scanUser)
	return u, postgres.FormatError(err, "user")
}

// UserFilter narrows ListUsers.
type UserFilter struct {
	Role     bangfu.Role
	SchoolID *int64
}

// ListUsers lists users, newest last, for admins.
func (s *Service) ListUsers(ctx context.Context, f UserFilter, pg bangfu.Page) (bangfu.List[User], error) {
	if f.Role != "" && !f.Role.Valid() {
		return bangfu.List[User]{}, (bangfu.Problems{"role": "must be one of " + roleList}).Err()
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT `+userColumns+` FROM users
		WHERE id > $1 AND ($2 = '' OR role = $2) AND ($3::bigint IS NULL OR school_id = $3)
		ORDER BY id LIMIT $4`, pg.After, string(f.Role), f.SchoolID, pg.Limit+1)
	if err != nil {
		return bangfu.List[User]{}, err
	}
	items, err := pgx.CollectRows(rows, scanUser)
	return bangfu.NewList(items, pg.Limit, func(u User) int64 { return u.ID }), err
}

// User returns one user.
func (s *Service) User(ctx context.Context, id int64) (User, error) {
	rows, _ := s.DB.Pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
	u, err := pgx.CollectExactlyOneRow(rows, scanUser)
	return u, postgres.FormatError(err, "user")
}

// UserByUsername returns the user with that (case-insensitive) username.
func (s *Service) UserByUsername(ctx context.Context, username string) (User, error) {
	rows, _ := s.DB.Pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE username = lower($1)`, username)
	u, err := pgx.CollectExactlyOneRow(rows, scanUser)
	return u, postgres.FormatError(err, "user")
}

// UserPatch changes a user; absent fields stay as they are.
type UserPatch struct {
	DisplayName  *string                `json:"display_name"`
	Email        *string                `json:"email"`
	Role         *bangfu.Role           `json:"role"`
	SchoolID     bangfu.Nullable[int64] `json:"school_id"`
	DepartmentID bangfu.Nullable[int64] `json:"department_id"`
	BaseID       bangfu.Nullable[int64] `json:"base_id"`
	Disabled     *bool                  `json:"disabled"`
	Password     *string                `json:"password"`
}

// UpdateUser applies patch to user id if its version is still version, and
// records which fields a changed (never a password, only that it was
// reset). It returns precondition_failed when someone changed the user in
// between.
func (s *Service) UpdateUser(ctx context.Context, a bangfu.Actor, id int64, version int, patch UserPatch) (User, error) {
	var out User
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 FOR UPDATE`, id)
		u, err := pgx.CollectExactlyOneRow(rows, scanUser)
		if err != nil {
			return postgres.FormatError(err, "user")
		}
		if u.Version != version {
			return bangfu.Errorf(bangfu.EPRECONDITIONFAILED, "The user was changed since version %d; reload it (now version %d).", version, u.Version)
		}
		before := u
		var p bangfu.Problems
		if patch.DisplayName != nil {
			u.DisplayName = strings.TrimSpace(*patch.DisplayName)
			p.Text("display_name", u.DisplayName, 100, true)
		}
		if patch.Email != nil {
			u.Email = strings.TrimSpace(*patch.Email)
			p.Email("email", u.Email)
		}
		if patch.Role != nil {
			u.Role = *patch.Role
			if !u.Role.NeedsSchool() {
				// Province, admin and base users belong to no school.
				u.SchoolID, u.DepartmentID = nil, nil
			}
			if !u.Role.NeedsBase() {
				u.BaseID = nil
			}
		}
		if patch.BaseID.Set {
			u.BaseID = patch.BaseID.Ptr()
		}
		if patch.SchoolID.Set {
			u.SchoolID = patch.SchoolID.Ptr()
			if !patch.DepartmentID.Set {
				u.DepartmentID = nil
			}
		}
		if patch.DepartmentID.Set {
			u.DepartmentID = patch.DepartmentID.Ptr()
		}
		checkPlacement(&p, u.Role, u.SchoolID, u.DepartmentID, u.BaseID)
		if patch.Disabled != nil {
			u.Disabled = *patch.Disabled
		}
		if patch.Password != nil {
			if msg := password.CheckStrength(*patch.Password); msg != "" {
				p.Add("password", msg)
			} else if u.PasswordHash, err = password.Hash(*patch.Password, s.PasswordParams); err != nil {
				return err
			}
		}
		if err := p.Err(); err != nil {
			return err
		}
		rows, _ = tx.Query(ctx, `UPDATE users SET display_name = $2, email = $3, role = $4, school_id = $5, department_id = $6,
			disabled = $7, password_hash = $8, base_id = $9, updated_at = now(), version = version + 1
			WHERE id = $1 RETURNING `+userColumns,
			id, u.DisplayName, u.Email, u.Role, u.SchoolID, u.DepartmentID, u.Disabled, u.PasswordHash, u.BaseID)
		out, err = pgx.CollectExactlyOneRow(rows, scanUser)
		if err != nil {
			return postgres.FormatError(err, "user")
		}
		changed := changedFields(before, out)
		if len(changed) > 0 {
			detail := map[string]any{"user_id": id}
			for _, f := range changed {
				switch f {
				case "role":
					detail["role"] = map[string]any{"from": before.Role, "to": out.Role}
				case "school_id":
					detail["school_id"] = map[string]any{"from": before.SchoolID, "to": out.SchoolID}
				case "department_id":
					detail["department_id"] = map[string]any{"from": before.DepartmentID, "to": out.DepartmentID}
				case "disabled":
					detail["disabled"] = out.Disabled
				}
			}
			school := deref(out.SchoolID)
			if school == 0 {
				school = deref(before.SchoolID)
			}
			if err := audit.Record(ctx, tx, a, s.now(), audit.Event{Action: audit.UserUpdate, SchoolID: school, Fields: changed, Detail: detail}); err != nil {
				return err
			}
		}
		changedAccess := before.Role != out.Role || !eq(before.SchoolID, out.SchoolID) ||
			!eq(before.DepartmentID, out.DepartmentID) || !eq(before.BaseID, out.BaseID) || out.Disabled || before.PasswordHash != out.PasswordHash
		if changedAccess && s.OnUserChanged != nil {
			return s.OnUserChanged(ctx, tx, id)
		}
		return nil
	})
	return out, err
}

// changedFields names the fields that differ between before and after;
// "password" when the password was reset.
func changedFields(before, after User) []string {
	var out []string
	for _, f := range []struct {
		name string
		diff bool
	}{
		{"display_name", before.DisplayName != after.DisplayName},
		{"email", before.Email != after.Email},
		{"role", before.Role != after.Role},
		{"school_id", !eq(before.SchoolID, after.SchoolID)},
		{"department_id", !eq(before.DepartmentID, after.DepartmentID)},
		{"disabled", before.Disabled != after.Disabled},
		{"password", before.PasswordHash != after.PasswordHash},
	} {
		if f.diff {
			out = append(out, f.name)
		}
	}
	return out
}

// Counselors returns the enabled counselors of a's school, by name: the
// people a supervisor assigns graduates to. Anyone without a school gets
// none.
func (s *Service) Counselors(ctx context.Context, a bangfu.Actor) ([]User, error) {
	if a.SchoolID == nil {
		return []User{}, nil
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT `+userColumns+` FROM users
		WHERE school_id = $1 AND role = 'counselor' AND NOT disabled ORDER BY display_name, id`, *a.SchoolID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanUser)
}

func eq(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
