// Package auth logs users in and out: passwords checked against throttled
// attempts, short-lived EdDSA access tokens, and single-use refresh tokens
// whose reuse revokes their whole family.
package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/password"
	"github.com/bangfu/bangfu/internal/postgres"
)

// ThrottlePolicy limits failed logins per account and per client address.
type ThrottlePolicy struct {
	AccountFailures int           // failures within Window that lock an account
	IPFailures      int           // failures within Window that lock an address
	Window          time.Duration // how long failures are counted
	Lockout         time.Duration // how long a lock lasts
}

// DefaultThrottle locks an account after 5 failures and an address after 50
// within 15 minutes, for 15 minutes.
var DefaultThrottle = ThrottlePolicy{AccountFailures: 5, IPFailures: 50, Window: 15 * time.Minute, Lockout: 15 * time.Minute}

// Service logs users in, refreshes and revokes their sessions.
type Service struct {
	DB         *postgres.DB
	Directory  *directory.Service
	Tokens     *Tokens
	RefreshTTL time.Duration
	Clock      bangfu.Clock
	Throttle   ThrottlePolicy

	dummyOnce sync.Once
	dummy     string
}

// Session is what a successful login or refresh returns.
type Session struct {
	AccessToken  string      `json:"access_token"`
	TokenType    string      `json:"token_type"`
	ExpiresIn    int         `json:"expires_in"`
	RefreshToken string      `json:"refresh_token"`
	User         SessionUser `json:"user"`
}

// SessionUser is the part of the user a client needs after login.
type SessionUser struct {
	ID           int64       `json:"id"`
	Username     string      `json:"username"`
	DisplayName  string      `json:"display_name"`
	Role         bangfu.Role `json:"role"`
	SchoolID     *int64      `json:"school_id"`
	DepartmentID *int64      `json:"department_id"`
	StudentID    *int64      `json:"student_id"`
	BaseID       *int64      `json:"base_id"`
}

var errBadCredentials = &bangfu.Error{Code: bangfu.EUNAUTHENTICATED, Message: "Wrong username or password."}

var errBadRefresh = &bangfu.Error{Code: bangfu.EUNAUTHENTICATED, Message: "The refresh token is invalid, expired or already used; log in again."}

// Login checks username and password for a client at ip. Wrong credentials
// are unauthenticated with one message whichever part was wrong, and take
// about as long. Too many failures for the account or the address are
// too_many_requests until the lock expires.
func (s *Service) Login(ctx context.Context, username, pw, ip string) (Session, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	var p bangfu.Problems
	p.Check(username != "", "username", "is required")
	p.Check(pw != "", "password", "is required")
	if err := p.Err(); err != nil {
		return Session{}, err
	}
	keys := []string{throttleKey(username)}
	if ip != "" {
		keys = append(keys, "ip:"+ip)
	}
	now := s.Clock.Now()
	var lockedUntil *time.Time
	if err := s.DB.Pool.QueryRow(ctx, `SELECT max(locked_until) FROM login_throttle WHERE key = ANY($1) AND locked_until > $2`,
		keys, now).Scan(&lockedUntil); err != nil {
		return Session{}, err
	}
	if lockedUntil != nil {
		return Session{}, tooMany(lockedUntil.Sub(now))
	}
	if !possible(username, pw) {
		// No account has such a name or password: answer as for a wrong
		// password, and count it, without asking the directory.
		if err := s.recordFailure(ctx, keys, now); err != nil {
			return Session{}, err
		}
		return Session{}, errBadCredentials
	}

	u, err := s.Directory.UserByUsername(ctx, username)
	if err != nil && bangfu.ErrorCode(err) != bangfu.ENOTFOUND {
		return Session{}, err
	}
	hash := u.PasswordHash
	if hash == "" {
		hash = s.dummyHash()
	}
	ok, verr := password.Verify(pw, hash)
	if verr != nil || !ok || u.ID == 0 || u.Disabled {
		if err := s.recordFailure(ctx, keys, now); err != nil {
			return Session{}, err
		}
		return Session{}, errBadCredentials
	}
	if _, err := s.DB.Pool.Exec(ctx, `DELETE FROM login_throttle WHERE key = $1`, keys[0]); err != nil {
		return Session{}, err
	}
	var sess Session
	err = s.DB.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		sess, err = s.issue(ctx, tx, u, uuid.New())
		return err
	})
	return sess, err
}

// Longest username and password a login may name: no account can have
// longer ones (directory and password refuse them), so longer input is
// refused before it reaches the database.
const (
	maxUsername = 64
	maxPassword = 256
)

// possible reports whether some account could have username and pw.
func possible(username, pw string) bool {
	return len(username) <= maxUsername && len(pw) <= maxPassword && !bangfu.HasControl(username) && !bangfu.HasControl(pw)
}

// throttleKey is the login_throttle key of an account name. A name no
// account can have is keyed by its hash, so that its failures count
// without storing it.
func throttleKey(username string) string {
	if len(username) <= maxUsername && !bangfu.HasControl(username) {
		return "user:" + username
	}
	sum := sha256.Sum256([]byte(username))
	return "user#" + hex.EncodeToString(sum[:16])
}

