#!/usr/bin/env bash
# Proves a backup restores: dump a database with pg_dump (custom format), restore the
# dump into a new database with pg_restore, and compare the row count of every table.
#
#   scripts/ops/backup_restore_check.sh DATABASE_URL [DUMP_FILE]
#
# DATABASE_URL: the database to back up, as libpq takes it or as Sanshe's DATABASE_URL
# (postgresql+asyncpg://... works too). DUMP_FILE: where the dump goes (default: a
# temporary file, removed at the end); keep it to have the backup itself.
# The restore goes into `<database>_restore_check_<random>` on the same server (the
# user needs CREATEDB), dropped afterwards unless KEEP_RESTORED=1.
# Exit 0: every table of every schema holds as many rows in the restored database as in
# the source. Exit 1: a difference (printed), or any step failed.
#
# Run it with the client tools of the server's major version or newer (in compose:
# `docker compose exec postgres ...`, see docs/operations.md). CI runs it against the
# local PostgreSQL (tests/ops/test_backup_restore.py).
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  sed -n '2,16p' "$0" >&2
  exit 2
fi

source_url="${1/postgresql+asyncpg:/postgresql:}"
source_url="${source_url/postgres+asyncpg:/postgresql:}"
dump="${2:-}"
workdir="$(mktemp -d)"
restored_db=""

cleanup() {
  if [[ -n "$restored_db" && "${KEEP_RESTORED:-0}" != "1" ]]; then
    psql "$source_url" -v ON_ERROR_STOP=1 -qAtc \
      "DROP DATABASE IF EXISTS \"$restored_db\" WITH (FORCE)" >/dev/null || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

[[ -n "$dump" ]] || dump="$workdir/backup.dump"

# The server and database the URL names, from the server itself (no URL parsing here).
source_db="$(psql "$source_url" -v ON_ERROR_STOP=1 -qAtc 'SELECT current_database()')"
restored_db="${source_db}_restore_check_$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"

# The same server, another database: the URL with its path replaced (query kept).
with_database() {
  local url="$1" db="$2" rest query=""
  if [[ "$url" == *\?* ]]; then query="?${url#*\?}"; url="${url%%\?*}"; fi
  rest="${url#*://}"
  rest="${rest%%/*}"
  echo "${url%%://*}://$rest/$db$query"
}

# Every table's exact row count, one `schema.table<TAB>count` line each, sorted.
COUNT_ROWS_SQL="SELECT format('%I.%I', table_schema, table_name),
       (xpath('/row/n/text()',
              query_to_xml(format('SELECT count(*) AS n FROM %I.%I', table_schema, table_name),
                           false, true, '')))[1]::text::bigint
FROM information_schema.tables
WHERE table_type = 'BASE TABLE'
  AND table_schema NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1;"

# The source is counted in the very snapshot pg_dump dumps: a session holds a repeatable
# read transaction open and exports its snapshot, so a live database (writes during the
# dump) compares equal too.
coproc SNAPSHOT { psql "$source_url" -v ON_ERROR_STOP=1 -qAt -F $'\t' 2>&1; }
# Our own copies of its pipes: bash unsets SNAPSHOT as soon as psql exits.
exec {to_psql}>&"${SNAPSHOT[1]}" {from_psql}<&"${SNAPSHOT[0]}"
printf '%s\n' "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;" \
  "SELECT pg_export_snapshot();" >&"$to_psql"
read -r -t 30 snapshot <&"$from_psql"
[[ "$snapshot" =~ ^[0-9A-F-]+$ ]] || { echo "could not export a snapshot: $snapshot" >&2; exit 1; }

echo "backup: pg_dump $source_db (snapshot $snapshot) -> $dump"
pg_dump --format=custom --no-owner --no-privileges --snapshot="$snapshot" --file="$dump" \
  "$source_url"

printf '%s\n' "$COUNT_ROWS_SQL" '\echo __counted__' 'COMMIT;' '\q' >&"$to_psql"
: >"$workdir/source.counts"
while read -r -t 300 line <&"$from_psql"; do
  [[ "$line" == "__counted__" ]] && break
  printf '%s\n' "$line" >>"$workdir/source.counts"
done

echo "restore: pg_restore -> $restored_db"
psql "$source_url" -v ON_ERROR_STOP=1 -qAtc "CREATE DATABASE \"$restored_db\"" >/dev/null
pg_restore --exit-on-error --no-owner --no-privileges \
  --dbname="$(with_database "$source_url" "$restored_db")" "$dump"
psql "$(with_database "$source_url" "$restored_db")" -v ON_ERROR_STOP=1 -qAt -F $'\t' \
  -c "$COUNT_ROWS_SQL" >"$workdir/restored.counts"

tables="$(wc -l <"$workdir/source.counts")"
rows="$(awk -F '\t' '{ s += $2 } END { print s + 0 }' "$workdir/source.counts")"
if ! diff -u --label "$source_db" --label "$restored_db" \
    "$workdir/source.counts" "$workdir/restored.counts"; then
  echo "FAILED: the restored database differs from the source (row counts above)" >&2
  exit 1
fi
echo "OK: $tables tables, $rows rows, identical counts in $restored_db"
