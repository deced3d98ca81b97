#!/usr/bin/env bash
# Installs everything the tests need and runs the whole suite: on SQLite, then on PostgreSQL
# when WALLET_TEST_DATABASE_URL is set (.ci/run sets it). Fails if no test ran.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v age >/dev/null 2>&1 || need_apt+=(age)
command -v pg_dump >/dev/null 2>&1 || need_apt+=(postgresql-client)
# promtool checks and unit-tests the alert rules in deploy/prometheus.
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
# The browser tests use Debian's chromium (never `playwright install`) and a fixed font.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -d /usr/share/fonts/truetype/dejavu ] || need_apt+=(fonts-dejavu-core)
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "Please install: ${need_apt[*]} (Debian packages)" >&2
    exit 1
  fi
fi
scripts/install.sh test

.venv/bin/ruff check .
.venv/bin/ruff format --check .
# The layout rules of docs/architecture.md, then the types.
.venv/bin/lint-imports
.venv/bin/mypy

run_suite() {
  # run_suite LABEL DATABASE_URL [pytest args]: an empty URL means SQLite.
  local label="$1" database_url="$2"; shift 2
  local report
  report="$(mktemp)"
  echo "== Test suite on ${label}"
  set +e
  env -u WALLET_TEST_DATABASE_URL ${database_url:+WALLET_TEST_DATABASE_URL="$database_url"} \
    .venv/bin/python -m pytest -q --junitxml="$report" "$@"
  local status=$?
  set -e
  local ran
  ran=$(.venv/bin/python -c "import sys,xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); s=r if r.tag=='testsuite' else r.find('testsuite'); print(int(s.get('tests'))-int(s.get('skipped')))" "$report")
  rm -f "$report"
  if [ "$status" -ne 0 ]; then
    echo "Tests failed on ${label} (pytest exit code ${status})." >&2
    exit "$status"
  fi
  if [ "$ran" -lt 1 ]; then
    echo "No test ran on ${label}: this counts as a failure." >&2
    exit 1
  fi
}

# The SQLite pass must not see the PostgreSQL URL that .ci/run exports.
run_suite "SQLite" "" "$@"
if [ -n "${WALLET_TEST_DATABASE_URL:-}" ]; then
  if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
  fi
  run_suite "PostgreSQL" "$WALLET_TEST_DATABASE_URL" "$@"
fi