func tooMany(wait time.Duration) error {
	secs := int(wait.Seconds() + 0.999)
	if secs < 1 {
		secs = 1
	}
	return &bangfu.Error{Code: bangfu.ETOOMANYREQUESTS, Message: "Too many failed logins; try again later.", RetryAfterSeconds: secs}
}

// dummyHash is verified against when the username is unknown, so that an
// unknown name costs as much time as a wrong password.
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		s.dummy, _ = password.Hash("not a real password, only for timing", password.DefaultParams)
	})
	return s.dummy
}

func (s *Service) recordFailure(ctx context.Context, keys []string, now time.Time) error {
	for i, key := range keys {
		limit := s.Throttle.AccountFailures
		if i > 0 {
			limit = s.Throttle.IPFailures
		}
		_, err := s.DB.Pool.Exec(ctx, `
			INSERT INTO login_throttle AS t (key, failures, window_started_at, locked_until)
			VALUES ($1, 1, $2, CASE WHEN $3 <= 1 THEN $4::timestamptz END)
			ON CONFLICT (key) DO UPDATE SET
				failures = CASE WHEN t.window_started_at <= $5 THEN 1 ELSE t.failures + 1 END,
				window_started_at = CASE WHEN t.window_started_at <= $5 THEN $2 ELSE t.window_started_at END,
				locked_until = CASE WHEN (CASE WHEN t.window_started_at <= $5 THEN 1 ELSE t.failures + 1 END) >= $3
					THEN $4 ELSE t.locked_until END`,
			key, now, limit, now.Add(s.Throttle.Lockout), now.Add(-s.Throttle.Window))
		if err != nil {
			return err
		}
	}
	return nil
}

// issue signs an access token for u and stores a new refresh token in family.
func (s *Service) issue(ctx context.Context, tx pgx.Tx, u directory.User, family uuid.UUID) (Session, error) {
	access, err := s.Tokens.Issue(u.Actor())
	if err != nil {
		return Session{}, err
	}
	refresh, hash, err := newRefreshToken()
	if err != nil {
		return Session{}, err
	}
	now := s.Clock.Now()
	if _, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (family_id, user_id, token_hash, issued_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, family, u.ID, hash, now, now.Add(s.RefreshTTL)); err != nil {
		return Session{}, err
	}
	return Session{
		AccessToken: access, TokenType: "Bearer", ExpiresIn: int(s.Tokens.TTL().Seconds()), RefreshToken: refresh,
		User: SessionUser{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role,
			SchoolID: u.SchoolID, DepartmentID: u.DepartmentID, StudentID: u.StudentID, BaseID: u.BaseID},
	}, nil
}

// Refresh exchanges a refresh token for a new pair. A token works once:
// presenting a used or revoked one revokes its whole family, since either
// the client or a thief holds a copy. A disabled user's family is revoked.
func (s *Service) Refresh(ctx context.Context, token string) (Session, error) {
	if token == "" {
		return Session{}, (bangfu.Problems{"refresh_token": "is required"}).Err()
	}
	var sess Session
	var reused bool
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		var (
			id, userID      int64
			family          uuid.UUID
			expires         time.Time
			usedAt, revoked *time.Time
		)
		err := tx.QueryRow(ctx, `SELECT id, family_id, user_id, expires_at, used_at, revoked_at
			FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`, hashRefreshToken(token)).
			Scan(&id, &family, &userID, &expires, &usedAt, &revoked)
		if errors.Is(err, pgx.ErrNoRows) {
			return errBadRefresh
		} else if err != nil {
			return err
		}
		now := s.Clock.Now()
		if revoked != nil || !expires.After(now) {
			return errBadRefresh
		}
		u, err := s.Directory.User(ctx, userID)
		if err != nil {
			return err
		}
		if usedAt != nil || u.Disabled {
			reused = true
			_, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL`, family, now)
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET used_at = $2 WHERE id = $1`, id, now); err != nil {
			return err
		}
		sess, err = s.issue(ctx, tx, u, family)
		return err
	})
	if err == nil && reused {
		return Session{}, errBadRefresh
	}
	return sess, err
}

// Logout revokes the family of refresh token, if it belongs to a.
func (s *Service) Logout(ctx context.Context, a bangfu.Actor, token string) error {
	if token == "" {
		return (bangfu.Problems{"refresh_token": "is required"}).Err()
	}
	_, err := s.DB.Pool.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $3
		WHERE revoked_at IS NULL AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND user_id = $2)`,
		hashRefreshToken(token), a.UserID, s.Clock.Now())
	return err
}

// RevokeUser revokes every refresh token of a user, inside tx. The
// directory calls it when a user is disabled or their access changes.
func (s *Service) RevokeUser(ctx context.Context, tx pgx.Tx, userID int64) error {
	_, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL`, userID, s.Clock.Now())
	return err
}
