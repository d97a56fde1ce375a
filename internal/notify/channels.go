package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/postgres"
)

// E-mail modes (Preferences.EmailMode).
const (
	// EmailDigest: the daily digest and urgent escalations, as counts and
	// links. The default.
	EmailDigest = "digest"
	// EmailEach: the digest, and one e-mail per notification (its kind and
	// a link), at once — the behaviour before channels existed.
	EmailEach = "each"
	// EmailOff: no e-mail.
	EmailOff = "off"
)

// KindDigest is the kind of a daily digest's notification.
const KindDigest = "digest"

// Channel scopes.
const (
	ScopeUser   = "user"
	ScopeSchool = "school"
)

// MaxChannels is how many webhook channels a user, or a school, may have.
const MaxChannels = 5

// AuditSchoolNotify is the audit action of a change to a school's shared
// channel or digest time.
const AuditSchoolNotify = "notify.school"

// Channel is a webhook channel as its owner sees it: its host, never its
// URL (which holds the bot's key) nor its secret.
type Channel struct {
	ID     int64  `json:"id"`
	Scope  string `json:"scope"`
	Kind   string `json:"kind"`
	Label  string `json:"label"`
	Host   string `json:"host"`
	Digest bool   `json:"digest"`
	Urgent bool   `json:"urgent"`
	// Broken is set when the endpoint refused for good (a revoked bot, a
	// wrong key or secret); nothing is sent to it until a test goes through.
	Broken       bool       `json:"broken"`
	BrokenReason string     `json:"broken_reason"`
	BrokenAt     *time.Time `json:"broken_at"`
	LastOKAt     *time.Time `json:"last_ok_at"`
	CreatedAt    time.Time  `json:"created_at"`
	// The latest attempt to send to it: when, its outcome (ok, retry,
	// permanent, unknown; pending while in flight), HTTP status and error.
	LastAttemptAt  *time.Time `json:"last_attempt_at"`
	LastOutcome    string     `json:"last_outcome"`
	LastHTTPStatus *int       `json:"last_http_status"`
	LastError      string     `json:"last_error"`
}

// ChannelInput adds a channel. Scope is "user" (the default) or "school"
// (the school's shared group, by a supervisor of the whole school).
// Digest and Urgent default to true.
type ChannelInput struct {
	Scope  string `json:"scope"`
	Kind   string `json:"kind"`
	Label  string `json:"label"`
	URL    string `json:"url"`
	Secret string `json:"secret"`
	Digest *bool  `json:"digest"`
	Urgent *bool  `json:"urgent"`
}

// Preferences are a user's choices: e-mail and quiet hours ("22:00",
// "07:30"; equal times mean none). Version is the ETag.
type Preferences struct {
	EmailMode  string `json:"email_mode"`
	QuietStart string `json:"quiet_start"`
	QuietEnd   string `json:"quiet_end"`
	Version    int    `json:"version"`
}

// ETagVersion is the version a change must name.
func (p Preferences) ETagVersion() int { return p.Version }

// PreferencesInput changes Preferences.
type PreferencesInput struct {
	EmailMode  string `json:"email_mode"`
	QuietStart string `json:"quiet_start"`
	QuietEnd   string `json:"quiet_end"`
}

// School is a school's notification settings: when its digest goes out
// ("08:00", on five minutes) and its shared channel's quiet hours.
type School struct {
	SchoolID   int64  `json:"school_id"`
	DigestAt   string `json:"digest_at"`
	QuietStart string `json:"quiet_start"`
	QuietEnd   string `json:"quiet_end"`
	Version    int    `json:"version"`
}

// ETagVersion is the version a change must name.
func (s School) ETagVersion() int { return s.Version }

// SchoolInput changes School.
type SchoolInput struct {
	DigestAt   string `json:"digest_at"`
	QuietStart string `json:"quiet_start"`
	QuietEnd   string `json:"quiet_end"`
}

// Settings is what a staff member's notification page shows.
type Settings struct {
	Preferences Preferences `json:"preferences"`
	// Email is the account's address ("" when none: an admin sets it);
	// EmailAvailable says whether this installation sends e-mail at all.
	Email          string    `json:"email"`
	EmailAvailable bool      `json:"email_available"`
	Channels       []Channel `json:"channels"`
	// School is the school's settings and shared channels, for a
	// supervisor of the whole school (who manages them); nil for others.
	School *SchoolSettings `json:"school"`
}

