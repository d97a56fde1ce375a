package policy

import "github.com/bangfu/bangfu"

// Record is what the record rules need to know about a graduate's file.
type Record struct {
	StudentID    int64
	SchoolID     int64
	DepartmentID *int64
	CounselorID  *int64
}

// Scope is the set of graduates an actor may see. Lists filter by it and
// single reads check it, so both follow the same rule.
type Scope struct {
	// None: the actor sees no graduate (admin is not a case worker).
	None bool
	// All: every school (province, read-only and masked).
	All bool
	// At most one of the following is set.
	StudentID    *int64 // a student: their own file
	CounselorID  *int64 // a counselor: graduates assigned to them
	SchoolID     *int64 // a supervisor: their school…
	DepartmentID *int64 // …or, when they belong to one, their department
}

// ScopeOf returns the graduates a may see.
func ScopeOf(a bangfu.Actor) Scope {
	switch a.Role {
	case bangfu.RoleStudent:
		if a.StudentID == nil {
			return Scope{None: true}
		}
		return Scope{StudentID: a.StudentID}
	case bangfu.RoleCounselor:
		id := a.UserID
		return Scope{CounselorID: &id}
	case bangfu.RoleSupervisor:
		if a.SchoolID == nil {
			return Scope{None: true}
		}
		return Scope{SchoolID: a.SchoolID, DepartmentID: a.DepartmentID}
	case bangfu.RoleProvince:
		return Scope{All: true}
	}
	return Scope{None: true}
}

// Contains reports whether r is in the scope.
func (s Scope) Contains(r Record) bool {
	switch {
	case s.None:
		return false
	case s.All:
		return true
	case s.StudentID != nil:
		return *s.StudentID == r.StudentID
	case s.CounselorID != nil:
		return r.CounselorID != nil && *r.CounselorID == *s.CounselorID
	case s.SchoolID != nil:
		if r.SchoolID != *s.SchoolID {
			return false
		}
		return s.DepartmentID == nil || (r.DepartmentID != nil && *r.DepartmentID == *s.DepartmentID)
	}
	return false
}

// Sees reports whether a may see the graduate r at all. Callers answer
// not_found, never forbidden, when it is false, so that the existence of
// another school's graduate is not revealed.
func Sees(a bangfu.Actor, r Record) bool { return ScopeOf(a).Contains(r) }

// Masked reports whether a sees personal identifiers only masked.
func Masked(a bangfu.Actor) bool { return a.Role == bangfu.RoleProvince }

// MayUnmask reports whether a may read a sensitive field in clear for r:
// the assigned counselor or a supervisor whose scope holds r.
func MayUnmask(a bangfu.Actor, r Record) bool {
	return (a.Role == bangfu.RoleCounselor || a.Role == bangfu.RoleSupervisor) && Sees(a, r)
}
