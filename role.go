package bangfu

import "context"

// Role is what a user is in the product (see docs/architecture.md).
type Role string

// The roles: a graduate, their counselor (辅导员), a school or department
// supervisor, province staff, the system administrator, and the staff of a
// 宏志助航 training base.
const (
	RoleStudent    Role = "student"
	RoleCounselor  Role = "counselor"
	RoleSupervisor Role = "supervisor"
	RoleProvince   Role = "province"
	RoleAdmin      Role = "admin"
	RoleBase       Role = "base"
)

// Roles lists every role, in order of reach; the training base, outside
// the schools, comes last.
var Roles = []Role{RoleStudent, RoleCounselor, RoleSupervisor, RoleProvince, RoleAdmin, RoleBase}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	switch r {
	case RoleStudent, RoleCounselor, RoleSupervisor, RoleProvince, RoleAdmin, RoleBase:
		return true
	}
	return false
}

// NeedsBase reports whether a user of this role must belong to a training
// base (and to no school).
func (r Role) NeedsBase() bool { return r == RoleBase }

// NeedsSchool reports whether a user of this role must belong to a school.
func (r Role) NeedsSchool() bool {
	return r == RoleStudent || r == RoleCounselor || r == RoleSupervisor
}

// Actor is the authenticated user on whose behalf work is done. It comes
// from a verified access token; its fields are what authorization needs.
type Actor struct {
	UserID       int64
	Username     string
	Role         Role
	SchoolID     *int64
	DepartmentID *int64
	// StudentID links a student account to its graduate file.
	StudentID *int64
	// BaseID is the training base a base user works for.
	BaseID *int64
	// IP is the client address, for the audit log.
	IP string
}

// InSchool reports whether the actor belongs to school id.
func (a Actor) InSchool(id int64) bool { return a.SchoolID != nil && *a.SchoolID == id }

// AtBase reports whether the actor is staff of training base id.
func (a Actor) AtBase(id int64) bool {
	return a.Role == RoleBase && a.BaseID != nil && *a.BaseID == id
}

type actorKey struct{}

// WithActor returns a context carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx, if any.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}
