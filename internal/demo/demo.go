// Package demo loads the demonstration data that `make run` shows: one
// school with a department, one user of every role and, once the graduate
// records exist, a caseload to look at. Loading twice changes nothing.
package demo

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/app"
	"github.com/bangfu/bangfu/internal/password"
)

// Login is a demo user's credentials.
type Login struct {
	Role     bangfu.Role
	Username string
	Password string
}

// School is the demo school's national code.
const School = "4144010564"

// Seed loads the demo data and returns the demo logins. The passwords are
// public, which is why `seed demo` refuses to run in prod.
func Seed(ctx context.Context, a *app.App) ([]Login, error) {
	logins := []Login{
		{bangfu.RoleAdmin, "admin", "bangfu-demo-admin"},
		{bangfu.RoleProvince, "province", "bangfu-demo-province"},
		{bangfu.RoleSupervisor, "supervisor", "bangfu-demo-supervisor"},
		{bangfu.RoleCounselor, "counselor", "bangfu-demo-counselor"},
		{bangfu.RoleStudent, "student", "bangfu-demo-student"},
	}
	err := a.DB.InTx(ctx, func(tx pgx.Tx) error {
		var schoolID, deptID int64
		if err := tx.QueryRow(ctx, `INSERT INTO schools (code, name, region) VALUES ($1, '广东示范职业技术学院', '广州')
			ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name RETURNING id`, School).Scan(&schoolID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO departments (school_id, name) VALUES ($1, '信息工程学院')
			ON CONFLICT (school_id, name) DO UPDATE SET name = EXCLUDED.name RETURNING id`, schoolID).Scan(&deptID); err != nil {
			return err
		}
		names := map[bangfu.Role]string{
			bangfu.RoleAdmin: "系统管理员", bangfu.RoleProvince: "省教育厅 陈处长", bangfu.RoleSupervisor: "就业指导中心 林主任",
			bangfu.RoleCounselor: "辅导员 王老师", bangfu.RoleStudent: "李明",
		}
		for _, l := range logins {
			hash, err := password.Hash(l.Password, password.DefaultParams)
			if err != nil {
				return err
			}
			var sch, dep *int64
			if l.Role.NeedsSchool() {
				sch, dep = &schoolID, &deptID
			}
			if _, err := tx.Exec(ctx, `INSERT INTO users (username, display_name, role, school_id, department_id, password_hash)
				VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (username) DO UPDATE SET display_name = EXCLUDED.display_name, role = EXCLUDED.role,
					school_id = EXCLUDED.school_id, department_id = EXCLUDED.department_id,
					password_hash = EXCLUDED.password_hash, disabled = false, updated_at = now(), version = users.version + 1`,
				l.Username, names[l.Role], l.Role, sch, dep, hash); err != nil {
				return err
			}
		}
		return nil
	})
	return logins, err
}
