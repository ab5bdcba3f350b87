#!/usr/bin/env bash
# Prepare PostgreSQL for the test suite (CI runs this; developers can too):
#
#   * the app role (default taizhang_app): LOGIN, NOSUPERUSER, NOBYPASSRLS, owns nothing,
#     so row-level security applies to it;
#   * a fresh test database (default taizhang_test), dropped and recreated on every run,
#     owned by the superuser that runs migrations (a later migration creates a LEAKPROOF
#     function, which only a superuser may create), with pg_trgm installed.
#
# Connects as a superuser through libpq's usual variables; the defaults match a local
# cluster with trust auth. Settings (environment):
#   PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres  superuser connection
#   APP_DB_ROLE=taizhang_app                      the non-owner role the app connects as
#   APP_DB_PASSWORD=                              optional password for that role
#   TEST_DB=taizhang_test                         database to (re)create
set -euo pipefail

export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"  # no "does not exist, skipping" notices
role="${APP_DB_ROLE:-taizhang_app}"
db="${TEST_DB:-taizhang_test}"
owner="$PGUSER"

for name in "$role" "$db" "$owner"; do
  if [[ ! "$name" =~ ^[a-z_][a-z0-9_]*$ ]]; then
    echo "pg-setup: $name is not a plain lower-case identifier" >&2
    exit 2
  fi
done

if ! pg_isready -q; then
  echo "pg-setup: PostgreSQL is not accepting connections on $PGHOST:$PGPORT" >&2
  echo "pg-setup: start it, e.g.: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start" >&2
  exit 1
fi

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }

is_super=$(psql_admin -Atc "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
if [[ "$is_super" != "t" ]]; then
  echo "pg-setup: $PGUSER is not a superuser; migrations must run as one (LEAKPROOF function)" >&2
  exit 1
fi

# The app role: create it if needed and (re)assert its attributes either way.
psql_admin <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$role') THEN
    CREATE ROLE $role;
  END IF;
END \$\$;
ALTER ROLE $role LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;
SQL
if [[ -n "${APP_DB_PASSWORD:-}" ]]; then
  psql_admin -v pw="$APP_DB_PASSWORD" <<SQL
ALTER ROLE $role PASSWORD :'pw';
SQL
fi

# A fresh database every run; FORCE ends sessions a previous (crashed) run left behind.
psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
psql_admin -c "CREATE DATABASE $db OWNER $owner TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<SQL
CREATE EXTENSION IF NOT EXISTS pg_trgm;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE $db TO $role;
SQL

# The app role must own nothing (in any database) and inherit no other role's powers,
# or row-level security would not bind it.
problems=$(psql_admin -At <<SQL
SELECT 'owns ' || count(*) || ' object(s) (pg_shdepend)'
  FROM pg_shdepend d JOIN pg_roles r ON r.oid = d.refobjid
 WHERE r.rolname = '$role' AND d.deptype = 'o'
HAVING count(*) > 0
UNION ALL
SELECT 'is a member of ' || string_agg(g.rolname, ', ')
  FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member JOIN pg_roles g ON g.oid = m.roleid
 WHERE r.rolname = '$role'
HAVING count(*) > 0
UNION ALL
SELECT 'owns database ' || datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = '$role');
SQL
)
if [[ -n "$problems" ]]; then
  echo "pg-setup: role $role must not own anything or belong to other roles; it:" >&2
  echo "$problems" | sed 's/^/  /' >&2
  echo "pg-setup: fix with e.g. REASSIGN OWNED BY $role TO $owner; (in each database) / REVOKE <role> FROM $role;" >&2
  exit 1
fi

cat <<EOF_MSG
pg-setup: database $db is ready (owner $owner, pg_trgm), app role $role (no superuser, no BYPASSRLS, owns nothing).
Run the tests on PostgreSQL + Redis with:
  export TEST_DATABASE_URL=postgresql+psycopg://$role@$PGHOST:$PGPORT/$db
  export TEST_MIGRATION_DATABASE_URL=postgresql+psycopg://$owner@$PGHOST:$PGPORT/$db
  export REDIS_URL=redis://127.0.0.1:6379/15
  make test
EOF_MSG