// SchoolSettings is a school's notification settings and shared channels.
type SchoolSettings struct {
	School   School    `json:"settings"`
	Channels []Channel `json:"channels"`
}

// managesSchool reports whether a manages its school's shared channel: a
// supervisor of the whole school (not of one department).
func managesSchool(a bangfu.Actor) bool {
	return a.Role == bangfu.RoleSupervisor && a.SchoolID != nil && a.DepartmentID == nil
}

// staff reports whether a has notification settings: the case workers.
// Students and admins receive no digests or escalations.
func staff(a bangfu.Actor) bool {
	switch a.Role {
	case bangfu.RoleCounselor, bangfu.RoleSupervisor, bangfu.RoleProvince:
		return true
	}
	return false
}

// Settings returns a's notification settings.
func (s *Service) Settings(ctx context.Context, a bangfu.Actor) (Settings, error) {
	if !staff(a) {
		return Settings{}, bangfu.Errorf(bangfu.EFORBIDDEN, "Only staff have notification settings.")
	}
	out := Settings{EmailAvailable: s.Email}
	var err error
	if out.Preferences, err = s.preferences(ctx, s.DB.Pool, a.UserID); err != nil {
		return out, err
	}
	if err := s.DB.Pool.QueryRow(ctx, `SELECT email FROM users WHERE id = $1`, a.UserID).Scan(&out.Email); err != nil {
		return out, postgres.FormatError(err, "user")
	}
	if out.Channels, err = s.channels(ctx, `c.user_id = $1`, a.UserID); err != nil {
		return out, err
	}
	if managesSchool(a) {
		sch := &SchoolSettings{}
		if sch.School, err = s.school(ctx, s.DB.Pool, *a.SchoolID); err != nil {
			return out, err
		}
		if sch.Channels, err = s.channels(ctx, `c.school_id = $1`, *a.SchoolID); err != nil {
			return out, err
		}
		out.School = sch
	}
	return out, nil
}

func (s *Service) preferences(ctx context.Context, q postgres.Querier, userID int64) (Preferences, error) {
	p := Preferences{EmailMode: EmailDigest, QuietStart: formatClock(DefaultQuiet.Start), QuietEnd: formatClock(DefaultQuiet.End), Version: 1}
	err := q.QueryRow(ctx, `SELECT email_mode, to_char(quiet_start, 'HH24:MI'), to_char(quiet_end, 'HH24:MI'), version
		FROM notify_preferences WHERE user_id = $1`, userID).Scan(&p.EmailMode, &p.QuietStart, &p.QuietEnd, &p.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		err = nil
	}
	return p, err
}

func (s *Service) school(ctx context.Context, q postgres.Querier, schoolID int64) (School, error) {
	sc := School{SchoolID: schoolID, DigestAt: "08:00", QuietStart: formatClock(DefaultQuiet.Start), QuietEnd: formatClock(DefaultQuiet.End), Version: 1}
	err := q.QueryRow(ctx, `SELECT to_char(digest_at, 'HH24:MI'), to_char(quiet_start, 'HH24:MI'), to_char(quiet_end, 'HH24:MI'), version
		FROM notify_schools WHERE school_id = $1`, schoolID).Scan(&sc.DigestAt, &sc.QuietStart, &sc.QuietEnd, &sc.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		err = nil
	}
	return sc, err
}

const channelColumns = `c.id, CASE WHEN c.school_id IS NULL THEN 'user' ELSE 'school' END, c.kind, c.label, c.host, c.digest, c.urgent,
	c.broken_at IS NOT NULL, c.broken_reason, c.broken_at, c.last_ok_at, c.created_at,
	la.started_at, coalesce(la.outcome, CASE WHEN la.started_at IS NOT NULL THEN 'pending' ELSE '' END), la.http_status, coalesce(la.error, '')`

// channelFrom is the FROM of channelColumns: a channel and its latest attempt.
const channelFrom = ` FROM notify_channels c LEFT JOIN LATERAL (
		SELECT t.started_at, t.outcome, t.http_status, t.error FROM notify_deliveries d JOIN notify_attempts t ON t.delivery_id = d.id
		WHERE d.channel_id = c.id ORDER BY d.id DESC, t.attempt DESC LIMIT 1) la ON true`

