package bangfu

import (
	"context"
	"time"
	_ "time/tzdata" // Asia/Shanghai must resolve on machines without zoneinfo
)

// Role is what a user is in the product (see docs/architecture.md).
type Role string

// The roles of PRODUCT.md.
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

// Clock tells the time. Services take one so that tests can move time.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// Shanghai is the time zone in which every calendar date of the product
// (follow-up days, 31 July and 31 August deadlines) is computed.
var Shanghai = mustLoadShanghai()

func mustLoadShanghai() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		// China has had no daylight saving since 1991.
		return time.FixedZone("CST", 8*60*60)
	}
	return loc
}
