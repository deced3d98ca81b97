#!/usr/bin/env bash
# Installs the Python environment in .venv. Usage: scripts/install.sh [test]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "${1:-}" = "test" ]; then
  .venv/bin/python -m pip install --quiet -e ".[test]"
else
  .venv/bin/python -m pip install --quiet -e .
fi
# The web app's JavaScript: npm packages pinned by web/package-lock.json, bundled locally with
# esbuild into web/static/js (never a CDN). Skipped with a note when node/npm are missing.
# The browser's copy of the protocol (labels, statement kinds, catalogue) is generated from
# wallet/protocol first: web/src/generated/ is never edited by hand nor committed.
.venv/bin/python scripts/gen_protocol.py
if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error && node build.mjs)
else
  echo "node and npm are missing: the web pages will have no scripts (apt-get install nodejs npm)" >&2
fi
# The tests' OpenID provider: oidc-provider, the certified Node provider, pinned by
# tests/oidc-node/package-lock.json (tests/test_oidc*.py start it on 127.0.0.1).
if [ "${1:-}" = "test" ]; then
  if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
    (cd tests/oidc-node && npm ci --no-audit --no-fund --loglevel=error)
    (cd tests/tus-node && npm ci --no-audit --no-fund --loglevel=error)  # stock tus-js-client
  else
    echo "node and npm are missing: the OpenID Connect tests cannot run (apt-get install nodejs npm)" >&2
  fi
fi