func (s *Service) channels(ctx context.Context, where string, arg int64) ([]Channel, error) {
	rows, err := s.DB.Pool.Query(ctx, `SELECT `+channelColumns+channelFrom+` WHERE `+where+` AND c.removed_at IS NULL ORDER BY c.id`, arg)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Channel])
}

// checkQuiet records problems with a quiet window's two ends.
func checkQuiet(p *bangfu.Problems, start, end string) {
	if _, ok := parseClock(start); !ok {
		p.Add("quiet_start", "must be a time of day like 22:00")
	}
	if _, ok := parseClock(end); !ok {
		p.Add("quiet_end", "must be a time of day like 07:30")
	}
}

// SavePreferences replaces a's preferences, based on version (the ETag a
// read; precondition_failed when someone changed them since).
func (s *Service) SavePreferences(ctx context.Context, a bangfu.Actor, version int, in PreferencesInput) (Preferences, error) {
	if !staff(a) {
		return Preferences{}, bangfu.Errorf(bangfu.EFORBIDDEN, "Only staff have notification settings.")
	}
	var p bangfu.Problems
	switch in.EmailMode {
	case EmailDigest, EmailEach, EmailOff:
	default:
		p.Add("email_mode", "must be digest, each or off")
	}
	checkQuiet(&p, in.QuietStart, in.QuietEnd)
	if err := p.Err(); err != nil {
		return Preferences{}, err
	}
	var out Preferences
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		cur := 1
		err := tx.QueryRow(ctx, `SELECT version FROM notify_preferences WHERE user_id = $1 FOR UPDATE`, a.UserID).Scan(&cur)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if cur != version {
			return bangfu.Errorf(bangfu.EPRECONDITIONFAILED, "Your notification settings were changed since you read them.")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO notify_preferences (user_id, email_mode, quiet_start, quiet_end, version, updated_at)
			VALUES ($1, $2, $3::time, $4::time, $5, $6)
			ON CONFLICT (user_id) DO UPDATE SET email_mode = $2, quiet_start = $3::time, quiet_end = $4::time, version = $5, updated_at = $6`,
			a.UserID, in.EmailMode, in.QuietStart, in.QuietEnd, cur+1, s.Clock.Now()); err != nil {
			return postgres.FormatError(err, "preferences")
		}
		out, err = s.preferences(ctx, tx, a.UserID)
		return err
	})
	return out, err
}

// SaveSchool replaces the notification settings of a's school, based on
// version; only a supervisor of the whole school may. The change is
// audited.
func (s *Service) SaveSchool(ctx context.Context, a bangfu.Actor, version int, in SchoolInput) (School, error) {
	if !managesSchool(a) {
		return School{}, bangfu.Errorf(bangfu.EFORBIDDEN, "Only a supervisor of the whole school sets its notifications.")
	}
	var p bangfu.Problems
	if m, ok := parseClock(in.DigestAt); !ok || m%5 != 0 {
		p.Add("digest_at", "must be a time of day on five minutes, like 08:00")
	}
	checkQuiet(&p, in.QuietStart, in.QuietEnd)
	if err := p.Err(); err != nil {
		return School{}, err
	}
	school := *a.SchoolID
	var out School
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		cur := 1
		err := tx.QueryRow(ctx, `SELECT version FROM notify_schools WHERE school_id = $1 FOR UPDATE`, school).Scan(&cur)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if cur != version {
			return bangfu.Errorf(bangfu.EPRECONDITIONFAILED, "The school's notification settings were changed since you read them.")
		}
		now := s.Clock.Now()
		if _, err := tx.Exec(ctx, `INSERT INTO notify_schools (school_id, digest_at, quiet_start, quiet_end, version, updated_by, updated_at)
			VALUES ($1, $2::time, $3::time, $4::time, $5, $6, $7)
			ON CONFLICT (school_id) DO UPDATE SET digest_at = $2::time, quiet_start = $3::time, quiet_end = $4::time, version = $5,
				updated_by = $6, updated_at = $7`,
			school, in.DigestAt, in.QuietStart, in.QuietEnd, cur+1, a.UserID, now); err != nil {
			return postgres.FormatError(err, "school notifications")
		}
		if err := audit.Record(ctx, tx, a, now, audit.Event{Action: AuditSchoolNotify, SchoolID: school,
			Fields: []string{"digest_at", "quiet_start", "quiet_end"}}); err != nil {
			return err
		}
		out, err = s.school(ctx, tx, school)
		return err
	})
	return out, err
}

// AddChannel adds a webhook channel for a (or for a's school, Scope
// "school"). The URL is checked (the kind's real endpoint over https;
// see checkWebhook) and sealed with the secret; neither is ever shown
// again. A user or school has at most MaxChannels.
func (s *Service) AddChannel(ctx context.Context, a bangfu.Actor, in ChannelInput) (Channel, error) {
	if !staff(a) {
		return Channel{}, bangfu.Errorf(bangfu.EFORBIDDEN, "Only staff have notification channels.")
	}
	var p bangfu.Problems
	switch in.Scope {
	case "", ScopeUser:
		in.Scope = ScopeUser
	case ScopeSchool:
		if !managesSchool(a) {
			return Channel{}, bangfu.Errorf(bangfu.EFORBIDDEN, "Only a supervisor of the whole school sets its shared channel.")
		}
	default:
		p.Add("scope", "must be user or school")
	}
	p.Text("label", in.Label, 50, true)
	host := checkWebhook(&p, in.Kind, in.URL, in.Secret, s.AllowLocal)
	if err := p.Err(); err != nil {
		return Channel{}, err
	}
	digest, urgent := in.Digest == nil || *in.Digest, in.Urgent == nil || *in.Urgent
	var userID, schoolID *int64
	owner := `user_id = $1`
	ownerID := a.UserID
	if in.Scope == ScopeSchool {
		schoolID, owner, ownerID = a.SchoolID, `school_id = $1`, *a.SchoolID
	} else {
		userID = &a.UserID
	}
	var secret []byte
	if in.Secret != "" {
		secret = s.Box.Seal(fieldSecret, in.Secret)
	}
	var out Channel
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		// One add at a time per owner, so that the limit holds.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('notify_channels:' || $1::text))`, fmt.Sprintf("%s:%d", in.Scope, ownerID)); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM notify_channels WHERE `+owner+` AND removed_at IS NULL`, ownerID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxChannels {
			return (bangfu.Problems{"url": fmt.Sprintf("is one channel too many: at most %d; remove one first", MaxChannels)}).Err()
		}
		now := s.Clock.Now()
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO notify_channels (user_id, school_id, kind, label, url_sealed, secret_sealed, host, digest, urgent, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			userID, schoolID, in.Kind, in.Label, s.Box.Seal(fieldURL, in.URL), secret, host, digest, urgent, a.UserID, now).Scan(&id); err != nil {
			return postgres.FormatError(err, "channel")
		}
		if in.Scope == ScopeSchool {
			if err := audit.Record(ctx, tx, a, now, audit.Event{Action: AuditSchoolNotify, SchoolID: *schoolID,
				Detail: map[string]any{"channel_id": id, "added": in.Kind, "host": host}}); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, `SELECT `+channelColumns+channelFrom+` WHERE c.id = $1`, id)
		if err != nil {
			return err
		}
		out, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Channel])
		return err
	})
	return out, err
}

// channelOf locks channel id for a and returns its scope and school: a's
// own channel, or a shared channel of a's school when a manages it.
// Anything else is not_found, like a missing or removed channel.
func channelOf(ctx context.Context, tx pgx.Tx, a bangfu.Actor, id int64) (scope string, school *int64, err error) {
	var user *int64
	err = tx.QueryRow(ctx, `SELECT user_id, school_id FROM notify_channels WHERE id = $1 AND removed_at IS NULL FOR UPDATE`, id).Scan(&user, &school)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, bangfu.NotFound("channel")
	} else if err != nil {
		return "", nil, err
	}
	switch {
	case user != nil && *user == a.UserID:
		return ScopeUser, nil, nil
	case school != nil && managesSchool(a) && *a.SchoolID == *school:
		return ScopeSchool, school, nil
	}
	return "", nil, bangfu.NotFound("channel")
}

// RemoveChannel removes one of a's channels (or a shared channel of the
// school a manages): its URL and secret are erased, the record of what
// was sent to it stays, and nothing more is sent to it.
func (s *Service) RemoveChannel(ctx context.Context, a bangfu.Actor, id int64) error {
	return s.DB.InTx(ctx, func(tx pgx.Tx) error {
		scope, school, err := channelOf(ctx, tx, a, id)
		if err != nil {
			return err
		}
		now := s.Clock.Now()
		if _, err := tx.Exec(ctx, `UPDATE notify_channels SET removed_at = $2, url_sealed = NULL, secret_sealed = NULL WHERE id = $1`, id, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE notify_deliveries SET state = 'skipped', done_at = $2, note = 'channel removed'
			WHERE channel_id = $1 AND state = 'pending'`, id, now); err != nil {
			return err
		}
		if scope == ScopeSchool {
			return audit.Record(ctx, tx, a, now, audit.Event{Action: AuditSchoolNotify, SchoolID: *school,
				Detail: map[string]any{"channel_id": id, "removed": true}})
		}
		return nil
	})
}

