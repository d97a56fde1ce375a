package roster

import (
	"context"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/postgres"
)

// Base is a national 宏志助航 training base, as admins see it. Its
// webhook's URL and signing secret are sealed at rest and never shown:
// only whether one is set and the URL's host.
type Base struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	HostSchool string    `json:"host_school"`
	Contact    Contact   `json:"contact"`
	Webhook    Webhook   `json:"webhook"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	Version    int       `json:"version"`
}

// ETagVersion is the version clients send back in If-Match.
func (b Base) ETagVersion() int { return b.Version }

// Contact is whom the schools call at a base.
type Contact struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
	Email string `json:"email"`
}

// Webhook says whether a base receives the roster's changes, and where.
type Webhook struct {
	Configured bool   `json:"configured"`
	Host       string `json:"host"`
}

// BaseInput creates a base. WebhookURL and WebhookSecret go together: a
// change is only ever sent signed.
type BaseInput struct {
	Name          string  `json:"name"`
	HostSchool    string  `json:"host_school"`
	Contact       Contact `json:"contact"`
	WebhookURL    string  `json:"webhook_url"`
	WebhookSecret string  `json:"webhook_secret"`
}

// BasePatch changes a base; absent fields stay as they are. A null
// webhook_url removes the webhook (and its secret); a new URL keeps the
// secret unless one is sent.
type BasePatch struct {
	Name          *string                 `json:"name"`
	HostSchool    *string                 `json:"host_school"`
	Contact       *Contact                `json:"contact"`
	WebhookURL    bangfu.Nullable[string] `json:"webhook_url"`
	WebhookSecret *string                 `json:"webhook_secret"`
}

// Secrets shorter than this are refused: the base verifies signatures
// with it.
const minSecret = 16

func (in *BaseInput) normalize() {
	in.Name, in.HostSchool = strings.TrimSpace(in.Name), strings.TrimSpace(in.HostSchool)
	in.Contact.Name, in.Contact.Phone, in.Contact.Email = strings.TrimSpace(in.Contact.Name), strings.TrimSpace(in.Contact.Phone), strings.TrimSpace(in.Contact.Email)
	in.WebhookURL = strings.TrimSpace(in.WebhookURL)
}

// checkFields records problems with a base's descriptive fields.
func checkFields(p *bangfu.Problems, in BaseInput) {
	p.Text("name", in.Name, 100, true)
	p.Text("host_school", in.HostSchool, 100, true)
	p.Text("contact.name", in.Contact.Name, 50, false)
	p.Text("contact.phone", in.Contact.Phone, 30, false)
	p.Email("contact.email", in.Contact.Email)
}

// checkWebhook records problems with a webhook being set: url ("" when it
// stays as it is, which hasURL says is set) and secret ("" when it stays as
// it is). It returns the new URL's host.
func (s *Service) checkWebhook(p *bangfu.Problems, target, secret string, hasURL bool) (host string) {
	switch {
	case target != "":
		host = s.checkURL(p, target)
		if secret == "" && !hasURL {
			p.Add("webhook_secret", "is required with a webhook_url: the base checks each change's signature with it")
		}
	case secret != "" && !hasURL:
		p.Add("webhook_secret", "needs a webhook_url to sign for")
	}
	if secret != "" {
		switch {
		case bangfu.HasControl(secret):
			p.Add("webhook_secret", "must not contain control characters")
		case utf8.RuneCountInString(secret) < minSecret:
			p.Add("webhook_secret", "must be at least 16 characters")
		case len(secret) > 200:
			p.Add("webhook_secret", "must be at most 200 bytes")
		}
	}
	return host
}

// checkURL accepts an absolute https URL (http too when InsecureWebhooks)
// with a host and no user information, and returns its host.
func (s *Service) checkURL(p *bangfu.Problems, raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || bangfu.HasControl(raw) || len(raw) > 2000:
		p.Add("webhook_url", "is not a URL")
	case u.Scheme != "https" && !(s.InsecureWebhooks && u.Scheme == "http"):
		p.Add("webhook_url", "must be an https:// URL")
	case u.Host == "" || u.Hostname() == "":
		p.Add("webhook_url", "must name a host")
	case u.User != nil:
		p.Add("webhook_url", "must not carry a user name or password")
	case u.Fragment != "":
		p.Add("webhook_url", "must not have a #fragment")
	default:
		return u.Host
	}
	return ""
}

func (s *Service) sealOptional(field, v string) []byte {
	if v == "" {
		return nil
	}
	return s.Box.Seal(field, v)
}

const baseColumns = `id, name, host_school, contact_name, contact_phone, contact_email,
	webhook_url_sealed IS NOT NULL, webhook_host, created_at, updated_at, version`

func scanBase(row pgx.CollectableRow) (Base, error) {
	var b Base
	err := row.Scan(&b.ID, &b.Name, &b.HostSchool, &b.Contact.Name, &b.Contact.Phone, &b.Contact.Email,
		&b.Webhook.Configured, &b.Webhook.Host, &b.CreatedAt, &b.UpdatedAt, &b.Version)
	return b, err
}

// CreateBase adds a training base (admin), audited.
func (s *Service) CreateBase(ctx context.Context, a bangfu.Actor, in BaseInput) (Base, error) {
	in.normalize()
	var p bangfu.Problems
	checkFields(&p, in)
	host := s.checkWebhook(&p, in.WebhookURL, in.WebhookSecret, false)
	if err := p.Err(); err != nil {
		return Base{}, err
	}
	var b Base
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		now := s.now()
		rows, _ := tx.Query(ctx, `INSERT INTO training_bases (name, host_school, contact_name, contact_phone, contact_email,
				webhook_url_sealed, webhook_host, webhook_secret_sealed, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING `+baseColumns,
			in.Name, in.HostSchool, in.Contact.Name, in.Contact.Phone, in.Contact.Email,
			s.sealOptional(fieldWebhookURL, in.WebhookURL), host, s.sealOptional(fieldWebhookSecret, in.WebhookSecret), now)
		var err error
		if b, err = pgx.CollectExactlyOneRow(rows, scanBase); err != nil {
			return postgres.FormatError(err, "training base")
		}
		return audit.Record(ctx, tx, a, now, audit.Event{Action: AuditBaseCreate, Detail: map[string]any{"base_id": b.ID, "webhook": b.Webhook.Configured}})
	})
	return b, err
}

// ListBases returns one page of the bases, in id order (admin).
func (s *Service) ListBases(ctx context.Context, _ bangfu.Actor, pg bangfu.Page) (bangfu.List[Base], error) {
	rows, err := s.DB.Pool.Query(ctx, `SELECT `+baseColumns+` FROM training_bases WHERE id > $1 ORDER BY id LIMIT $2`, pg.After, pg.Limit+1)
	if err != nil {
		return bangfu.List[Base]{}, err
	}
	items, err := pgx.CollectRows(rows, scanBase)
	return bangfu.NewList(items, pg.Limit, func(b Base) int64 { return b.ID }), err
}

// Base returns one base (admin).
func (s *Service) Base(ctx context.Context, _ bangfu.Actor, id int64) (Base, error) {
	return s.base(ctx, s.DB.Pool, id, false)
}

func (s *Service) base(ctx context.Context, q postgres.Querier, id int64, forUpdate bool) (Base, error) {
	sql := `SELECT ` + baseColumns + ` FROM training_bases WHERE id = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	rows, _ := q.Query(ctx, sql, id)
	b, err := pgx.CollectExactlyOneRow(rows, scanBase)
	return b, postgres.FormatError(err, "training base")
}

