package resilience_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// cluster is a PostgreSQL server this test runs on its own: its own data
// directory and port, so that pausing its replay or stopping it touches no
// other test.
type cluster struct {
	bin, dir, log string
	port          int
	stopped       bool
}

// pgBinDir finds initdb, pg_ctl and pg_basebackup. In CI (CI=true) their
// absence fails the test: the replica test must not vanish silently.
func pgBinDir(t *testing.T) string {
	t.Helper()
	var dirs []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(found)))
	dirs = append(dirs, found...)
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	for _, d := range dirs {
		ok := true
		for _, b := range []string{"initdb", "pg_ctl", "pg_basebackup"} {
			if _, err := os.Stat(filepath.Join(d, b)); err != nil {
				ok = false
			}
		}
		if ok {
			return d
		}
	}
	msg := "PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) not found in `pg_config --bindir`, /usr/lib/postgresql/*/bin or PATH; install the postgresql package (scripts/devdb.sh does)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// asServerUser runs a server binary: as the `postgres` OS user when the
// test runs as root (PostgreSQL refuses to run as root), as the test's
// user otherwise.
func asServerUser(bin string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

func runPG(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s: %s", strings.Join(cmd.Args, " "), out)
}

// newClusterDir makes a directory the server user may write.
func newClusterDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "bangfu-cluster-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		require.NoError(t, err, "running as root needs the postgres OS user to run the servers")
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		require.NoError(t, os.Chown(dir, uid, gid))
	}
	return dir
}

// newPrimary initdbs and starts a primary on a free port, small and
// unsynced (fsync off: a test's cluster need not survive a power cut).
func newPrimary(t *testing.T, bin, dir string) *cluster {
	t.Helper()
	c := &cluster{bin: bin, dir: filepath.Join(dir, "primary"), log: filepath.Join(dir, "primary.log"), port: freePort(t)}
	runPG(t, asServerUser(filepath.Join(bin, "initdb"), "-D", c.dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"))
	appendConf(t, c.dir, "wal_level = replica", "max_wal_senders = 4", "hot_standby = on", "fsync = off",
		"synchronous_commit = on", "full_page_writes = off", "shared_buffers = 16MB", "max_connections = 60")
	c.start(t)
	return c
}

// newReplica takes a base backup of p with -R (standby.signal and
// primary_conninfo) and starts it as a hot standby on its own port.
func newReplica(t *testing.T, p *cluster, dir string) *cluster {
	t.Helper()
	c := &cluster{bin: p.bin, dir: filepath.Join(dir, "replica"), log: filepath.Join(dir, "replica.log"), port: freePort(t)}
	runPG(t, asServerUser(filepath.Join(p.bin, "pg_basebackup"), "-h", "127.0.0.1", "-p", strconv.Itoa(p.port), "-U", "postgres",
		"-D", c.dir, "-R", "-X", "stream", "-c", "fast", "--no-sync"))
	c.start(t)
	return c
}

func appendConf(t *testing.T, dir string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("\n" + strings.Join(lines, "\n") + "\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func (c *cluster) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=''", c.port)
	runPG(t, asServerUser(filepath.Join(c.bin, "pg_ctl"), "-D", c.dir, "-l", c.log, "-o", opts, "-w", "-t", "60", "start"))
	c.stopped = false
	t.Cleanup(func() {
		c.stop(t)
		if t.Failed() {
			if b, err := os.ReadFile(c.log); err == nil {
				t.Logf("%s log:\n%s", filepath.Base(c.dir), b)
			}
		}
	})
}

// stop stops the server at once (its data is thrown away after).
func (c *cluster) stop(t *testing.T) {
	t.Helper()
	if c.stopped {
		return
	}
	c.stopped = true
	if out, err := asServerUser(filepath.Join(c.bin, "pg_ctl"), "-D", c.dir, "-m", "immediate", "-w", "stop").CombinedOutput(); err != nil {
		t.Logf("pg_ctl stop %s: %v: %s", c.dir, err, out)
	}
}

func (c *cluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

func (c *cluster) conn(t *testing.T, db string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), c.url(db))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func freePort(t *testing.T) int {
	t.Helper()
	addr := freeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	n, err := strconv.Atoi(port)
	require.NoError(t, err)
	return n
}

// waitReplayed waits until the replica has replayed everything the primary
// has written so far.
func waitReplayed(t *testing.T, primary, replica *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	var target string
	require.NoError(t, primary.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&target))
	waitFor(t, 60*time.Second, "the replica to replay "+target, func() bool {
		var ok bool
		require.NoError(t, replica.QueryRow(ctx, `SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn`, target).Scan(&ok))
		return ok
	})
}
