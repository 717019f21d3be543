#!/usr/bin/env bash
# Back up the database, and restore a backup into a fresh database (docs/operations.md).
#
#   tools/backup.sh dump FILE [SCHEMA ...]         pg_dump, custom format, of $ZC_DATABASE_URL:
#                                                  the whole database, or only these schemas
#   tools/backup.sh restore [--no-owner] FILE URL  pg_restore FILE into the database URL names,
#                                                  created if missing; refused if it holds any
#                                                  table already. One transaction: all or nothing
#   tools/backup.sh list FILE                      what FILE holds (pg_restore --list)
#
# ZC_DATABASE_URL defaults as in shared/settings.py. pg_dump must be of the server's major
# version or newer (Debian's postgresql-client, or run it on the database's own host or pod).
# --no-owner: every restored object is owned by URL's user (restoring on a server without
# the original roles); without it owners and grants are restored as they were.
set -euo pipefail

say() { printf 'backup: %s\n' "$*" >&2; }
die() { printf 'backup: ERROR: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# postgresql://user@host:port/name?x=y -> the same server's maintenance database "postgres"
server_url() {
  local url=${1%%\?*} query=
  [[ $1 == *\?* ]] && query="?${1#*\?}"
  echo "${url%/*}/postgres$query"
}

database_of() {
  local url=${1%%\?*}
  echo "${url##*/}"
}

dump() {
  [ $# -ge 1 ] || usage
  local file=$1 url=${ZC_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/zhicheng}
  shift
  local schemas=()
  for schema in "$@"; do schemas+=("--schema=$schema"); done
  [ -d "$(dirname "$file")" ] || die "no such folder: $(dirname "$file")"
  say "pg_dump --format=custom ${schemas[*]} of $(database_of "$url") into $file"
  # Into a partial file first: a dump cut short never passes for a backup.
  pg_dump --no-password --format=custom "${schemas[@]}" --file="$file.partial" "$url"
  mv "$file.partial" "$file"
  say "done: $(du -h "$file" | cut -f1), $(pg_restore --list "$file" | grep -c ' TABLE DATA ') tables"
}

restore() {
  local owner=()
  if [ "${1:-}" = --no-owner ]; then owner=(--no-owner --no-privileges); shift; fi
  [ $# -eq 2 ] || usage
  local file=$1 url=$2 name tables
  [ -f "$file" ] || die "no such file: $file"
  pg_restore --list "$file" >/dev/null || die "$file is not a pg_dump custom-format archive"
  name=$(database_of "$url")
  [[ $name =~ ^[A-Za-z0-9_]+$ ]] || die "database name '$name' must be letters, digits, _"
  if [ -z "$(psql -X -w -At -d "$(server_url "$url")" \
      -c "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]; then
    say "creating database $name"
    psql -X -w -q -d "$(server_url "$url")" -c "CREATE DATABASE \"$name\""
  fi
  tables=$(psql -X -w -At -d "$url" -c "SELECT count(*) FROM pg_tables
    WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
  [ "$tables" = 0 ] || die "database $name already holds $tables tables: restore into a fresh one"
  say "pg_restore $file into $name (one transaction)"
  pg_restore --no-password --exit-on-error --single-transaction "${owner[@]}" \
    --dbname="$url" "$file"
  say "done: $(psql -X -w -At -d "$url" -c "SELECT count(*) FROM pg_tables
    WHERE schemaname NOT IN ('pg_catalog', 'information_schema')") tables in $name"
}

case ${1:-} in
  dump) shift; dump "$@" ;;
  restore) shift; restore "$@" ;;
  list) [ $# -eq 2 ] || usage; pg_restore --list "$2" ;;
  *) usage ;;
esac