// TestResult is what a test message came to.
type TestResult struct {
	Delivered  bool   `json:"delivered"`
	Outcome    string `json:"outcome"`
	HTTPStatus *int   `json:"http_status"`
	Error      string `json:"error"`
	// Channel is the channel after the test: a test that goes through
	// mends a broken channel; one refused for good breaks it.
	Channel Channel `json:"channel"`
}

// testEvery is how often a channel may be tested.
const testEvery = 10 * time.Second

// TestChannel sends a test message to one of a's channels now, whatever
// the quiet hours, and records it as a delivery with its attempt. It is
// refused (too_many_requests) within 10 seconds of the channel's previous
// attempt.
func (s *Service) TestChannel(ctx context.Context, a bangfu.Actor, id int64) (TestResult, error) {
	var deliveryID int64
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		scope, school, err := channelOf(ctx, tx, a, id)
		if err != nil {
			return err
		}
		now := s.Clock.Now()
		// The latest attempt, or test queued (under the channel's lock, so
		// that two tests at once cannot both pass).
		var recent *time.Time
		if err := tx.QueryRow(ctx, `SELECT greatest(
				(SELECT max(t.started_at) FROM notify_attempts t JOIN notify_deliveries d ON d.id = t.delivery_id WHERE d.channel_id = $1),
				(SELECT max(created_at) FROM notify_deliveries WHERE channel_id = $1 AND purpose = 'test'))`, id).Scan(&recent); err != nil {
			return err
		}
		if recent != nil && now.Sub(*recent) < testEvery && now.Sub(*recent) > -testEvery {
			return &bangfu.Error{Code: bangfu.ETOOMANYREQUESTS, Message: "This channel was tried a moment ago; wait a few seconds.", RetryAfterSeconds: int(testEvery.Seconds())}
		}
		var kind string
		if err := tx.QueryRow(ctx, `SELECT kind FROM notify_channels WHERE id = $1`, id).Scan(&kind); err != nil {
			return err
		}
		d := newDelivery{Key: fmt.Sprintf("test:c%d:%d", id, now.UnixNano()), ChannelID: &id, Medium: kind, Purpose: purposeTest,
			Subject: testSubject, Body: s.testText(), NotBefore: now}
		if scope == ScopeSchool {
			d.SchoolID = school
		} else {
			d.UserID = &a.UserID
		}
		ids, err := s.insertDeliveries(ctx, tx, []newDelivery{d})
		if err != nil {
			return err
		}
		if len(ids) != 1 {
			return bangfu.Errorf(bangfu.ECONFLICT, "A test of this channel is already under way.")
		}
		deliveryID = ids[0].ID
		return nil
	})
	if err != nil {
		return TestResult{}, err
	}
	res, err := s.attempt(ctx, deliveryID, true)
	if err != nil && !errors.Is(err, errRetry) {
		return TestResult{}, err
	}
	out := TestResult{Delivered: res.outcome == outcomeOK, Outcome: res.outcome, Error: res.err}
	if res.status != 0 {
		out.HTTPStatus = &res.status
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT `+channelColumns+channelFrom+` WHERE c.id = $1`, id)
	if err != nil {
		return out, err
	}
	out.Channel, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Channel])
	return out, err
}
