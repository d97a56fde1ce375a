package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/postgres"
)

// User is a user the load logs in as.
type User struct {
	bangfu.Actor
	// index is the user's place in Sample.users, for its token.
	index int
}

// Pair is a counselor and one graduate assigned to them.
type Pair struct {
	Counselor *User
	StudentID int64
}

// Sample is who the load acts as: counselors with graduates of their
// caseload, supervisors, and a province user for the report job.
type Sample struct {
	Counselors  []*User
	Supervisors []*User
	Province    *User
	Pairs       []Pair
	// UrgencyByDefault: GET /api/v1/students lists the caseload in urgency
	// order without asking (see DetectCaseloadDefault).
	UrgencyByDefault bool
}

// caseloadPath is the request for a counselor's caseload in urgency order.
func (s *Sample) caseloadPath() string {
	if s.UrgencyByDefault {
		return "/api/v1/students?limit=50"
	}
	return "/api/v1/students?order=urgency&limit=50"
}

// users returns every user who logs in over HTTP.
func (s *Sample) users() []*User {
	return append(append([]*User{}, s.Counselors...), s.Supervisors...)
}

// SampleSizes say how many users and graduates to act as.
type SampleSizes struct {
	Counselors  int
	Supervisors int
	// PerCounselor is how many of each counselor's open cases to use.
	PerCounselor int
	// Seed chooses the sample, so that the same dataset gives the same one.
	Seed uint64
}

// Discover picks the sample from the database: counselors (with at least
// one open case) and supervisors at random by seed, and the province user
// `province-1` or else the first province user.
func Discover(ctx context.Context, db postgres.Querier, sz SampleSizes) (*Sample, error) {
	rng := rand.New(rand.NewPCG(sz.Seed, 0x62616e67667521))
	load := func(role bangfu.Role) ([]*User, error) {
		rows, err := db.Query(ctx, `SELECT id, username, school_id, department_id FROM users
			WHERE role = $1 AND NOT disabled ORDER BY id`, role)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*User, error) {
			u := &User{Actor: bangfu.Actor{Role: role}}
			return u, row.Scan(&u.UserID, &u.Username, &u.SchoolID, &u.DepartmentID)
		})
	}
	s := &Sample{}
	counselors, err := load(bangfu.RoleCounselor)
	if err != nil {
		return nil, err
	}
	rng.Shuffle(len(counselors), func(i, j int) { counselors[i], counselors[j] = counselors[j], counselors[i] })
	// Take counselors in shuffled order until enough have open cases.
	for start := 0; start < len(counselors) && len(s.Counselors) < sz.Counselors; start += 2 * sz.Counselors {
		batch := counselors[start:min(len(counselors), start+2*sz.Counselors)]
		ids := make([]int64, len(batch))
		for i, u := range batch {
			ids[i] = u.UserID
		}
		rows, err := db.Query(ctx, `SELECT c.ord, g.id FROM unnest($1::bigint[]) WITH ORDINALITY c(id, ord)
			CROSS JOIN LATERAL (SELECT id FROM students WHERE counselor_id = c.id AND status IN ('open', 'active')
				ORDER BY id LIMIT $2) g
			ORDER BY c.ord, g.id`, ids, sz.PerCounselor)
		if err != nil {
			return nil, err
		}
		var ord, id int64
		taken := map[int64]bool{}
		_, err = pgx.ForEachRow(rows, []any{&ord, &id}, func() error {
			u := batch[ord-1]
			if !taken[ord] {
				if len(s.Counselors) == sz.Counselors {
					return nil
				}
				taken[ord] = true
				s.Counselors = append(s.Counselors, u)
			}
			s.Pairs = append(s.Pairs, Pair{Counselor: u, StudentID: id})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(s.Pairs) == 0 {
		return nil, fmt.Errorf("no counselor has an open case: load a dataset first (bangfu-bench seed)")
	}
	supervisors, err := load(bangfu.RoleSupervisor)
	if err != nil {
		return nil, err
	}
	rng.Shuffle(len(supervisors), func(i, j int) { supervisors[i], supervisors[j] = supervisors[j], supervisors[i] })
	s.Supervisors = supervisors[:min(len(supervisors), sz.Supervisors)]
	if len(s.Supervisors) == 0 {
		return nil, fmt.Errorf("the database has no supervisor")
	}
	province, err := load(bangfu.RoleProvince)
	if err != nil {
		return nil, err
	}
	for _, u := range province {
		if s.Province == nil || u.Username == "province-1" {
			s.Province = u
		}
	}
	for i, u := range s.users() {
		u.index = i
	}
	return s, nil
}

// CountGraduates returns how many graduate files the database holds.
func CountGraduates(ctx context.Context, db postgres.Querier) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT count(*) FROM students`).Scan(&n)
	return n, err
}

// CountDataset counts what the database holds.
func CountDataset(ctx context.Context, db postgres.Querier) (Dataset, error) {
	var d Dataset
	err := db.QueryRow(ctx, `SELECT (SELECT count(*) FROM schools), (SELECT count(*) FROM departments),
			(SELECT count(*) FROM students), (SELECT count(*) FROM students WHERE status IN ('open', 'active')),
			(SELECT count(*) FROM hardships), (SELECT count(*) FROM ledger_entries),
			(SELECT count(*) FROM escalations), (SELECT count(*) FROM escalations WHERE status <> 'resolved')`).
		Scan(&d.Schools, &d.Departments, &d.Graduates, &d.OpenCases, &d.Hardships, &d.LedgerEntries, &d.Escalations, &d.OpenEscalations)
	if err != nil {
		return d, err
	}
	rows, err := db.Query(ctx, `SELECT role, count(*) FROM users GROUP BY role`)
	if err != nil {
		return d, err
	}
	d.Users = map[string]int{}
	var role string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&role, &n}, func() error {
		d.Users[role] = n
		return nil
	})
	return d, err
}

// DescribeMachine collects the facts a reader needs to compare runs.
func DescribeMachine(ctx context.Context, db postgres.Querier) (Machine, error) {
	m := Machine{OS: runtime.GOOS + "/" + runtime.GOARCH, Cores: runtime.NumCPU(), GoVersion: runtime.Version()}
	m.Hostname, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.CPU = procField("/proc/cpuinfo", "model name")
	if kb := procField("/proc/meminfo", "MemTotal"); kb != "" {
		m.MemoryBytes = parseKB(kb)
	}
	if err := db.QueryRow(ctx, `SELECT current_setting('server_version'), pg_database_size(current_database())`).
		Scan(&m.PostgresVersion, &m.DatabaseSizeBytes); err != nil {
		return m, err
	}
	rows, err := db.Query(ctx, `SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY($1) ORDER BY name`,
		[]string{"shared_buffers", "work_mem", "effective_cache_size", "max_connections", "synchronous_commit",
			"jit", "max_parallel_workers_per_gather", "random_page_cost", "autovacuum"})
	if err != nil {
		return m, err
	}
	m.PostgresSettings = map[string]string{}
	var name, value string
	_, err = pgx.ForEachRow(rows, []any{&name, &value}, func() error {
		m.PostgresSettings[name] = value
		return nil
	})
	return m, err
}

// procField returns the value of the first "key: value" line of a /proc
// file whose key is key, or "".
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// parseKB reads "123 kB" as bytes.
func parseKB(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(s, "kB")), 10, 64)
	if err != nil {
		return 0
	}
	return n * 1024
}
