package notify

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"
)

// recipient is where a user's (or a school's) messages of one purpose go.
type recipient struct {
	ID        int64
	Email     string
	EmailMode string
	Quiet     Quiet
	Channels  []channelRef
}

type channelRef struct {
	ID   int64
	Kind string
}

// recipients reads, for users (or, with schools, for schools), their
// working channels that take purpose (digest or urgent), their e-mail and
// quiet hours, in one statement.
func (s *Service) recipients(ctx context.Context, tx pgx.Tx, ids []int64, schools bool, purpose string) (map[int64]*recipient, error) {
	out := map[int64]*recipient{}
	if len(ids) == 0 {
		return out, nil
	}
	takes := "c.digest"
	if purpose == purposeUrgent {
		takes = "c.urgent"
	}
	sql := `SELECT x.id, u.email, coalesce(p.email_mode, 'digest'),
			to_char(coalesce(p.quiet_start, '22:00'), 'HH24:MI'), to_char(coalesce(p.quiet_end, '07:30'), 'HH24:MI'), c.id, c.kind
		FROM unnest($1::bigint[]) AS x(id) JOIN users u ON u.id = x.id
		LEFT JOIN notify_preferences p ON p.user_id = x.id
		LEFT JOIN notify_channels c ON c.user_id = x.id AND c.removed_at IS NULL AND c.broken_at IS NULL AND ` + takes + `
		ORDER BY x.id, c.id`
	if schools {
		sql = `SELECT x.id, '', 'off',
				to_char(coalesce(ns.quiet_start, '22:00'), 'HH24:MI'), to_char(coalesce(ns.quiet_end, '07:30'), 'HH24:MI'), c.id, c.kind
			FROM unnest($1::bigint[]) AS x(id)
			JOIN notify_channels c ON c.school_id = x.id AND c.removed_at IS NULL AND c.broken_at IS NULL AND ` + takes + `
			LEFT JOIN notify_schools ns ON ns.school_id = x.id
			ORDER BY x.id, c.id`
	}
	rows, err := tx.Query(ctx, sql, ids)
	if err != nil {
		return nil, err
	}
	var id int64
	var email, mode, qs, qe string
	var ch *int64
	var kind *string
	_, err = pgx.ForEachRow(rows, []any{&id, &email, &mode, &qs, &qe, &ch, &kind}, func() error {
		r, ok := out[id]
		if !ok {
			r = &recipient{ID: id, Email: email, EmailMode: mode, Quiet: quietFrom(qs, qe)}
			out[id] = r
		}
		if ch != nil {
			r.Channels = append(r.Channels, channelRef{ID: *ch, Kind: *kind})
		}
		return nil
	})
	return out, err
}

// sendUrgent creates, on tx, the deliveries of the urgent notifications
// among added (urgent maps a message's user and key to how many
// escalations it tells of): for each user one message counting them, to
// each of their channels that takes urgent messages and by e-mail (when
// they get the digest by e-mail; one e-mail per notification covers it
// otherwise); for each school of the graduates concerned, one message to
// its shared channels counting the distinct escalations. Each goes out at
// once, or at the end of the recipient's quiet hours. The first
// notification's id keys them: the same notifications never cause them
// twice.
func (s *Service) sendUrgent(ctx context.Context, tx pgx.Tx, added []sent, urgent map[[2]any]int) error {
	type group struct {
		first int64
		n     int
		keys  map[string]bool
	}
	users, schools := map[int64]*group{}, map[int64]*group{}
	for _, a := range added {
		n, ok := urgent[[2]any{a.UserID, a.Key}]
		if !ok {
			continue
		}
		g := users[a.UserID]
		if g == nil {
			g = &group{first: a.ID}
			users[a.UserID] = g
		}
		g.n += n
		if a.SchoolID == nil {
			continue
		}
		sg := schools[*a.SchoolID]
		if sg == nil {
			sg = &group{first: a.ID, keys: map[string]bool{}}
			schools[*a.SchoolID] = sg
		}
		if !sg.keys[a.Key] {
			sg.keys[a.Key] = true
			sg.n += n
		}
	}
	if len(users) == 0 {
		return nil
	}
	now := s.Clock.Now()
	var ds []newDelivery
	add := func(rs map[int64]*recipient, groups map[int64]*group, school bool) {
		for _, id := range slices.Sorted(maps.Keys(groups)) {
			g, r := groups[id], rs[id]
			if r == nil {
				continue
			}
			text, at := s.urgentText(g.n), r.Quiet.NotBefore(now)
			owner := id
			for _, c := range r.Channels {
				d := newDelivery{Key: fmt.Sprintf("urgent:%d:c%d", g.first, c.ID), ChannelID: &c.ID, Medium: c.Kind,
					Purpose: purposeUrgent, Subject: urgentSubject, Body: text, NotBefore: at}
				if school {
					d.SchoolID = &owner
				} else {
					d.UserID = &owner
				}
				ds = append(ds, d)
			}
			if !school && s.Email && r.Email != "" && r.EmailMode == EmailDigest {
				ds = append(ds, newDelivery{Key: fmt.Sprintf("urgent:%d:u%d:email", g.first, id), UserID: &owner, Medium: mediumEmail,
					Purpose: purposeUrgent, Subject: urgentSubject, Body: text, NotBefore: at})
			}
		}
	}
	rs, err := s.recipients(ctx, tx, slices.Collect(maps.Keys(users)), false, purposeUrgent)
	if err != nil {
		return err
	}
	add(rs, users, false)
	if len(schools) > 0 {
		ss, err := s.recipients(ctx, tx, slices.Collect(maps.Keys(schools)), true, purposeUrgent)
		if err != nil {
			return err
		}
		add(ss, schools, true)
	}
	ins, err := s.insertDeliveries(ctx, tx, ds)
	if err != nil {
		return err
	}
	return s.enqueue(ctx, tx, ins)
}
