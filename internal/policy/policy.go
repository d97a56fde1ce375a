// Package policy is the one place that says which role may do what. Every
// route names its Action; the HTTP layer asks Allowed before the handler
// runs, and domain services then decide whether this actor may touch this
// record (see ScopeOf and Sees).
package policy

import (
	"slices"

	"github.com/bangfu/bangfu"
)

// Action is something a route does.
type Action string

// The actions. Each route in internal/httpapi/routes.go names one.
const (
	// Public needs no login (login, refresh, health, JWKS).
	Public Action = "public"
	// Self is what any logged-in user may do to their own session and inbox.
	Self Action = "self"

	UsersManage   Action = "users:manage"
	SchoolsManage Action = "schools:manage"
	SchoolsRead   Action = "schools:read"
	MetricsRead   Action = "metrics:read"
	JobsAdmin     Action = "jobs:admin"
	SettingsRead  Action = "settings:read"
	SettingsWrite Action = "settings:write"
	AuditRead     Action = "audit:read"

	StudentsRead      Action = "students:read"
	StudentsWrite     Action = "students:write"
	StudentsUnmask    Action = "students:unmask"
	StudentsImport    Action = "students:import"
	StudentsReassign  Action = "students:reassign"
	AccountsCreate    Action = "students:account"
	AccountsReset     Action = "students:account:reset"
	HardshipsWrite    Action = "hardships:write"
	HardshipsVerify   Action = "hardships:verify"
	PlansRead         Action = "plans:read"
	PlansWrite        Action = "plans:write"
	PlansAcknowledge  Action = "plans:acknowledge"
	LedgerRead        Action = "ledger:read"
	LedgerAppend      Action = "ledger:append"
	LedgerVerify      Action = "ledger:verify"
	DestinationWrite  Action = "destination:write"
	DestinationVerify Action = "destination:verify"
	HandoverWrite     Action = "handover:write"
	OwnFile           Action = "me:file"

	EscalationsRead Action = "escalations:read"
	EscalationsAct  Action = "escalations:act"
	LedgerReview    Action = "ledger:review"
	ReportsRead     Action = "reports:read"
	// Statistics over time and exports (issue 13): snapshots (周报/月报),
	// the 1:500 staffing check and the ledger export.
	SnapshotsRead Action = "snapshots:read"
	StaffingRead  Action = "staffing:read"
	StaffingWrite Action = "staffing:write"
	LedgerExport  Action = "ledger:export"

	// The 宏志助航 training roster (internal/roster).
	RosterManage   Action = "roster:manage"
	RosterRead     Action = "roster:read"
	PlacesRead     Action = "places:read"
	PlacesWithdraw Action = "places:withdraw"
	PlacesRespond  Action = "places:respond"
	PlacesAttend   Action = "places:attend"
	// Notification channels and their deliveries (internal/notify).
	NotifySettings   Action = "notify:settings"
	NotifySchool     Action = "notify:school"
	NotifyDeliveries Action = "notify:deliveries"
)

var (
	student    = bangfu.RoleStudent
	counselor  = bangfu.RoleCounselor
	supervisor = bangfu.RoleSupervisor
	province   = bangfu.RoleProvince
	admin      = bangfu.RoleAdmin
	base       = bangfu.RoleBase
)

// table lists the roles allowed each action. An action missing here is
// allowed to nobody.
var table = map[Action][]bangfu.Role{
	Self: bangfu.Roles,

	UsersManage:   {admin},
	SchoolsManage: {admin},
	SchoolsRead:   {counselor, supervisor, province, admin},
	MetricsRead:   {admin},
	JobsAdmin:     {admin},
	SettingsRead:  {admin},
	SettingsWrite: {admin},
	AuditRead:     {supervisor, admin},

	// Admin manages users but is not a case worker: no access to files.
	StudentsRead:      {counselor, supervisor, province},
	StudentsWrite:     {counselor, supervisor},
	StudentsUnmask:    {counselor, supervisor},
	StudentsImport:    {counselor, supervisor},
	StudentsReassign:  {supervisor},
	AccountsCreate:    {counselor, supervisor},
	AccountsReset:     {counselor, supervisor},
	HardshipsWrite:    {counselor, supervisor},
	HardshipsVerify:   {supervisor},
	PlansRead:         {counselor, supervisor, province},
	PlansWrite:        {counselor, supervisor},
	PlansAcknowledge:  {student},
	LedgerRead:        {student, counselor, supervisor, province},
	LedgerAppend:      {counselor, supervisor},
	LedgerVerify:      {counselor, supervisor, province},
	DestinationWrite:  {student, counselor, supervisor},
	DestinationVerify: {supervisor},
	HandoverWrite:     {counselor, supervisor},
	OwnFile:           {student},

	EscalationsRead: {counselor, supervisor, province},
	EscalationsAct:  {counselor, supervisor, province},
	LedgerReview:    {counselor, supervisor, province},
	ReportsRead:     {counselor, supervisor, province},
	SnapshotsRead:   {supervisor, province},
	StaffingRead:    {supervisor, province, admin},
	StaffingWrite:   {supervisor, admin},
	LedgerExport:    {counselor, supervisor, province},

	// Admin keeps bases and cohorts and sees whole rosters and deliveries;
	// school staff see their part; base staff see their cohorts' confirmed
	// places and record attendance; a student answers their nomination.
	RosterManage:   {admin},
	RosterRead:     {counselor, supervisor, admin, base},
	PlacesRead:     {student, counselor, supervisor, admin, base},
	PlacesWithdraw: {counselor, supervisor},
	PlacesRespond:  {student},
	PlacesAttend:   {base},
	// Case workers choose where their reminders go; a supervisor also sets
	// the school's shared channel; admins see what was delivered.
	NotifySettings:   {counselor, supervisor, province},
	NotifySchool:     {supervisor},
	NotifyDeliveries: {admin},
}

// Allowed reports whether role may perform action at all. Public actions
// are allowed to everyone, including no role.
func Allowed(role bangfu.Role, action Action) bool {
	if action == Public {
		return true
	}
	return slices.Contains(table[action], role)
}

// Known reports whether action has an entry in the table.
func Known(action Action) bool {
	_, ok := table[action]
	return ok || action == Public
}
