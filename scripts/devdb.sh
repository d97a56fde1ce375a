#!/usr/bin/env bash
# Prints a DATABASE_URL for a local PostgreSQL, making one work if needed:
# finds a server on 127.0.0.1:${PGPORT:-5432}, or starts the installed one,
# or (as root, with apt-get) installs it; then makes sure the role `bangfu`
# (password `bangfu`, CREATEDB) and the database named by $1 exist.
# Messages go to stderr; the URL alone goes to stdout.
set -euo pipefail

db=${1:-bangfu}
host=127.0.0.1
port=${PGPORT:-5432}
url="postgres://bangfu:bangfu@${host}:${port}/${db}?sslmode=disable"

say() { echo "devdb: $*" >&2; }
die() { echo "devdb: $*" >&2; exit 1; }

reachable() { (exec 3<>"/dev/tcp/${host}/${port}") 2>/dev/null; }
as_root() { [ "$(id -u)" = 0 ]; }

pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

install_postgres() {
  if ! as_root || ! command -v apt-get >/dev/null; then
    die "PostgreSQL is not installed. Install it (Debian/Ubuntu: sudo apt-get install -y postgresql), or set DATABASE_URL to a server where a role may create databases."
  fi
  say "installing PostgreSQL with apt-get (one time)…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || say "apt-get update failed; trying the install anyway"
  apt-get install -y -qq postgresql >&2 || die "apt-get install postgresql failed"
}

start_postgres() {
  if command -v pg_lsclusters >/dev/null && as_root; then
    local line ver name
    line=$(pg_lsclusters --no-header 2>/dev/null | awk -v p="$port" '$3 == p {print; exit}')
    if [ -z "$line" ]; then
      ver=$(basename "$(dirname "$(pg_bindir)")")
      say "creating PostgreSQL $ver cluster 'main' on port $port"
      pg_createcluster "$ver" main --port="$port" >&2 || die "pg_createcluster failed"
      line=$(pg_lsclusters --no-header | awk -v p="$port" '$3 == p {print; exit}')
    fi
    read -r ver name _ <<<"$line"
    say "starting PostgreSQL cluster $ver/$name on port $port"
    pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start >&2 || pg_ctlcluster "$ver" "$name" start >&2 || die "could not start PostgreSQL cluster $ver/$name"
  else
    # Not root: run a private server in the checkout, owned by this user.
    local bin dir
    bin=$(pg_bindir)
    dir="$(cd "$(dirname "$0")/.." && pwd)/.pgdata"
    if [ ! -d "$dir" ]; then
      say "creating a private PostgreSQL data directory in $dir"
      "$bin/initdb" -D "$dir" -U postgres --auth=trust >/dev/null || die "initdb failed"
    fi
    say "starting private PostgreSQL on port $port"
    "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -o "-p $port -k /tmp -c listen_addresses=$host" -w start >&2 || die "could not start PostgreSQL; see $dir/server.log"
  fi
  for _ in $(seq 1 30); do reachable && return 0; sleep 1; done
  die "PostgreSQL did not start listening on $host:$port"
}

# psql as a role that may create roles: the first way that works.
superuser_psql() {
  if PGCONNECT_TIMEOUT=5 psql -X -q -w -h "$host" -p "$port" -U postgres -d postgres -c 'select 1' >/dev/null 2>&1; then
    psql -X -q -w -v ON_ERROR_STOP=1 -h "$host" -p "$port" -U postgres -d postgres "$@"
  elif as_root && id postgres >/dev/null 2>&1; then
    runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres "$@"
  else
    die "cannot connect to PostgreSQL on $host:$port as a superuser to create the role 'bangfu'; create it yourself (CREATE ROLE bangfu LOGIN PASSWORD 'bangfu' CREATEDB) or set DATABASE_URL"
  fi
}

if ! reachable; then
  [ -n "$(pg_bindir)" ] || install_postgres
  start_postgres
fi
if ! command -v psql >/dev/null; then
  as_root && command -v apt-get >/dev/null || die "psql is missing: install postgresql-client, or set DATABASE_URL"
  say "installing the PostgreSQL client with apt-get…"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >&2 || die "apt-get install postgresql-client failed"
fi

if ! PGPASSWORD=bangfu PGCONNECT_TIMEOUT=5 psql -X -q -w -h "$host" -p "$port" -U bangfu -d postgres \
    -tAc "select rolcreatedb from pg_roles where rolname = current_user" 2>/dev/null | grep -q t; then
  say "creating role 'bangfu'"
  superuser_psql >&2 <<'SQL'
DO $$ BEGIN
  CREATE ROLE bangfu LOGIN PASSWORD 'bangfu' CREATEDB;
EXCEPTION WHEN duplicate_object THEN
  ALTER ROLE bangfu LOGIN PASSWORD 'bangfu' CREATEDB;
END $$;
SQL
fi
if ! PGPASSWORD=bangfu psql -X -q -w -h "$host" -p "$port" -U bangfu -d postgres -tAc \
    "select 1 from pg_database where datname = '$db'" | grep -q 1; then
  say "creating database '$db'"
  PGPASSWORD=bangfu psql -X -q -w -h "$host" -p "$port" -U bangfu -d postgres -c "CREATE DATABASE \"$db\"" >&2
fi
echo "$url"
