#!/usr/bin/env bash
# Start the machine's local PostgreSQL server (Debian's postgresql package) and make sure the
# test role and database exist. Prints the TEST_DATABASE_URL on success, nothing otherwise.
# Never fails the caller: without PostgreSQL the database tests simply run on SQLite only.
set -u
command -v pg_lsclusters >/dev/null 2>&1 || exit 0
as_postgres() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else sudo -n -u postgres "$@"; fi
}
version=$(pg_lsclusters --no-header 2>/dev/null | awk 'NR==1 {print $1}')
name=$(pg_lsclusters --no-header 2>/dev/null | awk 'NR==1 {print $2}')
if [ -z "${version}" ]; then
  version=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
  [ -n "${version}" ] || exit 0
  pg_createcluster "${version}" main >/dev/null 2>&1 || exit 0
  name=main
fi
if ! pg_lsclusters --no-header | awk -v v="$version" -v n="$name" '$1==v && $2==n' | grep -q online; then
  pg_ctlcluster "${version}" "${name}" start >/dev/null 2>&1 || exit 0
fi
port=$(pg_lsclusters --no-header | awk -v v="$version" -v n="$name" '$1==v && $2==n {print $3}')
for _ in $(seq 1 30); do
  as_postgres psql -p "${port}" -qtAc "SELECT 1" >/dev/null 2>&1 && break
  sleep 0.5
done
user=portal_test
pass=portal_test
dbname=portal_test
as_postgres psql -p "${port}" -qtAc "SELECT 1 FROM pg_roles WHERE rolname='${user}'" 2>/dev/null | grep -q 1 \
  || as_postgres psql -p "${port}" -qc "CREATE ROLE ${user} LOGIN PASSWORD '${pass}'" >/dev/null 2>&1 || exit 0
as_postgres psql -p "${port}" -qtAc "SELECT 1 FROM pg_database WHERE datname='${dbname}'" 2>/dev/null | grep -q 1 \
  || as_postgres psql -p "${port}" -qc "CREATE DATABASE ${dbname} OWNER ${user}" >/dev/null 2>&1 || exit 0
echo "postgresql+psycopg://${user}:${pass}@127.0.0.1:${port}/${dbname}"
