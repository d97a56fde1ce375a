package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/app"
	"github.com/bangfu/bangfu/internal/cnid"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/plan"
	"github.com/bangfu/bangfu/internal/roster"
)

// The demo's 宏志助航 roster: a second school, so that places are shared
// by quota; a training base whose webhook points at bangfu's own
// development receiver (POST /dev/roster-webhook/{base id}), so deliveries
// work under `make run` with no other service; an open cohort that starts
// today with a waitlist, two of whose nominees already confirmed; and a
// cohort in draft for the admin to open.

// baseLogin is the training base's staff login.
var baseLogin = Login{bangfu.RoleBase, "base", "bangfu-demo-base"}

// Names of the demo's roster records.
const (
	School2      = "4144010565"
	BaseName     = "华南农业大学宏志助航培训基地"
	OpenCohort   = "2026年宏志助航第一期（线上）"
	DraftCohort  = "2026年宏志助航第二期（线下）"
	demoCapacity = 6
)

// secondCaseload are the second school's graduates.
var secondCaseload = []struct{ number, name, id, level, major, category string }{
	{"S2026001", "刘洋", "44030420030412201", "zhuanke", "数控技术", "dibao"},
	{"S2026002", "何静", "44030420040109302", "zhuanke", "学前教育", "poverty_alleviated"},
	{"S2026003", "罗浩", "44030420021027403", "benke", "土木工程", "orphan"},
	{"S2026004", "梁晓婷", "44030420030730504", "zhuanke", "旅游管理", "zero_employment"},
	{"S2026005", "谢文", "44030420040521605", "zhuanke", "汽车检测与维修", "disabled_parent"},
}

// roster loads the roster demo, for the cohort now being placed, and adds
// the base staff's login.
func (d *demo) roster(ctx context.Context) error {
	base, err := seedRoster(ctx, d.app, d.cohort)
	d.logins = append(d.logins, base)
	return err
}

// seedRoster loads the roster demo for graduates of year and returns the
// base staff's login.
func seedRoster(ctx context.Context, a *app.App, year int) (Login, error) {
	if err := seedSecondSchool(ctx, a, year); err != nil {
		return Login{}, fmt.Errorf("demo second school: %w", err)
	}
	admin := bangfu.Actor{Role: bangfu.RoleAdmin}
	var baseID int64
	err := a.DB.Pool.QueryRow(ctx, `SELECT id FROM training_bases WHERE name = $1`, BaseName).Scan(&baseID)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		b, err := a.Roster.CreateBase(ctx, admin, roster.BaseInput{Name: BaseName, HostSchool: "华南农业大学",
			Contact: roster.Contact{Name: "张老师", Phone: "020-85280000", Email: "hongzhi@example.edu.cn"}})
		if err != nil {
			return Login{}, err
		}
		baseID = b.ID
	case err != nil:
		return Login{}, err
	}
	// The webhook points at this process's development receiver, with a
	// random secret (the receiver reads it from the base, sealed like every
	// secret).
	b, err := a.Roster.Base(ctx, admin, baseID)
	if err != nil {
		return Login{}, err
	}
	// Set once (loading again changes nothing), or again when this
	// process listens elsewhere.
	host := loopback(a.Config.Addr)
	if !b.Webhook.Configured || b.Webhook.Host != host {
		secret := randomSecret()
		if _, err := a.Roster.UpdateBase(ctx, admin, baseID, b.Version, roster.BasePatch{
			WebhookURL:    bangfu.Nullable[string]{Set: true, Value: fmt.Sprintf("http://%s/dev/roster-webhook/%d", host, baseID)},
			WebhookSecret: &secret,
		}); err != nil {
			return Login{}, err
		}
	}
	if _, err := a.Directory.EnsureUser(ctx, directory.UserInput{Username: baseLogin.Username, DisplayName: "培训基地 张老师",
		Role: bangfu.RoleBase, BaseID: &baseID, Password: baseLogin.Password}); err != nil {
		return Login{}, fmt.Errorf("demo user %s: %w", baseLogin.Username, err)
	}

	today := bangfu.Today(a.Clock)
	open, err := ensureCohort(ctx, a, roster.CohortInput{BaseID: baseID, Name: OpenCohort, Mode: "online",
		StartsOn: today.String(), EndsOn: today.AddDays(14).String(), Capacity: demoCapacity, TargetYear: year,
		NominationDeadline: today.String()})
	if err != nil {
		return Login{}, err
	}
	switch open.State {
	case roster.Draft:
		state := roster.Open
		if open, err = a.Roster.UpdateCohort(ctx, admin, open.ID, open.Version, roster.CohortPatch{State: &state}); err != nil {
			return Login{}, err
		}
	case roster.Open:
		// Loaded on an earlier day: nominations stay open today.
		if open.NominationDeadline.Before(today) {
			d, e := today.String(), today.AddDays(14).String()
			if open, err = a.Roster.UpdateCohort(ctx, admin, open.ID, open.Version,
				roster.CohortPatch{StartsOn: &d, NominationDeadline: &d, EndsOn: &e}); err != nil {
				return Login{}, err
			}
		}
	}
	if _, err := a.Roster.Build(ctx, open.ID); err != nil {
		return Login{}, err
	}
	if err := confirmSome(ctx, a, open.ID); err != nil {
		return Login{}, err
	}
	if _, err := ensureCohort(ctx, a, roster.CohortInput{BaseID: baseID, Name: DraftCohort, Mode: "offline",
		StartsOn: today.AddDays(45).String(), EndsOn: today.AddDays(52).String(), Capacity: 4, TargetYear: year,
		NominationDeadline: today.AddDays(30).String()}); err != nil {
		return Login{}, err
	}
	return baseLogin, nil
}

