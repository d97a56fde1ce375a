package demo

import (
	"context"
	"fmt"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/directory"
)

// person is a demo user other than the graduates' own logins.
type person struct {
	Login
	name string
	dept string // "" for school-wide (or no school)
}

var people = []person{
	{Login{bangfu.RoleAdmin, "admin", "bangfu-demo-admin"}, "系统管理员", ""},
	{Login{bangfu.RoleProvince, "province", "bangfu-demo-province"}, "省教育厅 陈处长", ""},
	// The supervisor heads the school's employment centre: school-wide.
	{Login{bangfu.RoleSupervisor, "supervisor", "bangfu-demo-supervisor"}, "就业指导中心 林主任", ""},
	{Login{bangfu.RoleSupervisor, "dept-supervisor", "bangfu-demo-dept-supervisor"}, "信息工程学院 何书记", infoDept},
	{Login{bangfu.RoleCounselor, "counselor", "bangfu-demo-counselor"}, "辅导员 王老师", infoDept},
	{Login{bangfu.RoleCounselor, "counselor2", "bangfu-demo-counselor2"}, "辅导员 张老师", econDept},
}

// The demo school's departments.
const (
	infoDept = "信息工程学院"
	econDept = "经济管理学院"
)

// people makes the school, its departments and the staff logins.
func (d *demo) people(ctx context.Context) error {
	a := d.app
	school, err := a.Directory.EnsureSchool(ctx, directory.SchoolInput{Code: School, Name: "广东示范职业技术学院", Region: "广州"})
	if err != nil {
		return err
	}
	d.school = school.ID
	d.depts = map[string]int64{}
	for _, name := range []string{infoDept, econDept} {
		dept, err := a.Directory.EnsureDepartment(ctx, school.ID, name)
		if err != nil {
			return err
		}
		d.depts[name] = dept.ID
	}
	d.users = map[string]bangfu.Actor{}
	for _, p := range people {
		in := directory.UserInput{Username: p.Username, DisplayName: p.name, Role: p.Role, Password: p.Password}
		if p.Role.NeedsSchool() {
			in.SchoolID = &school.ID
		}
		if p.dept != "" {
			id := d.depts[p.dept]
			in.DepartmentID = &id
		}
		u, err := a.Directory.EnsureUser(ctx, in)
		if err != nil {
			return fmt.Errorf("user %s: %w", p.Username, err)
		}
		d.users[p.Username] = u.Actor()
		d.logins = append(d.logins, p.Login)
	}
	return nil
}