// UpdateBase applies patch if the base is still at version (a stale
// version is precondition_failed), audited without the webhook's values.
// Saving a webhook re-sends every change still pending for the base.
func (s *Service) UpdateBase(ctx context.Context, a bangfu.Actor, id int64, version int, patch BasePatch) (Base, error) {
	var out Base
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		cur, err := s.base(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if cur.Version != version {
			return bangfu.Errorf(bangfu.EPRECONDITIONFAILED, "The training base was changed since version %d (it is now at version %d); reload it and apply your change again.", version, cur.Version)
		}
		in := BaseInput{Name: cur.Name, HostSchool: cur.HostSchool, Contact: cur.Contact}
		var changed []string
		if patch.Name != nil {
			in.Name, changed = *patch.Name, append(changed, "name")
		}
		if patch.HostSchool != nil {
			in.HostSchool, changed = *patch.HostSchool, append(changed, "host_school")
		}
		if patch.Contact != nil {
			in.Contact, changed = *patch.Contact, append(changed, "contact")
		}
		webhookChanged := patch.WebhookURL.Set || patch.WebhookSecret != nil
		if patch.WebhookURL.Set && !patch.WebhookURL.Null {
			in.WebhookURL = patch.WebhookURL.Value
		}
		if patch.WebhookSecret != nil {
			in.WebhookSecret = *patch.WebhookSecret
		}
		in.normalize()
		var p bangfu.Problems
		checkFields(&p, in)
		removing := patch.WebhookURL.Set && in.WebhookURL == ""
		var host string
		if removing {
			if in.WebhookSecret != "" {
				p.Add("webhook_secret", "cannot be set while the webhook_url is removed")
			}
		} else {
			host = s.checkWebhook(&p, in.WebhookURL, in.WebhookSecret, cur.Webhook.Configured)
		}
		if err := p.Err(); err != nil {
			return err
		}
		now := s.now()
		rows, _ := tx.Query(ctx, `UPDATE training_bases SET name = $2, host_school = $3, contact_name = $4, contact_phone = $5,
				contact_email = $6, updated_at = $7, version = version + 1
			WHERE id = $1 RETURNING `+baseColumns,
			id, in.Name, in.HostSchool, in.Contact.Name, in.Contact.Phone, in.Contact.Email, now)
		if out, err = pgx.CollectExactlyOneRow(rows, scanBase); err != nil {
			return postgres.FormatError(err, "training base")
		}
		if webhookChanged {
			changed = append(changed, "webhook")
			switch {
			case removing:
				_, err = tx.Exec(ctx, `UPDATE training_bases SET webhook_url_sealed = NULL, webhook_secret_sealed = NULL, webhook_host = '' WHERE id = $1`, id)
			case patch.WebhookURL.Set:
				_, err = tx.Exec(ctx, `UPDATE training_bases SET webhook_url_sealed = $2, webhook_host = $3,
					webhook_secret_sealed = coalesce($4, webhook_secret_sealed) WHERE id = $1`,
					id, s.Box.Seal(fieldWebhookURL, in.WebhookURL), host, s.sealOptional(fieldWebhookSecret, in.WebhookSecret))
			default:
				_, err = tx.Exec(ctx, `UPDATE training_bases SET webhook_secret_sealed = $2 WHERE id = $1`,
					id, s.Box.Seal(fieldWebhookSecret, in.WebhookSecret))
			}
			if err != nil {
				return err
			}
			out.Webhook = Webhook{Configured: !removing, Host: host}
			if !removing && host == "" {
				out.Webhook.Host = cur.Webhook.Host
			}
			if out.Webhook.Configured {
				if err := s.resend(ctx, tx, id); err != nil {
					return err
				}
			}
		}
		return audit.Record(ctx, tx, a, now, audit.Event{Action: AuditBaseUpdate, Fields: changed, Detail: map[string]any{"base_id": id}})
	})
	return out, err
}

// webhook returns base id's webhook URL and secret in clear ("" when none).
func (s *Service) webhook(ctx context.Context, q postgres.Querier, id int64) (target, secret string, err error) {
	var u, sec []byte
	if err := q.QueryRow(ctx, `SELECT webhook_url_sealed, webhook_secret_sealed FROM training_bases WHERE id = $1`, id).Scan(&u, &sec); err != nil {
		return "", "", postgres.FormatError(err, "training base")
	}
	if target, err = s.Box.Open(fieldWebhookURL, u); err != nil {
		return "", "", err
	}
	if secret, err = s.Box.Open(fieldWebhookSecret, sec); err != nil {
		return "", "", err
	}
	return target, secret, nil
}