// ensureCohort returns the base's cohort named in.Name, creating it (in
// draft) when missing.
func ensureCohort(ctx context.Context, a *app.App, in roster.CohortInput) (roster.Cohort, error) {
	admin := bangfu.Actor{Role: bangfu.RoleAdmin}
	var id int64
	err := a.DB.Pool.QueryRow(ctx, `SELECT id FROM cohorts WHERE base_id = $1 AND name = $2`, in.BaseID, in.Name).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return a.Roster.CreateCohort(ctx, admin, in)
	}
	if err != nil {
		return roster.Cohort{}, err
	}
	return a.Roster.Cohort(ctx, admin, id)
}

// confirmSome has the first two nominees of the second school confirm
// their places, so that the base has graduates to record attendance and
// completion for. Their logins are not printed (random passwords).
func confirmSome(ctx context.Context, a *app.App, cohortID int64) error {
	rows, err := a.DB.Pool.Query(ctx, `SELECT p.id, p.student_id, u.id FROM roster_places p
		JOIN schools sc ON sc.id = p.school_id
		LEFT JOIN users u ON u.student_id = p.student_id
		WHERE p.cohort_id = $1 AND sc.code = $2 AND p.status IN ('nominated', 'confirmed', 'attending', 'completed')
		ORDER BY p.eligible_since, p.id LIMIT 2`, cohortID, School2)
	if err != nil {
		return err
	}
	type nominee struct {
		place, student int64
		user           *int64
	}
	var ns []nominee
	var n nominee
	if _, err := pgx.ForEachRow(rows, []any{&n.place, &n.student, &n.user}, func() error { ns = append(ns, n); return nil }); err != nil {
		return err
	}
	counselor, err := a.Directory.UserByUsername(ctx, "counselor.s2")
	if err != nil {
		return err
	}
	for _, n := range ns {
		var u directory.User
		if n.user == nil {
			if u, err = a.Graduates.CreateAccount(ctx, a.Directory, counselor.Actor(), n.student,
				graduate.AccountInput{Username: fmt.Sprintf("s2.graduate%d", n.student), Password: randomSecret()}); err != nil {
				return err
			}
		} else if u, err = a.Directory.User(ctx, *n.user); err != nil {
			return err
		}
		p, err := a.Roster.Place(ctx, u.Actor(), n.place)
		if err != nil {
			return err
		}
		if p.Status == roster.Nominated {
			if _, err := a.Roster.Confirm(ctx, u.Actor(), n.place); err != nil {
				return err
			}
		}
	}
	return nil
}

// seedSecondSchool makes the second school, with a supervisor and a
// counselor whose passwords are random (they exist to own the records),
// and its graduates with verified evidence and plans naming 宏志助航.
func seedSecondSchool(ctx context.Context, a *app.App, year int) error {
	school, err := a.Directory.EnsureSchool(ctx, directory.SchoolInput{Code: School2, Name: "广东示范理工职业学院", Region: "深圳"})
	if err != nil {
		return err
	}
	var users [2]directory.User
	for i, in := range []directory.UserInput{
		{Username: "supervisor.s2", DisplayName: "就业指导中心 周主任", Role: bangfu.RoleSupervisor},
		{Username: "counselor.s2", DisplayName: "辅导员 陈老师", Role: bangfu.RoleCounselor},
	} {
		in.SchoolID, in.Password = &school.ID, randomSecret()
		if users[i], err = a.Directory.EnsureUser(ctx, in); err != nil {
			return err
		}
	}
	s, c := users[0].Actor(), users[1].Actor()
	today := bangfu.Today(a.Clock)
	for i, g := range secondCaseload {
		var exists bool
		if err := a.DB.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM students WHERE school_id = $1 AND student_number = $2)`,
			school.ID, g.number).Scan(&exists); err != nil || exists {
			if err != nil {
				return err
			}
			continue
		}
		st, err := a.Graduates.Create(ctx, c, graduate.Input{
			StudentNumber: g.number, Name: g.name, IDNumber: g.id + string(cnid.ResidentIDCheck(g.id)),
			Major: g.major, EducationLevel: g.level, GraduationYear: year,
			Phone: fmt.Sprintf("1390000%04d", i+1), Consent: true,
		})
		if err != nil {
			return fmt.Errorf("demo graduate %s: %w", g.number, err)
		}
		h, err := a.Graduates.AddHardship(ctx, c, st.ID, graduate.HardshipInput{Category: g.category, EvidenceType: "困难认定证明",
			IssuingAuthority: "深圳市民政局", ValidUntil: today.AddDays(300).String()})
		if err != nil {
			return err
		}
		if _, err := a.Graduates.VerifyHardship(ctx, s, st.ID, h.ID, graduate.Verification{Decision: "verified"}); err != nil {
			return err
		}
		if _, err := a.Plans.Put(ctx, c, st.ID, nil, plan.Input{Goals: []string{"毕业前落实就业岗位"}, CadenceDays: 14,
			Measures: []plan.MeasureInput{{Kind: "hongzhi_training", Description: "参加宏志助航计划培训", Owner: g.name}}}); err != nil {
			return err
		}
	}
	return nil
}

// loopback is where this process listens, as a URL host for itself.
func loopback(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "127.0.0.1:8080"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func randomSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return strings.TrimRight(base64.RawURLEncoding.EncodeToString(b), "=")
}
