package bangfu

import "context"

// Role is what a user is in the product (see docs/architecture.md).
type Role string

// The roles: a graduate, their counselor (辅导员), a school or department
// supervisor, province staff and the system administrator.
const (
	RoleStudent    Role = "student"
	RoleCounselor  Role = "counselor"
	RoleSupervisor Role = "supervisor"
	RoleProvince   Role = "province"
	RoleAdmin      Role = "admin"
)

// Roles lists every role, in order of reach.
var Roles = []Role{RoleStudent, RoleCounselor, RoleSupervisor, RoleProvince, RoleAdmin}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	switch r {
	case RoleStudent, RoleCounselor, RoleSupervisor, RoleProvince, RoleAdmin:
		return true
	}
	return false
}

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
	// IP is the client address, for the audit log.
	IP string
}

// InSchool reports whether the actor belongs to school id.
func (a Actor) InSchool(id int64) bool { return a.SchoolID != nil && *a.SchoolID == id }

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
